#!/usr/bin/env node
/**
 * `npm test`: builds every peer (as the matrix does), then runs each test runner of the project
 * — jest (runner, TypeScript peers, self-test, end to end), pytest (Python peer), go test (Go
 * peer) — and ends with one plain line, `N passed, N failed`, summed over all of them.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { repoRoot } from '../../ts-common/src/paths.js';
import { ensureBuilt } from './build.js';
import { ConfigError, loadMatrix } from './config.js';

interface Counts {
  name: string;
  passed: number;
  failed: number;
}

const root = repoRoot();
const out = join(root, 'reports', 'tests');

async function jest(args: string[]): Promise<Counts> {
  const file = join(out, 'jest.json');
  const run = await execa('node', ['--experimental-vm-modules', '--no-warnings=ExperimentalWarning', join(root, 'node_modules/jest/bin/jest.js'), '--runInBand', '--json', `--outputFile=${file}`, ...args], {
    cwd: root,
    stdio: 'inherit',
    reject: false,
  });
  try {
    const r = JSON.parse(readFileSync(file, 'utf8')) as { numPassedTests: number; numFailedTests: number; numRuntimeErrorTestSuites: number };
    return { name: 'jest', passed: r.numPassedTests, failed: r.numFailedTests + r.numRuntimeErrorTestSuites };
  } catch {
    return { name: 'jest', passed: 0, failed: run.exitCode === 0 ? 0 : 1 };
  }
}

async function pytest(): Promise<Counts> {
  const file = join(out, 'pytest.xml');
  const run = await execa(join(root, 'interop/python/.venv/bin/python'), ['-m', 'pytest', 'interop/python/tests', '-q', `--junitxml=${file}`], {
    cwd: root,
    stdio: 'inherit',
    reject: false,
  });
  try {
    const xml = readFileSync(file, 'utf8');
    const attr = (name: string) => Number(/<testsuite [^>]*/.exec(xml)?.[0].match(new RegExp(`\\b${name}="(\\d+)"`))?.[1] ?? 0);
    const failed = attr('failures') + attr('errors');
    return { name: 'pytest', passed: attr('tests') - failed - attr('skipped'), failed };
  } catch {
    return { name: 'pytest', passed: 0, failed: run.exitCode === 0 ? 0 : 1 };
  }
}

/** `go test` of one Go module of ours (interop/go: the Go peer; interop/raw: the raw HTTP/2 peer; interop/h2spec: the h2spec client; interop/netrpc: the net/rpc Panda server). */
async function goTest(module: string): Promise<Counts> {
  const run = await execa('go', ['test', '-json', '-count=1', './...'], { cwd: join(root, module), reject: false, stderr: 'inherit' });
  let passed = 0;
  let failed = 0;
  for (const line of run.stdout.split('\n')) {
    let event: { Action?: string; Test?: string; Package?: string; Output?: string };
    try {
      event = JSON.parse(line) as typeof event;
    } catch {
      continue;
    }
    if (event.Action === 'output' && event.Output && /^(--- FAIL|FAIL|ok|panic)/.test(event.Output.trimStart())) process.stdout.write(event.Output);
    if (!event.Test) {
      if (event.Action === 'fail') failed++; // a package that failed to build or crashed
      continue;
    }
    if (event.Action === 'pass') passed++;
    if (event.Action === 'fail') failed++;
  }
  if (run.exitCode !== 0 && failed === 0) {
    // No test failed, yet go test did not succeed (killed, or an error before any test): say how
    // it ended and what it printed last, so that a CI log shows why.
    failed = 1;
    const how = run.signal ? `was killed by ${run.signal}` : `exited with code ${run.exitCode}`;
    const tail = run.stdout.split('\n').filter((l) => l.trim() !== '').slice(-15).join('\n');
    process.stdout.write(`go test (${module}) ${how} with no failing test${run.isTerminated ? ' (terminated)' : ''}; the last of its output:\n${tail || '(none)'}\n`);
  }
  return { name: `go test (${module})`, passed, failed };
}

async function main(): Promise<number> {
  mkdirSync(out, { recursive: true });
  const matrix = loadMatrix(join(root, 'matrix.yaml'));
  const builds = await ensureBuilt(matrix, Object.keys(matrix.implementations), {
    root,
    logDir: join(out, 'logs'),
    onProgress: (line) => process.stdout.write(`${line}\n`),
  });
  const counts: Counts[] = [];
  const broken = [...builds.values()].filter((b) => b.status === 'failed');
  for (const b of broken) counts.push({ name: `build ${b.impl}`, passed: 0, failed: 1 });
  counts.push(await jest(process.argv.slice(2)));
  if (builds.get('python')?.status !== 'failed') counts.push(await pytest());
  if (builds.get('go')?.status !== 'failed') counts.push(await goTest('interop/go'));
  if (builds.get('raw')?.status !== 'failed') counts.push(await goTest('interop/raw'));
  if (builds.get('h2spec')?.status !== 'failed') counts.push(await goTest('interop/h2spec'));
  if (builds.get('netrpc')?.status !== 'failed') counts.push(await goTest('interop/netrpc'));
  for (const c of counts) process.stdout.write(`${c.name}: ${c.passed} passed, ${c.failed} failed\n`);
  const passed = counts.reduce((n, c) => n + c.passed, 0);
  const failed = counts.reduce((n, c) => n + c.failed, 0);
  process.stdout.write(`${passed} passed, ${failed} failed\n`);
  return failed === 0 && passed > 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`npm test: ${err instanceof ConfigError ? err.message : err instanceof Error ? err.stack : String(err)}\n`);
    process.stdout.write('0 passed, 1 failed\n');
    process.exit(2);
  },
);
