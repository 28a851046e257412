/**
 * `matrix merge DIR…`: the results of shards (or of any runs of disjoint cells) as one
 * results.json, in plan order, as an unsharded run would have written it.
 */
import { join } from 'node:path';
import { ConfigError, type Matrix } from './config.js';
import { readResults } from './compare.js';
import { planCells } from './plan.js';
import type { ImplementationInfo, Results } from './results.js';

export function mergeResults(matrix: Matrix, parts: Array<{ from: string; results: Results }>): Results {
  const order = new Map(planCells(matrix).map((c, i) => [c.id, i]));
  const seen = new Map<string, string>();
  const implementations: Record<string, ImplementationInfo> = {};
  let start = Number.POSITIVE_INFINITY;
  let end = 0;
  for (const { from, results } of parts) {
    for (const cell of results.cells) {
      if (seen.has(cell.id)) throw new ConfigError(`${from}: cell ${cell.id} is also in ${seen.get(cell.id)}: the parts overlap`);
      seen.set(cell.id, from);
    }
    for (const [name, info] of Object.entries(results.implementations)) {
      if (!implementations[name] || (implementations[name]!.version === null && info.version !== null)) implementations[name] = info;
    }
    const began = Date.parse(results.startedAt);
    start = Math.min(start, began);
    end = Math.max(end, began + results.durationMs);
  }
  const cells = parts.flatMap((p) => p.results.cells);
  const rank = (id: string) => order.get(id) ?? Number.MAX_SAFE_INTEGER;
  cells.sort((a, b) => rank(a.id) - rank(b.id) || (a.id < b.id ? -1 : 1));
  return { schema: 1, startedAt: new Date(start).toISOString(), durationMs: end - start, implementations, cells };
}

export function readParts(dirs: string[]): Array<{ from: string; results: Results }> {
  if (dirs.length === 0) throw new ConfigError('merge: name at least one results folder (or results.json)');
  return dirs.map((d) => {
    const file = d.endsWith('.json') ? d : join(d, 'results.json');
    return { from: file, results: readResults(file) };
  });
}
