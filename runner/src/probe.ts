/**
 * Readiness and identity of a running server, asked over gRPC: grpc.health.v1.Health/Check is
 * the readiness probe, interop.ServerInfo/GetInfo names the library version that really served.
 */
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { resolve } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import * as grpc from '@grpc/grpc-js';
import { hostPort } from '../../ts-common/src/cli.js';
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


/** One channel to a server's grpc.health.v1 service, for repeated checks. */
export class HealthProbe {
  private readonly client: ReturnType<typeof healthClient>;

  constructor(host: string, port: number, tls?: ProbeTls) {
    this.client = healthClient(host, port, tls);
  }

  /** Check(""): undefined when SERVING, else what came back (or did not) within `timeoutMs`. */
  check(timeoutMs: number): Promise<string | undefined> {
    return new Promise((resolve) =>
      this.client.Check({ service: '' }, { deadline: Date.now() + timeoutMs }, (err, res) => {
        if (err || !res) resolve((err as grpc.ServiceError | null)?.details || String(err ?? 'no reply'));
        else resolve(res.status === 'SERVING' ? undefined : `status ${res.status}`);
      }),
    );
  }

  close(): void {
    this.client.close();
  }
}

function healthClient(host: string, port: number, tls: ProbeTls | undefined) {
  const { credentials, options } = dial(tls);
  return new (loadProtos().grpc.health.v1.Health)(hostPort(host, port), credentials, options);
}

/** Polls Health/Check("") until SERVING or `timeoutMs`; throws with the last answer. */
export async function waitServing(host: string, port: number, timeoutMs: number, tls?: ProbeTls, alive: () => boolean = () => true): Promise<void> {
  const probe = new HealthProbe(host, port, tls);
  const until = Date.now() + timeoutMs;
  let last = 'no answer';
  try {
    while (Date.now() < until) {
      if (!alive()) throw new Error('the server exited before it was serving');
      const answer = await probe.check(Math.max(1, Math.min(until - Date.now(), 1000)));
      if (answer === undefined) return;
      last = answer;
      await delay(100);
    }
  } finally {
    probe.close();
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
    await delay(100);
  }
  throw new Error(alive() ? `nothing accepted connections on port ${port} within ${timeoutMs} ms` : 'the server exited before accepting connections');
}
