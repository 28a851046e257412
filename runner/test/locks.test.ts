/**
 * Locks between runs: a run waits for the holder, and a holder that keeps the lock past the wait
 * is one clear line (which lock, how long), not a stack trace.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
