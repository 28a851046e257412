/**
 * What the raw client saw on the wire (OBSERVED `raw`, interop/raw/README.md "The raw client"),
 * read the way a gRPC client reads it, so that a raw_request case is judged like any other: the
 * status from `grpc-status` and the percent-decoded `grpc-message` (grpc/grpc
 * doc/PROTOCOL-HTTP2.md), the response headers and trailers as metadata, the messages and
 * RequestInfo decoded with the schema. The raw client itself checks and decodes nothing.
 */
import { gunzipSync, inflateSync } from 'node:zlib';
import type protobuf from 'protobufjs';
import { LOADER_OPTIONS } from '../../../ts-common/src/proto.js';
import { Observer } from '../../../ts-common/src/scripted-values.js';
import type { RawExpectation } from './cases.js';
import { H2_ERRORS } from './raw.js';
import { SCRIPTED } from './schema.js';
import { isObject, type Json } from './values.js';

type Obj = Record<string, Json>;
type Field = [string, Json];

const DETAILS = 'grpc-status-details-bin';
const REQUEST_INFO = 'x-scripted-request-info-bin';
/** Fields a gRPC library keeps out of the metadata it hands the application. */
const NOT_METADATA = new Set(['grpc-status', 'grpc-message', DETAILS, REQUEST_INFO]);

const fieldsOf = (block: Json | undefined): Field[] => (Array.isArray(block) ? block.filter((f): f is Field => Array.isArray(f) && f.length === 2 && typeof f[0] === 'string') : []);
/** A header value as text (the raw client reports non-UTF-8 values as `{"$bytes":hex}`). */
const text = (v: Json): string => (typeof v === 'string' ? v : isObject(v) && typeof v['$bytes'] === 'string' ? Buffer.from(v['$bytes'], 'hex').toString('latin1') : '');
const valueOf = (fields: Field[], name: string): string | undefined => {
  const f = fields.find(([n]) => n === name);
  return f ? text(f[1]) : undefined;
};

/**
 * grpc-message's percent-decoding (PROTOCOL-HTTP2.md: "Status-Message → Percent-Encoded"): each
 * valid %XX is that byte, and the bytes are UTF-8; an invalid escape is kept as it is, as the
 * spec asks of a client ("the client MUST NOT error").
 */
export function percentDecoded(value: string): string {
  const bytes: number[] = [];
  const raw = Buffer.from(value, 'latin1');
  for (let i = 0; i < raw.length; i++) {
    const hex = raw.subarray(i + 1, i + 3).toString('latin1');
    if (raw[i] === 0x25 && /^[0-9a-fA-F]{2}$/.test(hex)) {
      bytes.push(parseInt(hex, 16));
      i += 2;
    } else bytes.push(raw[i]!);
  }
  return Buffer.from(bytes).toString('utf8');
}

/** Metadata as a library hands it: `[[key, value]]`, a -bin value base64-decoded into `{"$bytes":hex}`, the pseudo-headers and gRPC's own fields left out. */
function metadata(fields: Field[]): Json[] {
  return fields
    .filter(([n]) => !n.startsWith(':') && !NOT_METADATA.has(n))
    .map(([n, v]): Json => [n, n.endsWith('-bin') ? { $bytes: Buffer.from(text(v), 'base64').toString('hex') } : v]);
}

/** A binary field decoded as `type` with the peers' loader options, or `{error}`. */
function decoded(root: protobuf.Root, observer: Observer, type: string, base64: string): Json {
  const t = root.lookupType(type);
  try {
    return observer.message(t, t.toObject(t.decode(Buffer.from(base64, 'base64')), LOADER_OPTIONS));
  } catch (err) {
    return { error: `${type}: ${err instanceof Error ? err.message : String(err)}` };
  }
}

/** One message of the stream as a ScriptedResponse, inflated per the response's grpc-encoding when its flag says compressed. */
function response(root: protobuf.Root, observer: Observer, m: Obj, encoding: string | undefined): Json {
  if (typeof m['hex'] !== 'string') return { $undecodable: `a message of ${String(m['length'])} bytes (reported by its digest)` };
  let bytes = Buffer.from(m['hex'], 'hex');
  if (m['compressed'] === true) {
    try {
      if (encoding === 'gzip') bytes = gunzipSync(bytes);
      else if (encoding === 'deflate') bytes = inflateSync(bytes);
      else return { $undecodable: `compressed, grpc-encoding ${JSON.stringify(encoding ?? null)}` };
    } catch (err) {
      return { $undecodable: `${encoding}: ${err instanceof Error ? err.message : String(err)}` };
    }
  }
  return decoded(root, observer, `${SCRIPTED}.ScriptedResponse`, bytes.toString('base64'));
}

/** The grpc-status the server sent, as text: in the trailers, or in a trailers-only response's one header block. */
function grpcStatusOf(raw: Obj): string | undefined {
  return valueOf(raw['end_stream_on_headers'] === true ? fieldsOf(raw['headers']) : fieldsOf(raw['trailers']), 'grpc-status');
}

