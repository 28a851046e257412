/**
 * Stage 5 — results: the one model every report is a view of (SPEC §5), and the rules that turn
 * a raw pass/fail into a status (known failures, unexpected passes).
 */
import type { KnownFailure } from './config.js';
import type { Cell } from './plan.js';

export type CellStatus = 'passed' | 'failed' | 'known_failure' | 'unexpected_pass' | 'flaky' | 'skipped';

export interface CellResult extends Cell {
  status: CellStatus;
  durationMs: number;
  attempts: number;
  error?: string;
  /** Path (relative to the repository) of the client's log; it names the server's log too. */
  log?: string;
}

export interface ImplementationInfo {
  language: string;
  library: string;
  /** As reported by the running server (interop.ServerInfo); null if it never served. */
  version: string | null;
}

export interface Results {
  schema: 1;
  startedAt: string;
  durationMs: number;
  implementations: Record<string, ImplementationInfo>;
  cells: CellResult[];
}

/** A raw outcome, before known failures are applied. */
export interface Outcome {
  passed: boolean;
  durationMs: number;
  error?: string;
  log?: string;
}

/** `*` matches within one path segment of a cell id; `**` matches any number of segments. */
export function globToRegExp(pattern: string): RegExp {
  const segment = (s: string) => s.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('[^/]*');
  const body = pattern
    .split('/')
    .map((s) => (s === '**' ? '.*' : segment(s)))
    .join('/');
  return new RegExp(`^${body}$`);
}

export function knownFailureFor(id: string, known: KnownFailure[]): KnownFailure | undefined {
  return known.find((k) => globToRegExp(k.cell).test(id));
}

export function classify(cell: Cell, outcome: Outcome, known: KnownFailure[]): CellResult {
  const expectedToFail = knownFailureFor(cell.id, known);
  let status: CellStatus = outcome.passed ? 'passed' : 'failed';
  let error = outcome.error;
  if (expectedToFail) {
    status = outcome.passed ? 'unexpected_pass' : 'known_failure';
    error = outcome.passed
      ? `listed as a known failure (${expectedToFail.reason}) but passed: remove it from known_failures`
      : `known failure: ${expectedToFail.reason}${outcome.error ? ` — ${outcome.error}` : ''}`;
  }
  return {
    ...cell,
    status,
    durationMs: Math.round(outcome.durationMs),
    attempts: 1,
    ...(error !== undefined ? { error } : {}),
    ...(outcome.log !== undefined ? { log: outcome.log } : {}),
  };
}

export const isBad = (c: CellResult): boolean => c.status === 'failed' || c.status === 'unexpected_pass';

/** SPEC §5: 0 when no cell is failed or unexpected_pass, 1 otherwise. */
export const exitCodeOf = (results: Results): 0 | 1 => (results.cells.some(isBad) ? 1 : 0);
