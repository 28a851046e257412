import type { CellResult, Results } from '../results.js';

/** Every report is a view of the same results: a reporter sees cells as they end, then the whole. */
export interface Reporter {
  onBegin?(cellCount: number): void;
  onCell?(result: CellResult): void;
  onEnd(results: Results): void | Promise<void>;
}
