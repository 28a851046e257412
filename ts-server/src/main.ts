#!/usr/bin/env node
/**
 * The TypeScript (grpc-js) interop server. Flags follow docs/peer-contract.md:
 *   --port=P [--host=127.0.0.1] [--use_tls=false] [--workers=N]
 *   [--max_receive_message_length=N] [--max_send_message_length=N]
 *   [--ipv6_loopback=true] [--second_host=ADDR] [--unix_socket=PATH] [--max_concurrent_streams=N]
 *   [--max_connection_age_ms=N] [--max_connection_age_grace_ms=N] [--max_connection_idle_ms=N]
 *   [--keepalive_time_ms=N] [--keepalive_timeout_ms=N] [--keepalive_min_time_ms=N]
 *   [--keepalive_permit_without_calls=true] [--fault=a,b]
 * Prints {"event":"listening","port":P} on stdout when ready; SIGTERM/SIGINT stop it.
 */
import { readFileSync } from 'node:fs';
import { Command, InvalidArgumentError } from 'commander';
import { intIn, parseBool, parseOrExit, USAGE_ERROR } from '../../ts-common/src/cli.js';
import { certPath } from '../../ts-common/src/paths.js';
import { type Faults, parseFaults } from './faults.js';
import { serve, type TlsFiles } from './server.js';
import { isWorker, reportWorkerListening, runPrimary } from './workers.js';

interface Options {
  port: number;
  host: string;
  use_tls: boolean;
  tls_cert_file: string;
  tls_key_file: string;
  require_client_cert: boolean;
  client_ca_file: string;
  workers: number;
  max_receive_message_length?: number;
  max_send_message_length?: number;
  ipv6_loopback: boolean;
  second_host?: string;
  unix_socket?: string;
  max_concurrent_streams?: number;
  max_connection_age_ms?: number;
  max_connection_age_grace_ms?: number;
  max_connection_idle_ms?: number;
  keepalive_time_ms?: number;
  keepalive_timeout_ms?: number;
  keepalive_min_time_ms?: number;
  keepalive_permit_without_calls?: boolean;
  fault: Faults;
}

function parseFlags(): Options {
  const program = new Command('ts-server')
    .requiredOption('--port <port>', 'port to listen on; 0 binds an ephemeral port', intIn(0, 65535))
    .option('--host <host>', 'address to bind', '127.0.0.1')
    .option('--use_tls <bool>', 'serve TLS', parseBool, false)
    .option('--tls_cert_file <file>', 'server certificate (PEM)', certPath('server.pem'))
    .option('--tls_key_file <file>', 'server private key (PEM)', certPath('server.key'))
    .option('--require_client_cert <bool>', 'mTLS: demand a client certificate signed by --client_ca_file', parseBool, false)
    .option('--client_ca_file <file>', 'CA that signs client certificates (PEM)', certPath('ca.pem'))
    .option('--workers <n>', 'processes serving the port', intIn(1, 64), 1)
    .option('--max_receive_message_length <bytes>', 'the largest message the server accepts (default: grpc-js, 4 MiB)', intIn(0, 2 ** 31 - 1))
    .option('--max_send_message_length <bytes>', 'the largest message the server sends (default: grpc-js, unlimited)', intIn(0, 2 ** 31 - 1))
    .option('--ipv6_loopback <bool>', 'also listen on [::1] at the port bound for --host', parseBool, false)
    .option('--second_host <addr>', 'also listen on this IPv4 loopback address (e.g. 127.0.0.2) at the port bound for --host', (v) => {
      if (v === '') throw new InvalidArgumentError('expected an IPv4 address');
      return v;
    })
    .option('--unix_socket <path>', 'also listen on this Unix domain socket', (v) => {
      if (v === '') throw new InvalidArgumentError('expected a path');
      return v;
    })
    .option('--max_concurrent_streams <n>', 'the SETTINGS_MAX_CONCURRENT_STREAMS announced on each connection', intIn(0, 2 ** 31 - 1))
    .option('--max_connection_age_ms <ms>', 'a connection older than this gets a GOAWAY', intIn(0, 2 ** 31 - 1))
    .option('--max_connection_age_grace_ms <ms>', 'calls still open that long after the age are cancelled', intIn(0, 2 ** 31 - 1))
    .option('--max_connection_idle_ms <ms>', 'a connection with no call for this long gets a GOAWAY', intIn(0, 2 ** 31 - 1))
    .option('--keepalive_time_ms <ms>', 'ping each connection after this long without activity', intIn(0, 2 ** 31 - 1))
    .option('--keepalive_timeout_ms <ms>', 'close a connection whose ping ack is this late', intIn(0, 2 ** 31 - 1))
    .option('--keepalive_min_time_ms <ms>', 'the shortest interval between client pings the server permits (not in grpc-js)', intIn(0, 2 ** 31 - 1))
    .option('--keepalive_permit_without_calls <bool>', 'permit client pings without calls (not in grpc-js)', parseBool)
    .option('--fault <list>', 'self-test only: comma-separated faults', (v) => {
      try {
        return parseFaults(v);
      } catch (err) {
        throw new InvalidArgumentError((err as Error).message);
      }
    });
  const options = parseOrExit<Partial<Options> & Omit<Options, 'fault'>>(program);
  if (options.require_client_cert && !options.use_tls) {
    process.stderr.write('ts-server: --require_client_cert=true needs --use_tls=true\n');
    process.exit(USAGE_ERROR);
  }
  const extra = [options.ipv6_loopback ? '--ipv6_loopback' : '', options.second_host !== undefined ? '--second_host' : '', options.unix_socket !== undefined ? '--unix_socket' : ''].filter((f) => f !== '');
  if (options.workers > 1 && extra.length > 0) {
    process.stderr.write(`ts-server: ${extra.join(' and ')} cannot be combined with --workers=${options.workers}\n`);
    process.exit(USAGE_ERROR);
  }
  return { ...options, fault: options.fault ?? new Set() };
}

