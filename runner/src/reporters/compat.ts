/**
 * The version axis in reports: a compatibility table (client releases × server releases, every
 * suite and transport together) and the version boundaries of failures (a cell that fails with
 * one release of a library and passes with another). Views of results.json, like every report.
 */
import semver from 'semver';
import type { CellResult, Results } from '../results.js';
import { splitRelease } from '../patterns.js';
import { entryOf, type GridEntry } from './grid.js';

/** One release of an implementation as a report shows it: `python 1.62.3`. */
export interface Release {
  key: string;
  base: string;
  version?: string;
  label: string;
}

/** What a report knows of an implementation key: its base and version (declared, else reported). */
export function releaseOf(results: Results, key: string): Release {
  const info = results.implementations[key];
  const own = splitRelease(key);
  const base = info?.base ?? own.base;
  const version = own.version ?? info?.release ?? info?.installed ?? info?.version ?? undefined;
  return { key, base, ...(version ? { version } : {}), label: version ? `${base} ${version}` : base };
}

/** Newest first within a base; bases in the order they came. */
function sortReleases(releases: Release[]): Release[] {
  const bases = [...new Set(releases.map((r) => r.base))];
  const newestFirst = (a: Release, b: Release) => (a.version && b.version && semver.valid(a.version) && semver.valid(b.version) ? semver.rcompare(a.version, b.version) : 0);
  return bases.flatMap((b) => releases.filter((r) => r.base === b).sort(newestFirst));
}

/** Whether the run has more than one release of some implementation (the table is worth showing). */
export const hasVersionAxis = (results: Results): boolean => results.cells.some((c) => c.client.includes('@') || c.server.includes('@'));

export interface CompatTable {
  clients: Release[];
  servers: Release[];
  entry(client: string, server: string): GridEntry | undefined;
}

/** Client releases × server releases over every suite and transport; undefined without a version axis. */
export function compatTable(results: Results): CompatTable | undefined {
  if (!hasVersionAxis(results)) return undefined;
  const keys = (pick: (c: CellResult) => string) => [...new Set(results.cells.map(pick))];
  const byPair = new Map<string, CellResult[]>();
  for (const c of results.cells) {
    const k = `${c.client}\0${c.server}`;
    byPair.set(k, [...(byPair.get(k) ?? []), c]);
  }
  return {
    clients: sortReleases(keys((c) => c.client).map((k) => releaseOf(results, k))),
    servers: sortReleases(keys((c) => c.server).map((k) => releaseOf(results, k))),
    entry(client, server) {
      const cells = byPair.get(`${client}\0${server}`);
      return cells ? entryOf(cells) : undefined;
    },
  };
}

export interface Boundary {
  /** The library whose releases differ, and in which role. */
  base: string;
  role: 'client' | 'server';
  failing: string[];
  passing: string[];
  /** Cells that fail on one side of the boundary (ids). */
  cells: string[];
}

/**
 * Failures that pass with another release of the same implementation in the same place (same
 * peer on the other side, transport, suite, case): the version boundary they start at.
 */
export function boundariesOf(results: Results): Boundary[] {
  if (!hasVersionAxis(results)) return [];
  const groups = new Map<string, Boundary>();
  for (const role of ['client', 'server'] as const) {
    const other = role === 'client' ? 'server' : 'client';
    const siblings = new Map<string, CellResult[]>();
    for (const c of results.cells) {
      const k = [releaseOf(results, c[role]).base, c[other], c.transport, c.suite, c.case].join('\0');
      siblings.set(k, [...(siblings.get(k) ?? []), c]);
    }
    for (const cells of siblings.values()) {
      const failed = cells.filter((c) => c.status === 'failed');
      const passed = cells.filter((c) => c.status === 'passed' || c.status === 'flaky');
      if (failed.length === 0 || passed.length === 0) continue;
      const versions = (cs: CellResult[]) => sortReleases(cs.map((c) => releaseOf(results, c[role]))).map((r) => r.version ?? r.key);
      const base = releaseOf(results, failed[0]![role]).base;
      const b: Boundary = { base, role, failing: versions(failed), passing: versions(passed), cells: [] };
      const key = [base, role, b.failing.join(','), b.passing.join(',')].join('\0');
      const group = groups.get(key) ?? b;
      group.cells.push(...failed.map((c) => c.id));
      groups.set(key, group);
    }
  }
  return [...groups.values()];
}

/** `grpc-js as server: fails with 1.8.0, passes with 1.8.22, 1.14.7 — 3 cells, e.g. go→ts@1.8.0/…`. */
export function boundaryLine(b: Boundary, library: string | undefined): string {
  const n = b.cells.length;
  return `${library ?? b.base} (${b.base}) as ${b.role}: fails with ${b.failing.join(', ')}, passes with ${b.passing.join(', ')} — ${n} cell${n === 1 ? '' : 's'}, e.g. ${b.cells[0]}`;
}
