import { status } from '@grpc/grpc-js';
import type { HealthHandlers } from '../../../ts-common/src/generated/grpc/health/v1/Health.js';
import type { Faults } from '../faults.js';
import { rpcError } from '../status.js';

/** The statuses `script.set_health` may set (grpc.health.v1.HealthCheckResponse.ServingStatus names). */
export const SETTABLE_STATUSES = ['SERVING', 'NOT_SERVING', 'UNKNOWN'] as const;

export type SettableStatus = (typeof SETTABLE_STATUSES)[number];

export const isSettableStatus = (name: string): name is SettableStatus => (SETTABLE_STATUSES as readonly string[]).includes(name);

/**
 * The statuses set by `script.set_health`, by service name. Per process, like the scripted
 * service's call records: a restarted server (a new grpc.Server in the same process) keeps them.
 */
const setStatuses = new Map<string, SettableStatus>();

/** The open Watch streams of each service name: each is told when the name's status is set. */
const watchers = new Map<string, Set<() => void>>();

/** Sets `service`'s status (a new name becomes known) and tells every Watch stream of it. */
export function setHealth(service: string, to: SettableStatus): void {
  setStatuses.set(service, to);
  for (const tell of watchers.get(service) ?? []) tell();
}

/** Adds a Watch stream of `service` (its `tell`); returns what removes it. */
function watching(service: string, tell: () => void): () => void {
  let set = watchers.get(service);
  if (!set) watchers.set(service, (set = new Set()));
  set.add(tell);
  return () => {
    set.delete(tell);
    if (set.size === 0 && watchers.get(service) === set) watchers.delete(service);
  };
}

/**
 * grpc.health.v1.Health over the names of the served services: "" and every served service
 * are SERVING, any other name is unknown, and a name given a status by `script.set_health`
 * (setHealth) answers that status. The runner's readiness probe is Check(""). Watch sends the
 * current status, then each new one (not one equal to what the stream sent last) until the
 * client cancels. Faults: health-serving-any (any name not set is SERVING),
 * health-services-not-serving (every served service not set is NOT_SERVING; "" stays SERVING),
 * health-watch-silent (Watch sends nothing, and holds the stream all the same),
 * health-watch-no-updates (Watch sends the status of when it started, then nothing).
 */
export function healthHandlers(served: ReadonlySet<string>, faults: Faults): HealthHandlers {
  /** The status of `service`; undefined for a name the server does not know. */
  const statusOf = (service: string): SettableStatus | undefined => {
    const set = setStatuses.get(service);
    if (set !== undefined) return set;
    if (service === '') return 'SERVING';
    if (served.has(service)) return faults.has('health-services-not-serving') ? 'NOT_SERVING' : 'SERVING';
    return faults.has('health-serving-any') ? 'SERVING' : undefined;
  };
  const watchedStatus = (service: string): SettableStatus | 'SERVICE_UNKNOWN' => statusOf(service) ?? 'SERVICE_UNKNOWN';
  return {
    Check(call, callback) {
      const service = call.request.service;
      const known = statusOf(service);
      if (known) callback(null, { status: known });
      else callback(rpcError(status.NOT_FOUND, `unknown service "${service}"`));
    },
    Watch(call) {
      const service = call.request.service;
      let unwatch: () => void = () => undefined;
      if (!faults.has('health-watch-silent')) {
        let sent = watchedStatus(service);
        call.write({ status: sent });
        if (!faults.has('health-watch-no-updates')) {
          unwatch = watching(service, () => {
            const now = watchedStatus(service);
            if (now === sent || call.cancelled) return;
            sent = now;
            call.write({ status: now });
          });
        }
      }
      // Hold the stream until the client cancels or the server stops.
      call.on('cancelled', () => {
        unwatch();
        call.end();
      });
    },
  };
}
