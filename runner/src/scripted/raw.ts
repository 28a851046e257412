/**
 * The raw HTTP/2 peer's cases (interop/raw), so that a case can break the protocol on purpose:
 * - `raw_response`: the frames the raw server answers a library client's call with, exactly.
 *   Checked here (file:line errors) and compiled into the request header the raw server reads,
 *   `x-raw-response-bin`: JSON `{actions, respond_before_end}` (interop/raw/README.md).
 * - `raw_request`: the frames the raw client sends a library server, exactly; compiled into the
 *   instruction's `raw_request` (messages encoded, error codes as numbers, `request_headers`
 *   written out as the header block of a correct call with the case's changes).
 */
import { deflateSync, gzipSync } from 'node:zlib';
import type protobuf from 'protobufjs';
import { z } from 'zod';
import { hex, json, jsonObject } from './json-schema.js';
import { SCRIPTED } from './schema.js';
import { CaseValueError, validateMessage, type Json } from './values.js';

/** The request header that carries a raw case's frames to the raw server. */
export const RAW_HEADER = 'x-raw-response-bin';

/** The raw server's self-test fault: it answers every call correctly (one empty message, OK). */
export const RAW_FAULTS = ['raw-well-behaved'] as const;

/** HTTP/2 error codes by name (RFC 9113 §7), for RST_STREAM and GOAWAY. */
export const H2_ERRORS = {
  NO_ERROR: 0,
  PROTOCOL_ERROR: 1,
  INTERNAL_ERROR: 2,
  FLOW_CONTROL_ERROR: 3,
  SETTINGS_TIMEOUT: 4,
  STREAM_CLOSED: 5,
  FRAME_SIZE_ERROR: 6,
  REFUSED_STREAM: 7,
  CANCEL: 8,
  COMPRESSION_ERROR: 9,
  CONNECT_ERROR: 10,
  ENHANCE_YOUR_CALM: 11,
  INADEQUATE_SECURITY: 12,
  HTTP_1_1_REQUIRED: 13,
} as const;
export const h2Error = z.enum(Object.keys(H2_ERRORS) as [keyof typeof H2_ERRORS, ...Array<keyof typeof H2_ERRORS>]);

const count = z.number().int().min(0);

/** One action of the raw server, by its kind (the one key that names it). */
const ACTIONS = {
  /** A header block, the fields exactly as written, in order; `split`: cut into CONTINUATION frames of that many bytes. */
  headers: z.strictObject({ headers: z.array(z.tuple([z.string(), z.string()])), end_stream: z.boolean().optional(), split: count.optional() }),
  /** One gRPC message: a ScriptedResponse in proto JSON (`message`) or its bytes (`message_hex`), with a compressed flag and length prefix that may lie, in DATA frames of `frame_size` bytes. */
  message: z.strictObject({ message: jsonObject, compressed: z.boolean().optional(), length: count.optional(), frame_size: count.optional(), end_stream: z.boolean().optional() }),
  message_hex: z.strictObject({ message_hex: hex, compressed: z.boolean().optional(), length: count.optional(), frame_size: count.optional(), end_stream: z.boolean().optional() }),
  /** One DATA frame of exactly these bytes. */
  data: z.strictObject({ data: hex, end_stream: z.boolean().optional() }),
  rst_stream: z.strictObject({ rst_stream: h2Error }),
  goaway: z.strictObject({ goaway: h2Error, last_stream_id: count.optional(), debug: z.string().optional() }),
  sleep_ms: z.strictObject({ sleep_ms: z.number().int().min(0).max(60_000) }),
  close: z.strictObject({ close: z.literal(true) }),
} as const;
type Kind = keyof typeof ACTIONS;

/** A case file's `raw_response`. */
export const RawResponseFile = z.strictObject({
  /** Answer right after the request headers, without waiting for the client to half-close. */
  respond_before_end: z.boolean().optional(),
  actions: z.array(jsonObject).min(1),
});
export type RawResponseFile = z.infer<typeof RawResponseFile>;

