import type { ComputeHandlers } from '../../../ts-common/src/generated/compute/Compute.js';
import type { Faults } from '../faults.js';

/** Length in Unicode code points: a string's iterator yields code points, `.length` counts UTF-16 units. */
export function codePointLength(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
}

export function measuredLength(s: string, faults: Faults): number {
  if (faults.has('length-utf16')) return s.length;
  if (faults.has('length-bytes')) return Buffer.byteLength(s, 'utf8');
  return codePointLength(s);
}

/** compute.Compute (seed 002). */
export function computeHandlers(faults: Faults): ComputeHandlers {
  return {
    SayHello(call, callback) {
      callback(null, { result: String(measuredLength(call.request.helloworld, faults)) });
    },
  };
}
