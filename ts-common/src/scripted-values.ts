/**
 * Values of the scripted suites, both ways (docs/peer-contract.md, "Client: the generic executor"):
 * - `observe`: a message as the library gave it (proto-loader's toObject with the peers' options)
 *   as OBSERVED JSON, by a walk over the declared fields of its protobufjs type, with the tags
 *   JSON needs (`{"$bytes":hex}`, `{"$long":…}`, "NaN", "-0", …). Nothing is re-encoded to a
 *   canonical form: numbers stay numbers, int64 strings stay strings, map keys stay the object keys.
 * - `toLibraryInput`: a request in the proto3 JSON mapping as a grpc-js application would hand it
 *   to the stub: the plain object for protobufjs `fromObject`, with the JSON forms of well-known
 *   types that protobufjs does not know (a Duration "1.500s", …) turned into their message form.
 */
import { createHash } from 'node:crypto';
import protobuf from 'protobufjs';
import { LOADER_OPTIONS } from './proto.js';

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array);

/** A `Long` (longs: Long, or a Long a library hands over): has low/high/unsigned. */
const isLong = (v: unknown): v is protobuf.Long => isObj(v) && typeof v['low'] === 'number' && typeof v['high'] === 'number' && typeof v['unsigned'] === 'boolean';

const ANY = '.google.protobuf.Any';

function float(v: number): Json {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return 'Infinity';
  if (v === -Infinity) return '-Infinity';
  if (Object.is(v, -0)) return '-0';
  return v;
}

/** Bytes: hex, or past 65 536 bytes their SHA-256 and length (docs/peer-contract.md, "Value encoding"). */
function bytesValue(b: Buffer): Json {
  if (b.length > 65_536) return { $sha256: createHash('sha256').update(b).digest('hex'), $length: b.length };
  return { $bytes: b.toString('hex') };
}

/** A scalar (or enum) as the library gave it. */
function scalar(v: unknown): Json {
  if (v === null || v === undefined) return null;
  if (typeof v === 'number') return float(v);
  if (typeof v === 'string' || typeof v === 'boolean') return v;
  if (typeof v === 'bigint') return v.toString();
  if (v instanceof Uint8Array) return bytesValue(Buffer.from(v.buffer, v.byteOffset, v.byteLength));
  if (isLong(v)) return { $long: v.toString() };
  return { $unexpected: String(v) };
}

export class Observer {
  constructor(private readonly root: protobuf.Root) {}

  /** A message of `type` as reported: one member per declared field present in the object, in declaration order. */
  message(type: protobuf.Type, value: unknown): Json {
    if (value === null || value === undefined) return null;
    if (!isObj(value)) return scalar(value);
    if (type.fullName === ANY) return this.any(value);
    const out: { [key: string]: Json } = {};
    for (const field of type.fieldsArray) {
      field.resolve();
      if (!(field.name in value) || value[field.name] === undefined) continue;
      out[field.name] = this.field(field, value[field.name]);
    }
    return out;
  }

  private field(field: protobuf.Field, v: unknown): Json {
    if (field.map) {
      if (!isObj(v)) return scalar(v);
      const out: { [key: string]: Json } = {};
      for (const [key, e] of Object.entries(v)) out[key] = this.single(field, e);
      return out;
    }
    if (field.repeated) return Array.isArray(v) ? v.map((e) => this.single(field, e)) : scalar(v);
    return this.single(field, v);
  }

  private single(field: protobuf.FieldBase, v: unknown): Json {
    const type = field.resolvedType;
    if (type instanceof protobuf.Type) return this.message(type, v);
    return scalar(v);
  }

  /**
   * An Any, as an application reads it: unpacked by its type URL with the loaded root into
   * `{"@type":URL, …fields}`, or `{"@type":URL,"$value":{"$bytes":hex}}` when no type of the root
   * has that name (or the value does not decode).
   */
  any(value: Obj): Json {
    const url = typeof value['type_url'] === 'string' ? value['type_url'] : '';
    const bytes = value['value'] instanceof Uint8Array ? value['value'] : new Uint8Array();
    const raw = { '@type': url, $value: scalar(bytes) };
    let type: protobuf.Type;
    try {
      type = this.root.lookupType(url.slice(url.lastIndexOf('/') + 1));
    } catch {
      return raw;
    }
    let decoded: Obj;
    try {
      decoded = type.toObject(type.decode(bytes), LOADER_OPTIONS) as Obj;
    } catch {
      return raw;
    }
    const fields = this.message(type, decoded);
    return { '@type': url, ...(isObj(fields) ? (fields as { [key: string]: Json }) : {}) };
  }
}

