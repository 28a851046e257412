/**
 * Stage 5 — results: the one model every report is a view of (SPEC §5), and the rules that turn
 * a raw pass/fail into a status (known failures, unexpected passes).
 */
import { patternMatches, type VersionTable } from './patterns.js';
import type { FlakyEntry, KnownFailure } from './config.js';
import type { Cell } from './plan.js';

/**
 * `not_run`: planned but never run, because the run stopped first (a signal, a runner error) or,
 * in a merge told --allow-partial, because its shard is missing. It says nothing about the peers.
 */
export type CellStatus = 'passed' | 'failed' | 'known_failure' | 'unexpected_pass' | 'flaky' | 'skipped' | 'not_run';

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
  /** As installed (`installed_version` in matrix.yaml), where a runner check needed it. */
  installed?: string;
  /** The library release matrix.yaml declares for it (`versions`), when it declares any. */
  release?: string;
  /** The implementation this is a release of (`python` for `python@1.62.3`). */
  base?: string;
}

export interface Results {
  schema: 1;
  startedAt: string;
  durationMs: number;
  implementations: Record<string, ImplementationInfo>;
  /** Every planned cell, in plan order; those the run never reached have status `not_run`. */
  cells: CellResult[];
  /** Where the time went (absent in results written before it existed, and in merged shards). */
  timings?: Timings;
  /** What the run was asked to run (absent in results written before it existed). */
  plan?: PlanRecord;
  /** Where the peers ran (absent in results written before it existed, and in merged shards). */
  launcher?: LauncherInfo;
  /** Present when the run did not run everything it planned: why, and how many cells were not run. */
  incomplete?: Incomplete;
}

/** `process`, or `docker` with the Compose that ran the containers (e.g. `docker compose 2.40.3`). */
export type LauncherInfo = { name: 'process' } | { name: 'docker'; compose: string };

export interface Incomplete {
  /** e.g. `interrupted by SIGTERM`, `runner error: …`, `partial merge: shard 3/3 missing`. */
  reason: string;
  /** How many planned cells have status `not_run`. */
  notRun: number;
}

/**
 * The plan a run (or a shard) came from, so that `merge` can tell a complete set of shards from
 * an incomplete or mismatched one.
 */
export interface PlanRecord {
  /** The filters of the run (the cell selection, without the shard). */
  selection: { versions?: string; clients?: string[]; servers?: string[]; suites?: string[]; transports?: string[]; networks?: string[]; grep?: string };
  /** Cells of the whole plan (all shards together). */
  total: number;
  /** sha256 of the whole plan's sorted cell ids: shards of one plan share it. */
  fingerprint: string;
  /** Which slice this run took, when sharded. */
  shard?: { index: number; count: number };
  /** --latest: per implementation, the newest library release its registry had when the run started. */
  latest?: Record<string, string>;
}

/**
 * Time summed over every peer of a run (peers run in parallel, so sums can exceed the wall time).
 * Client time includes its cases; what is left is start-up and exit.
 */
export interface Timings {
  /** Checking (and, when stale, running) the builds or image builds. */
  buildMs?: number;
  serverStarts: number;
  /** From starting a server to its first SERVING health check. */
  serverStartMs: number;
  /** Client runs: one-shot processes, and batches handed to executors. */
  clientRuns: number;
  /** Client processes started (one-shot runs and executors; absent in results written before executors). */
  clientProcesses?: number;
  /** Client runs from start to end (a one-shot process from start to exit). */
  clientMs: number;
  /** The cases themselves, as the clients measured them (RPCs and checks). */
  caseMs: number;
  /**
   * Each server group's time line, in ms from the start of the cases: where a run's wall time
   * goes (the group that ends last, job slots left idle). Absent in older results.
   */
  groups?: GroupTiming[];
  /** When the place each implementation's peers run (its container) was ready, in ms from the start of the cases. */
  hosts?: Array<{ impl: string; readyMs: number }>;
}

export interface GroupTiming {
  /**
   * The server group (its log folder), e.g. `go/insecure` or `python@1.62.3/tls/paced`; not
   * called `id`, which names cells (report.html counts its cells by it).
   */
  group: string;
  paced?: boolean;
  cells: number;
  startMs: number;
  endMs: number;
}

/** A raw outcome, before known failures are applied. */
export interface Outcome {
  passed: boolean;
  durationMs: number;
  error?: string;
  log?: string;
  /** Runs it took (1 unless retried). */
  attempts?: number;
  /** The failure of the first attempt, when a retry passed. */
  firstError?: string;
}

export { globToRegExp } from './patterns.js';

/** The first entry whose cell pattern matches the id (versions: how ids name library releases). */
export function knownFailureFor<T extends KnownFailure>(id: string, known: T[], versions: VersionTable = {}): T | undefined {
  return known.find((k) => patternMatches(k.cell, id, versions));
}

export const flakyFor = knownFailureFor;

export function classify(cell: Cell, outcome: Outcome, known: KnownFailure[], versions: VersionTable = {}, flaky: FlakyEntry[] = []): CellResult {
  const attempts = outcome.attempts ?? 1;
  let status: CellStatus = outcome.passed ? (attempts > 1 ? 'flaky' : 'passed') : 'failed';
  let error = status === 'flaky' ? `passed on attempt ${attempts}; attempt 1 failed: ${outcome.firstError}` : outcome.error;
  const mayFail = outcome.passed ? undefined : knownFailureFor(cell.id, flaky, versions);
  const expectedToFail = knownFailureFor(cell.id, known, versions);
  if (mayFail?.may_fail) {
    status = 'known_failure';
    error = `known flaky, failed all ${attempts} attempts: ${mayFail.reason}${outcome.error ? ` — ${outcome.error}` : ''}`;
  } else if (expectedToFail) {
    status = outcome.passed ? 'unexpected_pass' : 'known_failure';
    error = outcome.passed
      ? `listed as a known failure (${expectedToFail.reason}) but passed: remove it from known_failures`
      : `known failure: ${expectedToFail.reason}${outcome.error ? ` — ${outcome.error}` : ''}`;
  }
  return {
    ...cell,
    status,
    durationMs: Math.round(outcome.durationMs),
    attempts,
    ...(error !== undefined ? { error } : {}),
    ...(outcome.log !== undefined ? { log: outcome.log } : {}),
  };
}

export const isBad = (c: CellResult, failOnFlaky = false): boolean =>
  c.status === 'failed' || c.status === 'unexpected_pass' || (failOnFlaky && c.status === 'flaky');

/**
 * SPEC §5: 0 when no cell is failed or unexpected_pass (or flaky, with --fail-on-flaky), 1
 * otherwise. A run that did not run everything it planned is never a success.
 */
export const exitCodeOf = (results: Results, failOnFlaky = false): 0 | 1 =>
  results.incomplete || results.cells.some((c) => isBad(c, failOnFlaky) || c.status === 'not_run') ? 1 : 0;

/** The not-run cell of a planned cell the run never reached. */
export const notRunCell = (cell: Cell, why: string): CellResult => ({ ...cell, status: 'not_run', durationMs: 0, attempts: 0, error: `not run: ${why}` });

/** One line for reports: `INTERRUPTED — interrupted by SIGTERM: 12 of 40 planned cells not run`. */
export const incompleteLine = (results: Results): string | undefined =>
  results.incomplete ? `INCOMPLETE RUN — ${results.incomplete.reason}: ${results.incomplete.notRun} of ${results.cells.length} planned cells not run` : undefined;
