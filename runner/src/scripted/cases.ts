/**
 * Data suites: a case is one YAML file, `cases/<suite>/<case>.yaml`. It says which call a client
 * makes (method, metadata, deadline, requests with the server's script inside) and what the
 * client must observe. Loaded and checked here (file:line errors), compiled into the
 * instructions the generic executors run (docs/peer-contract.md, "The scripted service").
 */
import { readdirSync, readFileSync } from 'node:fs';
import { basename, join, relative } from 'node:path';
import type protobuf from 'protobufjs';
import { z } from 'zod';
import { ConfigError, issueText, problemsError, readYaml } from '../yaml-file.js';
import { hex, jsonObject } from './json-schema.js';
import { compileRawRequest, compileRawResponse, h2Error, RAW_CLIENT_FAULTS, RAW_FAULTS, RAW_HEADER, RawCaseError, RawRequestFile, RawResponseFile } from './raw.js';
import { SCRIPTED } from './schema.js';
import { CaseValueError, validateMessage, type Json } from './values.js';

/** The longest deadline a case may give: 366 days. */
export const MAX_TIMEOUT_MS = 31_622_400_000;

export const METHODS = ['Unary', 'ServerStream', 'ClientStream', 'BidiStream'] as const;
export type Method = (typeof METHODS)[number];

/** The server faults of the scripted service (docs/peer-contract.md): what `caught_by` may name. */
export const SCRIPTED_FAULTS = [
  'scripted-status-unknown',
  'scripted-message-mangled',
  'scripted-details-dropped',
  'scripted-trailers-as-headers',
  'scripted-headers-dropped',
  'scripted-metadata-joined',
  'scripted-int64-double',
  'scripted-enum-shifted',
  'scripted-map-keys-off',
  'scripted-floats-flushed',
  'scripted-bytes-truncated',
  'scripted-strings-truncated',
  'scripted-presence-lost',
  'scripted-repeated-truncated',
  'scripted-replies-drop-last',
  'scripted-request-info-empty',
  'scripted-read-all',
  'scripted-delay-ignored',
  'scripted-unknown-dropped',
  'scripted-limits-ignored',
  'scripted-lifecycle-ignored',
  'scripted-cancel-ignored',
  'scripted-shutdown-abrupt',
  'scripted-second-host-ignored',
  'scripted-peer-ipv4',
  'scripted-authority-dropped',
] as const;

/** The client fault of the generic executors (--client_fault): `caught_by` may name it too. */
export const SCRIPTED_CLIENT_FAULTS = [
  'scripted-lenient',
  'scripted-client-limits-ignored',
  'scripted-deadline-ignored',
  'scripted-server-name-ignored',
  'scripted-target-ignored',
  'scripted-authority-ignored',
] as const;

/** How a call with a call_id ended (CallRecord.ended). */
export const CALL_ENDS = ['completed', 'cancelled', 'running', 'unknown'] as const;

/** The address families the runner tells apart in RequestInfo.peer; `unknown`: the library's own word for "I cannot tell" (grpc-js). */
export const PEER_FAMILIES = ['ipv4', 'ipv6', 'unix', 'unknown'] as const;
export type PeerFamily = (typeof PEER_FAMILIES)[number];

/** The placeholder of a server's Unix socket: in `server_args` (the runner gives a fresh path) and in `channel.target`. */
export const UNIX_SOCKET = '{unix_socket}';

/** A metadata value as a case writes it: text, or bytes in hex for a -bin key. */
const MetadataValue = z.union([z.string(), z.strictObject({ hex })]);

const RequestMetadata = z.strictObject({ key: z.string().min(1), value: z.string().optional(), hex: hex.optional() });

const MetadataExpectation = z.record(z.string(), z.array(MetadataValue));

const code = z.number().int().min(0).max(16);
/** A status; `code` may list the codes libraries legitimately differ on (e.g. [8, 13]). */
const Status = z.strictObject({ code: z.union([code, z.array(code).min(1)]), message: z.string().optional() });

/** How the raw client saw a stream end (interop/raw/README.md, "The raw client"). */
export const RAW_ENDS = ['end_stream', 'rst_stream', 'connection_closed', 'timeout', 'connect_failed'] as const;
const oneOrMore = <T extends z.ZodType>(t: T) => z.union([t, z.array(t).min(1)]);

