import cluster from 'node:cluster';
import { rmSync } from 'node:fs';
import * as grpc from '@grpc/grpc-js';
import { hostPort } from '../../ts-common/src/cli.js';
import { startServing } from '../../ts-common/src/grpc-compat.js';
import { loadProtos } from '../../ts-common/src/proto.js';
import type { Faults } from './faults.js';
import { computeHandlers } from './services/compute.js';
import { greeterHandlers, helloWorldServiceHandlers } from './services/greeter.js';
import { healthHandlers } from './services/health.js';
import { pandaHandlers } from './services/panda.js';
import { addReflection } from './services/reflection.js';
import { scriptedHandlers } from './services/scripted.js';
import { serverInfoHandlers } from './services/server-info.js';
import { streamingGreeterHandlers } from './services/streaming-greeter.js';
import { testServerHandlers } from './services/test-server.js';
import { testServiceHandlers, unimplementedServiceHandlers } from './services/test-service.js';
import { userRecommendHandlers } from './services/user-recommend.js';

export interface TlsFiles {
  cert: Buffer;
  key: Buffer;
  /** Set for mTLS: client certificates must be signed by this CA. */
  clientCa?: Buffer;
}

export interface ServeOptions {
  host: string;
  port: number;
  faults: Faults;
  /** --max_receive_message_length / --max_send_message_length (bytes); absent: grpc-js's defaults. */
  maxReceiveMessageLength?: number;
  maxSendMessageLength?: number;
  /** The connection lifecycle flags (--max_concurrent_streams, --max_connection_age_ms, …). */
  lifecycle?: Lifecycle;
  /** Absent: plaintext. */
  tls?: TlsFiles;
  /** --ipv6_loopback=true: also listen on [::1], at the port number bound for `host`. */
  ipv6Loopback?: boolean;
  /** --second_host=ADDR: also listen on this IPv4 loopback address, at the port number bound for `host`. */
  secondHost?: string;
  /** --unix_socket=PATH: also listen on this Unix domain socket. */
  unixSocket?: string;
}

/** The connection lifecycle flags of docs/peer-contract.md, "Server" (ms unless named otherwise). */
export interface Lifecycle {
  maxConcurrentStreams?: number;
  maxConnectionAgeMs?: number;
  maxConnectionAgeGraceMs?: number;
  maxConnectionIdleMs?: number;
  keepaliveTimeMs?: number;
  keepaliveTimeoutMs?: number;
  keepaliveMinTimeMs?: number;
  keepalivePermitWithoutCalls?: boolean;
}

/**
 * The grpc-js server options of the lifecycle flags. grpc-js servers do not police their
 * clients' pings (no minimum ping interval, no "too_many_pings"; server.ts reads no such
 * option), so --keepalive_min_time_ms and --keepalive_permit_without_calls are accepted and
 * said unsupported; grpc-js releases before 1.10 have no grpc.max_connection_idle_ms, which
 * they ignore.
 */
export function lifecycleOptions(l: Lifecycle, warn: (line: string) => void): grpc.ServerOptions {
  const options: grpc.ServerOptions = {};
  const set = (name: string, value: number | undefined) => {
    if (value !== undefined) options[name] = value;
  };
  set('grpc.max_concurrent_streams', l.maxConcurrentStreams);
  set('grpc.max_connection_age_ms', l.maxConnectionAgeMs);
  set('grpc.max_connection_age_grace_ms', l.maxConnectionAgeGraceMs);
  set('grpc.max_connection_idle_ms', l.maxConnectionIdleMs);
  set('grpc.keepalive_time_ms', l.keepaliveTimeMs);
  set('grpc.keepalive_timeout_ms', l.keepaliveTimeoutMs);
  if (l.keepaliveMinTimeMs !== undefined) warn('--keepalive_min_time_ms: grpc-js servers have no option to police client pings; started without it');
  if (l.keepalivePermitWithoutCalls !== undefined) warn('--keepalive_permit_without_calls: grpc-js servers have no option to police client pings; started without it');
  return options;
}

export function serverCredentials(tls: TlsFiles | undefined): grpc.ServerCredentials {
  if (!tls) return grpc.ServerCredentials.createInsecure();
  return grpc.ServerCredentials.createSsl(tls.clientCa ?? null, [{ private_key: tls.key, cert_chain: tls.cert }], tls.clientCa !== undefined);
}

export interface RunningServer {
  port: number;
  /** Stops accepting, lets in-flight calls finish for up to `graceMs`, then cancels them. */
  stop(graceMs?: number): Promise<void>;
}

/** A grpc-js server with every service of protos/ registered, and server reflection describing them. */
/** What a service may ask of the process serving it. */
export interface ServerHooks {
  /** Restart the gRPC server: graceful shutdown, `afterMs` of pause, the same addresses again. */
  restart(afterMs: number): void;
}

