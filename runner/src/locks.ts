/**
 * Folder locks between runs on one machine (proper-lockfile: a lock directory that its holder
 * refreshes, stale 10 s after the holder died; released on exit, Ctrl-C included).
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { lock } from 'proper-lockfile';
import { ConfigError } from './config.js';

export type Release = () => Promise<void>;

const baseOptions = (dir: string, name: string) => ({ lockfilePath: join(dir, name), stale: 10_000, update: 2_000, realpath: false });

/**
 * Takes the lock with proper-lockfile, with two of its edges made safe. Its default
 * onCompromised throws from a timer, which ends the process; and its refresh (a stat, then a
 * touch every 2 s) does not check for a release between the stat and its answer, so a release at
 * that moment reported the lock compromised ("ENOENT: … stat '…/.matrix.lock'"; the fresh-clone
 * CI lost a whole test file to it). Here a lock lost after its release is ignored, a lock lost
 * while held is one warning line, and releasing a lost lock resolves.
 */
async function take(dir: string, name: string, extra: object = {}): Promise<Release> {
  let released = false;
  const path = join(dir, name);
  const onCompromised = (err: Error) => {
    if (released) return;
    const why = (err as NodeJS.ErrnoException).syscall === 'stat' || /ENOENT/.test(err.message) ? 'its folder is gone' : err.message;
    process.stderr.write(`warning: lost the lock ${path} while holding it (${why}): another run may use this folder at the same time\n`);
  };
  const release = await lock(dir, { ...baseOptions(dir, name), ...extra, onCompromised });
  return async () => {
    released = true;
    try {
      await release();
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'ERELEASED' && code !== 'ENOTACQUIRED') throw err;
    }
  };
}

/** Takes the lock `dir/name`, or returns undefined when another process holds it. */
export async function tryLock(dir: string, name: string): Promise<Release | undefined> {
  mkdirSync(dir, { recursive: true });
  try {
    return await take(dir, name);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ELOCKED') return undefined;
    throw err;
  }
}

const POLL_MS = 500;

/**
 * Takes the lock `dir/name`, waiting up to `waitMs` while another process holds it; after that,
 * a ConfigError says which lock and for how long.
 */
export async function waitLock(dir: string, name: string, waitMs: number): Promise<Release> {
  mkdirSync(dir, { recursive: true });
  const retries = Math.max(1, Math.ceil(waitMs / POLL_MS));
  try {
    return await take(dir, name, { retries: { retries, factor: 1, minTimeout: POLL_MS, maxTimeout: POLL_MS } });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ELOCKED') throw err;
    throw new ConfigError(`${join(dir, name)}: another run held this lock for all of the ${Math.round(waitMs / 1000)} s this run waited; run again once it is done`);
  }
}

/** How long a run waits for another run's builds (a cold build of every release and image takes a while). */
export const BUILD_WAIT_MS = 60 * 60_000;

/** Runs `work` holding the lock `dir/name`; says so through `onWait` when it has to wait first. */
export async function whileLocked<T>(dir: string, name: string, onWait: (() => void) | undefined, work: () => Promise<T>, waitMs = BUILD_WAIT_MS): Promise<T> {
  let release = await tryLock(dir, name);
  if (!release) {
    onWait?.();
    release = await waitLock(dir, name, waitMs);
  }
  try {
    return await work();
  } finally {
    await release();
  }
}
