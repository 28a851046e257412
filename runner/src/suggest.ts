/**
 * `matrix known-failures [results.json]`: the shortest list of cell patterns that covers the
 * current failures and nothing else, as a known_failures block to paste into matrix.yaml (for
 * users upgrading a library: list what broke, with a reason each, then work it off).
 */
import { stringify } from 'yaml';
import { globToRegExp, type Results } from './results.js';

/** Widen one segment of a cell id to `*`: client, server, transport, suite or case. */
function widen(id: string, part: number): string {
  const [pair = '', transport = '', suite = '', name = ''] = id.split('/');
  const [client = '', server = ''] = pair.split('→');
  const parts = [client, server, transport, suite, name];
  parts[part] = '*';
  return `${parts[0]}→${parts[1]}/${parts[2]}/${parts[3]}/${parts[4]}`;
}

/**
 * Greedy: start from each failing cell's id and widen segments (transport, then client, then
 * server, then case) while the pattern still matches failing cells only.
 */
export function minimalPatterns(results: Results): Array<{ cell: string; matches: number }> {
  const failing = new Set(results.cells.filter((c) => c.status === 'failed').map((c) => c.id));
  const all = results.cells.map((c) => c.id);
  const matchOf = (pattern: string) => all.filter((id) => globToRegExp(pattern).test(id));
  const left = new Set(failing);
  const out: Array<{ cell: string; matches: number }> = [];
  for (const id of [...failing].sort()) {
    if (!left.has(id)) continue;
    let pattern = id;
    for (const part of [2, 0, 1, 4]) {
      const wider = widen(pattern, part);
      if (matchOf(wider).every((m) => failing.has(m))) pattern = wider;
    }
    const matched = matchOf(pattern);
    for (const m of matched) left.delete(m);
    out.push({ cell: pattern, matches: matched.length });
  }
  return out;
}

export function renderKnownFailures(results: Results): string {
  const patterns = minimalPatterns(results);
  if (patterns.length === 0) return '# no failing cell: nothing to list\n';
  return stringify({
    known_failures: patterns.map((p) => ({ cell: p.cell, reason: `TODO: why this fails (${p.matches} cell${p.matches === 1 ? '' : 's'})`, reference: 'TODO: issue or source reference' })),
  });
}
