#!/usr/bin/env node
/**
 * The self-test (SPEC §4): a case that cannot fail is a defect. Every server is started with each
 * fault of docs/peer-contract.md in turn, every client runs the whole suite against it, and the
 * self-test checks that each fault is caught by the cases meant to catch it, by every client,
 * against every server. `npm run selftest` prints the detection table.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Command } from 'commander';
import { intIn, parseOrExit, USAGE_ERROR } from '../../ts-common/src/cli.js';
import { repoRoot } from '../../ts-common/src/paths.js';
import { loadMatrix, type Matrix } from './config.js';
import { planCells } from './plan.js';
import { runMatrix } from './run.js';
import { caughtByFor, SCRIPTED_CLIENT_FAULTS } from './scripted/cases.js';
import { RAW_CLIENT_FAULTS } from './scripted/raw.js';
import type { CellResult } from './results.js';

/** What must break which cases: server faults (--fault) and client faults (--client_fault). */
export interface SuiteFaults {
  server: Readonly<Record<string, readonly string[]>>;
  client: Readonly<Record<string, readonly string[]>>;
  /** Whether a cell of a listed case must be red against the fault (default: every cell). */
  expects?: (fault: string, cell: Pick<CellResult, 'case' | 'client' | 'server'>) => boolean;
}

/** Per suite, fault → the cases that must fail against it (the contract's tables). */
export const EXPECTED_DETECTIONS: Readonly<Record<string, SuiteFaults>> = {
  seeds: {
    server: {
      'greeting-punctuation': ['greeter_say_hello', 'greeter_say_hello_again', 'concurrent_unary', 'multi_address_failover'],
      'again-wrong': ['greeter_say_hello_again'],
      'service-wrong': ['helloworld_service'],
      'length-utf16': ['compute_length'],
      'length-bytes': ['compute_length'],
      'recommend-share-set': ['user_recommend'],
      'recommend-no-validation': ['user_recommend'],
      'random-constant': ['random_get'],
      'panda-float64': ['panda_getinfo'],
      'stream-truncate': ['stream_server'],
      'greetings-reversed': ['stream_client'],
      'bidi-buffered': ['stream_bidi'],
      'unary-every-10th-unavailable': ['concurrent_unary'],
      'single-worker': ['reuseport_workers'],
      'count-limit-low': ['stream_server_max_count'],
      'count-limit-none': ['stream_server_max_count'],
      'article-limit-low': ['user_recommend_max_articles'],
      'health-serving-any': ['health_unknown_service'],
      'health-watch-silent': ['health_unknown_service'],
      'health-services-not-serving': ['health_unknown_service'],
      'version-wrong': ['server_info_version'],
    },
    client: {},
  },
  netrpc: {
    server: {
      'reply-plus-two': ['netrpc_jsonrpc_getinfo', 'netrpc_jsonrpc_beyond_2_53', 'netrpc_jsonrpc_int64_edges', 'netrpc_jsonrpc_wraps', 'netrpc_jsonrpc_pipelined', 'netrpc_gob_getinfo'],
      'reply-float64': ['netrpc_jsonrpc_beyond_2_53', 'netrpc_jsonrpc_int64_edges', 'netrpc_gob_getinfo'],
      'reply-saturate': ['netrpc_jsonrpc_wraps', 'netrpc_gob_getinfo'],
      'panda-text': ['netrpc_http_panda'],
      'unknown-method-ok': ['netrpc_jsonrpc_unknown_method', 'netrpc_gob_unknown_method'],
      'ids-swapped': ['netrpc_jsonrpc_pipelined'],
      'params-coerced': ['netrpc_jsonrpc_not_an_int'],
    },
    client: {},
  },
  discovery: {
    server: {
      'reflection-incomplete': ['reflection_list_v1', 'reflection_list_v1alpha', 'reflection_file_containing_symbol'],
      'health-watch-silent': ['health_watch_serving', 'health_watch_updates'],
      'health-watch-no-updates': ['health_watch_updates'],
      'health-serving-any': ['health_watch_updates'],
      'health-services-not-serving': ['health_check_every_service'],
    },
    client: {},
  },
  grpcurl: {
    server: {
      'reflection-incomplete': ['grpcurl_list', 'grpcurl_describe'],
      'health-serving-any': ['grpcurl_health'],
      'health-services-not-serving': ['grpcurl_health'],
      'greeting-punctuation': ['grpcurl_call'],
      'panda-float64': ['grpcurl_call'],
    },
    client: {},
  },
  'health-probe': {
    server: {
      'health-serving-any': ['health_probe_unknown_service'],
      'health-services-not-serving': ['health_probe_service'],
    },
    client: {},
  },
  'grpc.testing': {
    server: {
      'testing-empty-payload': ['large_unary', 'client_compressed_unary', 'server_compressed_unary', 'custom_metadata'],
      'testing-aggregate-off': ['client_streaming', 'client_compressed_streaming'],
      'testing-stream-drop-last': ['server_streaming', 'server_compressed_streaming'],
      'testing-duplex-buffered': ['ping_pong', 'cancel_after_first_response'],
      'testing-duplex-extra': ['empty_stream', 'ping_pong'],
      'testing-no-echo-metadata': ['custom_metadata'],
      'testing-status-ignored': ['status_code_and_message', 'special_status_message'],
      'testing-status-message-trimmed': ['special_status_message'],
      'testing-implement-everything': ['unimplemented_method', 'unimplemented_service'],
      'testing-empty-call-error': ['empty_unary'],
      'testing-compression-unchecked': ['client_compressed_unary', 'client_compressed_streaming'],
    },
    client: {
      'no-cancel': ['cancel_after_begin', 'cancel_after_first_response', 'timeout_on_sleeping_server'],
    },
  },
  'testing-edges': {
    server: {
      'testing-status-unknown': ['status_unary_non_unknown', 'status_server_streaming_non_unknown', 'status_bidi_non_unknown'],
      'testing-stream-status-ok': ['status_server_streaming_non_unknown'],
      'testing-interval-ignored': ['streaming_output_interval'],
    },
    client: {},
  },
  security: {
    server: {},
    client: { 'with-certificate': ['mtls_client_without_certificate'] },
  },
};

