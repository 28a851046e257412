import { join, relative } from 'node:path';
import junitModule, { type Builder } from 'junit-report-builder';
import { incompleteLine, isBad, type Results } from '../results.js';
import { writeReport } from './atomic.js';
import type { Reporter } from './reporter.js';

// The package is CommonJS whose module.exports is the builder; its typings describe an ES default export.
const junit = junitModule as unknown as Builder;

/**
 * junit.xml's text: one test suite per client→server/transport pairing, one testcase per cell —
 * failing and unexpectedly passing cells fail, known failures and cells not run are skipped.
 * A run that did not finish leads with a `matrix` suite whose `run complete` testcase is an
 * error, so that CI marks it red. LOGBASE turns a cell's log path (relative to the repository)
 * into one relative to junit.xml.
 */
export function renderJunit(results: Results, logBase: (log: string) => string): string {
  const builder = junit.newBuilder();
  const incomplete = incompleteLine(results);
  if (incomplete) builder.testSuite().name('matrix').testCase().className('matrix').name('run complete').error(incomplete, 'incomplete');
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
    else if (cell.status === 'known_failure' || cell.status === 'skipped' || cell.status === 'not_run') tc.skipped();
    if (cell.log) tc.standardOutput(`log: ${logBase(cell.log)}`);
    if (cell.error && cell.status !== 'failed') tc.standardError(cell.error);
  }
  return builder.build();
}

/** Writes DIR/junit.xml; ROOT is the repository, which cells' log paths are relative to. */
export function writeJunit(outDir: string, results: Results, root: string): string {
  return writeReport(outDir, 'junit.xml', renderJunit(results, (log) => relative(outDir, join(root, log))));
}

export const junitReporter = (outDir: string, root: string): Reporter => ({
  onEnd: (results) => void writeJunit(outDir, results, root),
});
