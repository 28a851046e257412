import { CASES } from './cases/registry.js';
import { CaseContext, type Target } from './context.js';
import { describeError } from './rpc.js';

/** One line of the client's output (docs/peer-contract.md). */
export interface CaseResult {
  case: string;
  status: 'passed' | 'failed';
  ms: number;
  error?: string;
}

export async function runCase(name: string, target: Target): Promise<CaseResult> {
  const started = performance.now();
  const fn = CASES.get(name);
  const ctx = new CaseContext(target);
  let error: string | undefined;
  try {
    if (!fn) throw new Error(`unknown test case: ${name}`);
    await fn(ctx);
  } catch (err) {
    error = describeError(err);
  } finally {
    ctx.close();
  }
  const ms = Math.round((performance.now() - started) * 10) / 10;
  return error === undefined ? { case: name, status: 'passed', ms } : { case: name, status: 'failed', ms, error };
}