/** A problem at a path under `raw_response`. */
export class RawCaseError extends Error {
  constructor(
    readonly path: PropertyKey[],
    message: string,
  ) {
    super(message);
  }
}

/**
 * Checks a case's `raw_response` and compiles it into the header value the raw server reads:
 * the JSON of `{actions, respond_before_end}` with messages encoded and error codes as numbers.
 */
export function compileRawResponse(root: protobuf.Root, raw: RawResponseFile): Buffer {
  const actions = raw.actions.map((action, i) => {
    const { kind, a, at } = parseAction(ACTIONS, action, i);
    return compileAction(root, kind, a, at);
  });
  return Buffer.from(JSON.stringify({ actions, respond_before_end: raw.respond_before_end ?? false }));
}

/** Action `i` of a list: its kind (the one member of `schemas` it has) and its checked members. */
function parseAction<K extends string>(schemas: Record<K, z.ZodType>, action: Record<string, Json>, i: number): { kind: K; a: Record<string, unknown>; at: PropertyKey[] } {
  const at = ['actions', i];
  const all = Object.keys(schemas) as K[];
  const kinds = all.filter((k) => k in action);
  if (kinds.length !== 1) throw new RawCaseError(at, `one of ${all.join(', ')} (${kinds.length === 0 ? 'none given' : `${kinds.join(' and ')} given`})`);
  const kind = kinds[0]!;
  const parsed = schemas[kind].safeParse(action);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new RawCaseError([...at, ...issue.path], issue.message);
  }
  return { kind, a: parsed.data as Record<string, unknown>, at };
}

function compileAction(root: protobuf.Root, kind: Kind, a: Record<string, unknown>, at: PropertyKey[]): Record<string, unknown> {
  if (kind !== 'message') return compileFrames(a);
  const { message, ...rest } = a;
  return { ...rest, message: encodeMessage(root, `${SCRIPTED}.ScriptedResponse`, message as Json, [...at, 'message']).toString('hex') };
}

/** A message in proto JSON, checked against its type and encoded; a mistake names its path. */
function encodeMessage(root: protobuf.Root, type: string, value: Json, at: PropertyKey[]): Buffer {
  try {
    validateMessage(root, type, value, '');
  } catch (err) {
    if (err instanceof CaseValueError) throw new RawCaseError(at, err.message);
    throw err;
  }
  const t = root.lookupType(type);
  return Buffer.from(t.encode(t.fromObject(value as Record<string, unknown>)).finish());
}

/** The actions both raw peers take alike: message bytes under `message`, error codes as numbers. */
function compileFrames(a: Record<string, unknown>): Record<string, unknown> {
  if ('message_hex' in a) {
    const { message_hex: bytes, ...rest } = a;
    return { ...rest, message: bytes };
  }
  if ('rst_stream' in a) return { rst_stream: H2_ERRORS[a['rst_stream'] as keyof typeof H2_ERRORS] };
  if ('goaway' in a) return { ...a, goaway: H2_ERRORS[a['goaway'] as keyof typeof H2_ERRORS] };
  return a;
}

/** The raw client's self-test fault: it sends a correct call instead of the case's frames. */
export const RAW_CLIENT_FAULTS = ['raw-client-well-behaved'] as const;

/** The fields of a correct request's header block, before a `request_headers` action's changes; `{scheme}` and `{authority}` are the raw client's. */
const REQUEST_FIELDS = (path: string): Array<[string, string]> => [
  [':method', 'POST'],
  [':scheme', '{scheme}'],
  [':path', path],
  [':authority', '{authority}'],
  ['content-type', 'application/grpc'],
  ['te', 'trailers'],
];

const header = z.tuple([z.string(), z.string()]);
const messageOptions = { compressed: z.boolean().optional(), length: count.optional(), frame_size: count.optional(), end_stream: z.boolean().optional() };

