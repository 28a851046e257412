import { status } from '@grpc/grpc-js';
import type { PandaHandlers } from '../../../ts-common/src/generated/panda/Panda.js';
import type { Faults } from '../faults.js';
import { rpcError } from '../status.js';

const INT64_MAX = 2n ** 63n - 1n;

/** arg + 1, exact over int64 (int64 travels as a decimal string: longs: String). */
export function increment(arg: string, faults: Faults): string | { overflow: string } {
  const value = BigInt(arg);
  if (value >= INT64_MAX) return { overflow: `arg + 1 overflows int64 (arg = ${arg})` };
  if (faults.has('panda-float64')) return BigInt(Number(value) + 1).toString();
  return (value + 1n).toString();
}

/** panda.Panda (seed 001). */
export function pandaHandlers(faults: Faults): PandaHandlers {
  return {
    Getinfo(call, callback) {
      const result = increment(call.request.arg, faults);
      if (typeof result === 'string') callback(null, { reply: result });
      else callback(rpcError(status.OUT_OF_RANGE, result.overflow));
    },
  };
}
