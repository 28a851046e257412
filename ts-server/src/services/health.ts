import { status } from '@grpc/grpc-js';
import type { HealthHandlers } from '../../../ts-common/src/generated/grpc/health/v1/Health.js';
import type { Faults } from '../faults.js';
import { rpcError } from '../status.js';

/**
 * grpc.health.v1.Health over the names of the served services: "" and every served service
 * are SERVING (under the health-serving-any fault, any name is). The runner's readiness probe is
 * Check("").
 */
export function healthHandlers(served: ReadonlySet<string>, faults: Faults): HealthHandlers {
  const known = (service: string) => service === '' || served.has(service) || faults.has('health-serving-any');
  return {
    Check(call, callback) {
      const service = call.request.service;
      if (known(service)) callback(null, { status: 'SERVING' });
      else callback(rpcError(status.NOT_FOUND, `unknown service "${service}"`));
    },
    Watch(call) {
      call.write({ status: known(call.request.service) ? 'SERVING' : 'SERVICE_UNKNOWN' });
      // Statuses never change here: hold the stream until the client cancels or the server stops.
      call.on('cancelled', () => call.end());
    },
  };
}
