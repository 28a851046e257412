/**
 * Folder locks between runs on one machine (proper-lockfile: a lock directory that its holder
 * refreshes, stale 10 s after the holder died; released on exit, Ctrl-C included).
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { lock } from 'proper-lockfile';

export type Release = () => Promise<void>;

const options = (dir: string, name: string) => ({ lockfilePath: join(dir, name), stale: 10_000, update: 2_000, realpath: false });

/** Takes the lock `dir/name`, or returns undefined when another process holds it. */
export async function tryLock(dir: string, name: string): Promise<Release | undefined> {
  mkdirSync(dir, { recursive: true });
  try {
    return await lock(dir, options(dir, name));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ELOCKED') return undefined;
    throw err;
  }
}

/** Takes the lock `dir/name`, waiting (up to 10 minutes) while another process holds it. */
export function waitLock(dir: string, name: string): Promise<Release> {
  mkdirSync(dir, { recursive: true });
  return lock(dir, { ...options(dir, name), retries: { retries: 1200, factor: 1, minTimeout: 500, maxTimeout: 500 } });
}

/** Runs `work` holding the lock `dir/name`; says so through `onWait` when it has to wait first. */
export async function whileLocked<T>(dir: string, name: string, onWait: (() => void) | undefined, work: () => Promise<T>): Promise<T> {
  let release = await tryLock(dir, name);
  if (!release) {
    onWait?.();
    release = await waitLock(dir, name);
  }
  try {
    return await work();
  } finally {
    await release();
  }
}
