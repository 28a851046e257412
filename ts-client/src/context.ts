import * as grpc from '@grpc/grpc-js';
import { hostPort } from '../../ts-common/src/cli.js';
import { closeClient } from '../../ts-common/src/grpc-compat.js';
import { loadProtos, type Protos } from '../../ts-common/src/proto.js';
import { within } from './rpc.js';

export interface ClientTls {
  /** Trusted roots; absent: the system's. */
  ca?: Buffer;
  /** mTLS: the client's certificate and key. */
  cert?: Buffer;
  key?: Buffer;
  /** The name the server certificate must match (TLS authority / SNI). */
  serverNameOverride?: string;
}

export interface Target {
  host: string;
  port: number;
  rpcTimeoutMs: number;
  /** Absent: plaintext. */
  tls?: ClientTls;
  /** --server_unix_socket: the server's Unix domain socket, for a scripted channel.target's `{unix_socket}`. */
  unixSocket?: string;
  /**
   * Self-test only: `no-cancel` makes the cancel and timeout cases end normally,
   * `with-certificate` makes the security case present its certificate, `no-checks` switches
   * every check off (run-case.ts); `scripted-lenient` applies to the generic executor only
   * (scripted.ts).
   */
  clientFault?: string;
}

function channelCredentials(tls: ClientTls | undefined): grpc.ChannelCredentials {
  if (!tls) return grpc.credentials.createInsecure();
  return grpc.credentials.createSsl(tls.ca ?? null, tls.key ?? null, tls.cert ?? null);
}

function tlsOptions(tls: ClientTls | undefined): grpc.ClientOptions {
  const name = tls?.serverNameOverride;
  return name ? { 'grpc.ssl_target_name_override': name, 'grpc.default_authority': name } : {};
}

/** What a case gets: where the server is, the typed stubs, and per-RPC deadlines. */
export class CaseContext {
  readonly protos: Protos = loadProtos();
  private readonly clients: grpc.Client[] = [];
  /** What the library gave the case, for the runner to judge: `observed` in the result line. */
  observed: Record<string, unknown> | undefined;

  constructor(readonly target: Target) {}

  get address(): string {
    return hostPort(this.target.host, this.target.port);
  }

  /** Call options with this run's deadline. */
  deadline(): grpc.CallOptions {
    return within(this.target.rpcTimeoutMs);
  }

  /** A stub on its own channel, closed when the case ends. */
  client<C extends grpc.Client>(
    Stub: new (address: string, credentials: grpc.ChannelCredentials, options?: grpc.ClientOptions) => C,
    options: grpc.ClientOptions = {},
    address: string = this.address,
    tls: ClientTls | undefined = this.target.tls,
  ): C {
    const client = new Stub(address, channelCredentials(tls), { ...tlsOptions(tls), ...options });
    this.clients.push(client);
    return client;
  }

  /** A stub on the channel of `other` (a stub of this case): closed with it. */
  onChannelOf<C extends grpc.Client>(Stub: new (address: string, credentials: grpc.ChannelCredentials, options?: grpc.ClientOptions) => C, other: grpc.Client): C {
    return new Stub(this.address, channelCredentials(this.target.tls), { channelOverride: other.getChannel() });
  }

  observe(values: Record<string, unknown>): void {
    this.observed = { ...this.observed, ...values };
  }

  close(): void {
    // closeClient: grpc-js 1.8 can otherwise bring a closed round_robin channel back to life.
    for (const client of this.clients.splice(0)) closeClient(client);
  }
}
