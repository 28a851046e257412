/**
 * The generic executor of the data suites (docs/peer-contract.md, "Client: the generic
 * executor"): `--cases_file` holds `{"cases": {NAME: INSTRUCTION}}`; a case found there makes the
 * call its instruction describes against interop.scripted.Scripted, checks nothing, and reports
 * what grpc-js gave it as `observed`. The runner judges.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import * as grpc from '@grpc/grpc-js';
import type protobuf from 'protobufjs';
import type { ScriptedClient } from '../../ts-common/src/generated/interop/scripted/Scripted.js';
import type { ScriptedRequest } from '../../ts-common/src/generated/interop/scripted/ScriptedRequest.js';
import type { ScriptedResponse__Output } from '../../ts-common/src/generated/interop/scripted/ScriptedResponse.js';
import { hostPort } from '../../ts-common/src/cli.js';
import { LOADER_OPTIONS, protoRoot } from '../../ts-common/src/proto.js';
import { CaseContext, type Target } from './context.js';
import type { CaseResult } from './run-case.js';
import { InputConverter, InstructionError, Observer, type Json } from '../../ts-common/src/scripted-values.js';

export const DETAILS_TRAILER = 'grpc-status-details-bin';
export const REQUEST_INFO_TRAILER = 'x-scripted-request-info-bin';

const METHODS = ['Unary', 'ServerStream', 'ClientStream', 'BidiStream'] as const;
type Method = (typeof METHODS)[number];

/** One request metadata entry: text, or `{"$bytes":hex}` for a `-bin` key. */
export interface MetadataEntry {
  key: string;
  value: string | { $bytes: string };
}

export interface Instruction {
  method: Method;
  metadata: MetadataEntry[];
  timeout_ms?: number;
  requests: unknown[];
  cancel_after_responses?: number;
  /** Per-call request compression: grpc-js has no per-call API (reported as local_error). */
  compression?: string;
  /** A channel of this instruction's own, with these options. */
  channel?: ChannelSpec;
  /** The call is made this many times at once (absent: 1). */
  concurrent?: number;
  /** Calls made after it on the same channel, in order. */
  followups?: Followup[];
}

/** INSTRUCTION `followups`: a call made `after_ms` after the previous one ended, on the same channel. */
export interface Followup {
  after_ms: number;
  method: Method;
  metadata: MetadataEntry[];
  requests: unknown[];
  timeout_ms?: number;
}

/** INSTRUCTION `channel`: the options of the instruction's own channel. */
export interface ChannelSpec {
  max_receive_message_length?: number;
  max_send_message_length?: number;
  compression?: string;
  /** TLS: the name the server's certificate must match, instead of --server_host_override. */
  server_name?: string;
  /** What the channel dials, instead of --server_host:--server_port: `{host}`, `{port}` and `{unix_socket}` replaced (channelAddress). */
  target?: string;
  /** The :authority the channel sends (grpc.default_authority). */
  authority?: string;
  /** The client's keepalive pings (grpc.keepalive_time_ms, grpc.keepalive_timeout_ms, grpc.keepalive_permit_without_calls). */
  keepalive_time_ms?: number;
  keepalive_timeout_ms?: number;
  keepalive_permit_without_calls?: boolean;
  /** IPv4 host:port addresses dialled as one channel (`ipv4:A,B,…`), `{host}` and `{port}` replaced; never with `target`. */
  addresses?: string[];
  /** The channel's load-balancing policy, through its default service config (grpc.service_config). */
  lb_policy?: LbPolicy;
}

const LB_POLICIES = ['pick_first', 'round_robin'] as const;
type LbPolicy = (typeof LB_POLICIES)[number];

/** grpc-js's `grpc.default_compression_algorithm` values (compression-algorithms.ts). */
const COMPRESSION_ALGORITHMS: Record<string, number> = { identity: 0, deflate: 1, gzip: 2 };

/** The longest deadline an instruction may give: 366 days (docs/peer-contract.md). */
const MAX_TIMEOUT_MS = 31_622_400_000;

