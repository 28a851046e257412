/**
 * The output folder and the files the runner writes: checked before a run, and file system
 * errors told in one line.
 */
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ConfigError } from './config.js';

/**
 * A folder the run will write to (`--out`, the baseline's) must be writable before anything is
 * built or started: a ConfigError in one line if it is not, naming `what`.
 */
export function checkWritable(dir: string, what = `--out ${dir}`): void {
  const probe = join(dir, `.write-test-${process.pid}`);
  try {
    makeDir(dir);
    writeFileSync(probe, 'x');
    rmSync(probe);
  } catch (err) {
    throw new ConfigError(`${what}: cannot write there: ${describeError(err)}`);
  }
}

/**
 * mkdir -p that reports the real cause: a recursive mkdirSync says ENOENT where a parent cannot
 * be created (a read-only mount), so each missing folder is made on its own.
 */
function makeDir(dir: string): void {
  if (existsSync(dir)) return;
  makeDir(dirname(dir));
  mkdirSync(dir);
}

/** `ENOSPC (no space left on device)` from a Node file system error. */
export function describeError(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  if (!e.code) return String(e.message ?? err);
  const why = /^[A-Z]+: ([^,]+)/.exec(e.message)?.[1];
  return why ? `${e.code} (${why})` : e.code;
}
