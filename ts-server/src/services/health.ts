import { status } from '@grpc/grpc-js';
import type { HealthHandlers } from '../../../ts-common/src/generated/grpc/health/v1/Health.js';
import type { Faults } from '../faults.js';
import { rpcError } from '../status.js';

/**
 * grpc.health.v1.Health over the names of the served services: "" and every served service
 * are SERVING, any other name is unknown. The runner's readiness probe is Check(""). Faults:
 * health-serving-any (any name is SERVING), health-services-not-serving (every served service
 * is NOT_SERVING; "" stays SERVING), health-watch-silent (Watch sends nothing, and holds the
 * stream all the same).
 */
export function healthHandlers(served: ReadonlySet<string>, faults: Faults): HealthHandlers {
  /** The status of `service`; undefined for a name the server does not know. */
  const statusOf = (service: string): 'SERVING' | 'NOT_SERVING' | undefined => {
    if (service === '') return 'SERVING';
    if (served.has(service)) return faults.has('health-services-not-serving') ? 'NOT_SERVING' : 'SERVING';
    return faults.has('health-serving-any') ? 'SERVING' : undefined;
  };
  return {
    Check(call, callback) {
      const service = call.request.service;
      const known = statusOf(service);
      if (known) callback(null, { status: known });
      else callback(rpcError(status.NOT_FOUND, `unknown service "${service}"`));
    },
    Watch(call) {
      if (!faults.has('health-watch-silent')) call.write({ status: statusOf(call.request.service) ?? 'SERVICE_UNKNOWN' });
      // Statuses never change here: hold the stream until the client cancels or the server stops.
      call.on('cancelled', () => call.end());
    },
  };
}