/** OBSERVED: what the library gave (every member optional). */
export type Observed = { [key: string]: Json };

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Reads `{"cases": {NAME: INSTRUCTION}}`; throws (a usage error) when the file is not that. */
export function loadCasesFile(path: string): Map<string, unknown> {
  const parsed: unknown = JSON.parse(readFileSync(path, 'utf8'));
  if (!isObj(parsed) || !isObj(parsed['cases'])) throw new Error(`${path}: expected {"cases": {NAME: INSTRUCTION, …}}`);
  return new Map(Object.entries(parsed['cases']));
}

const nonNegativeInt = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

/** The members a call and its follow-ups share: method, metadata, requests, timeout_ms (`at`: where, for errors). */
function parseCall(raw: Obj, at: string): Pick<Instruction, 'method' | 'metadata' | 'requests' | 'timeout_ms'> {
  const method = raw['method'];
  if (typeof method !== 'string' || !(METHODS as readonly string[]).includes(method)) {
    throw new InstructionError(`${at}unknown method ${JSON.stringify(method)} (expected one of ${METHODS.join(', ')})`);
  }
  const metadata = raw['metadata'] ?? [];
  if (!Array.isArray(metadata)) throw new InstructionError(`${at}metadata: expected a list of {"key":K,"value":V}`);
  metadata.forEach((m: unknown, i) => {
    const ok =
      isObj(m) &&
      typeof m['key'] === 'string' &&
      (typeof m['value'] === 'string' || (isObj(m['value']) && typeof m['value']['$bytes'] === 'string' && /^([0-9a-fA-F]{2})*$/.test(m['value']['$bytes'])));
    if (!ok) throw new InstructionError(`${at}metadata[${i}]: expected {"key":K,"value":"text"} or {"key":K,"value":{"$bytes":"hex"}}, got ${JSON.stringify(m)}`);
  });
  const requests = raw['requests'] ?? [];
  if (!Array.isArray(requests) || !requests.every(isObj)) throw new InstructionError(`${at}requests: expected a list of ScriptedRequest objects`);
  if ((method === 'Unary' || method === 'ServerStream') && requests.length !== 1) {
    throw new InstructionError(`${at}${method} takes exactly one request, got ${requests.length}`);
  }
  const timeout = raw['timeout_ms'];
  if (timeout !== undefined && !(nonNegativeInt(timeout) && timeout <= MAX_TIMEOUT_MS)) throw new InstructionError(`${at}timeout_ms: expected an integer from 0 to ${MAX_TIMEOUT_MS}, got ${JSON.stringify(timeout)}`);
  return { method: method as Method, metadata: metadata as MetadataEntry[], requests, ...(timeout !== undefined ? { timeout_ms: timeout } : {}) };
}

