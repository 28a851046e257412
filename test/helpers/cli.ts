/**
 * Running the matrix CLI from tests: a throw-away matrix.yaml, a run tagged with a unique
 * environment variable that every process it starts inherits, and a scan of /proc for any
 * process still carrying the tag.
 */
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { execa } from 'execa';
import { repoRoot } from '../../ts-common/src/paths.js';

export const root = repoRoot();
export const TS_SERVER = '[node, build/ts/ts-server/src/main.js]';
export const TS_CLIENT = '[node, build/ts/ts-client/src/main.js]';
export const TS = `  ts: {language: typescript, library: grpc-js, server: ${TS_SERVER}, client: ${TS_CLIENT}, batch: true}`;

/** Processes (pid: command line) that carry the tag in their environment. */
export function survivors(tag: string): string[] {
  const found: string[] = [];
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      if (readFileSync(`/proc/${pid}/environ`, 'latin1').split('\0').includes(`MATRIX_TEST_TAG=${tag}`)) {
        found.push(`${pid}: ${readFileSync(`/proc/${pid}/cmdline`, 'latin1').replaceAll('\0', ' ')}`);
      }
    } catch {
      // gone meanwhile, or not ours
    }
  }
  return found;
}

/**
 * A batch client in sh (for a single-quoted YAML scalar): `body` runs for each case $c of
 * --test_case, in order; PASS in it prints the case's passed line.
 */
export const shClient = (body: string) =>
  `for c in $(echo "$*" | sed "s/.*--test_case=//" | tr , " "); do ${body.replaceAll('PASS', 'echo "{\\"case\\":\\"$c\\",\\"status\\":\\"passed\\",\\"ms\\":1}"')}; done`;

export const CASES = '[greeter_say_hello, helloworld_service]';

export function configFile(implementations: string, extra = '', cases = CASES): { dir: string; config: string } {
  const dir = mkdtempSync(join(tmpdir(), 'matrix-robust-'));
  const config = join(dir, 'matrix.yaml');
  writeFileSync(config, `implementations:\n${implementations}\nsuites:\n  seeds:\n    cases: ${cases}\ntransports:\n  insecure: {}\n${extra}`);
  return { dir, config };
}

/** The CLI on a config; `tag` marks every process of the run. */
export function start(config: string, out: string, args: string[] = [], options: { detached?: boolean; env?: Record<string, string> } = {}) {
  const tag = randomUUID();
  const run = execa('node', ['build/ts/runner/src/cli.js', '--config', config, '--out', out, ...args], {
    cwd: root,
    reject: false,
    all: true,
    detached: options.detached === true,
    env: { NO_COLOR: '1', MATRIX_TEST_TAG: tag, ...options.env },
  });
  return { run, tag };
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Waits (up to `ms`) until `ready()` holds; false if it never did. */
export async function until(ready: () => boolean, ms = 30_000): Promise<boolean> {
  for (const end = Date.now() + ms; Date.now() < end; await sleep(100)) if (ready()) return true;
  return ready();
}
