#!/usr/bin/env node
/**
 * The TypeScript (grpc-js) interop client. Flags follow the upstream interop contract
 * (docs/peer-contract.md): --server_host --server_port --test_case=a,b,c [--use_tls ...].
 * Prints one JSON line per case; exits 0 when all passed, 1 when any failed, 2 for bad flags.
 */
import { readFileSync } from 'node:fs';
import { Command, InvalidArgumentError, Option } from 'commander';
import { intIn, parseArgs, parseBool, USAGE_ERROR, UsageError } from '../../ts-common/src/cli.js';
import { certPath } from '../../ts-common/src/paths.js';
import { MEASUREMENTS, runBench, type Measurement } from './bench.js';
import { CaseContext, type ClientTls, type Target } from './context.js';
import { runExecutor } from './executor.js';
import { runCase, type CaseResult } from './run-case.js';
import { closeScripted, loadCasesFile, runScripted, SCRIPTED_CLIENT_FAULTS } from './scripted.js';

interface Options {
  server_host: string;
  server_port: number;
  test_case?: string;
  bench?: Measurement[];
  bench_calls: number;
  bench_warmup: number;
  bench_messages: number;
  bench_size: number;
  bench_time_limit_ms: number;
  use_tls: boolean;
  use_test_ca: boolean;
  server_host_override?: string;
  ca_file: string;
  client_cert_file?: string;
  client_key_file?: string;
  rpc_timeout_ms: number;
  client_fault?: string;
  cases_file?: string;
  server_unix_socket?: string;
}

function usage(message: string): never {
  throw new UsageError(message);
}

function clientTls(o: Options): ClientTls | undefined {
  if (!o.use_tls) return undefined;
  if ((o.client_cert_file === undefined) !== (o.client_key_file === undefined)) usage('--client_cert_file and --client_key_file go together');
  try {
    return {
      ...(o.use_test_ca ? { ca: readFileSync(o.ca_file) } : {}),
      ...(o.client_cert_file && o.client_key_file ? { cert: readFileSync(o.client_cert_file), key: readFileSync(o.client_key_file) } : {}),
      ...(o.server_host_override ? { serverNameOverride: o.server_host_override } : {}),
    };
  } catch (err) {
    usage(`cannot read TLS files: ${(err as Error).message}`);
  }
}

function benchList(value: string): Measurement[] {
  const names = value.split(',').filter((n) => n !== '');
  const unknown = names.filter((n) => !(MEASUREMENTS as readonly string[]).includes(n));
  if (names.length === 0 || unknown.length > 0) throw new InvalidArgumentError(`expected a list of ${MEASUREMENTS.join(', ')}`);
  return names as Measurement[];
}

function program(): Command {
  return new Command('ts-client')
    .option('--server_host <host>', 'server address', '127.0.0.1')
    .requiredOption('--server_port <port>', 'server port', intIn(1, 65535))
    .option('--test_case <names>', 'a case name, or a comma-separated list')
    .option('--use_tls <bool>', 'connect with TLS', parseBool, false)
    .option('--use_test_ca <bool>', 'trust the project test CA', parseBool, false)
    .option('--server_host_override <name>', 'TLS server name to expect')
    .option('--ca_file <file>', 'the test CA, with --use_test_ca=true', certPath('ca.pem'))
    .option('--client_cert_file <file>', 'mTLS: client certificate (PEM)')
    .option('--client_key_file <file>', 'mTLS: client private key (PEM)')
    .option('--rpc_timeout_ms <ms>', 'deadline of every RPC', intIn(1, 600_000), 5000)
    .option('--cases_file <file>', 'scripted cases ({"cases": {NAME: INSTRUCTION}}): their names run on the generic executor')
    .option('--server_unix_socket <path>', "the server's Unix domain socket, named {unix_socket} by a scripted case's channel.target")
    .option('--bench <names>', `load mode instead of cases: ${MEASUREMENTS.join(',')}`, benchList)
    .option('--bench_calls <n>', 'load mode: measured unary calls', intIn(1, 10_000_000), 2000)
    .option('--bench_warmup <n>', 'load mode: unary calls before measuring', intIn(0, 10_000_000), 200)
    .option('--bench_messages <n>', 'load mode: messages of the server stream', intIn(1, 10_000_000), 20_000)
    .option('--bench_size <bytes>', 'load mode: payload bytes per message', intIn(0, 4_000_000), 16)
    .option('--bench_time_limit_ms <ms>', 'load mode: time bound of each measurement', intIn(1, 3_600_000), 20_000)
    .option('--executor', 'take runs as JSON lines on stdin (docs/peer-contract.md, "Executor mode"); the only flag then')
    .addOption(new Option('--client_fault <name>', 'self-test only').choices(['no-cancel', 'with-certificate', 'no-checks', ...SCRIPTED_CLIENT_FAULTS]).hideHelp());
}

