import { randomInt } from 'node:crypto';
import type { TestServerHandlers } from '../../../ts-common/src/generated/TestServer.js';
import type { Faults } from '../faults.js';

/** TestServer (seed 000, package-less): a random number in [0, 1000) and the id echoed. */
export function testServerHandlers(faults: Faults): TestServerHandlers {
  return {
    GetRandom(call, callback) {
      const random = faults.has('random-constant') ? 7 : randomInt(0, 1000);
      callback(null, { random, id: call.request.id });
    },
  };
}
