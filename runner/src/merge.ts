/**
 * `matrix merge DIR…`: the results of shards as one results.json, in plan order, as an
 * unsharded run would have written it. Each shard records the plan it is a slice of, so a set
 * that is not whole (a shard missing, shards of different plans, a shard that was interrupted)
 * is refused — unless told to allow it, and then the result says it is incomplete.
 */
import { join } from 'node:path';
import { ConfigError, type Matrix } from './config.js';
import { readResults } from './compare.js';
import { planCells, planFingerprint, shardCells, type Cell, type Selection } from './plan.js';
import { notRunCell, type CellResult, type ImplementationInfo, type PlanRecord, type Results } from './results.js';

export interface Part {
  from: string;
  results: Results;
}

export function mergeResults(matrix: Matrix, parts: Part[], { allowPartial = false }: { allowPartial?: boolean } = {}): Results {
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
  const { problems, missing, plan } = checkWhole(matrix, parts);
  if (problems.length > 0 && !allowPartial) {
    throw new ConfigError(`merge: these results do not make one whole run: ${problems.join('; ')}. Merge them anyway with --allow-partial (the result is then marked incomplete)`);
  }
  const why = `partial merge: ${problems.join('; ')}`;
  const cells: CellResult[] = [...parts.flatMap((p) => p.results.cells), ...missing.map((c) => notRunCell(c, why))];
  const order = new Map(planCells(matrix).map((c, i) => [c.id, i]));
  const rank = (id: string) => order.get(id) ?? Number.MAX_SAFE_INTEGER;
  cells.sort((a, b) => rank(a.id) - rank(b.id) || (a.id < b.id ? -1 : 1));
  const notRun = Math.max(cells.filter((c) => c.status === 'not_run').length, plan ? plan.total - cells.length : 0);
  return {
    schema: 1,
    startedAt: new Date(start).toISOString(),
    durationMs: end - start,
    implementations,
    cells,
    ...(plan ? { plan } : {}),
    ...(problems.length > 0 ? { incomplete: { reason: why, notRun } } : {}),
  };
}

/**
 * What keeps the parts from being one whole run, and the planned cells of missing shards (when
 * matrix.yaml still gives the plan the shards came from).
 */
function checkWhole(matrix: Matrix, parts: Part[]): { problems: string[]; missing: Cell[]; plan: PlanRecord | undefined } {
  const problems: string[] = [];
  const withPlan = parts.filter((p): p is Part & { results: { plan: PlanRecord } } => p.results.plan !== undefined);
  for (const p of parts) if (!p.results.plan) problems.push(`${p.from} has no plan record (written by an older runner), so nothing tells whether a shard is missing`);
  for (const p of parts) if (p.results.incomplete) problems.push(`${p.from} is incomplete (${p.results.incomplete.reason})`);
  const first = withPlan[0];
  if (!first) return { problems, missing: [], plan: undefined };
  const { shard: _, ...plan } = first.results.plan;
  for (const p of withPlan.slice(1)) {
    if (p.results.plan.fingerprint !== plan.fingerprint) problems.push(`${p.from} is a slice of another plan than ${first.from} (a different matrix.yaml or other filters)`);
  }
  const count = first.results.plan.shard?.count ?? 1;
  const present = new Set<number>();
  for (const p of withPlan) {
    const shard = p.results.plan.shard ?? { index: 1, count: 1 };
    if (shard.count !== count) problems.push(`${p.from} is shard ${shard.index}/${shard.count}, ${first.from} is one of ${count}`);
    else present.add(shard.index);
  }
  // The whole plan again, from the recorded filters: it gives the cells of a missing shard.
  const { grep, versions, ...filters } = plan.selection;
  let whole: Cell[] = [];
  try {
    const mode: Pick<Selection, 'versions'> = versions === 'default' || versions === 'all' ? { versions } : {};
    whole = planCells(matrix, { ...filters, ...mode, ...(grep !== undefined ? { grep: new RegExp(grep) } : {}) });
  } catch {
    // matrix.yaml no longer has a name the shards were run with: the plan cannot be redone
  }
  const replanned = planFingerprint(whole.map((c) => c.id)) === plan.fingerprint;
  const missing: Cell[] = [];
  for (let index = 1; index <= count; index++) {
    if (present.has(index)) continue;
    const cells = replanned ? shardCells(whole, { index, count }) : [];
    problems.push(`shard ${index}/${count} is missing${replanned ? ` (${cells.length} cells)` : ''}`);
    missing.push(...cells);
  }
  return { problems, missing, plan };
}

export function readParts(dirs: string[]): Part[] {
  if (dirs.length === 0) throw new ConfigError('merge: name at least one results folder (or results.json)');
  return dirs.map((d) => {
    const file = d.endsWith('.json') ? d : join(d, 'results.json');
    return { from: file, results: readResults(file) };
  });
}
