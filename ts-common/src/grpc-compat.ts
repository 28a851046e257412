/**
 * Differences between the @grpc/grpc-js releases the TypeScript peers run on (1.8.0 to 1.14.7;
 * scripts/ts-version.mjs builds the peers against an older one). The code is compiled against
 * the types of the repository's grpc-js (1.14.7), so every difference is decided at run time,
 * from the version of the grpc-js this process actually loaded.
 */
import { createRequire } from 'node:module';
import type * as grpc from '@grpc/grpc-js';
import semver from 'semver';

/** The version of @grpc/grpc-js this process loaded (resolved from this file, as the peers' imports are). */
export function grpcJsVersion(): string {
  const require = createRequire(import.meta.url);
  return (require('@grpc/grpc-js/package.json') as { version: string }).version;
}

/** True when the loaded grpc-js is at least major.minor.patch. */
export function grpcJsAtLeast(major: number, minor: number, patch = 0): boolean {
  return semver.gte(grpcJsVersion(), `${major}.${minor}.${patch}`);
}

/**
 * Call once bindAsync has called back. Before grpc-js 1.10.0 a bound server accepts connections
 * but destroys every HTTP/2 session ("Stream refused by server" on a grpc-js client) until
 * `start()` is called (1.8.x src/server.ts, the 'session' handler: `if (!this.started)
 * session.destroy()`);
 * 1.10.0 serves as soon as a port is bound and deprecated `start()`, which now only emits a
 * DeprecationWarning (gRFC L107, grpc/grpc-node#2597).
 */
export function startServing(server: grpc.Server): void {
  if (!grpcJsAtLeast(1, 10)) server.start();
}

/** The part of grpc-js's ResolvingLoadBalancer (internal, before 1.9.0) that `closeClient` stops. */
interface ResolvingBackoff {
  backoffTimeout?: { reset(): void; stop(): void };
  continueResolving?: boolean;
}

/**
 * Closes a client's channel. Before grpc-js 1.9.0 a closed channel can come back to life: its
 * ResolvingLoadBalancer.destroy() leaves the re-resolution backoff timer armed (1.8.x
 * src/resolving-load-balancer.ts), and when the timer fires after a round_robin child asked
 * for re-resolution (round_robin asks whenever one of its subchannels fails, e.g. an address
 * that refuses connections), the channel resolves again and builds a new round_robin whose
 * subchannels reconnect forever, holding the process open. 1.9.0 stops the timer in destroy()
 * (grpc/grpc-node#2471, commit fcff72b9 "Implement channel idle timeout"); here the older
 * releases get the same two lines, on their internal objects.
 */
export function closeClient(client: grpc.Client): void {
  client.close();
  if (grpcJsAtLeast(1, 9)) return;
  const channel = client.getChannel() as unknown as { internalChannel?: { resolvingLoadBalancer?: ResolvingBackoff } };
  const resolving = channel.internalChannel?.resolvingLoadBalancer;
  if (!resolving?.backoffTimeout) return;
  resolving.backoffTimeout.reset();
  resolving.backoffTimeout.stop();
  resolving.continueResolving = false;
}