/** OBSERVED of a raw_request case: the call as a gRPC client reads the wire, with `raw` kept for `expect.raw`. */
export function rawObserved(root: protobuf.Root, raw: Obj): Obj {
  const observer = new Observer(root);
  const headers = fieldsOf(raw['headers']);
  const trailersOnly = raw['end_stream_on_headers'] === true;
  const trailers = trailersOnly ? headers : fieldsOf(raw['trailers']);
  const out: Obj = { raw };
  const code = grpcStatusOf(raw);
  if (code !== undefined) {
    // A code that is not a number is shown as it came (the judge names what it expected).
    out['status'] = { code: /^\d+$/.test(code) ? Number(code) : code, message: percentDecoded(valueOf(trailers, 'grpc-message') ?? '') };
  }
  if (!trailersOnly && headers.length > 0) out['headers'] = metadata(headers);
  if (trailers.length > 0) out['trailers'] = metadata(trailers);
  const encoding = valueOf(headers, 'grpc-encoding');
  const messages = Array.isArray(raw['messages']) ? raw['messages'].filter(isObject) : [];
  if (messages.length > 0) out['responses'] = messages.map((m) => response(root, observer, m, encoding));
  const details = valueOf(trailers, DETAILS);
  if (details !== undefined) {
    const status = decoded(root, observer, 'google.rpc.Status', details);
    out['details'] = isObject(status) && typeof status['error'] === 'string' ? status : { status };
  }
  const info = valueOf(trailers, REQUEST_INFO);
  if (info !== undefined) out['request_info'] = decoded(root, observer, `${SCRIPTED}.RequestInfo`, info);
  return out;
}

const list = <T>(v: T | T[]): T[] => (Array.isArray(v) ? v : [v]);
const H2_NAMES = Object.fromEntries(Object.entries(H2_ERRORS).map(([name, n]) => [n, name]));

/** The name of the HTTP/2 error code of the server's RST_STREAM, when the stream ended by one. */
const resetCode = (raw: Obj): string | undefined => {
  const code = raw['rst_stream'];
  return raw['end'] === 'rst_stream' && typeof code === 'number' ? (H2_NAMES[code] ?? String(code)) : undefined;
};

/** Whether the stream ended by a RST_STREAM with one of these codes. */
export const resetWith = (codes: string | string[], raw: Obj): boolean => list(codes).includes(resetCode(raw) ?? '');

/** `expect.raw` against what the raw client saw: the problems, if any. */
export function judgeRaw(e: RawExpectation, raw: Obj): string[] {
  const problems: string[] = [];
  const got = (v: Json | undefined) => (v === undefined ? 'none' : JSON.stringify(v));
  const headers = fieldsOf(raw['headers']);
  if (e.http_status !== undefined) {
    const status = raw['http_status'];
    if (!list(e.http_status).some((s) => String(s) === status)) problems.push(`HTTP status: expected ${list(e.http_status).join(' or ')}, got ${got(status)}`);
  }
  if (e.end !== undefined && !list<string>(e.end).includes(String(raw['end']))) {
    const why = typeof raw['error'] === 'string' ? ` (${raw['error']})` : '';
    problems.push(`the stream: expected it to end by ${list(e.end).join(' or ')}, got ${got(raw['end'])}${why}`);
  }
  if (e.rst_stream !== undefined && !resetWith(e.rst_stream, raw)) problems.push(`RST_STREAM: expected ${list(e.rst_stream).join(' or ')}, got ${resetCode(raw) ?? 'none'}`);
  if (e.failed) {
    const code = grpcStatusOf(raw);
    const refusedBy = code !== undefined && code !== '0' ? `grpc-status ${code}` : raw['http_status'] !== undefined && raw['http_status'] !== '200' ? `HTTP ${String(raw['http_status'])}` : ['rst_stream', 'connection_closed'].includes(String(raw['end'])) ? String(raw['end']) : undefined;
    if (refusedBy === undefined) problems.push(`expected the call to fail (a grpc-status other than 0, an HTTP error, RST_STREAM or a closed connection), got ${code === '0' ? 'grpc-status 0 (OK)' : `the stream ending by ${got(raw['end'])} without any`}`);
  }
  if (e.trailers_only !== undefined && (raw['end_stream_on_headers'] === true) !== e.trailers_only) {
    problems.push(e.trailers_only ? 'expected a trailers-only response (one header block ending the stream)' : 'expected headers before the end of the stream, got a trailers-only response');
  }
  for (const [name, tokens] of Object.entries(e.header_tokens ?? {})) {
    const values = headers.filter(([n]) => n === name.toLowerCase()).map(([, v]) => text(v));
    const listed = values.flatMap((v) => v.split(',')).map((t) => t.trim());
    const missing = tokens.filter((t) => !listed.includes(t));
    if (missing.length > 0) problems.push(`header ${name}: expected it to list ${missing.join(', ')}, got ${values.length === 0 ? 'none' : JSON.stringify(values.join(', '))}`);
  }
  return problems;
}
