import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import junitModule, { type Builder } from 'junit-report-builder';
import { isBad, type Results } from '../results.js';
import type { Reporter } from './reporter.js';

// The package is CommonJS whose module.exports is the builder; its typings describe an ES default export.
const junit = junitModule as unknown as Builder;

/** DIR/junit.xml: one test suite per client→server/transport pairing, one testcase per cell. */
export function writeJunit(outDir: string, results: Results): string {
  mkdirSync(outDir, { recursive: true });
  const builder = junit.newBuilder();
  const suites = new Map<string, ReturnType<typeof builder.testSuite>>();
  for (const cell of results.cells) {
    const suiteName = `${cell.client}→${cell.server}/${cell.transport}/${cell.suite}`;
    let suite = suites.get(suiteName);
    if (!suite) {
      suite = builder.testSuite().name(suiteName);
      suites.set(suiteName, suite);
    }
    const tc = suite.testCase().className(suiteName).name(cell.case).time(cell.durationMs / 1000);
    if (isBad(cell)) tc.failure(cell.error ?? cell.status, cell.status);
    else if (cell.status === 'known_failure' || cell.status === 'skipped') tc.skipped();
    if (cell.log) tc.standardOutput(`log: ${cell.log}`);
    if (cell.error && cell.status !== 'failed') tc.standardError(cell.error);
  }
  const file = join(outDir, 'junit.xml');
  builder.writeTo(file);
  return file;
}

export const junitReporter = (outDir: string): Reporter => ({
  onEnd: (results) => void writeJunit(outDir, results),
});