/** Checks the shape of an instruction; throws InstructionError naming what is wrong. */
export function parseInstruction(raw: unknown): Instruction {
  if (!isObj(raw)) throw new InstructionError('the instruction is not an object');
  const call = parseCall(raw, '');
  const compression = raw['compression'];
  if (compression !== undefined && typeof compression !== 'string') throw new InstructionError(`compression: expected a string, got ${JSON.stringify(compression)}`);
  const channel = raw['channel'];
  if (channel !== undefined) {
    if (!isObj(channel)) throw new InstructionError(`channel: expected an object, got ${JSON.stringify(channel)}`);
    for (const [key, value] of Object.entries(channel)) {
      if (key === 'max_receive_message_length' || key === 'max_send_message_length') {
        if (!nonNegativeInt(value)) throw new InstructionError(`channel.${key}: expected an integer >= 0, got ${JSON.stringify(value)}`);
      } else if (key === 'compression') {
        if (typeof value !== 'string' || !(value in COMPRESSION_ALGORITHMS)) throw new InstructionError(`channel.compression: expected one of ${Object.keys(COMPRESSION_ALGORITHMS).join(', ')}, got ${JSON.stringify(value)}`);
      } else if (key === 'server_name' || key === 'target' || key === 'authority') {
        if (typeof value !== 'string' || value === '') throw new InstructionError(`channel.${key}: expected a non-empty string, got ${JSON.stringify(value)}`);
      } else if (key === 'keepalive_time_ms' || key === 'keepalive_timeout_ms') {
        if (!nonNegativeInt(value)) throw new InstructionError(`channel.${key}: expected an integer >= 0, got ${JSON.stringify(value)}`);
      } else if (key === 'keepalive_permit_without_calls') {
        if (typeof value !== 'boolean') throw new InstructionError(`channel.${key}: expected true or false, got ${JSON.stringify(value)}`);
      } else if (key === 'addresses') {
        const ok = Array.isArray(value) && value.length > 0 && value.every((a) => typeof a === 'string' && a !== '');
        if (!ok) throw new InstructionError(`channel.addresses: expected a non-empty list of "host:port" strings, got ${JSON.stringify(value)}`);
      } else if (key === 'lb_policy') {
        if (typeof value !== 'string' || !(LB_POLICIES as readonly string[]).includes(value)) throw new InstructionError(`channel.lb_policy: expected one of ${LB_POLICIES.join(', ')}, got ${JSON.stringify(value)}`);
      } else {
        throw new InstructionError(
          `channel: unknown member ${JSON.stringify(key)} (expected max_receive_message_length, max_send_message_length, compression, server_name, target, authority, keepalive_time_ms, keepalive_timeout_ms, keepalive_permit_without_calls, addresses, lb_policy)`,
        );
      }
    }
    if (channel['target'] !== undefined && channel['addresses'] !== undefined) throw new InstructionError('channel: give either target or addresses, not both');
  }
  const cancel = raw['cancel_after_responses'];
  if (cancel !== undefined && !nonNegativeInt(cancel)) throw new InstructionError(`cancel_after_responses: expected an integer >= 0, got ${JSON.stringify(cancel)}`);
  const concurrent = raw['concurrent'];
  if (concurrent !== undefined && !(nonNegativeInt(concurrent) && concurrent >= 1)) throw new InstructionError(`concurrent: expected an integer >= 1, got ${JSON.stringify(concurrent)}`);
  const followupsRaw = raw['followups'];
  if (followupsRaw !== undefined && !Array.isArray(followupsRaw)) throw new InstructionError('followups: expected a list of calls');
  const followups = (followupsRaw as unknown[] | undefined)?.map((f, i): Followup => {
    const at = `followups[${i}].`;
    if (!isObj(f)) throw new InstructionError(`followups[${i}]: expected an object`);
    const after = f['after_ms'] ?? 0;
    if (!nonNegativeInt(after)) throw new InstructionError(`${at}after_ms: expected an integer >= 0, got ${JSON.stringify(after)}`);
    return { after_ms: after, ...parseCall(f, at) };
  });
  return {
    ...call,
    ...(cancel !== undefined ? { cancel_after_responses: cancel } : {}),
    ...(concurrent !== undefined ? { concurrent } : {}),
    ...(followups !== undefined ? { followups } : {}),
    ...(compression !== undefined ? { compression } : {}),
    ...(channel !== undefined ? { channel: channel as ChannelSpec } : {}),
  };
}

/** Metadata as `[[key, value], …]` in the library's order; Buffers as `{"$bytes":hex}`. */
export function metadataPairs(md: grpc.Metadata, leaveOut: ReadonlySet<string> = new Set()): Json[] {
  const pairs: Json[] = [];
  for (const [key, values] of Object.entries(md.toJSON())) {
    if (leaveOut.has(key)) continue;
    for (const v of values) pairs.push([key, typeof v === 'string' ? v : { $bytes: Buffer.from(v).toString('hex') }]);
  }
  return pairs;
}

/** What the call gave, however it ended. */
interface Outcome {
  headers?: grpc.Metadata;
  responses: ScriptedResponse__Output[];
  status: grpc.StatusObject;
}

type AnyCall = grpc.ClientUnaryCall | grpc.ClientReadableStream<ScriptedResponse__Output> | grpc.ClientWritableStream<ScriptedRequest> | grpc.ClientDuplexStream<ScriptedRequest, ScriptedResponse__Output>;

/**
 * Waits for the call's status and, for a response stream, the end of its messages. A unary or
 * client-streaming call's application sees its callback: when that gave an error, the error is
 * the status (grpc-js turns an OK status without a response into UNIMPLEMENTED "No message
 * received" there, while its 'status' event still says OK).
 */