/**
 * The http2 suite: each case is an h2spec test, judged by h2spec itself. Its client fault points
 * h2spec at a silent peer (the HTTP/2 handshake, then nothing): every test must fail there, so
 * none passes whatever the server does, and every failure reaches the runner as a red cell.
 */
export function h2specDetections(matrix: Matrix): Record<string, SuiteFaults> {
  const suite = matrix.suites['http2'];
  return suite ? { http2: { server: {}, client: { 'h2spec-silent-peer': suite.cases.map((c) => c.name) } } } : {};
}

/** A data suite's faults come from its case files: fault → the cases whose `caught_by` names it. */
export function dataSuiteDetections(matrix: Matrix): Record<string, SuiteFaults> {
  const out: Record<string, SuiteFaults> = {};
  for (const [suite, spec] of Object.entries(matrix.suites)) {
    if (!spec.casesDir) continue;
    const server: Record<string, string[]> = {};
    const client: Record<string, string[]> = {};
    const scripted = new Map(spec.cases.flatMap((c) => (c.scripted ? [[c.name, c.scripted] as const] : [])));
    for (const [name, c] of scripted) {
      // The case's faults and those a library's own expectation names (by_pair/by_client/by_server caught_by).
      const overrides = [...Object.values(c.byPair), ...Object.values(c.byClient), ...Object.values(c.byServer)].flatMap((o) => o.caught_by ?? []);
      for (const fault of new Set([...c.caughtBy, ...overrides])) {
        const side = ([...SCRIPTED_CLIENT_FAULTS, ...RAW_CLIENT_FAULTS] as readonly string[]).includes(fault) ? client : server;
        (side[fault] ??= []).push(name);
      }
    }
    const expects = (fault: string, cell: Pick<CellResult, 'case' | 'client' | 'server'>): boolean => {
      const c = scripted.get(cell.case);
      return c === undefined || caughtByFor(c, cell.client, cell.server).includes(fault);
    };
    out[suite] = { server, client, expects };
  }
  return out;
}

