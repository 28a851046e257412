import { lines } from '../src/launcher/output.js';

describe('lines: a peer\'s stdout split into lines', () => {
  it('a UTF-8 character cut between two chunks arrives whole (a pipe read can end anywhere)', () => {
    const got: string[] = [];
    const feed = lines((line) => got.push(line));
    const bytes = Buffer.from('{"s":"str ✓"}\nnext ✓\n', 'utf8');
    const cut = bytes.indexOf(Buffer.from('✓')) + 2; // after e2 9c, before 93
    feed(bytes.subarray(0, cut));
    feed(bytes.subarray(cut));
    expect(got).toEqual(['{"s":"str ✓"}', 'next ✓']);
  });

  it('every cut of a line with 2-, 3- and 4-byte characters gives the same line', () => {
    const text = 'é ✓ 😀 end';
    const bytes = Buffer.from(`${text}\n`, 'utf8');
    for (let cut = 1; cut < bytes.length; cut++) {
      const got: string[] = [];
      const feed = lines((line) => got.push(line));
      feed(bytes.subarray(0, cut));
      feed(bytes.subarray(cut));
      expect(got).toEqual([text]);
    }
  });
});