function settle(call: AnyCall, streaming: boolean, outcome: Omit<Outcome, 'status'>, unaryDone?: Promise<grpc.ServiceError | null>): Promise<Outcome> {
  return new Promise((resolve) => {
    let status: grpc.StatusObject | undefined;
    let ended = !streaming;
    let unaryCallbackDone = unaryDone === undefined;
    let callbackError: grpc.ServiceError | null = null;
    const done = () => {
      if (!status || !ended || !unaryCallbackDone) return;
      resolve({ ...outcome, status: callbackError ? { code: callbackError.code, details: callbackError.details, metadata: callbackError.metadata } : status });
    };
    call.on('metadata', (md: grpc.Metadata) => (outcome.headers = md));
    call.on('status', (s: grpc.StatusObject) => {
      status = s;
      // 'end' follows the last buffered message; a stream that never ends after its status
      // (destroyed) must not hold the executor.
      if (!ended) setTimeout(() => ((ended = true), done()), 2000).unref();
      done();
    });
    if (streaming) {
      const stream = call as NodeJS.EventEmitter;
      stream.on('error', () => undefined); // the status tells
      const end = () => {
        ended = true;
        done();
      };
      stream.on('end', end);
      stream.on('close', end);
    }
    void unaryDone?.then((err) => {
      unaryCallbackDone = true;
      callbackError = err;
      done();
    });
  });
}

/** Sends every request in order, then half-closes; a send that fails (the call ended) stops the sending. */
async function sendAll(call: grpc.ClientWritableStream<ScriptedRequest> | grpc.ClientDuplexStream<ScriptedRequest, ScriptedResponse__Output>, requests: ScriptedRequest[]): Promise<void> {
  let ended = false;
  const statusArrived = new Promise<boolean>((resolve) =>
    call.on('status', () => {
      ended = true;
      resolve(false);
    }),
  );
  for (const request of requests) {
    if (ended) return;
    const sent = await Promise.race([new Promise<boolean>((resolve) => call.write(request, (err: unknown) => resolve(!err))), statusArrived]);
    if (!sent) return;
  }
  if (!ended) call.end();
}

/** Makes the call; a metadata value the library refuses comes back as the thrown error (local_error). */
async function execute(client: ScriptedClient, instruction: Pick<Instruction, 'method' | 'metadata' | 'cancel_after_responses'>, requests: ScriptedRequest[], timeoutMs: number): Promise<Outcome> {
  const metadata = new grpc.Metadata();
  for (const { key, value } of instruction.metadata) metadata.add(key, typeof value === 'string' ? value : Buffer.from(value.$bytes, 'hex'));
  // timeout_ms 0: a deadline that passed a second before the call.
  const options: grpc.CallOptions = { deadline: timeoutMs === 0 ? Date.now() - 1000 : Date.now() + timeoutMs };
  const cancelAfter = instruction.cancel_after_responses;
  const outcome: Omit<Outcome, 'status'> = { responses: [] };
  // Once cancelled, the responses are those received up to then: data grpc-js still emits
  // afterwards is not counted (docs/peer-contract.md, cancel_after_responses).
  const onResponse = (call: { cancel(): void }) => (r: ScriptedResponse__Output) => {
    if (cancelAfter !== undefined && outcome.responses.length >= cancelAfter) return;
    outcome.responses.push(r);
    if (cancelAfter !== undefined && outcome.responses.length === cancelAfter) call.cancel();
  };
  const [first] = requests;
  switch (instruction.method) {
    case 'Unary': {
      let callbackDone!: (err: grpc.ServiceError | null) => void;
      const unaryDone = new Promise<grpc.ServiceError | null>((resolve) => (callbackDone = resolve));
      const call = client.Unary(first ?? {}, metadata, options, (err, value) => {
        if (value) outcome.responses.push(value);
        callbackDone(err);
      });
      const settled = settle(call, false, outcome, unaryDone);
      if (cancelAfter === 0) call.cancel();
      return settled;
    }
    case 'ServerStream': {
      const call = client.ServerStream(first ?? {}, metadata, options);
      call.on('data', onResponse(call));
      const settled = settle(call, true, outcome);
      if (cancelAfter === 0) call.cancel();
      return settled;
    }
    case 'ClientStream': {
      let callbackDone!: (err: grpc.ServiceError | null) => void;
      const unaryDone = new Promise<grpc.ServiceError | null>((resolve) => (callbackDone = resolve));
      const call = client.ClientStream(metadata, options, (err, value) => {
        if (value) outcome.responses.push(value);
        callbackDone(err);
      });
      const settled = settle(call, false, outcome, unaryDone);
      await sendAll(call, requests);
      if (cancelAfter === 0) call.cancel();
      return settled;
    }
    case 'BidiStream': {
      const call = client.BidiStream(metadata, options);
      call.on('data', onResponse(call));
      const settled = settle(call, true, outcome);
      await sendAll(call, requests);
      if (cancelAfter === 0) call.cancel();
      return settled;
    }
  }
}