export interface FaultRun {
  suite: string;
  /** `--fault=NAME` (server) or `--client_fault=NAME` (client). */
  side: 'server' | 'client';
  fault: string;
  /** Cells of the expected cases that passed: each one is a case that missed its fault. */
  missed: string[];
  /**
   * Detected (case, fault) pairs: expected cases that failed in every cell that can judge
   * (known-failure cells fail anyway and are not counted), and in at least one.
   */
  detectedCases: string[];
  cells: number;
}

export interface SelfTestReport {
  faults: FaultRun[];
  /** suite/case that no fault is meant to break: a case that cannot fail. */
  uncovered: string[];
  pairsExpected: number;
  pairsDetected: number;
}

export interface SelfTestOptions {
  root?: string;
  suites?: string[];
  /** The clients to judge (default: every self-test peer). */
  clients?: string[];
  /**
   * Run every server fault with this client fault as well (client faults are then not run): the
   * self-test of the self-test, e.g. `no-checks`, a client that checks nothing, must be caught.
   */
  clientFault?: string;
  jobs?: number;
  onFault?: (run: FaultRun) => void;
}

/** The implementations that take the fault flags (self_test: true in matrix.yaml). */
export const selfTestPeers = (matrix: Matrix): string[] => Object.entries(matrix.implementations).filter(([, i]) => i.self_test).map(([name]) => name);

export async function runSelfTest(options: SelfTestOptions = {}): Promise<SelfTestReport> {
  const root = options.root ?? repoRoot();
  const configFile = join(root, 'matrix.yaml');
  const matrix = loadMatrix(configFile);
  const peers = selfTestPeers(matrix);
  // A tool is a client only (grpcurl, grpc-health-probe): clients and servers are the peers that have one.
  const servers = peers.filter((p) => matrix.implementations[p]?.server !== undefined);
  const clients = peers.filter((p) => matrix.implementations[p]?.client !== undefined);
  const detections = { ...EXPECTED_DETECTIONS, ...h2specDetections(matrix), ...dataSuiteDetections(matrix) };
  const suites = options.suites ?? Object.keys(detections).filter((s) => s in matrix.suites);
  const runs: FaultRun[] = [];
  const uncovered: string[] = [];
  for (const suite of suites) {
    const expected = detections[suite] ?? { server: {}, client: {} };
    // Faults do not depend on the transport: one transport the suite runs over is enough.
    const transport = matrix.suites[suite]?.transports?.[0] ?? 'insecure';
    const selection = { versions: 'default' as const, suites: [suite], transports: [transport], clients: options.clients ?? clients, servers };
    const cases = [...new Set(planCells(matrix, selection).map((c) => c.case))];
    const covered = new Set([...Object.values(expected.server), ...Object.values(expected.client)].flat());
    uncovered.push(...cases.filter((c) => !covered.has(c)).map((c) => `${suite}/${c}`));
    const faults = [
      ...Object.entries(expected.server).map(([fault, want]) => ({ side: 'server' as const, fault, want })),
      ...(options.clientFault ? [] : Object.entries(expected.client).map(([fault, want]) => ({ side: 'client' as const, fault, want }))),
    ];
    for (const { side, fault, want } of faults) {
      const results = await runMatrix({
        root,
        configFile,
        // Only the cases a fault must break: whether others fail too does not matter.
        selection: { ...selection, grep: new RegExp(`/(${want.map(escapeRegExp).join('|')})$`) },
        outDir: join(root, 'reports', 'selftest', ...(options.clientFault ? [`client-${options.clientFault}`] : []), suite, fault),
        ...(side === 'server' ? { serverFault: fault, ...(options.clientFault ? { clientFault: options.clientFault } : {}) } : { clientFault: fault }),
        reporters: [],
        ...(options.jobs ? { jobs: options.jobs } : {}),
      });
      const expects = (c: CellResult) => expected.expects?.(fault, c) ?? true;
      const run: FaultRun = {
        suite,
        side,
        fault,
        ...judgeFaultRun(results.cells, want, expects),
        cells: results.cells.length,
      };
      runs.push(run);
      options.onFault?.(run);
    }
  }
  return {
    faults: runs,
    uncovered,
    pairsExpected: runs.reduce((n, r) => n + (detections[r.suite]?.[r.side][r.fault]?.length ?? 0), 0),
    pairsDetected: runs.reduce((n, r) => n + r.detectedCases.length, 0),
  };
}

