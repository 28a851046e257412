/**
 * Compares a message a client observed (the value encoding of docs/peer-contract.md: what the
 * library gave, tagged where JSON cannot carry it) with the message a case expects (the proto3
 * JSON mapping), field by field through the schema. Differences come back as readable lines:
 * `responses[0].values.i64: expected 9007199254740993, got 9007199254740992 (a floating-point number)`.
 */
import { createHash } from 'node:crypto';
import protobuf from 'protobufjs';

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** One difference: where, and what was expected against what came. */
export interface Difference {
  path: string;
  text: string;
}

/** The member of a message object that holds its unknown fields (docs/peer-contract.md). */
export const UNKNOWN = '$unknown';

const INT_TYPES = new Set(['int32', 'int64', 'uint32', 'uint64', 'sint32', 'sint64', 'fixed32', 'fixed64', 'sfixed32', 'sfixed64']);
const FLOAT_TYPES = new Set(['double', 'float']);

export const isObject = (v: unknown): v is Record<string, Json> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** How a value is shown in a difference: as the client reported it, with what kind of value it was. */
export function show(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (isObject(v) && typeof v['$bytes'] === 'string') return `bytes ${spacedShort(v['$bytes'])}`;
  if (isObject(v) && typeof v['$sha256'] === 'string') return `${String(v['$length'])} bytes with SHA-256 ${v['$sha256']}`;
  if (isObject(v) && typeof v['$long'] === 'string') return `${v['$long']} (a Long object)`;
  if (typeof v === 'number') return `${v} (a floating-point number)`;
  const text = JSON.stringify(v);
  return text.length > 120 ? `${text.slice(0, 117)}...` : text;
}

/** Hex in bytes of two digits, space-separated: `00 ff 01`. */
export const spaced = (hex: string): string => (hex === '' ? '(empty)' : (hex.match(/../g) ?? []).join(' '));

/** `spaced`, cut to the first 32 bytes and the length when longer than 64 (a 4 MiB value stays one line). */
const spacedShort = (hex: string): string => (hex.length > 128 ? `${spaced(hex.slice(0, 64))} … (${hex.length / 2} bytes)` : spaced(hex));

/** An integer as the client reported it (number, decimal string, Long), or undefined when it is not one. */
export function observedInteger(v: unknown): bigint | undefined {
  if (typeof v === 'number') return Number.isInteger(v) ? BigInt(v) : undefined;
  const text = typeof v === 'string' ? v : isObject(v) && typeof v['$long'] === 'string' ? v['$long'] : undefined;
  return text !== undefined && /^-?\d+$/.test(text) ? BigInt(text) : undefined;
}

/** An integer as a case writes it (proto JSON: a number or a decimal string). */
function expectedInteger(v: unknown, path: string): bigint {
  if (typeof v === 'number' && Number.isSafeInteger(v)) return BigInt(v);
  if (typeof v === 'string' && /^-?\d+$/.test(v)) return BigInt(v);
  throw new CaseValueError(`${path}: ${JSON.stringify(v)} is not an integer (write 64-bit integers as strings, e.g. "9007199254740993")`);
}

/** A float as reported or written: numbers, or the strings "NaN", "Infinity", "-Infinity", "-0". */
function toFloat(v: unknown): number | undefined {
  if (typeof v === 'number') return v;
  if (v === 'NaN') return NaN;
  if (v === 'Infinity') return Infinity;
  if (v === '-Infinity') return -Infinity;
  if (v === '-0') return -0;
  if (typeof v === 'string' && v.trim() !== '' && !Number.isNaN(Number(v))) return Number(v);
  return undefined;
}

const showFloat = (n: number): string => (Object.is(n, -0) ? '-0' : String(n));

/** A mistake in a case file's values (caught when the case is loaded). */
export class CaseValueError extends Error {}

/** Expected bytes: their hex, length and (once asked) SHA-256. */
interface ExpectedBytes {
  hex: string;
  length: number;
  sha256?: string;
}

/**
 * Long expected bytes already converted: the same expectation is compared for cell after cell,
 * and checking, converting and hashing half a megabyte each time cost the runner more than the
 * rest of its judging. Bounded: cleared when full.
 */
const longBytes = new Map<string, ExpectedBytes>();
const LONG_BYTES = 4096;
const LONG_BYTES_KEPT = 64;

