import type { CellResult, CellStatus, Results } from '../results.js';

/** One pairing's cells in a grid: how many are fine (passed, known failure, flaky) of how many. */
export interface GridEntry {
  ok: number;
  total: number;
  /** The worst status among them, which colours the entry. */
  worst: CellStatus;
}

/** A grid per suite and transport: rows are clients, columns are servers. */
export interface Grid {
  suite: string;
  transport: string;
  clients: string[];
  servers: string[];
  /** undefined where the pairing has no cell. */
  entry(client: string, server: string): GridEntry | undefined;
}

const WORST_FIRST: CellStatus[] = ['failed', 'unexpected_pass', 'not_run', 'flaky', 'known_failure', 'skipped', 'passed'];

export const isFine = (c: CellResult): boolean => c.status === 'passed' || c.status === 'known_failure' || c.status === 'flaky';

export const worstOf = (cells: CellResult[]): CellStatus => WORST_FIRST.find((s) => cells.some((c) => c.status === s)) ?? 'passed';

const unique = (xs: string[]) => [...new Set(xs)];

/** The grids of a run, in the order the cells came (plan order). */
export function gridsOf(results: Results): Grid[] {
  return unique(results.cells.map((c) => `${c.suite}\0${c.transport}`)).map((key) => {
    const [suite, transport] = key.split('\0') as [string, string];
    const cells = results.cells.filter((c) => c.suite === suite && c.transport === transport);
    return {
      suite,
      transport,
      clients: unique(cells.map((c) => c.client)),
      servers: unique(cells.map((c) => c.server)),
      entry(client, server) {
        const here = cells.filter((c) => c.client === client && c.server === server);
        return here.length === 0 ? undefined : { ok: here.filter(isFine).length, total: here.length, worst: worstOf(here) };
      },
    };
  });
}
