import { CASES } from './cases/registry.js';
import { withoutChecks } from './check.js';
import { CaseContext, type Target } from './context.js';
import { describeError } from './rpc.js';

/** One line of the client's output (docs/peer-contract.md). */
export interface CaseResult {
  case: string;
  status: 'passed' | 'failed';
  ms: number;
  error?: string;
  /** What the library gave the client, for the runner to judge (e.g. server_info_version). */
  observed?: Record<string, unknown>;
}

export async function runCase(name: string, target: Target): Promise<CaseResult> {
  const started = performance.now();
  const fn = CASES.get(name);
  const ctx = new CaseContext(target);
  let error: string | undefined;
  try {
    if (!fn) throw new Error(`unknown test case: ${name}`);
    // Self-test only: --client_fault=no-checks makes the case's calls and checks nothing.
    if (target.clientFault === 'no-checks') await withoutChecks(() => fn(ctx));
    else await fn(ctx);
  } catch (err) {
    error = describeError(err);
  } finally {
    ctx.close();
  }
  const ms = Math.round((performance.now() - started) * 10) / 10;
  const observed = ctx.observed ? { observed: ctx.observed } : {};
  return error === undefined ? { case: name, status: 'passed', ms, ...observed } : { case: name, status: 'failed', ms, error, ...observed };
}