/** What the raw client must see on the wire (a raw_request case's `expect.raw`). */
const RawExpectation = z.strictObject({
  /** The response's HTTP status (`:status`). */
  http_status: oneOrMore(z.number().int().min(100).max(599)).optional(),
  /** How the stream ended. */
  end: oneOrMore(z.enum(RAW_ENDS)).optional(),
  /** The code of the server's RST_STREAM. */
  rst_stream: oneOrMore(h2Error).optional(),
  /**
   * A RST_STREAM with one of these codes may stand in for the expected status: a server that
   * resets the stream when its deadline passes (PROTOCOL-HTTP2.md: RST_STREAM CANCEL from a
   * server is CANCELLED) instead of sending DEADLINE_EXCEEDED.
   */
  instead_rst_stream: oneOrMore(h2Error).optional(),
  /**
   * true: the call did not succeed, whichever way the server said so: a grpc-status other than 0,
   * an HTTP status other than 200, RST_STREAM, or the connection closed; never OK, never a hang.
   */
  failed: z.literal(true).optional(),
  /** true: the server answered with one header block that ended the stream (trailers-only). */
  trailers_only: z.boolean().optional(),
  /** Per response header (first header block): tokens its comma-separated value must list, e.g. grpc-accept-encoding: [gzip]. */
  header_tokens: z.record(z.string().min(1), z.array(z.string().min(1)).min(1)).optional(),
});
export type RawExpectation = z.infer<typeof RawExpectation>;

/** What the client must observe; a member left out is derived from the script, or not checked. */
const Expectation = z.strictObject({
  /** The library raised before the call had a status: true, or a text the error must contain. */
  local_error: z.union([z.boolean(), z.string()]).optional(),
  /**
   * The library refuses the call: a local error, or a failed status (not OK) that never reached
   * the server's handler (no RequestInfo), as libraries that report refusals as a status do.
   */
  refused: z.literal(true).optional(),
  status: Status.optional(),
  /** Either the status, or a local error (a library may refuse before sending, or fail the call). */
  status_or_local_error: Status.optional(),
  responses: z.array(jsonObject).optional(),
  headers: MetadataExpectation.optional(),
  headers_absent: z.array(z.string().min(1)).optional(),
  trailers: MetadataExpectation.optional(),
  trailers_absent: z.array(z.string().min(1)).optional(),
  /** google.rpc.Status in proto JSON, `{error: true}` (the library refuses them), or null (none). */
  details: z.union([z.null(), z.strictObject({ error: z.literal(true) }), jsonObject]).optional(),
  /** Request metadata as the server's library reported it (RequestInfo.headers). */
  request_headers: MetadataExpectation.optional(),
  request_headers_absent: z.array(z.string().min(1)).optional(),
  /** The `values` of every request the server read (RequestInfo.requests), in order. */
  request_values: z.array(jsonObject).optional(),
  /** RequestInfo.timeout_ms within these bounds. */
  request_timeout_ms: z.strictObject({ min: z.number().int(), max: z.number().int() }).optional(),
  /** The family of the client's address as the server saw it (RequestInfo.peer). */
  request_peer: z.enum(PEER_FAMILIES).optional(),
  /** RequestInfo.authority, exactly; `{port}` stands for the server's port (any digits). */
  request_authority: z.string().min(1).optional(),
  /** true: no RequestInfo is expected (the call never reached the end of the handler); false (in a library's own expectation): the case's true does not hold for it. */
  no_request_info: z.boolean().optional(),
  /** RequestInfo.active_calls within these bounds: the calls the server process was handling when this one started. */
  request_active_calls: z.strictObject({ min: z.number().int().min(0).optional(), max: z.number().int().min(0).optional() }).optional(),
  /** RequestInfo.reported_call: how the call named by script.report_call ended, as its handler saw it. */
  reported_call: z
    .strictObject({
      ended: z.union([z.enum(CALL_ENDS), z.array(z.enum(CALL_ENDS)).min(1)]),
      replies_sent: z.strictObject({ min: z.number().int().min(0).optional(), max: z.number().int().min(0).optional() }).optional(),
    })
    .optional(),
  /** Follow-ups only: true, the server saw this call come from another client address than the first call (a new connection); false, from the same. */
  new_connection: z.boolean().optional(),
  /** A raw_request case: what the raw client saw on the wire. */
  raw: RawExpectation.optional(),
});
export type Expectation = z.infer<typeof Expectation>;