/**
 * Of the cells of a run against one fault: the cells of the cases meant to catch it that did
 * not (`missed`), and the cases that did (`detectedCases`): every cell that can judge (known
 * failures fail anyway) failed because a check caught the fault, not because the server never
 * came up or died (an unknown fault name makes a server exit 2 and would turn every cell red).
 * A case whose every cell is a known failure (every library diverges from the spec there)
 * cannot show the fault on its own: it counts as detected when all of them failed.
 */
export function judgeFaultRun(cells: CellResult[], want: readonly string[], expects: (c: CellResult) => boolean): Pick<FaultRun, 'missed' | 'detectedCases'> {
  const caught = (c: CellResult) => c.status === 'failed' && !SERVER_BROKEN.test(c.error ?? '');
  const ofCase = (name: string) => cells.filter((c) => c.case === name && expects(c));
  const detected = (name: string) => {
    const all = ofCase(name);
    const judged = all.filter((c) => c.status !== 'known_failure');
    return judged.length > 0 ? judged.every(caught) : all.length > 0;
  };
  return {
    missed: cells.filter((c) => want.includes(c.case) && expects(c) && (c.status === 'passed' || (c.status === 'failed' && !caught(c)))).map((c) => c.id),
    detectedCases: want.filter(detected),
  };
}

export function renderSelfTest(report: SelfTestReport): string {
  const lines = ['self-test: fault → cases that caught it (every client × every server, known failures aside)'];
  for (const run of report.faults) {
    const verdict = run.missed.length === 0 ? 'caught' : `MISSED by ${run.missed.length} cell(s): ${run.missed.slice(0, 5).join(', ')}`;
    const name = `${run.suite} ${run.side === 'client' ? 'client ' : ''}${run.fault}`;
    lines.push(`  ${name.padEnd(44)} ${verdict} [${run.detectedCases.join(', ')}]`);
  }
  lines.push(`${report.pairsDetected} of ${report.pairsExpected} (case, fault) pairs detected`);
  if (report.uncovered.length > 0) lines.push(`cases no fault can break: ${report.uncovered.join(', ')}`);
  return `${lines.join('\n')}\n`;
}

/** The errors of cells that failed because their server did not start, or went down (execute.ts). */
const SERVER_BROKEN = /^server \S+ (failed to start|is not ready|.* during the run|stopped answering)/;

const escapeRegExp = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

export const selfTestPassed = (r: SelfTestReport): boolean => r.pairsDetected === r.pairsExpected && r.uncovered.length === 0 && r.faults.every((f) => f.missed.length === 0);

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const program = new Command('selftest')
    .description('Run every suite against each fault that must break it and print which cases caught it (reports/selftest/).')
    .option('--suites <list>', 'comma-separated suites (default: every suite of matrix.yaml with faults)', (v: string) => v.split(',').filter((s) => s !== ''))
    .option('--jobs <n>', 'servers run at once', intIn(1, 64));
  const opts = parseOrExit<{ suites?: string[]; jobs?: number }>(program);
  if (opts.suites) {
    const known = Object.keys(loadMatrix(join(repoRoot(), 'matrix.yaml')).suites);
    const unknown = opts.suites.filter((s) => !known.includes(s));
    if (unknown.length > 0) {
      process.stderr.write(`selftest: --suites: no suite ${unknown.join(', ')} in matrix.yaml (suites: ${known.join(', ')})\n`);
      process.exit(USAGE_ERROR);
    }
  }
  const report = await runSelfTest({ ...(opts.suites ? { suites: opts.suites } : {}), ...(opts.jobs ? { jobs: opts.jobs } : {}), onFault: (run) => process.stderr.write(`${run.suite} ${run.side} ${run.fault}: ${run.missed.length === 0 ? 'caught' : 'MISSED'}\n`) });
  const out = join(repoRoot(), 'reports', 'selftest');
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, 'selftest.json'), `${JSON.stringify(report, null, 2)}\n`);
  process.stdout.write(renderSelfTest(report));
  process.exit(selfTestPassed(report) ? 0 : 1);
}