const NOT_TRAILERS = new Set([DETAILS_TRAILER, REQUEST_INFO_TRAILER]);

/** OBSERVED of a finished call. */
export function observe(root: protobuf.Root, outcome: Outcome): Observed {
  const observer = new Observer(root);
  const observed: Observed = {};
  if (outcome.headers) observed['headers'] = metadataPairs(outcome.headers);
  const responseType = root.lookupType('interop.scripted.ScriptedResponse');
  if (outcome.responses.length > 0) observed['responses'] = outcome.responses.map((r) => observer.message(responseType, r));
  const { status } = outcome;
  observed['status'] = { code: status.code, message: status.details };
  const trailers = status.metadata as grpc.Metadata | undefined;
  if (trailers) {
    observed['trailers'] = metadataPairs(trailers, NOT_TRAILERS);
    const details = trailers.get(DETAILS_TRAILER);
    const first = details[0];
    if (first !== undefined) {
      const type = root.lookupType('google.rpc.Status');
      try {
        if (!Buffer.isBuffer(first)) throw new Error(`${DETAILS_TRAILER} is not binary`);
        observed['details'] = { status: observer.message(type, type.toObject(type.decode(first), LOADER_OPTIONS)) };
      } catch (err) {
        observed['details'] = { error: err instanceof Error ? err.message : String(err) };
      }
    }
    const info = trailers.get(REQUEST_INFO_TRAILER)[0];
    if (info !== undefined) {
      const type = root.lookupType('interop.scripted.RequestInfo');
      try {
        if (!Buffer.isBuffer(info)) throw new Error(`${REQUEST_INFO_TRAILER} is not binary`);
        observed['request_info'] = observer.message(type, type.toObject(type.decode(info), LOADER_OPTIONS));
      } catch (err) {
        observed['request_info'] = { error: err instanceof Error ? err.message : String(err) };
      }
    }
  }
  return observed;
}

/** The one client fault that applies to scripted cases (self-test only). */
export const SCRIPTED_LENIENT = 'scripted-lenient';

/**
 * `--client_fault=scripted-lenient`: "cleans" what the library would refuse before making the
 * call. Every request is sent with its `script` only (`values` left out, so never converted nor
 * encoded), and every text (non `-bin`) metadata value keeps only its printable ASCII characters
 * (0x20-0x7E), under its key lower-cased. Binary metadata is unchanged. An entry whose
 * lower-cased key has a character outside 0-9 a-z - _ . (":path") is left out. No compression
 * is asked for (`compression` and `channel.compression` are left out).
 */
export function lenient(instruction: Instruction): Instruction {
  const legal = instruction.metadata.filter((m) => /^[0-9a-z_.-]+$/.test(m.key.toLowerCase()));
  const metadata = legal.map((m): MetadataEntry => {
    if (m.key.toLowerCase().endsWith('-bin') || typeof m.value !== 'string') return m;
    return { key: m.key.toLowerCase(), value: m.value.replace(/[^\x20-\x7e]/g, '') };
  });
  const requests = instruction.requests.map((r) => {
    if (!isObj(r)) return r;
    const { values: _dropped, ...rest } = r;
    return rest;
  });
  // No compression is asked for: per call (grpc-js has none) or per channel.
  const { compression: _call, channel, ...rest } = instruction;
  const { compression: _channel, ...channelRest } = channel ?? {};
  return { ...rest, metadata, requests, ...(channel ? { channel: channelRest } : {}) };
}