/** A legitimate difference of one library: its expectation members replace the case's. */
const FaultName = z.enum([...SCRIPTED_FAULTS, ...SCRIPTED_CLIENT_FAULTS, ...RAW_FAULTS, ...RAW_CLIENT_FAULTS]);

/**
 * A library's own expectation, with why and where its source says so; `caught_by`: the faults
 * that must turn this library's cells red instead of the case's (a refusal, say, that no server
 * fault can change).
 */
const Override = z.strictObject({
  expect: Expectation,
  /** The follow-ups' own expectations for this library, one per follow-up (each replaces the follow-up's `expect` members it names). */
  followups: z.array(Expectation).optional(),
  reason: z.string().min(1),
  reference: z.string().min(1),
  caught_by: z.array(FaultName).min(1).optional(),
});

/** A call made after the case's call ended, on the same channel (INSTRUCTION `followups`). */
const FollowupFile = z.strictObject({
  after_ms: z.number().int().min(0).max(60_000).default(0),
  method: z.enum(METHODS),
  metadata: z.array(RequestMetadata).default([]),
  timeout_ms: z.number().int().min(0).max(MAX_TIMEOUT_MS).optional(),
  script: jsonObject.optional(),
  requests: z.array(jsonObject).optional(),
  /** The raw server's frames for this call (a raw case's follow-up). */
  raw_response: RawResponseFile.optional(),
  expect: Expectation.default({}),
});

const CaseFile = z.strictObject({
  description: z.string().min(1),
  method: z.enum(METHODS),
  /** Request metadata, in order; a key listed twice is sent with two values. */
  metadata: z.array(RequestMetadata).default([]),
  /** The call's deadline in ms from its start; 0: already passed when the call is made; at most 366 days. */
  timeout_ms: z.number().int().min(0).max(MAX_TIMEOUT_MS).optional(),
  /** The call's request compression (the library's per-call API). */
  compression: z.string().min(1).optional(),
  /** A channel of the case's own, with these options. */
  channel: z
    .strictObject({
      max_receive_message_length: z.number().int().min(0).optional(),
      max_send_message_length: z.number().int().min(0).optional(),
      compression: z.enum(['identity', 'gzip', 'deflate']).optional(),
      /** TLS: the name the server's certificate must match, instead of the transport's. */
      server_name: z.string().min(1).optional(),
      /** The target the channel dials, in the library's syntax; {host}, {port} and {unix_socket} are replaced by the executor. */
      target: z.string().min(1).optional(),
      /** The :authority the channel sends. */
      authority: z.string().min(1).optional(),
      /** The client's keepalive pings. */
      keepalive_time_ms: z.number().int().min(0).optional(),
      keepalive_timeout_ms: z.number().int().min(0).optional(),
      keepalive_permit_without_calls: z.boolean().optional(),
      /** IPv4 host:port addresses the channel dials as one channel, one subchannel each; {host} and {port} are replaced by the executor. */
      addresses: z.array(z.string().regex(/^[^\s,]+:[^\s,:]+$/, 'an IPv4 host:port address, e.g. "127.0.0.2:{port}"')).min(2).optional(),
      /** The channel's load-balancing policy (its default service config). */
      lb_policy: z.enum(['pick_first', 'round_robin']).optional(),
    })
    .optional(),
  /**
   * Across the call and its follow-ups: the server saw the client at exactly `count` addresses
   * (RequestInfo.peer: one per connection), each of them carrying at least `min_calls_each` calls.
   */
  connections: z.strictObject({ count: z.number().int().min(1), min_calls_each: z.number().int().min(1).default(1) }).optional(),
  /** How long the runner waits for this case's result (default: timeouts.case_ms of matrix.yaml), for a deliberately long case. */
  case_ms: z.number().int().min(1).max(600_000).optional(),
  /** Flags the scripted server is started with for this case (docs/peer-contract.md, "Server"). */
  server_args: z.array(z.string().regex(/^--[a-z][a-z0-9_]*=\S+$/, 'a server flag, --name=value')).optional(),
  cancel_after_responses: z.number().int().min(0).optional(),
  /** The call is made this many times at once on the channel; each must meet `expect`. */
  concurrent: z.number().int().min(1).max(16).optional(),
  /** Calls made after it on the same channel, in order, each with its own expectation. */
  followups: z.array(FollowupFile).min(1).optional(),
  /** Shorthand for `requests: [{script: …}]`. */
  script: jsonObject.optional(),
  requests: z.array(jsonObject).optional(),
  expect: Expectation.default({}),
  /** One pairing's own expectation, keyed "client→server", over the client's and the server's (which it replaces where both differ). */
  by_pair: z.record(z.string().regex(/^[a-z0-9_.-]+→[a-z0-9_.-]+$/, 'a pairing, "client→server"'), Override).default({}),
  /** One implementation's own expectation (or several sharing it: "python, cpp"), over the case's. */
  by_client: z.record(z.string().regex(/^[a-z0-9_.-]+(, *[a-z0-9_.-]+)*$/, 'implementation names, "python" or "python, cpp"'), Override).default({}),
  by_server: z.record(z.string().regex(/^[a-z0-9_.-]+(, *[a-z0-9_.-]+)*$/, 'implementation names, "python" or "python, cpp"'), Override).default({}),
  /** Self-test: the server faults that must turn this case red (each in every pairing). */
  caught_by: z.array(FaultName).min(1),
  /** Only these transports (default: the suite's). */
  transports: z.array(z.string().min(1)).optional(),
  /** The frames the raw HTTP/2 server (interop/raw) answers with, exactly (suite protocol). */
  raw_response: RawResponseFile.optional(),
  /** The frames the raw HTTP/2 client (interop/raw) sends a library's server, exactly (suite protocol). */
  raw_request: RawRequestFile.optional(),
  /** The requests are deliberately not valid for the schema (a string for an int64): not checked, so a library's encoder meets them. */
  invalid_requests: z.literal(true).optional(),
});

