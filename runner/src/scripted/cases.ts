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

/** The address families the runner tells apart in RequestInfo.peer; `unknown`: the library's own word for "I cannot tell" (grpc-js). */
export const PEER_FAMILIES = ['ipv4', 'ipv6', 'unix', 'unknown'] as const;
export type PeerFamily = (typeof PEER_FAMILIES)[number];

/** The placeholder of a server's Unix socket: in `server_args` (the runner gives a fresh path) and in `channel.target`. */
export const UNIX_SOCKET = '{unix_socket}';

const json: z.ZodType<Json> = z.lazy(() => z.union([z.null(), z.boolean(), z.number(), z.string(), z.array(json), z.record(z.string(), json)]));
const jsonObject = z.record(z.string(), json);

const hex = z.string().regex(/^([0-9a-fA-F]{2})*$/, 'hex digits, two per byte (e.g. "00ff")');
/** A metadata value as a case writes it: text, or bytes in hex for a -bin key. */
const MetadataValue = z.union([z.string(), z.strictObject({ hex })]);

const RequestMetadata = z.strictObject({ key: z.string().min(1), value: z.string().optional(), hex: hex.optional() });

const MetadataExpectation = z.record(z.string(), z.array(MetadataValue));

const code = z.number().int().min(0).max(16);
/** A status; `code` may list the codes libraries legitimately differ on (e.g. [8, 13]). */
const Status = z.strictObject({ code: z.union([code, z.array(code).min(1)]), message: z.string().optional() });

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
  /** No RequestInfo is expected (the call never reached the end of the handler). */
  no_request_info: z.literal(true).optional(),
});
export type Expectation = z.infer<typeof Expectation>;

/** A legitimate difference of one library: its expectation members replace the case's. */
const FaultName = z.enum([...SCRIPTED_FAULTS, ...SCRIPTED_CLIENT_FAULTS]);

/**
 * A library's own expectation, with why and where its source says so; `caught_by`: the faults
 * that must turn this library's cells red instead of the case's (a refusal, say, that no server
 * fault can change).
 */
const Override = z.strictObject({ expect: Expectation, reason: z.string().min(1), reference: z.string().min(1), caught_by: z.array(FaultName).min(1).optional() });

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
    })
    .optional(),
  /** How long the runner waits for this case's result (default: timeouts.case_ms of matrix.yaml), for a deliberately long case. */
  case_ms: z.number().int().min(1).max(600_000).optional(),
  /** Flags the scripted server is started with for this case (docs/peer-contract.md, "Server"). */
  server_args: z.array(z.string().regex(/^--[a-z][a-z0-9_]*=\S+$/, 'a server flag, --name=value')).optional(),
  cancel_after_responses: z.number().int().min(0).optional(),
  /** Shorthand for `requests: [{script: …}]`. */
  script: jsonObject.optional(),
  requests: z.array(jsonObject).optional(),
  expect: Expectation.default({}),
  by_client: z.record(z.string(), Override).default({}),
  by_server: z.record(z.string(), Override).default({}),
  /** Self-test: the server faults that must turn this case red (each in every pairing). */
  caught_by: z.array(FaultName).min(1),
  /** Only these transports (default: the suite's). */
  transports: z.array(z.string().min(1)).optional(),
  /** The requests are deliberately not valid for the schema (a string for an int64): not checked, so a library's encoder meets them. */
  invalid_requests: z.literal(true).optional(),
});

/** The faults that must turn one cell of a case red: its client's or server's own, else the case's. */
export const caughtByFor = (c: ScriptedCase, client: string, server: string): string[] => c.byClient[client]?.caught_by ?? c.byServer[server]?.caught_by ?? c.caughtBy;

/** What a generic executor is given (docs/peer-contract.md, INSTRUCTION). */
export interface Instruction {
  method: Method;
  metadata: Array<{ key: string; value: string | { $bytes: string } }>;
  timeout_ms?: number;
  requests: Json[];
  cancel_after_responses?: number;
  compression?: string;
  channel?: { max_receive_message_length?: number; max_send_message_length?: number; compression?: string; server_name?: string; target?: string; authority?: string };
}

