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

/**
 * One line for an error the system gave (a full disk, a folder that cannot be written: it has a
 * code and a system call), e.g. `cannot mkdir /out/logs: ENOSPC (no space left on device)`;
 * undefined for anything else (a defect, whose stack is what helps).
 */
export function systemFailure(err: unknown): string | undefined {
  const e = err as NodeJS.ErrnoException;
  if (typeof err !== 'object' || err === null || typeof e.code !== 'string' || typeof e.syscall !== 'string') return undefined;
  return `cannot ${e.syscall}${e.path ? ` ${e.path}` : ''}: ${describeError(err)}`;
}

/** `ENOSPC (no space left on device)` from a Node file system error. */
export function describeError(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  if (!e.code) return String(e.message ?? err);
  const why = /^[A-Z]+: ([^,]+)/.exec(e.message)?.[1];
  return why ? `${e.code} (${why})` : e.code;
}
