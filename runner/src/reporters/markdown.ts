import { join, relative } from 'node:path';
import { incompleteLine, isBad, type CellResult, type Results } from '../results.js';
import { writeReport } from './atomic.js';
import { boundariesOf, boundaryLine, compatTable } from './compat.js';
import { gridsOf, labelOf, notRunLine, toneOf, type Tone } from './grid.js';
import type { Reporter } from './reporter.js';

const ICON: Record<string, string> = { passed: '✅', failed: '❌', known_failure: '🟡', unexpected_pass: '❗', flaky: '🔁', skipped: '⏭️', not_run: '⚪' };

const TONE_ICON: Record<Tone, string> = { green: '✅', yellow: '🟡', red: '❌', grey: '⚪' };

const escapeCell = (s: string) => s.replace(/\|/g, '\\|');

/**
 * DIR/summary.md: for a CI job summary or a PR comment — the INCOMPLETE banner of a run that did
 * not finish, the grids as tables, then the problems. LOGBASE turns a cell's log path (relative
 * to the repository) into one relative to summary.md.
 */
export function renderMarkdown(results: Results, logBase: (log: string) => string = (log) => log, extra = ''): string {
  const out: string[] = ['# gRPC interop matrix', ''];
  const incomplete = incompleteLine(results);
  if (incomplete) out.push(`> ⛔ **${incomplete}**`, '');
  const count = (cells: CellResult[], s: string) => cells.filter((c) => c.status === s).length;
  out.push(
    `${results.cells.length} cells: ${Object.keys(ICON).map((s) => [s, count(results.cells, s)] as const).filter(([, n]) => n > 0).map(([s, n]) => `${ICON[s]} ${n} ${s.replace('_', ' ')}`).join(', ')}`,
    '',
  );
  for (const grid of gridsOf(results)) {
    out.push(`## ${grid.suite} · ${grid.transport}`, '', `| client ↓ server → | ${grid.servers.join(' | ')} |`, `|---|${grid.servers.map(() => '---').join('|')}|`);
    for (const client of grid.clients) {
      const row = grid.servers.map((server) => {
        const e = grid.entry(client, server);
        return e ? `${TONE_ICON[toneOf(e.worst)]} ${labelOf(e)}` : '—';
      });
      out.push(`| **${client}** | ${row.join(' | ')} |`);
    }
    out.push('');
  }
  const table = compatTable(results);
  if (table) {
    out.push('## Compatibility · every suite and transport', '', `| client ↓ server → | ${table.servers.map((s) => s.label).join(' | ')} |`, `|---|${table.servers.map(() => '---').join('|')}|`);
    for (const client of table.clients) {
      const row = table.servers.map((server) => {
        const e = table.entry(client.key, server.key);
        return e ? `${TONE_ICON[toneOf(e.worst)]} ${labelOf(e)}` : '—';
      });
      out.push(`| **${client.label}** | ${row.join(' | ')} |`);
    }
    out.push('');
    const boundaries = boundariesOf(results);
    if (boundaries.length > 0) {
      out.push('Version boundaries (failures that pass with another release):', '');
      for (const b of boundaries) out.push(`- ${escapeCell(boundaryLine(b, results.implementations[b.base]?.library))}`);
      out.push('');
    }
  }
  const bad = results.cells.filter((c) => isBad(c, true)); // failing, unexpectedly passing, or flaky
  if (bad.length > 0) {
    out.push('## Failing, unexpectedly passing and flaky cells', '', '| cell | status | reason | log |', '|---|---|---|---|');
    for (const c of bad.slice(0, 200)) {
      const log = c.log ? logBase(c.log) : undefined;
      out.push(`| \`${c.id}\` | ${ICON[c.status]} ${c.status} | ${escapeCell((c.error ?? '').split('\n')[0]!).slice(0, 300)} | ${log ? `[${escapeCell(log)}](${encodeURI(log)})` : ''} |`);
    }
    out.push('');
  }
  const notRun = notRunLine(results);
  if (notRun) out.push(notRun, '');
  const versions = Object.entries(results.implementations).filter(([, i]) => i.version);
  if (versions.length > 0) out.push(`Libraries: ${versions.map(([n, i]) => `${n} = ${i.library} ${i.version}`).join(', ')}`, '');
  return `${out.join('\n')}${extra}`;
}

/** Writes DIR/summary.md; ROOT is the repository, which cells' log paths are relative to. */
export function writeMarkdown(outDir: string, results: Results, root: string, extra = ''): string {
  return writeReport(outDir, 'summary.md', renderMarkdown(results, (log) => relative(outDir, join(root, log)), extra));
}

export const markdownReporter = (outDir: string, root: string): Reporter => ({ onEnd: (results) => void writeMarkdown(outDir, results, root) });