/** One action of the raw client, by its kind (the one key that names it). */
const REQUEST_ACTIONS = {
  /** The header block of a correct call (path: the case's method's), with fields replaced (`set`, in place, else appended) or left out (`drop`). */
  request_headers: z.strictObject({
    request_headers: z.strictObject({ path: z.string().optional(), set: z.array(header).optional(), drop: z.array(z.string().min(1)).optional() }),
    end_stream: z.boolean().optional(),
    split: count.optional(),
  }),
  /** A header block exactly as written; `{scheme}` and `{authority}` in a value are the raw client's. */
  headers: z.strictObject({ headers: z.array(header), end_stream: z.boolean().optional(), split: count.optional() }),
  /** One gRPC message: a ScriptedRequest in proto JSON, `compress`ed by the runner (the flag then set), or its bytes. */
  message: z.strictObject({ message: jsonObject, compress: z.enum(['gzip', 'deflate']).optional(), ...messageOptions }),
  message_hex: z.strictObject({ message_hex: hex, ...messageOptions }),
  data: z.strictObject({ data: hex, end_stream: z.boolean().optional() }),
  rst_stream: z.strictObject({ rst_stream: h2Error }),
  goaway: z.strictObject({ goaway: h2Error, debug: z.string().optional() }),
  sleep_ms: z.strictObject({ sleep_ms: z.number().int().min(0).max(60_000) }),
  /** Wait for the server's first header block. */
  wait: z.strictObject({ wait: z.literal('headers') }),
} as const;
type RequestKind = keyof typeof REQUEST_ACTIONS;

/** A case file's `raw_request`. */
export const RawRequestFile = z.strictObject({ actions: z.array(jsonObject).min(1) });
export type RawRequestFile = z.infer<typeof RawRequestFile>;

/** Checks a case's `raw_request` and compiles it into the instruction's (interop/raw/README.md, "The raw client"). */
export function compileRawRequest(root: protobuf.Root, raw: RawRequestFile, method: string): { actions: Array<Record<string, unknown>> } {
  const actions = raw.actions.map((action, i) => {
    const { kind, a, at } = parseAction(REQUEST_ACTIONS, action, i);
    return compileRequestAction(root, kind, a, at, method);
  });
  return { actions };
}

function compileRequestAction(root: protobuf.Root, kind: RequestKind, a: Record<string, unknown>, at: PropertyKey[], method: string): Record<string, unknown> {
  switch (kind) {
    case 'request_headers': {
      const { request_headers: spec, ...rest } = a as { request_headers: { path?: string; set?: Array<[string, string]>; drop?: string[] } };
      let fields = REQUEST_FIELDS(spec.path ?? `/${SCRIPTED}.Scripted/${method}`);
      const drop = spec.drop ?? [];
      const unknown = drop.find((name) => !fields.some(([n]) => n === name));
      if (unknown !== undefined) throw new RawCaseError([...at, 'request_headers', 'drop'], `${JSON.stringify(unknown)} is not a field of the request's header block (${fields.map(([n]) => n).join(', ')})`);
      fields = fields.filter(([n]) => !drop.includes(n));
      for (const [name, value] of spec.set ?? []) {
        const i = fields.findIndex(([n]) => n === name);
        if (i >= 0) fields[i] = [name, value];
        else fields.push([name, value]);
      }
      return { headers: fields, ...rest };
    }
    case 'message': {
      const { message, compress, ...rest } = a;
      let bytes = encodeMessage(root, `${SCRIPTED}.ScriptedRequest`, message as Json, [...at, 'message']);
      if (compress === 'gzip') bytes = gzipSync(bytes);
      else if (compress === 'deflate') bytes = deflateSync(bytes);
      return { ...rest, message: bytes.toString('hex'), ...(compress !== undefined ? { compressed: rest['compressed'] ?? true } : {}) };
    }
    default:
      return compileFrames(a);
  }
}
