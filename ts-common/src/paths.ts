import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The repository root: the nearest ancestor holding both `protos/` and `package.json`.
 * Found by walking up, so it is the same from the sources (tests) and from `build/ts` (CLIs).
 */
export function repoRoot(from: string = dirname(fileURLToPath(import.meta.url))): string {
  let dir = from;
  for (;;) {
    if (existsSync(join(dir, 'protos')) && existsSync(join(dir, 'package.json'))) return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`no repository root (protos/ and package.json) above ${from}`);
    dir = parent;
  }
}

export const protosDir = (): string => join(repoRoot(), 'protos');

/** A file of the project's test PKI (certs/, made by certs/generate.sh). */
export const certPath = (name: string): string => join(repoRoot(), 'certs', name);