function expectedBytes(v: unknown, path: string): ExpectedBytes {
  const long = typeof v === 'string' && v.length >= LONG_BYTES ? longBytes.get(v) : undefined;
  if (long) return long;
  if (typeof v !== 'string' || !/^[A-Za-z0-9+/_-]*={0,2}$/.test(v)) throw new CaseValueError(`${path}: ${JSON.stringify(v)} is not base64 (bytes are written in base64, as in the proto3 JSON mapping)`);
  const bytes = Buffer.from(v, 'base64');
  const got = { hex: bytes.toString('hex'), length: bytes.length };
  if (v.length >= LONG_BYTES) {
    if (longBytes.size >= LONG_BYTES_KEPT) longBytes.clear();
    longBytes.set(v, got);
  }
  return got;
}

const sha256Of = (b: ExpectedBytes): string => (b.sha256 ??= createHash('sha256').update(Buffer.from(b.hex, 'hex')).digest('hex'));

function enumNumber(e: protobuf.Enum, v: unknown): number | undefined {
  if (typeof v === 'number' && Number.isInteger(v)) return v;
  if (typeof v === 'string' && /^-?\d+$/.test(v)) return Number(v);
  if (typeof v === 'string') return e.values[v];
  return undefined;
}

/** The canonical text of a map key, as both sides are compared: integers in decimal, bools true/false. */
function mapKey(keyType: string, key: string): string {
  if (INT_TYPES.has(keyType)) return /^-?\d+$/.test(key) ? BigInt(key).toString() : key;
  if (keyType === 'bool') return key === 'true' || key === 'True' ? 'true' : key === 'false' || key === 'False' ? 'false' : key;
  return key;
}

/** A google.protobuf.Duration in JSON ("1.500s") as its message form. */
function durationMessage(v: string, path: string): Json {
  const m = /^(-?)(\d+)(?:\.(\d{1,9}))?s$/.exec(v);
  if (!m) throw new CaseValueError(`${path}: ${JSON.stringify(v)} is not a Duration (e.g. "1.500s")`);
  const sign = m[1] === '-' ? -1 : 1;
  const nanos = Number((m[3] ?? '').padEnd(9, '0'));
  return { seconds: `${m[1]}${m[2]}`, nanos: sign * nanos };
}

export class Comparer {
  readonly differences: Difference[] = [];

  /** validating: only walk the expected value (a case file's message) and throw on what does not fit the schema. */
  constructor(
    private readonly root: protobuf.Root,
    private readonly validating = false,
  ) {}

  private differ(path: string, text: string): void {
    if (!this.validating) this.differences.push({ path, text });
  }

  /** Compares a message of `type`; `expected` in proto JSON (snake_case or JSON names), `observed` as reported. */
  message(type: protobuf.Type, expected: Json | undefined, observed: unknown, path: string): void {
    if (type.fullName === '.google.protobuf.Duration' && typeof expected === 'string') expected = durationMessage(expected, path);
    if (observed === null) observed = undefined; // grpc-js with defaults: true reports an unset message field as null
    if (type.fullName === '.google.protobuf.Any') return this.any(expected, observed, path);
    const exp = expected ?? {};
    if (!isObject(exp)) throw new CaseValueError(`${path}: expected a ${type.name} message (an object), got ${JSON.stringify(expected)}`);
    if (observed !== undefined && !isObject(observed)) return this.differ(path, `expected a ${type.name} message, got ${show(observed)}`);
    const obs = (observed ?? {}) as Record<string, unknown>;
    this.unknownFields(exp[UNKNOWN], obs[UNKNOWN], path);
    for (const key of Object.keys(exp)) {
      if (key === UNKNOWN) continue;
      if (!type.fields[key]) {
        const hint = type.fieldsArray.find((f) => jsonName(f) === key);
        throw new CaseValueError(`${path === '' ? '' : `${path}: `}${type.name} has no field "${key}"${hint ? ` (write the proto field name, "${hint.name}")` : `; its fields: ${type.fieldsArray.map((f) => f.name).join(', ')}`}`);
      }
    }
    for (const field of type.fieldsArray) {
      const e = exp[field.name];
      this.field(field, e === null ? undefined : e, obs[field.name] ?? undefined, path === '' ? field.name : `${path}.${field.name}`);
    }
  }

  private field(field: protobuf.Field, expected: Json | undefined, observed: unknown, path: string): void {
    if (this.validating && expected === undefined) return;
    if (field.map) return this.map(field, (field as unknown as { keyType: string }).keyType, expected, observed, path);
    if (field.repeated) {
      const exp = expected ?? [];
      if (!Array.isArray(exp)) throw new CaseValueError(`${path}: expected a list, got ${JSON.stringify(expected)}`);
      if (observed !== undefined && !Array.isArray(observed)) return this.differ(path, `expected a list, got ${show(observed)}`);
      if (this.validating) return exp.forEach((e, i) => this.single(field, e, undefined, `${path}[${i}]`));
      const obs = (observed ?? []) as unknown[];
      if (obs.length !== exp.length) {
        this.differ(path, `expected ${exp.length} element(s), got ${obs.length}`);
        return;
      }
      exp.forEach((e, i) => this.single(field, e, obs[i], `${path}[${i}]`));
      return;
    }
    const explicit = field.resolvedType instanceof protobuf.Type || field.partOf !== null;
    if (explicit && !this.validating) {
      if (expected === undefined && observed !== undefined) return this.differ(path, `expected unset, got ${show(observed)}`);
      if (expected !== undefined && observed === undefined) return this.differ(path, `expected ${this.render(field, expected)}, got unset`);
      if (expected === undefined) return;
    }
    this.single(field, expected, observed, path);
  }

