#!/usr/bin/env node
/**
 * The TypeScript (grpc-js) interop client. Flags follow the upstream interop contract
 * (docs/peer-contract.md): --server_host --server_port --test_case=a,b,c [--use_tls ...].
 * Prints one JSON line per case; exits 0 when all passed, 1 when any failed, 2 for bad flags.
 */
import { Command } from 'commander';
import { intIn, parseBool, parseOrExit, USAGE_ERROR } from '../../ts-common/src/cli.js';
import type { Target } from './context.js';
import { runCase } from './run-case.js';

interface Options {
  server_host: string;
  server_port: number;
  test_case: string;
  use_tls: boolean;
  use_test_ca: boolean;
  server_host_override?: string;
  rpc_timeout_ms: number;
}

async function main(): Promise<void> {
  const program = new Command('ts-client')
    .option('--server_host <host>', 'server address', '127.0.0.1')
    .requiredOption('--server_port <port>', 'server port', intIn(1, 65535))
    .requiredOption('--test_case <names>', 'a case name, or a comma-separated list')
    .option('--use_tls <bool>', 'connect with TLS', parseBool, false)
    .option('--use_test_ca <bool>', 'trust the project test CA', parseBool, false)
    .option('--server_host_override <name>', 'TLS server name to expect')
    .option('--rpc_timeout_ms <ms>', 'deadline of every RPC', intIn(1, 600_000), 5000);
  const options = parseOrExit<Options>(program);
  if (options.use_tls) {
    process.stderr.write('ts-client: --use_tls=true is not supported yet\n');
    process.exit(USAGE_ERROR);
  }
  const target: Target = { host: options.server_host, port: options.server_port, rpcTimeoutMs: options.rpc_timeout_ms };
  let failed = 0;
  for (const name of options.test_case.split(',').filter((n) => n !== '')) {
    const result = await runCase(name, target);
    process.stdout.write(`${JSON.stringify(result)}\n`);
    if (result.status === 'failed') {
      failed++;
      process.stderr.write(`${name}: ${result.error}\n`);
    }
  }
  process.exitCode = failed === 0 ? 0 : 1;
}

main().catch((err: unknown) => {
  process.stderr.write(`ts-client: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
  process.exit(1);
});
