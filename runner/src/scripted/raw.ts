/**
 * Cases answered by the raw HTTP/2 server (interop/raw): `raw_response` says which frames the
 * server sends on the call's stream, exactly, so that a case can break the protocol on purpose.
 * Checked here (file:line errors) and compiled into the request header the raw server reads,
 * `x-raw-response-bin`: JSON `{actions, respond_before_end}` (interop/raw/README.md).
 */
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
const H2_ERRORS = {
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
const h2Error = z.enum(Object.keys(H2_ERRORS) as [keyof typeof H2_ERRORS, ...Array<keyof typeof H2_ERRORS>]);

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
const KINDS = Object.keys(ACTIONS) as Kind[];

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
    const at = ['actions', i];
    const kinds = KINDS.filter((k) => k in action);
    if (kinds.length !== 1) throw new RawCaseError(at, `one of ${KINDS.join(', ')} (${kinds.length === 0 ? 'none given' : `${kinds.join(' and ')} given`})`);
    const kind = kinds[0]!;
    const parsed = ACTIONS[kind].safeParse(action);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      throw new RawCaseError([...at, ...issue.path], issue.message);
    }
    return compileAction(root, kind, parsed.data as Record<string, unknown>, at);
  });
  return Buffer.from(JSON.stringify({ actions, respond_before_end: raw.respond_before_end ?? false }));
}

function compileAction(root: protobuf.Root, kind: Kind, a: Record<string, unknown>, at: PropertyKey[]): Record<string, unknown> {
  switch (kind) {
    case 'message': {
      const type = `${SCRIPTED}.ScriptedResponse`;
      try {
        validateMessage(root, type, a['message'] as Json, '');
      } catch (err) {
        if (err instanceof CaseValueError) throw new RawCaseError([...at, 'message'], err.message);
        throw err;
      }
      const t = root.lookupType(type);
      const { message, ...rest } = a;
      return { ...rest, message: Buffer.from(t.encode(t.fromObject(message as Record<string, unknown>)).finish()).toString('hex') };
    }
    case 'message_hex': {
      const { message_hex: bytes, ...rest } = a;
      return { ...rest, message: bytes };
    }
    case 'rst_stream':
      return { rst_stream: H2_ERRORS[a['rst_stream'] as keyof typeof H2_ERRORS] };
    case 'goaway':
      return { ...a, goaway: H2_ERRORS[a['goaway'] as keyof typeof H2_ERRORS] };
    default:
      return a;
  }
}