  private map(field: protobuf.Field, keyType: string, expected: Json | undefined, observed: unknown, path: string): void {
    const exp = expected ?? {};
    if (!isObject(exp)) throw new CaseValueError(`${path}: expected a map (an object), got ${JSON.stringify(expected)}`);
    if (observed !== undefined && !isObject(observed)) return this.differ(path, `expected a map, got ${show(observed)}`);
    const obs = new Map(Object.entries((observed ?? {}) as Record<string, unknown>).map(([k, v]) => [mapKey(keyType, k), { raw: k, v }]));
    const wanted = new Map(Object.entries(exp).map(([k, v]) => [mapKey(keyType, k), v]));
    for (const [key, e] of wanted) {
      if (this.validating) {
        if (keyType !== 'string' && !/^(-?\d+|true|false)$/.test(key)) throw new CaseValueError(`${path}: ${JSON.stringify(key)} is not a ${keyType} map key`);
        this.single(field, e, undefined, `${path}[${JSON.stringify(key)}]`);
        continue;
      }
      const got = obs.get(key);
      if (!got) {
        const others = [...obs.values()].map((o) => JSON.stringify(o.raw));
        this.differ(`${path}[${JSON.stringify(key)}]`, `missing key ${JSON.stringify(key)} (keys received: ${others.length > 0 ? others.join(', ') : 'none'})`);
        continue;
      }
      this.single(field, e, got.v, `${path}[${JSON.stringify(key)}]`);
    }
    for (const [key, o] of obs) {
      if (!wanted.has(key)) this.differ(`${path}[${JSON.stringify(o.raw)}]`, `unexpected key ${JSON.stringify(o.raw)}`);
    }
  }

  /** One value of a field (a singular field, an element, a map value). */
  private single(field: protobuf.Field, expected: Json | undefined, observed: unknown, path: string): void {
    const type = field.resolvedType;
    if (type instanceof protobuf.Type) return this.message(type, expected, observed, path);
    if (type instanceof protobuf.Enum) {
      const want = expected === undefined ? 0 : enumNumber(type, expected);
      if (want === undefined) throw new CaseValueError(`${path}: ${JSON.stringify(expected)} is not a value of ${type.name}`);
      const got = observed === undefined ? 0 : enumNumber(type, observed);
      if (got !== want) {
        const seen = got !== undefined ? enumName(type, got) : `${show(observed)}${typeof observed === 'string' ? ` (not a name of ${type.name})` : ''}`;
        this.differ(path, `expected ${enumName(type, want)}, got ${seen}`);
      }
      return;
    }
    const t = field.type;
    if (INT_TYPES.has(t)) {
      const want = expected === undefined ? 0n : expectedInteger(expected, path);
      const got = observed === undefined ? 0n : observedInteger(observed);
      if (got !== want) this.differ(path, `expected ${want}, got ${show(observed)}`);
      return;
    }
    if (FLOAT_TYPES.has(t)) {
      let want = expected === undefined ? 0 : toFloat(expected);
      if (want === undefined) throw new CaseValueError(`${path}: ${JSON.stringify(expected)} is not a number (NaN, Infinity, -Infinity and -0 are written as strings)`);
      if (t === 'float') want = Math.fround(want);
      const got = observed === undefined ? 0 : toFloat(observed);
      if (got === undefined || !Object.is(got, want)) this.differ(path, `expected ${showFloat(want)}, got ${typeof observed === 'number' ? showFloat(observed) : show(observed)}`);
      return;
    }
    if (t === 'bool') {
      const want = expected ?? false;
      if (typeof want !== 'boolean') throw new CaseValueError(`${path}: ${JSON.stringify(expected)} is not a bool`);
      if ((observed ?? false) !== want) this.differ(path, `expected ${want}, got ${show(observed)}`);
      return;
    }
    if (t === 'bytes') {
      const bytes = expected === undefined ? { hex: '', length: 0 } : expectedBytes(expected, path);
      const want = bytes.hex;
      if (isObject(observed) && typeof observed['$sha256'] === 'string') {
        // Long bytes come as their digest (docs/peer-contract.md, "Value encoding").
        const digest = sha256Of(bytes);
        if (observed['$sha256'].toLowerCase() !== digest || observed['$length'] !== bytes.length) {
          this.differ(path, `expected ${bytes.length} bytes with SHA-256 ${digest}, got ${show(observed)}`);
        }
        return;
      }
      const got = observed === undefined ? '' : isObject(observed) && typeof observed['$bytes'] === 'string' ? observed['$bytes'].toLowerCase() : undefined;
      if (got !== want) this.differ(path, `expected bytes ${spacedShort(want)}, got ${show(observed)}`);
      return;
    }
    if (t === 'string') {
      const want = expected ?? '';
      if (typeof want !== 'string') throw new CaseValueError(`${path}: ${JSON.stringify(expected)} is not a string`);
      if ((observed ?? '') !== want) this.differ(path, `expected ${JSON.stringify(want)}, got ${show(observed)}`);
      return;
    }
    throw new CaseValueError(`${path}: unsupported field type ${t}`);
  }

