#!/usr/bin/env node
/**
 * The self-test (SPEC §4): a case that cannot fail is a defect. Every server is started with each
 * fault of docs/peer-contract.md in turn, every client runs the whole suite against it, and the
 * self-test checks that each fault is caught by the cases meant to catch it, by every client,
 * against every server. `npm run selftest` prints the detection table.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { repoRoot } from '../../ts-common/src/paths.js';
import { planCells } from './plan.js';
import { loadMatrix } from './config.js';
import { runMatrix } from './run.js';
import type { CellResult } from './results.js';

/** fault → the seeds cases that must fail against it (the contract's table). */
export const EXPECTED_DETECTIONS: Readonly<Record<string, readonly string[]>> = {
  'greeting-punctuation': ['greeter_say_hello', 'greeter_say_hello_again', 'concurrent_unary', 'multi_address_failover'],
  'again-wrong': ['greeter_say_hello_again'],
  'service-wrong': ['helloworld_service'],
  'length-utf16': ['compute_length'],
  'length-bytes': ['compute_length'],
  'recommend-share-set': ['user_recommend'],
  'recommend-no-validation': ['user_recommend'],
  'random-constant': ['random_get'],
  'panda-float64': ['panda_getinfo'],
  'stream-truncate': ['stream_server'],
  'greetings-reversed': ['stream_client'],
  'bidi-buffered': ['stream_bidi'],
  'unary-every-10th-unavailable': ['concurrent_unary'],
  'single-worker': ['reuseport_workers'],
};

export interface FaultRun {
  fault: string;
  /** Cells of the expected cases that did not fail: each one is a case that missed its fault. */
  missed: string[];
  /** Detected (case, fault) pairs: expected cases that failed for every client and server. */
  detectedCases: string[];
  /** Other cases that also failed (allowed: e.g. a wrong greeting breaks several cases). */
  alsoFailed: string[];
  cells: number;
}

export interface SelfTestReport {
  suite: string;
  faults: FaultRun[];
  /** Cases no fault is meant to break: a case that cannot fail. */
  uncovered: string[];
  pairsExpected: number;
  pairsDetected: number;
}

export interface SelfTestOptions {
  root?: string;
  clients?: string[];
  servers?: string[];
  faults?: string[];
  jobs?: number;
  onFault?: (run: FaultRun) => void;
}

export async function runSelfTest(options: SelfTestOptions = {}): Promise<SelfTestReport> {
  const root = options.root ?? repoRoot();
  const configFile = join(root, 'matrix.yaml');
  const suite = 'seeds';
  const selection = {
    suites: [suite],
    ...(options.clients ? { clients: options.clients } : {}),
    ...(options.servers ? { servers: options.servers } : {}),
  };
  const allCases = [...new Set(planCells(loadMatrix(configFile), selection).map((c) => c.case))];
  const faults = options.faults ?? Object.keys(EXPECTED_DETECTIONS);
  const runs: FaultRun[] = [];
  for (const fault of faults) {
    const expected = EXPECTED_DETECTIONS[fault] ?? [];
    const results = await runMatrix({
      root,
      configFile,
      selection,
      outDir: join(root, 'reports', 'selftest', fault),
      serverFault: fault,
      reporters: [],
      ...(options.jobs ? { jobs: options.jobs } : {}),
    });
    const failed = (c: CellResult) => c.status === 'failed';
    const missed = results.cells.filter((c) => expected.includes(c.case) && !failed(c)).map((c) => c.id);
    const run: FaultRun = {
      fault,
      missed,
      detectedCases: expected.filter((name) => results.cells.some((c) => c.case === name) && results.cells.filter((c) => c.case === name).every(failed)),
      alsoFailed: [...new Set(results.cells.filter((c) => failed(c) && !expected.includes(c.case)).map((c) => c.case))],
      cells: results.cells.length,
    };
    runs.push(run);
    options.onFault?.(run);
  }
  const covered = new Set(faults.flatMap((f) => EXPECTED_DETECTIONS[f] ?? []));
  return {
    suite,
    faults: runs,
    uncovered: allCases.filter((c) => !covered.has(c)),
    pairsExpected: faults.reduce((n, f) => n + (EXPECTED_DETECTIONS[f]?.length ?? 0), 0),
    pairsDetected: runs.reduce((n, r) => n + r.detectedCases.length, 0),
  };
}

export function renderSelfTest(report: SelfTestReport): string {
  const lines = [`self-test (${report.suite}): fault → cases that caught it (every client × every server)`];
  for (const run of report.faults) {
    const verdict = run.missed.length === 0 ? 'caught' : `MISSED by ${run.missed.length} cell(s): ${run.missed.slice(0, 5).join(', ')}`;
    const also = run.alsoFailed.length > 0 ? `; also failed: ${run.alsoFailed.join(', ')}` : '';
    lines.push(`  ${run.fault.padEnd(30)} ${verdict} [${run.detectedCases.join(', ')}]${also}`);
  }
  lines.push(`${report.pairsDetected} of ${report.pairsExpected} (case, fault) pairs detected`);
  if (report.uncovered.length > 0) lines.push(`cases no fault can break: ${report.uncovered.join(', ')}`);
  return `${lines.join('\n')}\n`;
}

export const selfTestPassed = (r: SelfTestReport): boolean => r.pairsDetected === r.pairsExpected && r.uncovered.length === 0 && r.faults.every((f) => f.missed.length === 0);

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const report = await runSelfTest({ onFault: (run) => process.stderr.write(`${run.fault}: ${run.missed.length === 0 ? 'caught' : 'MISSED'}\n`) });
  const out = join(repoRoot(), 'reports', 'selftest');
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, 'selftest.json'), `${JSON.stringify(report, null, 2)}\n`);
  process.stdout.write(renderSelfTest(report));
  process.exit(selfTestPassed(report) ? 0 : 1);
}
