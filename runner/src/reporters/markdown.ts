import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CellResult, Results } from '../results.js';
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
  const keys = [...new Set(results.cells.map((c) => `${c.suite}\0${c.transport}`))];
  for (const key of keys) {
    const [suite, transport] = key.split('\0') as [string, string];
    const cells = results.cells.filter((c) => c.suite === suite && c.transport === transport);
    const clients = [...new Set(cells.map((c) => c.client))];
    const servers = [...new Set(cells.map((c) => c.server))];
    out.push(`## ${suite} · ${transport}`, '', `| client ↓ server → | ${servers.join(' | ')} |`, `|---|${servers.map(() => '---').join('|')}|`);
    for (const client of clients) {
      const row = servers.map((server) => {
        const here = cells.filter((c) => c.client === client && c.server === server);
        if (here.length === 0) return '—';
        const ok = here.filter((c) => c.status === 'passed' || c.status === 'known_failure' || c.status === 'flaky').length;
        const bad = here.some((c) => c.status === 'failed' || c.status === 'unexpected_pass');
        return `${bad ? '❌' : here.some((c) => c.status !== 'passed') ? '🟡' : '✅'} ${ok}/${here.length}`;
      });
      out.push(`| **${client}** | ${row.join(' | ')} |`);
    }
    out.push('');
  }
  const bad = results.cells.filter((c) => c.status === 'failed' || c.status === 'unexpected_pass' || c.status === 'flaky');
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
