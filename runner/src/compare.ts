/**
 * The regression diff: two results (a baseline and a new run) in, what got worse or better out.
 * A cell is "bad" when failed or unexpectedly passing; the gate fails on newly bad cells only.
 */
import { readFileSync } from 'node:fs';
import { ConfigError } from './config.js';
import { isBad, type CellResult, type CellStatus, type Results } from './results.js';

export interface StatusChange {
  id: string;
  before: CellStatus;
  after: CellStatus;
  error?: string;
}

export interface DurationChange {
  id: string;
  beforeMs: number;
  afterMs: number;
}

export interface Diff {
  newlyFailing: StatusChange[];
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
  const diff: Diff = { newlyFailing: [], newlyPassing: [], newlyKnown: [], added: [], removed: [], slower: [], faster: [] };
  for (const [id, cell] of now) {
    const was = old.get(id);
    if (!was) {
      diff.added.push(id);
      continue;
    }
    const change = (c: CellResult): StatusChange => ({ id, before: was.status, after: c.status, ...(c.error ? { error: c.error } : {}) });
    if (isBad(cell) && !isBad(was)) diff.newlyFailing.push(change(cell));
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

export const isRegression = (diff: Diff): boolean => diff.newlyFailing.length > 0;

export function renderDiff(diff: Diff): string {
  const lines: string[] = [];
  const section = (title: string, items: string[]) => {
    if (items.length === 0) return;
    lines.push(`${title} (${items.length}):`, ...items.slice(0, 100).map((i) => `  ${i}`));
    if (items.length > 100) lines.push(`  … and ${items.length - 100} more`);
  };
  section('newly failing', diff.newlyFailing.map((c) => `${c.id}: ${c.before} → ${c.after}${c.error ? `: ${c.error.split('\n')[0]}` : ''}`));
  section('newly passing', diff.newlyPassing.map((c) => `${c.id}: ${c.before} → ${c.after}`));
  section('newly known failures', diff.newlyKnown.map((c) => `${c.id}: ${c.before} → ${c.after}`));
  section('added cells', diff.added);
  section('removed cells', diff.removed);
  section('slower', diff.slower.map((d) => `${d.id}: ${d.beforeMs} ms → ${d.afterMs} ms`));
  section('faster', diff.faster.map((d) => `${d.id}: ${d.beforeMs} ms → ${d.afterMs} ms`));
  return lines.length === 0 ? 'no change against the baseline\n' : `${lines.join('\n')}\n`;
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
