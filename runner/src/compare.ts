/**
 * The regression diff: two results (a baseline and a new run) in, what got worse or better out.
 * A cell is "bad" when failed or unexpectedly passing. The gate fails exactly on newly bad cells
 * (bad now, and not bad or absent in the baseline) and on a new run that did not finish; cells
 * that were bad in the baseline too are listed as still failing and do not fail it.
 */
import { readFileSync } from 'node:fs';
import { ConfigError } from './config.js';
import { isBad, type CellResult, type CellStatus, type Results } from './results.js';

export interface StatusChange {
  id: string;
  /** `absent`: the baseline has no such cell (a cell added since). */
  before: CellStatus | 'absent';
  after: CellStatus;
  error?: string;
}

export interface DurationChange {
  id: string;
  beforeMs: number;
  afterMs: number;
}

/**
 * A peer whose library release differs between the two runs: the cells named after it compare
 * one release with another (a default release bumped), or exist on one side only (a release
 * line added or dropped).
 */
export interface LibraryChange {
  name: string;
  /** e.g. `grpc-js 1.14.7`; undefined: the peer has no cell in that run. */
  before?: string;
  after?: string;
}

export interface Diff {
  libraries: LibraryChange[];
  newlyFailing: StatusChange[];
  /** Bad now and bad in the baseline: known old failures, which do not fail the gate. */
  stillFailing: StatusChange[];
  /** Planned but not run in the new run (it was interrupted). */
  notRun: string[];
  newlyPassing: StatusChange[];
  newlyKnown: StatusChange[];
  added: string[];
  removed: string[];
  slower: DurationChange[];
  faster: DurationChange[];
}

export interface DurationThreshold {
  /** A change counts when it is at least this many milliseconds… */
  minMs: number;
  /** …and at least this fraction of the slower of the two (0.5 = 50 %). */
  ratio: number;
}

export const DEFAULT_THRESHOLD: DurationThreshold = { minMs: 500, ratio: 0.5 };

export function compareResults(before: Results, after: Results, threshold: DurationThreshold = DEFAULT_THRESHOLD): Diff {
  const old = new Map(before.cells.map((c) => [c.id, c]));
  const now = new Map(after.cells.map((c) => [c.id, c]));
  const diff: Diff = { libraries: libraryChanges(before, after), newlyFailing: [], stillFailing: [], notRun: [], newlyPassing: [], newlyKnown: [], added: [], removed: [], slower: [], faster: [] };
  for (const [id, cell] of now) {
    const was = old.get(id);
    const change = (c: CellResult): StatusChange => ({ id, before: was?.status ?? 'absent', after: c.status, ...(c.error ? { error: c.error } : {}) });
    if (cell.status === 'not_run') diff.notRun.push(id);
    if (!was) {
      diff.added.push(id);
      if (isBad(cell)) diff.newlyFailing.push(change(cell));
      continue;
    }
    if (isBad(cell) && isBad(was)) diff.stillFailing.push(change(cell));
    else if (isBad(cell)) diff.newlyFailing.push(change(cell));
    else if (cell.status === 'passed' && was.status !== 'passed') diff.newlyPassing.push(change(cell));
    else if (cell.status === 'known_failure' && was.status !== 'known_failure') diff.newlyKnown.push(change(cell));
    const delta = cell.durationMs - was.durationMs;
    if (Math.abs(delta) >= threshold.minMs && Math.abs(delta) >= threshold.ratio * Math.max(cell.durationMs, was.durationMs)) {
      (delta > 0 ? diff.slower : diff.faster).push({ id, beforeMs: was.durationMs, afterMs: cell.durationMs });
    }
  }
  for (const id of old.keys()) if (!now.has(id)) diff.removed.push(id);
  return diff;
}

/** The library behind each peer that has cells, as the run recorded it. */
function librariesOf(results: Results): Map<string, string> {
  const peers = new Set(results.cells.flatMap((c) => [c.client, c.server]));
  const named = new Map<string, string>();
  for (const name of [...peers].sort()) {
    const info = results.implementations[name];
    const version = info?.version ?? info?.installed ?? info?.release;
    named.set(name, info ? `${info.library}${version ? ` ${version}` : ''}` : '(not recorded)');
  }
  return named;
}

function libraryChanges(before: Results, after: Results): LibraryChange[] {
  const old = librariesOf(before);
  const now = librariesOf(after);
  const names = [...new Set([...old.keys(), ...now.keys()])].sort();
  return names
    .filter((n) => old.get(n) !== now.get(n))
    .map((name) => ({ name, ...(old.has(name) ? { before: old.get(name)! } : {}), ...(now.has(name) ? { after: now.get(name)! } : {}) }));
}

export const isRegression = (diff: Diff): boolean => diff.newlyFailing.length > 0;

/** The gate's verdict: 1 on newly failing cells, on an incomplete new run, or (asked for) on flaky cells. */
export const gateExitCode = (diff: Diff, after: Results, failOnFlaky = false): 0 | 1 =>
  isRegression(diff) || after.incomplete !== undefined || (failOnFlaky && after.cells.some((c) => c.status === 'flaky')) ? 1 : 0;

export function renderDiff(diff: Diff, after?: Results): string {
  const lines: string[] = [];
  if (after?.incomplete) lines.push(`the new run is INCOMPLETE (${after.incomplete.reason}): ${after.incomplete.notRun} cells not run — the gate fails`);
  const section = (title: string, items: string[]) => {
    if (items.length === 0) return;
    lines.push(`${title} (${items.length}):`, ...items.slice(0, 100).map((i) => `  ${i}`));
    if (items.length > 100) lines.push(`  … and ${items.length - 100} more`);
  };
  section(
    'libraries changed (cells named after them compare across releases)',
    diff.libraries.map((l) => `${l.name}: ${l.before ?? 'not in the baseline'} → ${l.after ?? 'not in the new run'}`),
  );
  section('newly failing', diff.newlyFailing.map((c) => `${c.id}: ${c.before} → ${c.after}${c.error ? `: ${c.error.split('\n')[0]}` : ''}`));
  section('still failing, as in the baseline (these do not fail the gate)', diff.stillFailing.map((c) => `${c.id}: ${c.after}${c.error ? `: ${c.error.split('\n')[0]}` : ''}`));
  section('not run', diff.notRun);
  section('newly passing', diff.newlyPassing.map((c) => `${c.id}: ${c.before} → ${c.after}`));
  section('newly known failures', diff.newlyKnown.map((c) => `${c.id}: ${c.before} → ${c.after}`));
  section('added cells', diff.added);
  section('removed cells', diff.removed);
  section('slower', diff.slower.map((d) => `${d.id}: ${d.beforeMs} ms → ${d.afterMs} ms`));
  section('faster', diff.faster.map((d) => `${d.id}: ${d.beforeMs} ms → ${d.afterMs} ms`));
  if (lines.length === 0) return 'no change against the baseline\n';
  if (diff.newlyFailing.length === 0 && !after?.incomplete) lines.push('no newly failing cell: the gate passes');
  return `${lines.join('\n')}\n`;
}

export function readResults(file: string): Results {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new ConfigError(`${file}: cannot read results: ${(err as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || (parsed as Results).schema !== 1 || !Array.isArray((parsed as Results).cells)) {
    throw new ConfigError(`${file}: not a results.json of schema 1`);
  }
  return parsed as Results;
}
