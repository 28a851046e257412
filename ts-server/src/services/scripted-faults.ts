/**
 * The `scripted-*` faults that change values (docs/peer-contract.md, "Server faults" of the
 * scripted service), applied to the `values` of every reply the server sends: a walk over the
 * declared fields of the protobufjs type, on the objects as proto-loader decoded them (longs as
 * strings, enums as names, bytes as Buffers, maps as objects). The walk copies: the decoded
 * requests it starts from are reported unchanged in RequestInfo.
 */
import protobuf from 'protobufjs';
import type { Fault, Faults } from '../faults.js';

/** The faults this module applies; any other fault leaves the values alone. */
export const VALUE_FAULTS: readonly Fault[] = [
  'scripted-int64-double',
  'scripted-enum-shifted',
  'scripted-map-keys-off',
  'scripted-floats-flushed',
  'scripted-bytes-truncated',
  'scripted-strings-truncated',
  'scripted-presence-lost',
  'scripted-repeated-truncated',
];

const LONG_TYPES = new Set(['int64', 'uint64', 'sint64', 'fixed64', 'sfixed64']);
const UNSIGNED_TYPES = new Set(['uint32', 'uint64', 'fixed32', 'fixed64']);
const INT32_TYPES = new Set(['int32', 'uint32', 'sint32', 'fixed32', 'sfixed32']);
const MIN_NORMAL_DOUBLE = 2.2250738585072014e-308;
const MIN_NORMAL_FLOAT = 1.1754943508222875e-38;

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v) && !Buffer.isBuffer(v);

/** A 64-bit value through a float64, wrapped back into 64 bits (as a cast in C or Go would do on most targets). */
export function throughDouble(value: bigint, unsigned: boolean): bigint {
  const d = BigInt(Math.trunc(Number(value)));
  return unsigned ? BigInt.asUintN(64, d) : BigInt.asIntN(64, d);
}

/** A decoded map key of a 64-bit type: decimal digits, or the 8-character hash protobufjs' decoder makes of a Long. */
function longKey(key: string, unsigned: boolean): { value: bigint; hashed: boolean } {
  if (/^-?\d+$/.test(key)) return { value: BigInt(key), hashed: false };
  const long = protobuf.util.longFromHash(key, unsigned);
  return { value: BigInt(long.toString()), hashed: true };
}

function longKeyText(value: bigint, unsigned: boolean, hashed: boolean): string {
  if (!hashed) return value.toString();
  const Long = protobuf.util.Long as unknown as { fromString(text: string, unsigned: boolean): protobuf.Long };
  return protobuf.util.longToHash(Long.fromString(value.toString(), unsigned));
}

export class ValueFaults {
  constructor(private readonly faults: Faults) {}

  /** True when at least one value fault is on (otherwise the values are sent as decoded). */
  get active(): boolean {
    return VALUE_FAULTS.some((f) => this.faults.has(f));
  }

  private on(f: Fault): boolean {
    return this.faults.has(f);
  }

  /** A copy of a decoded message of `type` with every value fault applied (recursively). */
  message(type: protobuf.Type, value: Obj): Obj {
    const out: Obj = { ...value };
    for (const field of type.fieldsArray) {
      field.resolve();
      const v = value[field.name];
      if (v === undefined || v === null) continue;
      if (field.map) {
        out[field.name] = this.map(field as unknown as protobuf.MapField, v as Obj);
      } else if (field.repeated) {
        let list = (v as unknown[]).map((e) => this.single(field, e, true));
        if (this.on('scripted-repeated-truncated') && list.length > 0) list = list.slice(0, -1);
        out[field.name] = list;
      } else {
        const explicit = field.partOf !== null;
        if (explicit && this.on('scripted-presence-lost') && this.isZero(field, v)) {
          delete out[field.name];
          const oneof = field.partOf;
          if (oneof && out[oneof.name] === field.name) delete out[oneof.name];
          continue;
        }
        out[field.name] = this.single(field, v, explicit);
      }
    }
    return out;
  }

  private map(field: protobuf.MapField, value: Obj): Obj {
    const out: Obj = {};
    for (const [key, v] of Object.entries(value)) out[this.mapKey(field.keyType, key)] = this.single(field, v, true);
    return out;
  }

