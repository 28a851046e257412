import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Results } from '../results.js';
import type { Reporter } from './reporter.js';

/** DIR/results.json in the shape of SPEC §5. */
export function writeResultsJson(outDir: string, results: Results): string {
  mkdirSync(outDir, { recursive: true });
  const file = join(outDir, 'results.json');
  writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);
  return file;
}

export const jsonReporter = (outDir: string): Reporter => ({
  onEnd: (results) => void writeResultsJson(outDir, results),
});