function tlsFiles(o: Options): TlsFiles | undefined {
  if (!o.use_tls) return undefined;
  try {
    const files: TlsFiles = { cert: readFileSync(o.tls_cert_file), key: readFileSync(o.tls_key_file) };
    if (o.require_client_cert) files.clientCa = readFileSync(o.client_ca_file);
    return files;
  } catch (err) {
    process.stderr.write(`ts-server: cannot read TLS files: ${(err as Error).message}\n`);
    process.exit(USAGE_ERROR);
  }
}

function printListening(port: number): void {
  process.stdout.write(`${JSON.stringify({ event: 'listening', port })}\n`);
}

async function main(): Promise<void> {
  const options = parseFlags();
  const multiProcess = options.workers > 1 && !options.fault.has('single-worker');
  if (multiProcess && !isWorker()) {
    await runPrimary(options.workers, printListening);
    return;
  }
  const tls = tlsFiles(options);
  const server = await serve({
    host: options.host,
    port: options.port,
    faults: options.fault,
    ...(options.max_receive_message_length !== undefined ? { maxReceiveMessageLength: options.max_receive_message_length } : {}),
    ...(options.max_send_message_length !== undefined ? { maxSendMessageLength: options.max_send_message_length } : {}),
    lifecycle: {
      ...(options.max_concurrent_streams !== undefined ? { maxConcurrentStreams: options.max_concurrent_streams } : {}),
      ...(options.max_connection_age_ms !== undefined ? { maxConnectionAgeMs: options.max_connection_age_ms } : {}),
      ...(options.max_connection_age_grace_ms !== undefined ? { maxConnectionAgeGraceMs: options.max_connection_age_grace_ms } : {}),
      ...(options.max_connection_idle_ms !== undefined ? { maxConnectionIdleMs: options.max_connection_idle_ms } : {}),
      ...(options.keepalive_time_ms !== undefined ? { keepaliveTimeMs: options.keepalive_time_ms } : {}),
      ...(options.keepalive_timeout_ms !== undefined ? { keepaliveTimeoutMs: options.keepalive_timeout_ms } : {}),
      ...(options.keepalive_min_time_ms !== undefined ? { keepaliveMinTimeMs: options.keepalive_min_time_ms } : {}),
      ...(options.keepalive_permit_without_calls !== undefined ? { keepalivePermitWithoutCalls: options.keepalive_permit_without_calls } : {}),
    },
    ...(tls ? { tls } : {}),
    ipv6Loopback: options.ipv6_loopback,
    ...(options.second_host !== undefined ? { secondHost: options.second_host } : {}),
    ...(options.unix_socket !== undefined ? { unixSocket: options.unix_socket } : {}),
  });
  if (isWorker()) reportWorkerListening(server.port);
  else printListening(server.port);
  const stop = () => void server.stop().then(() => process.exit(0));
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

main().catch((err: unknown) => {
  process.stderr.write(`ts-server: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
