import * as grpc from '@grpc/grpc-js';
import { hostPort } from '../../ts-common/src/cli.js';
import { loadProtos, type Protos } from '../../ts-common/src/proto.js';
import { within } from './rpc.js';

export interface Target {
  host: string;
  port: number;
  rpcTimeoutMs: number;
}

/** What a case gets: where the server is, the typed stubs, and per-RPC deadlines. */
export class CaseContext {
  readonly protos: Protos = loadProtos();
  private readonly clients: grpc.Client[] = [];

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
  ): C {
    const client = new Stub(address, grpc.credentials.createInsecure(), options);
    this.clients.push(client);
    return client;
  }

  close(): void {
    for (const client of this.clients.splice(0)) client.close();
  }
}