/** The client fault that lifts every message size limit of the executor's channels (self-test only). */
export const SCRIPTED_CLIENT_LIMITS_IGNORED = 'scripted-client-limits-ignored';

/** The client fault that ignores channel.server_name: every channel checks --server_host_override (self-test only). */
export const SCRIPTED_SERVER_NAME_IGNORED = 'scripted-server-name-ignored';

/** The client fault that ignores an instruction's timeout_ms: every call gets --rpc_timeout_ms (self-test only). */
export const SCRIPTED_DEADLINE_IGNORED = 'scripted-deadline-ignored';

/** The client fault that ignores channel.target and channel.addresses: every channel dials --server_host:--server_port (self-test only). */
export const SCRIPTED_TARGET_IGNORED = 'scripted-target-ignored';

/** The client fault that ignores channel.authority: the channel sends the authority grpc-js derives (self-test only). */
export const SCRIPTED_AUTHORITY_IGNORED = 'scripted-authority-ignored';

/** The client faults that apply to the generic executor, and to no ordinary case (self-test only). */
export const SCRIPTED_CLIENT_FAULTS: readonly string[] = [
  SCRIPTED_LENIENT,
  SCRIPTED_CLIENT_LIMITS_IGNORED,
  SCRIPTED_DEADLINE_IGNORED,
  SCRIPTED_SERVER_NAME_IGNORED,
  SCRIPTED_TARGET_IGNORED,
  SCRIPTED_AUTHORITY_IGNORED,
];

/** grpc-js channel options for an instruction's `channel` (none: the shared channel's). */
export function channelOptions(spec: ChannelSpec | undefined, clientFault: string | undefined): grpc.ClientOptions {
  const options: grpc.ClientOptions = {};
  if (spec?.max_receive_message_length !== undefined) options['grpc.max_receive_message_length'] = spec.max_receive_message_length;
  if (spec?.max_send_message_length !== undefined) options['grpc.max_send_message_length'] = spec.max_send_message_length;
  if (spec?.compression !== undefined) options['grpc.default_compression_algorithm'] = COMPRESSION_ALGORITHMS[spec.compression];
  // Over TLS this replaces the default_authority the server name gave (CaseContext.client: these options win).
  if (spec?.authority !== undefined && clientFault !== SCRIPTED_AUTHORITY_IGNORED) options['grpc.default_authority'] = spec.authority;
  if (spec?.keepalive_time_ms !== undefined) options['grpc.keepalive_time_ms'] = spec.keepalive_time_ms;
  if (spec?.keepalive_timeout_ms !== undefined) options['grpc.keepalive_timeout_ms'] = spec.keepalive_timeout_ms;
  if (spec?.keepalive_permit_without_calls !== undefined) options['grpc.keepalive_permit_without_calls'] = spec.keepalive_permit_without_calls ? 1 : 0;
  if (spec?.lb_policy !== undefined) options['grpc.service_config'] = JSON.stringify({ loadBalancingConfig: [{ [spec.lb_policy]: {} }] });
  if (clientFault === SCRIPTED_CLIENT_LIMITS_IGNORED) {
    options['grpc.max_receive_message_length'] = -1;
    options['grpc.max_send_message_length'] = -1;
  }
  return options;
}

/** The target of an instruction's own channel: channel.server_name replaces the TLS name (not on insecure, nor under the fault). */
function ownTarget(target: Target, channel: ChannelSpec): Target {
  if (!target.tls || channel.server_name === undefined || target.clientFault === SCRIPTED_SERVER_NAME_IGNORED) return target;
  return { ...target, tls: { ...target.tls, serverNameOverride: channel.server_name } };
}

/**
 * What an instruction's own channel dials: channel.target with `{host}`, `{port}` and
 * `{unix_socket}` replaced by --server_host, --server_port and --server_unix_socket, for
 * grpc-js's resolvers to parse as it is; channel.addresses, `{host}` and `{port}` replaced, as
 * the one target `ipv4:A,B,…` (grpc-js's resolver-ip.ts gives the channel one address each);
 * without either (or under scripted-target-ignored), --server_host:--server_port. Throws
 * InstructionError when the target names `{unix_socket}` and the client has no
 * --server_unix_socket.
 */
