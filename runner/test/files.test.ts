import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { systemFailure } from '../src/files.js';

describe('systemFailure', () => {
  it('says in one line what the system refused, with the path and the code', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'files-test-')), 'a-file');
    writeFileSync(file, '');
    let caught: unknown;
    try {
      mkdirSync(join(file, 'logs'));
    } catch (err) {
      caught = err;
    }
    expect(systemFailure(caught)).toBe(`cannot mkdir ${join(file, 'logs')}: ENOTDIR (not a directory)`);
  });

  it('leaves anything else (a defect) to its stack', () => {
    expect(systemFailure(new TypeError('x is undefined'))).toBeUndefined();
    expect(systemFailure('a string')).toBeUndefined();
  });
});
