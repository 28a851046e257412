import { parseFaults } from '../src/faults.js';
import { mangleMessage, throughDouble, ValueFaults } from '../src/services/scripted-faults.js';
import { protoRoot } from '../../ts-common/src/proto.js';

const root = protoRoot();
const Values = root.lookupType('interop.scripted.Values');
const LOADER = { keepCase: true, longs: String, enums: String, defaults: true, oneofs: true };

/** A Values message as the server's library decodes it (proto-loader's toObject options). */
const decoded = (obj: Record<string, unknown>) => Values.toObject(Values.decode(Values.encode(Values.fromObject(obj)).finish()), LOADER);
const apply = (fault: string, obj: Record<string, unknown>) => new ValueFaults(parseFaults(fault)).message(Values, decoded(obj));

describe('scripted value faults', () => {
  it('leave the decoded object alone (RequestInfo reports it unchanged)', () => {
    const input = decoded({ s: 'abc', strings: ['x', 'y'] });
    new ValueFaults(parseFaults('scripted-strings-truncated,scripted-repeated-truncated')).message(Values, input);
    expect(input).toMatchObject({ s: 'abc', strings: ['x', 'y'] });
  });

  it('int64-double: through a float64, wrapped into 64 bits', () => {
    expect(throughDouble(9007199254740993n, false)).toBe(9007199254740992n);
    expect(throughDouble(18446744073709551615n, true)).toBe(0n);
    const out = apply('scripted-int64-double', { u64: '9007199254740993', opt_i64: '-9007199254740993', nested: { f64: '9007199254740995' } });
    expect(out).toMatchObject({ u64: '9007199254740992', opt_i64: '-9007199254740992', nested: { f64: '9007199254740996' } });
  });

  it('map-keys-off: integer keys + 1 (64-bit keys kept in the form protobufjs decoded them), bool negated, strings ~', () => {
    const out = apply('scripted-map-keys-off', { i32_bytes: { '7': 'AQ==' }, str_values: { a: { i32: 1 } }, bool_str: { true: 'x' }, i64_str: { '5': 'five' } });
    expect(Object.keys(out['i32_bytes'] as object)).toEqual(['8']);
    expect(Object.keys(out['str_values'] as object)).toEqual(['a~']);
    expect(out['bool_str']).toEqual({ false: 'x' });
    const [key] = Object.keys(out['i64_str'] as object);
    expect(key).toHaveLength(8); // protobufjs' Long hash of 6
    expect(key!.charCodeAt(0)).toBe(6);
  });

  it('enum-shifted: present values + 1 (names become numbers), implicit zero left alone', () => {
    const out = apply('scripted-enum-shifted', { colors: ['COLOR_UNSPECIFIED', 'RED'], opt_color: 'COLOR_UNSPECIFIED', nested: { color: 'GREEN' } });
    expect(out).toMatchObject({ color: 'COLOR_UNSPECIFIED', colors: [1, 2], opt_color: 1, nested: { color: 3 } });
  });

  it('floats-flushed: specials and subnormals to 0, doubles to float32 precision', () => {
    const out = apply('scripted-floats-flushed', { d: 0.1, f: 5e-40, packed_d: [Number.NaN, -0, 5e-324, 1.5, Infinity] });
    expect(out['d']).toBe(Math.fround(0.1));
    expect(out['f']).toBe(0);
    expect(out['packed_d']).toEqual([0, 0, 0, 1.5, 0]);
  });

  it('presence-lost: optional and oneof members at zero (or an empty message) are cleared with their virtual oneof member', () => {
    const out = apply('scripted-presence-lost', { opt_b: false, opt_color: 'COLOR_UNSPECIFIED', opt_d: 1, choice_values: {} });
    expect(out).not.toHaveProperty('opt_b');
    expect(out).not.toHaveProperty('_opt_b');
    expect(out).not.toHaveProperty('opt_color');
    expect(out).not.toHaveProperty('choice_values');
    expect(out).not.toHaveProperty('choice');
    expect(out['opt_d']).toBe(1);
  });

  it('strings, bytes, repeated: the last code point, byte, element', () => {
    const out = apply('scripted-strings-truncated,scripted-bytes-truncated,scripted-repeated-truncated', { s: 'a😀', by: 'AAE=', strings: ['xy', 'z'], str_values: { k: { s: 'kept?' } } });
    expect(out['s']).toBe('a');
    expect(out['by']).toEqual(Buffer.from([0]));
    expect(out['strings']).toEqual(['x']);
    expect(Object.keys(out['str_values'] as object)).toEqual(['k']);
    expect((out['str_values'] as Record<string, { s: string }>)['k']!.s).toBe('kept');
  });

  it('message-mangled: outside printable ASCII → ?, % doubled', () => {
    expect(mangleMessage('bad: 100% ✓\n😈 ok')).toBe('bad: 100%% ??? ok');
  });
});
