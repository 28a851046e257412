import type { CellResult, CellStatus, Results } from '../results.js';

/** One pairing's cells in a grid: how many are fine (passed, known failure, flaky) of how many. */
export interface GridEntry {
  ok: number;
  total: number;
  /** How many the run never reached: neither fine nor failing. */
  notRun: number;
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

/** The colour of an entry, the same in every report. */
export type Tone = 'green' | 'yellow' | 'red' | 'grey';

const WORST_FIRST: CellStatus[] = ['failed', 'unexpected_pass', 'not_run', 'flaky', 'known_failure', 'skipped', 'passed'];

const TONE: Record<CellStatus, Tone> = {
  passed: 'green',
  known_failure: 'yellow',
  flaky: 'yellow',
  failed: 'red',
  unexpected_pass: 'red',
  not_run: 'grey',
  skipped: 'grey',
};

export const isFine = (c: CellResult): boolean => c.status === 'passed' || c.status === 'known_failure' || c.status === 'flaky';

export const worstOf = (cells: CellResult[]): CellStatus => WORST_FIRST.find((s) => cells.some((c) => c.status === s)) ?? 'passed';

/** Green only when all passed, yellow when the rest are known failures or flaky, red on any failure, grey when not run. */
export const toneOf = (worst: CellStatus): Tone => TONE[worst];

export const entryOf = (cells: CellResult[]): GridEntry => ({
  ok: cells.filter(isFine).length,
  total: cells.length,
  notRun: cells.filter((c) => c.status === 'not_run').length,
  worst: worstOf(cells),
});

/** `10/13`, or `10/13 · 3 not run`. */
export const labelOf = (e: GridEntry): string => `${e.ok}/${e.total}${e.notRun > 0 ? ` · ${e.notRun} not run` : ''}`;

/** `3 cells not run`, or undefined when every cell ran. */
export function notRunLine(results: Results): string | undefined {
  const n = results.cells.filter((c) => c.status === 'not_run').length;
  return n === 0 ? undefined : `${n} cell${n === 1 ? '' : 's'} not run`;
}

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
        return here.length === 0 ? undefined : entryOf(here);
      },
    };
  });
}
