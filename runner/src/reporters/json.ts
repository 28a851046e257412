import type { Results } from '../results.js';
import { writeReport } from './atomic.js';
import type { Reporter } from './reporter.js';

/** DIR/results.json in the shape of SPEC §5. */
export function writeResultsJson(outDir: string, results: Results): string {
  return writeReport(outDir, 'results.json', `${JSON.stringify(results, null, 2)}\n`);
}

export const jsonReporter = (outDir: string): Reporter => ({
  onEnd: (results) => void writeResultsJson(outDir, results),
});