  private mapKey(keyType: string, key: string): string {
    if (LONG_TYPES.has(keyType)) {
      const unsigned = UNSIGNED_TYPES.has(keyType);
      const { value, hashed } = longKey(key, unsigned);
      let n = value;
      if (this.on('scripted-int64-double')) n = throughDouble(n, unsigned);
      if (this.on('scripted-map-keys-off')) n = unsigned ? BigInt.asUintN(64, n + 1n) : BigInt.asIntN(64, n + 1n);
      return n === value ? key : longKeyText(n, unsigned, hashed);
    }
    if (!this.on('scripted-map-keys-off')) return key;
    if (INT32_TYPES.has(keyType)) {
      const n = BigInt(key) + 1n;
      return (UNSIGNED_TYPES.has(keyType) ? BigInt.asUintN(32, n) : BigInt.asIntN(32, n)).toString();
    }
    if (keyType === 'bool') return key === 'true' ? 'false' : 'true';
    return `${key}~`;
  }

  /**
   * One value of a field. `present`: the value is there explicitly (an element, a map value, an
   * optional or oneof member); a singular proto3 field at its zero value is not (an enum is then
   * not shifted: the other languages' reflection does not visit unset fields).
   */
  private single(field: protobuf.FieldBase, v: unknown, present: boolean): unknown {
    const type = field.resolvedType;
    if (type instanceof protobuf.Type) return isObj(v) ? this.message(type, v) : v;
    if (type instanceof protobuf.Enum) {
      if (!this.on('scripted-enum-shifted')) return v;
      const n = typeof v === 'number' ? v : type.values[String(v)];
      if (n === undefined || (!present && n === 0)) return v;
      return n + 1;
    }
    const t = field.type;
    if (LONG_TYPES.has(t)) {
      if (!this.on('scripted-int64-double') || (typeof v !== 'string' && typeof v !== 'number')) return v;
      const unsigned = UNSIGNED_TYPES.has(t);
      const result = throughDouble(BigInt(typeof v === 'number' ? Math.trunc(v) : v), unsigned).toString();
      return typeof v === 'number' ? Number(result) : result;
    }
    if (t === 'double' || t === 'float') {
      if (!this.on('scripted-floats-flushed') || typeof v !== 'number') return v;
      const minNormal = t === 'float' ? MIN_NORMAL_FLOAT : MIN_NORMAL_DOUBLE;
      if (!Number.isFinite(v) || Object.is(v, -0) || (v !== 0 && Math.abs(v) < minNormal)) return 0;
      return t === 'double' ? Math.fround(v) : v;
    }
    if (t === 'bytes') {
      if (this.on('scripted-bytes-truncated') && Buffer.isBuffer(v) && v.length > 0) return v.subarray(0, v.length - 1);
      return v;
    }
    if (t === 'string') {
      if (this.on('scripted-strings-truncated') && typeof v === 'string' && v !== '') return Array.from(v).slice(0, -1).join('');
      return v;
    }
    return v;
  }

  /**
   * A message with nothing set: every field absent, empty or (without explicit presence) at its
   * zero value. (Re-encoding cannot tell: protobufjs writes every field fromObject was given,
   * defaults included.)
   */
  private isEmpty(type: protobuf.Type, value: Obj): boolean {
    return type.fieldsArray.every((field) => {
      field.resolve();
      const v = value[field.name];
      if (v === undefined || v === null) return true;
      if (field.map) return isObj(v) && Object.keys(v).length === 0;
      if (field.repeated) return Array.isArray(v) && v.length === 0;
      if (field.partOf !== null || field.resolvedType instanceof protobuf.Type) return false;
      return this.isZero(field, v);
    });
  }

  /** A value equal to its type's zero value (or an empty message): what presence-lost clears. */
  private isZero(field: protobuf.FieldBase, v: unknown): boolean {
    const type = field.resolvedType;
    if (type instanceof protobuf.Type) return isObj(v) && this.isEmpty(type, v);
    if (type instanceof protobuf.Enum) return (typeof v === 'number' ? v : type.values[String(v)]) === 0;
    if (typeof v === 'number') return Object.is(v, 0);
    if (typeof v === 'string') return v === '' || (LONG_TYPES.has(field.type) && v === '0');
    if (typeof v === 'boolean') return !v;
    if (Buffer.isBuffer(v)) return v.length === 0;
    return false;
  }
}

/** `scripted-message-mangled`: every character outside printable ASCII becomes `?`, every `%` is doubled. */
export function mangleMessage(message: string): string {
  return Array.from(message)
    .map((c) => (c === '%' ? '%%' : c >= ' ' && c <= '~' ? c : '?'))
    .join('');
}
