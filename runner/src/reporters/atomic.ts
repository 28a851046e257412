import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Writes DIR/NAME whole or not at all, and returns its path: the text goes to a temporary file in
 * DIR, which then replaces DIR/NAME in one rename — so a full disk or a crash never leaves a
 * truncated report. On an error the temporary file is removed and the error rethrown as it was.
 */
export function writeReport(outDir: string, name: string, text: string): string {
  mkdirSync(outDir, { recursive: true });
  const file = join(outDir, name);
  const temp = join(outDir, `.${name}.${process.pid}.tmp`);
  try {
    const fd = openSync(temp, 'w');
    try {
      writeFileSync(fd, text);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temp, file);
  } catch (err) {
    removeQuietly(temp);
    throw err;
  }
  return file;
}

/** Removes FILE if it is there; a failure to remove it must not hide the error being handled. */
function removeQuietly(file: string): void {
  try {
    rmSync(file, { force: true });
  } catch {
    // the caller rethrows the error that matters
  }
}