export function channelAddress(target: Target, channel: ChannelSpec): string {
  if (target.clientFault === SCRIPTED_TARGET_IGNORED) return hostPort(target.host, target.port);
  const unixSocket = target.unixSocket;
  const values: Record<string, string> = { host: target.host, port: String(target.port), unix_socket: unixSocket ?? '' };
  if (channel.addresses !== undefined) return `ipv4:${channel.addresses.map((a) => a.replace(/\{(host|port)\}/g, (_, name: string) => values[name] ?? '')).join(',')}`;
  if (channel.target === undefined) return hostPort(target.host, target.port);
  if (channel.target.includes('{unix_socket}') && unixSocket === undefined) {
    throw new InstructionError(`channel.target ${JSON.stringify(channel.target)} names {unix_socket}, but the client was given no --server_unix_socket`);
  }
  return channel.target.replace(/\{(host|port|unix_socket)\}/g, (_, name: string) => values[name] ?? '');
}

let shared: { target: Target; context: CaseContext; client: ScriptedClient } | undefined;

/**
 * One channel for every scripted case of the process, as the Go and Python executors do (and
 * as an application would): a channel per case cost a TLS handshake each, most of the client's
 * CPU time in a matrix run. grpc-js reconnects by itself if a case breaks the connection.
 */
function scriptedClient(target: Target): ScriptedClient {
  if (shared && shared.target !== target && JSON.stringify(shared.target) !== JSON.stringify(target)) closeScripted();
  shared ??= (() => {
    const context = new CaseContext(target);
    return { target, context, client: context.client(context.protos.interop.scripted.Scripted, channelOptions(undefined, target.clientFault)) };
  })();
  return shared.client;
}

/** Closes the scripted cases' channel (after the last case). */
export function closeScripted(): void {
  shared?.context.close();
  shared = undefined;
}

/** The protobufjs that @grpc/proto-loader's serializers use (the one this executor resolves). */
const PROTOBUFJS_VERSION = (createRequire(import.meta.url)('protobufjs/package.json') as { version: string }).version;

/** Where the first `$unknown` member (unknown fields to send) is in an instruction's request, if anywhere. */
function unknownFieldsAt(value: unknown, path: string): string | undefined {
  if (Array.isArray(value)) {
    for (const [i, v] of value.entries()) {
      const at = unknownFieldsAt(v, `${path}[${i}]`);
      if (at !== undefined) return at;
    }
  } else if (typeof value === 'object' && value !== null) {
    if ('$unknown' in value) return path;
    for (const [k, v] of Object.entries(value)) {
      const at = unknownFieldsAt(v, `${path}.${k}`);
      if (at !== undefined) return at;
    }
  }
  return undefined;
}

/** `{run}` in every string inside `value` replaced by `token` (INSTRUCTION `{run}`). */
export function withRun(value: unknown, token: string): unknown {
  if (typeof value === 'string') return value.replaceAll('{run}', token);
  if (Array.isArray(value)) return value.map((v) => withRun(v, token));
  if (isObj(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, withRun(v, token)]));
  return value;
}

/** The requests of one call converted with protobufjs's fromObject, as a grpc-js application writes them (`at`: where, for errors). */
function convertRequests(root: protobuf.Root, raw: unknown[], at: string): ScriptedRequest[] {
  const converter = new InputConverter(root);
  const requestType = root.lookupType('interop.scripted.ScriptedRequest');
  return raw.map((one, i) => {
    // `$fill_bytes`: values.by becomes that many zero bytes, after the conversion.
    const { $fill_bytes: fill, ...r } = one as Obj;
    if (fill !== undefined && !nonNegativeInt(fill)) throw new InstructionError(`${at}requests[${i}].$fill_bytes: expected an integer >= 0, got ${JSON.stringify(fill)}`);
    const request = converter.message(requestType, r, `${at}requests[${i}]`) as ScriptedRequest;
    return fill === undefined ? request : { ...request, values: { ...(request.values ?? {}), by: Buffer.alloc(fill) } };
  });
}