/** `by_client`/`by_server` keys may name several implementations that share a difference ("python, cpp"): one entry each. */
const perImplementation = <T>(overrides: Record<string, T>): Record<string, T> =>
  Object.fromEntries(Object.entries(overrides).flatMap(([key, o]) => key.split(',').map((name) => [name.trim(), o] as const)));

/** The faults that must turn one cell of a case red: its client's or server's own, else the case's. */
export const caughtByFor = (c: ScriptedCase, client: string, server: string): string[] =>
  c.byPair[`${client}→${server}`]?.caught_by ?? c.byClient[client]?.caught_by ?? c.byServer[server]?.caught_by ?? c.caughtBy;

/** What a generic executor is given (docs/peer-contract.md, INSTRUCTION). */
export interface Instruction {
  method: Method;
  metadata: Array<{ key: string; value: string | { $bytes: string } }>;
  timeout_ms?: number;
  requests: Json[];
  cancel_after_responses?: number;
  compression?: string;
  channel?: {
    max_receive_message_length?: number;
    max_send_message_length?: number;
    compression?: string;
    server_name?: string;
    target?: string;
    authority?: string;
    keepalive_time_ms?: number;
    keepalive_timeout_ms?: number;
    keepalive_permit_without_calls?: boolean;
    addresses?: string[];
    lb_policy?: 'pick_first' | 'round_robin';
  };
  concurrent?: number;
  followups?: FollowupInstruction[];
  /** A raw_request case: the raw client's frames (interop/raw/README.md, "The raw client"). */
  raw_request?: { actions: Array<Record<string, unknown>> };
}

/** INSTRUCTION `followups`: one call after the previous one ended, on the same channel. */
export interface FollowupInstruction {
  after_ms: number;
  method: Method;
  metadata: Instruction['metadata'];
  requests: Json[];
  timeout_ms?: number;
}

/** A follow-up as the runner judges it: its instruction and its case-level expectation. */
export interface Followup {
  instruction: FollowupInstruction;
  expect: Expectation;
}

export interface ScriptedCase {
  name: string;
  file: string;
  description: string;
  instruction: Instruction;
  expect: Expectation;
  byPair: Record<string, z.infer<typeof Override>>;
  byClient: Record<string, z.infer<typeof Override>>;
  byServer: Record<string, z.infer<typeof Override>>;
  /** The follow-ups, in order (their instructions are in `instruction.followups` too). */
  followups: Followup[];
  caughtBy: string[];
  transports?: string[];
  /** Flags the server is started with for this case (a server group of its own). */
  serverArgs: string[];
  /** The runner's wait for this case's result, when longer than timeouts.case_ms. */
  caseMs?: number;
  /** The connections the call and its follow-ups must spread over (case file `connections`). */
  connections?: { count: number; min_calls_each: number };
  /**
   * Which side the raw HTTP/2 peer (matrix.yaml `raw: true`) takes: `server` (raw_response: a
   * library's client meets the raw server), `client` (raw_request: the raw client meets a
   * library's server); absent, neither (two libraries).
   */
  raw?: 'server' | 'client';
  /**
   * Most of its time is waiting it asks for (delays, follow-ups after a pause, a deadline it
   * expects to pass): such cases get server groups of their own, run beside the CPU-bound ones.
   */
  paced: boolean;
}