  /**
   * `$unknown`: the wire bytes (hex) of fields the schema does not declare, sent as a message's
   * unknown fields and reported where the library kept them (a relay must keep them).
   */
  private unknownFields(expected: Json | undefined, observed: unknown, path: string): void {
    const where = `${path === '' ? '' : `${path}.`}${UNKNOWN}`;
    if (expected !== undefined && (typeof expected !== 'string' || !/^([0-9a-fA-F]{2})+$/.test(expected))) {
      throw new CaseValueError(`${where}: ${JSON.stringify(expected)} is not wire-format bytes in hex (e.g. "c03e9601": field 1000, varint 150)`);
    }
    if (this.validating) return;
    const want = typeof expected === 'string' ? expected.toLowerCase() : '';
    const got = typeof observed === 'string' ? observed.toLowerCase() : observed === undefined ? '' : undefined;
    if (got === want) return;
    if (got === '') this.differ(where, `expected unknown fields ${spaced(want)}, got none (the library dropped them)`);
    else this.differ(where, `expected ${want === '' ? 'no unknown fields' : `unknown fields ${spaced(want)}`}, got ${typeof observed === 'string' ? spaced(observed) : show(observed)}`);
  }

  /** google.protobuf.Any: `{"@type": URL, …fields}` on both sides, compared as the named type. */
  private any(expected: Json | undefined, observed: unknown, path: string): void {
    if (!isObject(expected) || typeof expected['@type'] !== 'string') throw new CaseValueError(`${path}: an Any needs "@type" (e.g. type.googleapis.com/google.rpc.ErrorInfo)`);
    const url = expected['@type'];
    const type = this.root.lookup(url.slice(url.lastIndexOf('/') + 1));
    if (!(type instanceof protobuf.Type)) throw new CaseValueError(`${path}: unknown @type ${url} (the runner knows the types of protos/interop/scripted.proto and protos/google/rpc/)`);
    if (this.validating) {
      const { '@type': _t, ...inner } = expected;
      return this.message(type, inner, undefined, path);
    }
    if (!isObject(observed)) return this.differ(path, `expected a ${type.name}, got ${show(observed)}`);
    if (observed['@type'] !== url) return this.differ(path, `expected @type ${url}, got ${show(observed['@type'])}`);
    if (observed['$value'] !== undefined) return this.differ(path, `the library could not unpack the ${type.name} (got ${show(observed['$value'])})`);
    const { '@type': _e, ...fields } = expected;
    const { '@type': _o, ...got } = observed;
    this.message(type, fields, got, path);
  }

  private render(field: protobuf.Field, v: Json): string {
    if (field.type === 'bytes' && typeof v === 'string') return `bytes ${spaced(Buffer.from(v, 'base64').toString('hex'))}`;
    return JSON.stringify(v);
  }
}

const jsonName = (f: protobuf.Field): string => f.name.replace(/_([a-z0-9])/g, (_m, c: string) => c.toUpperCase());

const enumName = (e: protobuf.Enum, n: number): string => (e.valuesById[n] !== undefined ? `${e.valuesById[n]} (${n})` : String(n));

/** Differences between an observed and an expected message of `typeName`, in the root's schema. */
export function compareMessage(root: protobuf.Root, typeName: string, expected: Json | undefined, observed: unknown, path = ''): Difference[] {
  const comparer = new Comparer(root);
  comparer.message(root.lookupType(typeName), expected, observed, path);
  return comparer.differences;
}

/** Checks that a message of a case file fits the schema (throws CaseValueError naming the field). */
export function validateMessage(root: protobuf.Root, typeName: string, value: Json, path: string): void {
  new Comparer(root, true).message(root.lookupType(typeName), value, undefined, path);
}
