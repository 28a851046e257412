import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isBad, type CellResult, type Results } from '../results.js';
import { gridsOf } from './grid.js';
import type { Reporter } from './reporter.js';

const ICON: Record<string, string> = { passed: '✅', failed: '❌', known_failure: '🟡', unexpected_pass: '❗', flaky: '🔁', skipped: '⏭️' };

/** DIR/summary.md: for a CI job summary or a PR comment — the grids as tables, then the problems. */
export function renderMarkdown(results: Results, extra = ''): string {
  const out: string[] = ['# gRPC interop matrix', ''];
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
        if (!e) return '—';
        const mark = e.worst === 'failed' || e.worst === 'unexpected_pass' ? '❌' : e.worst === 'passed' ? '✅' : '🟡';
        return `${mark} ${e.ok}/${e.total}`;
      });
      out.push(`| **${client}** | ${row.join(' | ')} |`);
    }
    out.push('');
  }
  const bad = results.cells.filter((c) => isBad(c, true)); // failing, unexpectedly passing, or flaky
  if (bad.length > 0) {
    out.push('## Failing, unexpectedly passing and flaky cells', '', '| cell | status | reason |', '|---|---|---|');
    for (const c of bad.slice(0, 200)) out.push(`| \`${c.id}\` | ${ICON[c.status]} ${c.status} | ${(c.error ?? '').split('\n')[0]!.replace(/\|/g, '\\|').slice(0, 300)} |`);
    out.push('');
  }
  const versions = Object.entries(results.implementations).filter(([, i]) => i.version);
  if (versions.length > 0) out.push(`Libraries: ${versions.map(([n, i]) => `${n} = ${i.library} ${i.version}`).join(', ')}`, '');
  return `${out.join('\n')}${extra}`;
}

export function writeMarkdown(outDir: string, results: Results, extra = ''): string {
  mkdirSync(outDir, { recursive: true });
  const file = join(outDir, 'summary.md');
  writeFileSync(file, renderMarkdown(results, extra));
  return file;
}

export const markdownReporter = (outDir: string): Reporter => ({ onEnd: (results) => void writeMarkdown(outDir, results) });