/** From how much declared waiting on a case is paced (see ScriptedCase.paced). */
export const PACED_MS = 250;

const WAIT_KEYS = new Set(['delay_ms', 'after_ms', 'sleep_ms', 'restart_server_after_ms']);

/**
 * The waiting a case declares: every delay, pause and sleep of its call, its server's script and
 * its follow-ups, and the deadline of a call that must end in DEADLINE_EXCEEDED.
 */
export function declaredWaitMs(instruction: Instruction, expect: Expectation): number {
  let sum = 0;
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) v.forEach(walk);
    else if (typeof v === 'object' && v !== null) {
      for (const [k, x] of Object.entries(v)) {
        if (WAIT_KEYS.has(k) && typeof x === 'number') sum += x;
        else walk(x);
      }
    }
  };
  walk(instruction);
  const code = expect.status?.code;
  if (instruction.timeout_ms !== undefined && (Array.isArray(code) ? code.includes(4) : code === 4)) sum += instruction.timeout_ms;
  return sum;
}

const CASE_NAME = /^[a-z0-9][a-z0-9_-]*$/;

/**
 * Generators, so that large values stay short in a case file: `{$repeat: "ab", times: 3}` →
 * "ababab"; `{$repeat_bytes: "00ff", times: 2}` → base64 of 00 ff 00 ff; `{$list: X, times: N}` → N copies of X.
 */
function expand(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(expand);
  if (typeof v !== 'object' || v === null) return v;
  const o = v as Record<string, unknown>;
  if (typeof o['times'] === 'number' && Object.keys(o).length === 2) {
    if (typeof o['$repeat'] === 'string') return o['$repeat'].repeat(o['times']);
    if (typeof o['$repeat_bytes'] === 'string') return Buffer.from(o['$repeat_bytes'].repeat(o['times']), 'hex').toString('base64');
    if ('$list' in o) return Array.from({ length: o['times'] }, () => expand(o['$list']));
  }
  return Object.fromEntries(Object.entries(o).map(([k, x]) => [k, expand(x)]));
}