/**
 * One client run as its flags describe it: a line per case (or per measurement) through
 * `write`; returns the exit code. Bad flags throw UsageError. In executor mode (`executor`)
 * the flags come without node and script, and neither load mode nor --help is taken.
 */
async function runArgs(args: readonly string[], write: (line: CaseResult | object) => void, executor: boolean): Promise<number> {
  const command = program();
  if (executor) command.configureOutput({ writeOut: () => undefined });
  let options: Options;
  try {
    options = parseArgs<Options>(command, args, executor ? 'user' : 'node');
  } catch (err) {
    if (executor && err instanceof UsageError && err.exitCode === 0) throw new UsageError('--help and --version are not taken in executor mode');
    throw err;
  }
  if (executor && options.bench !== undefined) usage('--bench is not taken in executor mode');
  if ((options as { executor?: boolean }).executor) usage('--executor is not taken inside a run');
  const tls = clientTls(options);
  const target: Target = {
    host: options.server_host,
    port: options.server_port,
    rpcTimeoutMs: options.rpc_timeout_ms,
    ...(tls ? { tls } : {}),
    ...(options.server_unix_socket !== undefined ? { unixSocket: options.server_unix_socket } : {}),
    ...(options.client_fault ? { clientFault: options.client_fault } : {}),
  };
  if (options.bench !== undefined && options.test_case !== undefined) usage('--bench and --test_case exclude each other');
  if (options.bench !== undefined) {
    const load = { calls: options.bench_calls, warmup: options.bench_warmup, messages: options.bench_messages, size: options.bench_size, timeLimitMs: options.bench_time_limit_ms };
    const failed = await runBench(new CaseContext(target), options.bench, load, write);
    return failed === 0 ? 0 : 1;
  }
  if (options.test_case === undefined) usage('--test_case (or --bench) is required');
  let scripted = new Map<string, unknown>();
  if (options.cases_file !== undefined) {
    try {
      scripted = loadCasesFile(options.cases_file);
    } catch (err) {
      usage(`--cases_file: ${(err as Error).message}`);
    }
  }
  let failed = 0;
  for (const name of options.test_case.split(',').filter((n) => n !== '')) {
    // A name of the cases file runs on the generic executor: of the client faults, only the
    // scripted-* ones apply to it, and they apply to no ordinary case (runCase and the cases only
    // act on the faults they know).
    const fault = target.clientFault;
    const scriptedOnly = fault !== undefined && SCRIPTED_CLIENT_FAULTS.includes(fault);
    const result = scripted.has(name)
      ? await runScripted(name, scripted.get(name), { ...target, clientFault: scriptedOnly ? fault : undefined })
      : await runCase(name, scriptedOnly ? { ...target, clientFault: undefined } : target);
    write(result);
    if (result.status === 'failed') {
      failed++;
      process.stderr.write(`${name}: ${result.error}\n`);
    }
  }
  closeScripted();
  return failed === 0 ? 0 : 1;
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const write = (line: object) => process.stdout.write(`${JSON.stringify(line)}\n`);
  if (args.includes('--executor')) {
    if (args.length !== 1) {
      process.stderr.write('ts-client: --executor takes no other flag (the flags of each run come on stdin)\n');
      process.exit(USAGE_ERROR);
    }
    await runExecutor(process.stdin, { stdout: (text) => process.stdout.write(text), stderr: (text) => process.stderr.write(text) }, (runArgv, out) => runArgs(runArgv, out, true));
    return;
  }
  try {
    process.exitCode = await runArgs(process.argv, write, false);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    if (err.exitCode === 0) process.exit(0); // --help, --version (printed)
    process.stderr.write(`ts-client: ${err.message}\n`);
    process.exit(USAGE_ERROR);
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`ts-client: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
  process.exit(1);
});
