/**
 * Readiness and identity of a running server, asked over gRPC: grpc.health.v1.Health/Check is
 * the readiness probe, interop.ServerInfo/GetInfo names the library version that really served.
 */
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { resolve } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { hostPort } from '../../ts-common/src/cli.js';
import type { HealthCheckResponse__Output } from '../../ts-common/src/generated/grpc/health/v1/HealthCheckResponse.js';
import type { ServerInfoReply__Output } from '../../ts-common/src/generated/interop/ServerInfoReply.js';
import { repoRoot } from '../../ts-common/src/paths.js';
import { loadProtos } from '../../ts-common/src/proto.js';

/** How a probe dials a TLS or mTLS server; paths are relative to the repository root. */
export interface ProbeTls {
  ca: string;
  cert?: string;
  key?: string;
  serverName?: string;
}

function dial(tls: ProbeTls | undefined): { credentials: grpc.ChannelCredentials; options: grpc.ClientOptions } {
  if (!tls) return { credentials: grpc.credentials.createInsecure(), options: {} };
  const read = (file: string) => readFileSync(resolve(repoRoot(), file));
  return {
    credentials: grpc.credentials.createSsl(read(tls.ca), tls.key ? read(tls.key) : null, tls.cert ? read(tls.cert) : null),
    options: tls.serverName ? { 'grpc.ssl_target_name_override': tls.serverName, 'grpc.default_authority': tls.serverName } : {},
  };
}

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

/** Polls Health/Check("") until SERVING or `timeoutMs`; throws with the last answer. */
export async function waitServing(host: string, port: number, timeoutMs: number, tls?: ProbeTls, alive: () => boolean = () => true): Promise<void> {
  const p = loadProtos();
  const { credentials, options } = dial(tls);
  const client = new p.grpc.health.v1.Health(hostPort(host, port), credentials, options);
  const until = Date.now() + timeoutMs;
  let last = 'no answer';
  try {
    while (Date.now() < until) {
      if (!alive()) throw new Error('the server exited before it was serving');
      try {
        const reply = await new Promise<HealthCheckResponse__Output>((resolve, reject) =>
          client.Check({ service: '' }, { deadline: Math.min(until, Date.now() + 1000) }, (err, res) => (err || !res ? reject(err) : resolve(res))),
        );
        if (reply.status === 'SERVING') return;
        last = `status ${reply.status}`;
      } catch (err) {
        last = (err as grpc.ServiceError).details ?? String(err);
      }
      await sleep(100);
    }
  } finally {
    client.close();
  }
  throw new Error(`health check did not report SERVING within ${timeoutMs} ms (last: ${last})`);
}

export async function serverInfo(host: string, port: number, timeoutMs: number, tls?: ProbeTls): Promise<ServerInfoReply__Output> {
  const p = loadProtos();
  const { credentials, options } = dial(tls);
  const client = new p.interop.ServerInfo(hostPort(host, port), credentials, options);
  try {
    return await new Promise<ServerInfoReply__Output>((resolve, reject) =>
      client.GetInfo({}, { deadline: Date.now() + timeoutMs }, (err, res) => (err || !res ? reject(err) : resolve(res))),
    );
  } finally {
    client.close();
  }
}

/** Polls until host:port accepts a TCP connection, or `timeoutMs`; `alive` aborts early. */
export async function waitTcp(host: string, port: number, timeoutMs: number, alive: () => boolean): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until && alive()) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = connect({ host, port }, () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (ok) return;
    await sleep(100);
  }
  throw new Error(alive() ? `nothing accepted connections on port ${port} within ${timeoutMs} ms` : 'the server exited before accepting connections');
}