/** Loads every case of a data suite's folder; throws ConfigError (file:line) on the first bad file. */
export function loadCaseDir(dir: string, root: protobuf.Root, displayRoot: string): ScriptedCase[] {
  let files: string[];
  try {
    files = readdirSync(dir).filter((f) => f.endsWith('.yaml') || f.endsWith('.yml')).sort();
  } catch (err) {
    throw new ConfigError(`${relative(displayRoot, dir) || dir}: cannot read the case folder: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  if (files.length === 0) throw new ConfigError(`${relative(displayRoot, dir)}: no case files (*.yaml) in this folder`);
  return files.map((f) => loadCaseFile(join(dir, f), root, relative(displayRoot, join(dir, f))));
}

export function loadCaseFile(path: string, root: protobuf.Root, display: string): ScriptedCase {
  const name = basename(path).replace(/\.ya?ml$/, '');
  if (!CASE_NAME.test(name)) throw new ConfigError(`${display}: bad case file name: use lower-case letters, digits, "_" and "-" (the name is the case's name)`);
  const { data, locate } = readYaml(readFileSync(path, 'utf8'), display, 'a description, a method and what to send and expect (see README, "Adding a case")');
  const parsed = CaseFile.safeParse(expand(data));
  if (!parsed.success) throw problemsError(parsed.error.issues.map(issueText), locate);
  const c = parsed.data;
  const fail = (field: PropertyKey[], message: string) => problemsError([{ path: field, message }], locate);
  const check = (field: PropertyKey[], typeName: string, value: Json) => {
    try {
      validateMessage(root, typeName, value, '');
    } catch (err) {
      if (err instanceof CaseValueError) throw fail(field, err.message);
      throw err;
    }
  };
  /** The requests of a call (the case's, or a follow-up's at `at`), checked against the schema. */
  const requestsOf = (call: { method: Method; script?: Json; requests?: Array<Record<string, Json>> }, at: PropertyKey[]): Json[] => {
    if (call.script && call.requests) throw fail([...at, 'script'], 'give either script or requests, not both');
    const requests = call.requests ?? [{ script: call.script ?? {} }];
    if (requests.length === 0) throw fail([...at, 'requests'], 'at least one request (the first carries the script)');
    if ((call.method === 'Unary' || call.method === 'ServerStream') && requests.length !== 1) throw fail([...at, 'requests'], `${call.method} sends exactly one request`);
    if (c.invalid_requests) {
      // deliberately invalid: left for the libraries' encoders to meet
    } else if (call.script) check([...at, 'script'], `${SCRIPTED}.Script`, call.script);
    else {
      requests.forEach((r, i) => {
        // `$fill_bytes`: the executor sets values.by to that many zero bytes (docs/peer-contract.md).
        const { $fill_bytes: fill, ...rest } = r;
        if (fill !== undefined && !(typeof fill === 'number' && Number.isSafeInteger(fill) && fill >= 0)) throw fail([...at, 'requests', i, '$fill_bytes'], 'a number of bytes (an integer >= 0)');
        check([...at, 'requests', i], `${SCRIPTED}.ScriptedRequest`, rest);
      });
    }
    return requests;
  };
  /** A call's metadata as the executors take it (the case's, or a follow-up's at `at`): text, or `{$bytes: hex}`. */
  const metadataOf = (list: Array<z.infer<typeof RequestMetadata>>, at: PropertyKey[]): Instruction['metadata'] =>
    list.map((m, i) => {
      if ((m.value === undefined) === (m.hex === undefined)) throw fail([...at, 'metadata', i], 'give value (text) or hex (bytes), one of them');
      return { key: m.key, value: m.hex !== undefined ? { $bytes: m.hex.toLowerCase() } : m.value! };
    });
  /** The request header that carries a raw case's frames (the case's, or a follow-up's at `at`). */
  const rawHeader = (raw: RawResponseFile, at: PropertyKey[]): Instruction['metadata'][number] => {
    try {
      return { key: RAW_HEADER, value: { $bytes: compileRawResponse(root, raw).toString('hex') } };
    } catch (err) {
      if (err instanceof RawCaseError) throw fail([...at, ...err.path], err.message);
      throw err;
    }
  };
  const requests = requestsOf(c, []);
  const expect = c.expect;
  const checkExpect = (e: Expectation, at: PropertyKey[]) => {
    e.responses?.forEach((r, i) => check([...at, 'responses', i], `${SCRIPTED}.ScriptedResponse`, r));
    e.request_values?.forEach((r, i) => check([...at, 'request_values', i], `${SCRIPTED}.Values`, r));
    if (e.details && !('error' in e.details && e.details['error'] === true)) check([...at, 'details'], 'google.rpc.Status', e.details);
    if (e.raw && !c.raw_request) throw fail([...at, 'raw'], 'only a raw_request case (the raw client) sees the wire');
  };
  checkExpect(expect, ['expect']);
  if (expect.new_connection !== undefined) throw fail(['expect', 'new_connection'], 'only a follow-up can be on a new connection (compared with the first call)');
  for (const [side, overrides] of [['by_pair', c.by_pair], ['by_client', c.by_client], ['by_server', c.by_server]] as const) {
    for (const [impl, o] of Object.entries(overrides)) {
      checkExpect(o.expect, [side, impl, 'expect']);
      o.followups?.forEach((f, i) => checkExpect(f, [side, impl, 'followups', i]));
      if ((o.followups?.length ?? 0) > (c.followups?.length ?? 0)) throw fail([side, impl, 'followups'], `${o.followups?.length} expectations for ${c.followups?.length ?? 0} follow-ups`);
    }
  }
  if (c.concurrent !== undefined && c.concurrent > 1 && c.cancel_after_responses !== undefined) throw fail(['concurrent'], 'concurrent calls cannot be cancelled (cancel_after_responses): give one or the other');
  const followups = (c.followups ?? []).map((f, i): Followup => {
    checkExpect(f.expect, ['followups', i, 'expect']);
    const metadata = metadataOf(f.metadata, ['followups', i]);
    if (f.raw_response) {
      if (!c.raw_response) throw fail(['followups', i, 'raw_response'], 'only a raw case (raw_response) has follow-ups answered by the raw server');
      metadata.push(rawHeader(f.raw_response, ['followups', i, 'raw_response']));
      f.expect.no_request_info ??= true;
    } else if (c.raw_response) throw fail(['followups', i], 'a raw case\'s follow-up says what the raw server answers: raw_response');
    const instruction: FollowupInstruction = {
      after_ms: f.after_ms,
      method: f.method,
      metadata,
      requests: requestsOf(f, ['followups', i]),
      ...(f.timeout_ms !== undefined ? { timeout_ms: f.timeout_ms } : {}),
    };
    return { instruction, expect: f.expect };
  });
  if (c.channel?.target?.includes(UNIX_SOCKET) && !(c.server_args ?? []).includes(`--unix_socket=${UNIX_SOCKET}`)) {
    throw fail(['channel', 'target'], `names ${UNIX_SOCKET}: the server must listen there, add server_args: ["--unix_socket=${UNIX_SOCKET}"]`);
  }
  if (c.channel?.addresses && c.channel.target) throw fail(['channel', 'addresses'], 'give either target or addresses, not both');
  if (c.connections && followups.length === 0) throw fail(['connections'], 'the connections of one call cannot spread: add followups (calls on the same channel)');
  const metadata = metadataOf(c.metadata, []);
  let rawRequest: Instruction['raw_request'];
  if (c.raw_request) {
    // The raw client sends exactly its frames to a library's server and reports what came back:
    // nothing is derived from a script; the case says what the raw client must see.
    const others = (['raw_response', 'followups', 'channel', 'concurrent', 'cancel_after_responses', 'compression', 'script', 'requests'] as const).filter((k) => c[k] !== undefined);
    if (others.length > 0) throw fail([others[0]!], 'a raw_request case sends only its frames: put the request in raw_request (a message action)');
    if (c.metadata.length > 0) throw fail(['metadata'], 'a raw_request case sends only its frames: put request metadata in a request_headers action (set)');
    if (!expect.status && !expect.raw) throw fail(['expect'], 'a raw_request case says what the raw client sees: expect.status or expect.raw');
    try {
      rawRequest = compileRawRequest(root, c.raw_request, c.method);
    } catch (err) {
      if (err instanceof RawCaseError) throw fail(['raw_request', ...err.path], err.message);
      throw err;
    }
  }
  if (c.raw_response) {
    // The raw server reads its frames from a request header; it has no handler, so no RequestInfo,
    // and nothing is derived from a script: the case says what the client must see. Each raw case
    // gets a channel of its own: a connection the case breaks on purpose breaks no other case.
    metadata.push(rawHeader(c.raw_response, ['raw_response']));
    if (!expect.status && expect.local_error === undefined && !expect.status_or_local_error) throw fail(['expect'], 'a raw case says what the client sees: expect.status');
    expect.no_request_info ??= true;
    c.channel ??= {};
  }
  const instruction: Instruction = {
    method: c.method,
    metadata,
    requests,
    ...(c.timeout_ms !== undefined ? { timeout_ms: c.timeout_ms } : {}),
    ...(c.cancel_after_responses !== undefined ? { cancel_after_responses: c.cancel_after_responses } : {}),
    ...(c.compression !== undefined ? { compression: c.compression } : {}),
    ...(c.channel !== undefined ? { channel: c.channel } : {}),
    ...(c.concurrent !== undefined ? { concurrent: c.concurrent } : {}),
    ...(followups.length > 0 ? { followups: followups.map((f) => f.instruction) } : {}),
    ...(rawRequest ? { raw_request: rawRequest } : {}),
  };
  return {
    name,
    file: display,
    description: c.description,
    instruction,
    expect,
    byPair: c.by_pair,
    byClient: perImplementation(c.by_client),
    byServer: perImplementation(c.by_server),
    followups,
    caughtBy: c.caught_by,
    serverArgs: c.server_args ?? [],
    ...(c.case_ms !== undefined ? { caseMs: c.case_ms } : {}),
    ...(c.connections ? { connections: c.connections } : {}),
    ...(c.transports ? { transports: c.transports } : {}),
    ...(c.raw_response ? { raw: 'server' as const } : c.raw_request ? { raw: 'client' as const } : {}),
    paced: declaredWaitMs(instruction, expect) >= PACED_MS,
  };
}