export interface ScriptedCase {
  name: string;
  file: string;
  description: string;
  instruction: Instruction;
  expect: Expectation;
  byClient: Record<string, z.infer<typeof Override>>;
  byServer: Record<string, z.infer<typeof Override>>;
  caughtBy: string[];
  transports?: string[];
  /** Flags the server is started with for this case (a server group of its own). */
  serverArgs: string[];
  /** The runner's wait for this case's result, when longer than timeouts.case_ms. */
  caseMs?: number;
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
  if (c.script && c.requests) throw fail(['script'], 'give either script or requests, not both');
  const requests = c.requests ?? [{ script: c.script ?? {} }];
  if (requests.length === 0) throw fail(['requests'], 'at least one request (the first carries the script)');
  if ((c.method === 'Unary' || c.method === 'ServerStream') && requests.length !== 1) throw fail(['requests'], `${c.method} sends exactly one request`);
  const check = (field: PropertyKey[], typeName: string, value: Json) => {
    try {
      validateMessage(root, typeName, value, '');
    } catch (err) {
      if (err instanceof CaseValueError) throw fail(field, err.message);
      throw err;
    }
  };
  if (c.invalid_requests) {
    // deliberately invalid: left for the libraries' encoders to meet
  } else if (c.script) check(['script'], `${SCRIPTED}.Script`, c.script);
  else {
    requests.forEach((r, i) => {
      // `$fill_bytes`: the executor sets values.by to that many zero bytes (docs/peer-contract.md).
      const { $fill_bytes: fill, ...rest } = r;
      if (fill !== undefined && !(typeof fill === 'number' && Number.isSafeInteger(fill) && fill >= 0)) throw fail(['requests', i, '$fill_bytes'], 'a number of bytes (an integer >= 0)');
      check(['requests', i], `${SCRIPTED}.ScriptedRequest`, rest);
    });
  }
  const expect = c.expect;
  const checkExpect = (e: Expectation, at: PropertyKey[]) => {
    e.responses?.forEach((r, i) => check([...at, 'responses', i], `${SCRIPTED}.ScriptedResponse`, r));
    e.request_values?.forEach((r, i) => check([...at, 'request_values', i], `${SCRIPTED}.Values`, r));
    if (e.details && !('error' in e.details && e.details['error'] === true)) check([...at, 'details'], 'google.rpc.Status', e.details);
  };
  checkExpect(expect, ['expect']);
  for (const [side, overrides] of [['by_client', c.by_client], ['by_server', c.by_server]] as const) {
    for (const [impl, o] of Object.entries(overrides)) checkExpect(o.expect, [side, impl, 'expect']);
  }
  if (c.channel?.target?.includes(UNIX_SOCKET) && !(c.server_args ?? []).includes(`--unix_socket=${UNIX_SOCKET}`)) {
    throw fail(['channel', 'target'], `names ${UNIX_SOCKET}: the server must listen there, add server_args: ["--unix_socket=${UNIX_SOCKET}"]`);
  }
  const metadata = c.metadata.map((m, i) => {
    if ((m.value === undefined) === (m.hex === undefined)) throw fail(['metadata', i], 'give value (text) or hex (bytes), one of them');
    return { key: m.key, value: m.hex !== undefined ? { $bytes: m.hex.toLowerCase() } : m.value! };
  });
  const instruction: Instruction = {
    method: c.method,
    metadata,
    requests,
    ...(c.timeout_ms !== undefined ? { timeout_ms: c.timeout_ms } : {}),
    ...(c.cancel_after_responses !== undefined ? { cancel_after_responses: c.cancel_after_responses } : {}),
    ...(c.compression !== undefined ? { compression: c.compression } : {}),
    ...(c.channel !== undefined ? { channel: c.channel } : {}),
  };
  return {
    name,
    file: display,
    description: c.description,
    instruction,
    expect,
    byClient: c.by_client,
    byServer: c.by_server,
    caughtBy: c.caught_by,
    serverArgs: c.server_args ?? [],
    ...(c.case_ms !== undefined ? { caseMs: c.case_ms } : {}),
    ...(c.transports ? { transports: c.transports } : {}),
  };
}
