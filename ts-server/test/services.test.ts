import { NO_FAULTS, parseFaults, FAULTS } from '../src/faults.js';
import { codePointLength, measuredLength } from '../src/services/compute.js';
import { increment } from '../src/services/panda.js';
import { recommend } from '../src/services/user-recommend.js';

describe('compute: length in code points', () => {
  it.each([
    ['', 0],
    ['123456', 6],
    ['你好😈', 3],
    ['🌏🌏', 2],
  ])('%j has %d code points', (s, n) => {
    expect(codePointLength(s)).toBe(n);
  });

  it('the length faults count what JavaScript and Go would get wrong', () => {
    expect(measuredLength('你好😈', parseFaults('length-utf16'))).toBe(4);
    expect(measuredLength('你好😈', parseFaults('length-bytes'))).toBe(10);
  });
});

describe('panda: arg + 1 over int64', () => {
  it('is exact beyond 2^53 and at the bottom of int64', () => {
    expect(increment('9007199254740993', NO_FAULTS)).toBe('9007199254740994');
    expect(increment('-9223372036854775808', NO_FAULTS)).toBe('-9223372036854775807');
    expect(increment('9223372036854775806', NO_FAULTS)).toBe('9223372036854775807');
  });

  it('reports overflow at 2^63 - 1', () => {
    expect(increment('9223372036854775807', NO_FAULTS)).toEqual({ overflow: expect.stringContaining('overflow') });
  });

  it('loses precision under the float64 fault', () => {
    expect(increment('9007199254740993', parseFaults('panda-float64'))).toBe('9007199254740992');
  });
});

describe('user recommend', () => {
  it('returns article ids from 1 with share unset', () => {
    const r = recommend(3, 42, NO_FAULTS);
    if (typeof r === 'string') throw new Error(r);
    expect(r.recommends?.map((a) => a.article_id)).toEqual(['1', '2', '3']);
    expect(r.recommends?.[0]?.track).toEqual({ click: 'click param', collect: 'collect param', read: 'read param' });
    expect(r.time_stamp).toBe('42');
  });

  it.each([-1, 1001])('rejects article_num %d naming the field', (n) => {
    expect(recommend(n, 0, NO_FAULTS)).toEqual(expect.stringContaining('article_num'));
  });

  it('accepts the bounds 0 and 1000', () => {
    expect(recommend(0, 0, NO_FAULTS)).toMatchObject({ recommends: [] });
    expect(recommend(1000, 0, NO_FAULTS)).toMatchObject({ recommends: expect.any(Array) });
  });
});

describe('faults', () => {
  it('parses a comma list of known faults', () => {
    expect([...parseFaults('random-constant, bidi-buffered')]).toEqual(['random-constant', 'bidi-buffered']);
    expect(parseFaults('').size).toBe(0);
  });

  it('rejects an unknown fault and lists the known ones', () => {
    expect(() => parseFaults('nope')).toThrow(/unknown fault "nope".*greeting-punctuation/);
  });

  it('has 25 faults (14 seeds, 11 grpc.testing), as the peer contract lists', () => {
    expect(FAULTS).toHaveLength(25);
  });
});