/** One call, observed: a refusal before the call had a status is its local_error (grpc-js: Metadata.add throws). */
async function observeCall(root: protobuf.Root, client: ScriptedClient, call: Pick<Instruction, 'method' | 'metadata' | 'cancel_after_responses'>, requests: ScriptedRequest[], timeoutMs: number): Promise<Observed> {
  try {
    return observe(root, await execute(client, call, requests, timeoutMs));
  } catch (err) {
    return { local_error: err instanceof Error ? err.message : String(err) };
  }
}

/** Runs one scripted case: passed with `observed` whatever the call's outcome; failed only for an instruction it cannot run. */
export async function runScripted(name: string, raw: unknown, target: Target): Promise<CaseResult> {
  const started = performance.now();
  const elapsed = () => Math.round((performance.now() - started) * 10) / 10;
  const root = protoRoot();
  let instruction: Instruction;
  let requests: ScriptedRequest[];
  let followupRequests: ScriptedRequest[][];
  let ownAddress: string | undefined;
  try {
    instruction = parseInstruction(raw);
    if (instruction.channel !== undefined) ownAddress = channelAddress(target, instruction.channel);
    if (target.clientFault === SCRIPTED_LENIENT) instruction = lenient(instruction);
    // `{run}`: one token for the call and its follow-ups, so that call ids name this run's calls.
    const token = randomBytes(8).toString('hex');
    requests = convertRequests(root, withRun(instruction.requests, token) as unknown[], '');
    followupRequests = (instruction.followups ?? []).map((f, i) => convertRequests(root, withRun(f.requests, token) as unknown[], `followups[${i}].`));
  } catch (err) {
    return { case: name, status: 'failed', ms: elapsed(), error: `${name}: ${err instanceof Error ? err.message : String(err)}` };
  }
  const unknownAt = instruction.requests.map((r, i) => unknownFieldsAt(r, `requests[${i}]`)).find((p) => p !== undefined);
  if (unknownAt !== undefined) {
    // A grpc-js application cannot send them: protobufjs 7 has no unknown-field API.
    return { case: name, status: 'passed', ms: elapsed(), observed: { local_error: `protobufjs ${PROTOBUFJS_VERSION} has no API to send unknown fields (${unknownAt}.$unknown)` } };
  }
  if (instruction.compression !== undefined) {
    // grpc-js compresses per channel only (grpc.default_compression_algorithm): CallOptions has no compression.
    return { case: name, status: 'passed', ms: elapsed(), observed: { local_error: 'grpc-js has no per-call compression' } };
  }
  // An instruction with `channel` gets a channel of its own, closed after it.
  const own = instruction.channel !== undefined ? new CaseContext(ownTarget(target, instruction.channel)) : undefined;
  try {
    // An own channel gets connections of its own (a local subchannel pool): from grpc-js's global
    // pool it would share the shared channel's connection, and what it does to that connection.
    const client = own ? own.client(own.protos.interop.scripted.Scripted, { ...channelOptions(instruction.channel, target.clientFault), 'grpc.use_local_subchannel_pool': 1 }, ownAddress) : scriptedClient(target);
    const timeoutOf = (t: number | undefined) => (target.clientFault === SCRIPTED_DEADLINE_IGNORED ? target.rpcTimeoutMs : (t ?? target.rpcTimeoutMs));
    // `concurrent`: every call started before any is awaited.
    const calls = Array.from({ length: instruction.concurrent ?? 1 }, () => observeCall(root, client, instruction, requests, timeoutOf(instruction.timeout_ms)));
    const [observed, ...others] = await Promise.all(calls);
    const result: Observed = { ...observed };
    if (others.length > 0) result['concurrent'] = others;
    if (instruction.followups !== undefined) {
      const followups: Observed[] = [];
      for (const [i, f] of instruction.followups.entries()) {
        await new Promise((resolve) => setTimeout(resolve, f.after_ms));
        followups.push(await observeCall(root, client, f, followupRequests[i] ?? [], timeoutOf(f.timeout_ms)));
      }
      result['followups'] = followups;
    }
    return { case: name, status: 'passed', ms: elapsed(), observed: result };
  } finally {
    // the shared channel stays open for the next scripted case (closeScripted() at the end)
    own?.close();
  }
}
