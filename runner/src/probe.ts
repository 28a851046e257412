/**
 * Readiness and identity of a running server, asked over gRPC: grpc.health.v1.Health/Check is
 * the readiness probe, interop.ServerInfo/GetInfo names the library version that really served.
 */
import * as grpc from '@grpc/grpc-js';
import { hostPort } from '../../ts-common/src/cli.js';
import type { HealthCheckResponse__Output } from '../../ts-common/src/generated/grpc/health/v1/HealthCheckResponse.js';
import type { ServerInfoReply__Output } from '../../ts-common/src/generated/interop/ServerInfoReply.js';
import { loadProtos } from '../../ts-common/src/proto.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls Health/Check("") until SERVING or `timeoutMs`; throws with the last answer. */
export async function waitServing(host: string, port: number, timeoutMs: number): Promise<void> {
  const p = loadProtos();
  const client = new p.grpc.health.v1.Health(hostPort(host, port), grpc.credentials.createInsecure());
  const until = Date.now() + timeoutMs;
  let last = 'no answer';
  try {
    while (Date.now() < until) {
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

export async function serverInfo(host: string, port: number, timeoutMs: number): Promise<ServerInfoReply__Output> {
  const p = loadProtos();
  const client = new p.interop.ServerInfo(hostPort(host, port), grpc.credentials.createInsecure());
  try {
    return await new Promise<ServerInfoReply__Output>((resolve, reject) =>
      client.GetInfo({}, { deadline: Date.now() + timeoutMs }, (err, res) => (err || !res ? reject(err) : resolve(res))),
    );
  } finally {
    client.close();
  }
}