export function createServer(faults: Faults, limits: Pick<ServeOptions, 'maxReceiveMessageLength' | 'maxSendMessageLength' | 'lifecycle'> = {}, hooks?: ServerHooks): grpc.Server {
  const p = loadProtos();
  // scripted-lifecycle-ignored: the library's defaults, whatever the flags say.
  const lifecycle = limits.lifecycle && !faults.has('scripted-lifecycle-ignored') ? limits.lifecycle : {};
  const options: grpc.ServerOptions = lifecycleOptions(lifecycle, (line) => process.stderr.write(`ts-server: ${line}\n`));
  if (faults.has('scripted-limits-ignored')) {
    options['grpc.max_receive_message_length'] = -1;
    options['grpc.max_send_message_length'] = -1;
  } else {
    if (limits.maxReceiveMessageLength !== undefined) options['grpc.max_receive_message_length'] = limits.maxReceiveMessageLength;
    if (limits.maxSendMessageLength !== undefined) options['grpc.max_send_message_length'] = limits.maxSendMessageLength;
  }
  const server = new grpc.Server(options);
  const services: Array<[string, grpc.ServiceDefinition, grpc.UntypedServiceImplementation]> = [
    ['helloworld.Greeter', p.helloworld.Greeter.service, greeterHandlers(faults)],
    ['helloworld.StreamingGreeter', p.helloworld.StreamingGreeter.service, streamingGreeterHandlers(faults)],
    ['rpc_package.HelloWorldService', p.rpc_package.HelloWorldService.service, helloWorldServiceHandlers(faults)],
    ['compute.Compute', p.compute.Compute.service, computeHandlers(faults)],
    ['UserRecommend', p.UserRecommend.service, userRecommendHandlers(faults)],
    ['TestServer', p.TestServer.service, testServerHandlers(faults)],
    ['panda.Panda', p.panda.Panda.service, pandaHandlers(faults)],
    ['interop.ServerInfo', p.interop.ServerInfo.service, serverInfoHandlers(faults)],
    ['grpc.testing.TestService', p.grpc.testing.TestService.service, testServiceHandlers(faults)],
    ['interop.scripted.Scripted', p.interop.scripted.Scripted.service, scriptedHandlers(faults, hooks)],
  ];
  if (faults.has('testing-implement-everything')) {
    server.addService(p.grpc.testing.UnimplementedService.service, unimplementedServiceHandlers());
  }
  const served = new Set(services.map(([name]) => name).concat('grpc.health.v1.Health'));
  for (const [, definition, handlers] of services) server.addService(definition, handlers);
  server.addService(p.grpc.health.v1.Health.service, healthHandlers(served, faults));
  addReflection(server, faults);
  return server;
}

/**
 * Binds `host`:`port`, then the other addresses asked for, all with the same credentials; the
 * port bound for `host`. A bind that fails shuts the server down (and rejects).
 */
async function bindAll(server: grpc.Server, options: ServeOptions): Promise<number> {
  const credentials = serverCredentials(options.tls);
  const bind = (address: string) =>
    new Promise<number>((resolve, reject) => {
      server.bindAsync(address, credentials, (err, bound) => (err ? reject(new Error(`cannot listen on ${address}: ${err.message}`)) : resolve(bound)));
    });
  try {
    const port = await bind(hostPort(options.host, options.port));
    if (options.ipv6Loopback) await bind(hostPort('::1', port));
    // scripted-second-host-ignored: --host (and the others) only.
    if (options.secondHost !== undefined && !options.faults.has('scripted-second-host-ignored')) await bind(hostPort(options.secondHost, port));
    if (options.unixSocket !== undefined) await bind(`unix:${options.unixSocket}`);
    return port;
  } catch (err) {
    server.forceShutdown();
    throw err;
  }
}

/**
 * The process's gRPC server: the one serving now, replaced by `restart` (Script
 * restart_server_after_ms, docs/peer-contract.md "Restart"): a graceful shutdown (the calls in
 * flight end first; `forceShutdown` under scripted-shutdown-abrupt), a pause, then a new server
 * like the first on the same addresses (--second_host's included).
 */
class Serving implements RunningServer, ServerHooks {
  private stopped = false;

  constructor(
    private server: grpc.Server,
    readonly port: number,
    private readonly options: ServeOptions,
  ) {}

  restart(afterMs: number): void {
    if (cluster.isWorker) {
      process.stderr.write('ts-server: a worker ignores restart_server_after_ms\n');
      return;
    }
    const old = this.server;
    const restarted = () => {
      if (this.stopped) return;
      setTimeout(() => void this.listenAgain(), afterMs);
    };
    if (this.options.faults.has('scripted-shutdown-abrupt')) {
      old.forceShutdown();
      restarted();
    } else old.tryShutdown(restarted);
  }

  private async listenAgain(): Promise<void> {
    if (this.stopped) return;
    if (this.options.unixSocket !== undefined) rmSync(this.options.unixSocket, { force: true });
    const server = createServer(this.options.faults, this.options, this);
    try {
      await bindAll(server, { ...this.options, port: this.port });
    } catch (err) {
      process.stderr.write(`ts-server: cannot listen again after the restart: ${(err as Error).message}\n`);
      process.exit(1);
    }
    startServing(server);
    this.server = server;
    if (this.stopped) server.forceShutdown();
  }

  stop(graceMs = 1000): Promise<void> {
    this.stopped = true;
    const server = this.server;
    return new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        server.forceShutdown();
        resolve();
      }, graceMs);
      server.tryShutdown(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }
}

export async function serve(options: ServeOptions): Promise<RunningServer> {
  let serving: Serving | undefined;
  const hooks: ServerHooks = { restart: (afterMs) => serving?.restart(afterMs) };
  const server = createServer(options.faults, options, hooks);
  const port = await bindAll(server, options);
  startServing(server); // grpc-js before 1.10 serves only after start()
  serving = new Serving(server, port, options);
  return serving;
}
