/**
 * Locks between runs: a run waits for the holder, and a holder that keeps the lock past the wait
 * is one clear line (which lock, how long), not a stack trace.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { ConfigError } from '../src/config.js';
import { tryLock, whileLocked } from '../src/locks.js';

describe('whileLocked', () => {
  it('waits for the holder, then runs; past the wait it fails with which lock was held and how long it waited', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'locks-'));
    const held = await tryLock(dir, '.build.lock');
    expect(held).toBeDefined();
    let waited = 0;
    let ran = false;
    const refused = whileLocked(dir, '.build.lock', () => waited++, async () => (ran = true), 1500);
    await expect(refused).rejects.toThrow(ConfigError);
    await expect(refused).rejects.toThrow(`${join(dir, '.build.lock')}: another run held this lock for all of the 2 s this run waited; run again once it is done`);
    expect({ waited, ran }).toEqual({ waited: 1, ran: false });

    const after = whileLocked(dir, '.build.lock', () => waited++, async () => 'ran', 20_000);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    await held!();
    await expect(after).resolves.toBe('ran');
    expect(waited).toBe(2);
  }, 30_000);
});

/**
 * proper-lockfile refreshes a held lock every 2 s: it stats the lock, then touches it. A release
 * that lands between the stat and its answer (or a lock folder removed under the run) used to
 * end the process with an uncaught "ENOENT: … stat '…/.matrix.lock'" thrown from a timer (its
 * default onCompromised throws; the stat callback does not check that the lock was released).
 * The fresh-clone CI lost the whole self-test suite to it once. In a child process, because an
 * uncaught throw from a timer is what is under test.
 */
describe('a lock that disappears while held', () => {
  it('does not end the process: the holder is told once, and its release still resolves', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'locks-'));
    const script = `
      import { rmSync } from 'node:fs';
      import { join } from 'node:path';
      import { tryLock } from './build/ts/runner/src/locks.js';
      const dir = process.argv[1];
      const release = await tryLock(dir, '.matrix.lock');
      rmSync(join(dir, '.matrix.lock'), { recursive: true, force: true });
      await new Promise((resolve) => setTimeout(resolve, 3500)); // past one refresh
      await release();
      console.log('released');
    `;
    const child = await execa('node', ['--input-type=module', '-e', script, dir], { reject: false });
    expect({ exitCode: child.exitCode, stdout: child.stdout, stderr: child.stderr.split('\n') }).toEqual({
      exitCode: 0,
      stdout: 'released',
      stderr: [`warning: lost the lock ${join(dir, '.matrix.lock')} while holding it (its folder is gone): another run may use this folder at the same time`],
    });
    expect(existsSync(join(dir, '.matrix.lock'))).toBe(false);
    rmSync(dir, { recursive: true, force: true });
  }, 30_000);
});