/** A bad request of an instruction (the executor cannot run it). */
export class InstructionError extends Error {}

const WRAPPERS = new Set(['DoubleValue', 'FloatValue', 'Int64Value', 'UInt64Value', 'Int32Value', 'UInt32Value', 'BoolValue', 'StringValue', 'BytesValue'].map((n) => `.google.protobuf.${n}`));

/** "1.500s" → {seconds:"1", nanos:500000000} (proto3 JSON of google.protobuf.Duration). */
export function durationMessage(text: string, path: string): Obj {
  const m = /^(-)?(\d+)(?:\.(\d{1,9}))?s$/.exec(text);
  if (!m) throw new InstructionError(`${path}: ${JSON.stringify(text)} is not a Duration (e.g. "1.500s")`);
  const nanos = Number((m[3] ?? '').padEnd(9, '0'));
  return { seconds: `${m[1] ?? ''}${m[2]}`, nanos: m[1] ? -nanos : nanos };
}

/** "1972-01-01T10:00:20.021Z" → {seconds, nanos} (proto3 JSON of google.protobuf.Timestamp). */
function timestampMessage(text: string, path: string): Obj {
  const m = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$/.exec(text);
  const ms = m ? Date.parse(`${m[1]}${m[3]}`) : NaN;
  if (!m || Number.isNaN(ms)) throw new InstructionError(`${path}: ${JSON.stringify(text)} is not a Timestamp (RFC 3339)`);
  return { seconds: String(Math.floor(ms / 1000)), nanos: Number((m[2] ?? '').padEnd(9, '0')) };
}

const snake = (s: string): string => s.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

/** The message form of a well-known type's JSON form, or undefined when `value` is already a message. */
function wellKnown(type: protobuf.Type, value: unknown, path: string): Obj | undefined {
  const name = type.fullName;
  if (name === '.google.protobuf.Duration' && typeof value === 'string') return durationMessage(value, path);
  if (name === '.google.protobuf.Timestamp' && typeof value === 'string') return timestampMessage(value, path);
  if (name === '.google.protobuf.FieldMask' && typeof value === 'string') return { paths: value === '' ? [] : value.split(',').map(snake) };
  if (WRAPPERS.has(name) && !isObj(value) && value !== null) return { value };
  return undefined;
}

export class InputConverter {
  constructor(private readonly root: protobuf.Root) {}

  /** A message of `type` in proto3 JSON (proto field names) → the object for protobufjs fromObject. */
  message(type: protobuf.Type, value: unknown, path: string): unknown {
    const known = wellKnown(type, value, path);
    if (known) return known;
    if (!isObj(value)) return value;
    if (type.fullName === ANY) return this.any(value, path);
    const out: Obj = {};
    for (const [key, v] of Object.entries(value)) {
      const field = type.fields[key];
      out[key] = field ? this.field(field, v, path === '' ? key : `${path}.${key}`) : v;
    }
    return out;
  }

  private field(field: protobuf.Field, v: unknown, path: string): unknown {
    field.resolve();
    const type = field.resolvedType;
    if (!(type instanceof protobuf.Type) || v === null) return v;
    if (field.map && isObj(v)) return Object.fromEntries(Object.entries(v).map(([k, e]) => [k, this.message(type, e, `${path}[${JSON.stringify(k)}]`)]));
    if (field.repeated && Array.isArray(v)) return v.map((e, i) => this.message(type, e, `${path}[${i}]`));
    return this.message(type, v, path);
  }

  /**
   * An Any with "@type": its fields converted as the named type's (a well-known type's JSON form
   * is its "value" member), "@type" kept for protobufjs' Any wrapper to pack.
   */
  private any(value: Obj, path: string): Obj {
    const url = value['@type'];
    if (typeof url !== 'string') return value;
    const type = this.root.lookup(url.slice(url.lastIndexOf('/') + 1));
    if (!(type instanceof protobuf.Type)) return value;
    if ('value' in value && !type.fields['value']) {
      const known = wellKnown(type, value['value'], `${path}.value`);
      if (known) return { '@type': url, ...known };
    }
    const { '@type': _type, ...fields } = value;
    const converted = this.message(type, fields, path);
    return { '@type': url, ...(isObj(converted) ? converted : {}) };
  }
}
