/**
 * `matrix versions`: the library releases of matrix.yaml, and `matrix versions add IMPL VERSION`,
 * which pins one more release (the implementation's `other_versions.add` command writes its
 * lock), declares it in matrix.yaml (comments and layout kept) and builds it.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import semver from 'semver';
import { isSeq, parseDocument, type Scalar, type YAMLSeq } from 'yaml';
import { ensureBuilt } from './build.js';
import { ConfigError, loadMatrix, type Matrix } from './config.js';

/** One line per implementation: its releases, the default first. */
export function renderReleases(matrix: Matrix): string {
  const lines: string[] = [];
  const bases = [...new Set(Object.values(matrix.releases).map((r) => r.base))];
  for (const base of bases) {
    const releases = Object.entries(matrix.releases).filter(([, r]) => r.base === base);
    const impl = matrix.implementations[base]!;
    const versions = releases.filter(([, r]) => r.version).map(([, r]) => `${r.version}${r.isDefault ? ' (default)' : ''}`);
    lines.push(`${base} (${impl.library}): ${versions.length > 0 ? versions.join(', ') : 'one build, no versions declared'}`);
  }
  return `${lines.join('\n')}\n`;
}

/**
 * The file's text with VERSION appended to the versions list: an edit of that list alone (a
 * reprinted document would refold every long text of the file).
 */
export function withVersion(text: string, list: YAMLSeq, version: string): string {
  const [start, end] = list.range ?? [];
  if (start === undefined || end === undefined) throw new ConfigError('versions add: cannot locate the versions list');
  if (list.flow) {
    const close = text.lastIndexOf(']', end);
    return `${text.slice(0, close)}, "${version}"${text.slice(close)}`;
  }
  // A block list: one more "- " line, indented like the last item.
  const last = list.items[list.items.length - 1] as Scalar | undefined;
  const lastStart = last?.range?.[0] ?? start;
  const lineStart = text.lastIndexOf('\n', lastStart) + 1;
  const indent = /^(\s*)-/.exec(text.slice(lineStart))?.[1] ?? '  ';
  const lineEnd = text.indexOf('\n', lastStart);
  const at = lineEnd < 0 ? text.length : lineEnd + 1;
  return `${text.slice(0, at)}${indent}- "${version}"\n${text.slice(at)}`;
}

/**
 * Pins VERSION of IMPL: runs `other_versions.add` ({version} replaced), adds VERSION to the
 * implementation's `versions` in the matrix file (unless listed), then builds that release.
 * Returns the lines to print; throws ConfigError for what the user must fix.
 */
export async function addRelease(configFile: string, root: string, impl: string, version: string, log: (line: string) => void): Promise<void> {
  const matrix = loadMatrix(configFile);
  const spec = matrix.implementations[impl];
  if (!spec || matrix.releases[impl]?.isDefault !== true) throw new ConfigError(`versions add: no implementation "${impl}" in ${configFile} (implementations: ${Object.keys(matrix.implementations).filter((n) => !n.includes('@')).join(', ')})`);
  if (semver.valid(version) !== version) throw new ConfigError(`versions add: "${version}" is not an exact release (e.g. 1.62.3)`);
  const add = spec.other_versions?.add;
  if (!add) throw new ConfigError(`versions add: ${impl} has no other_versions.add in ${configFile} (the command that pins a release of it)`);
  const [cmd, ...args] = add.map((a) => a.replaceAll('{version}', version));
  log(`pinning ${impl} ${version}: ${[cmd, ...args].join(' ')}`);
  const run = await execa(cmd!, args, { cwd: root, reject: false, stdio: ['ignore', 'inherit', 'inherit'] });
  if (run.exitCode !== 0) throw new ConfigError(`versions add: ${[cmd, ...args].join(' ')} failed (exit ${run.exitCode ?? run.signal}): nothing was declared`);

  const text = readFileSync(configFile, 'utf8');
  const doc = parseDocument(text);
  const list = doc.getIn(['implementations', impl, 'versions']);
  if (!isSeq(list)) throw new ConfigError(`versions add: ${impl} has no versions list in ${configFile}`);
  const listed = list.items.some((item) => String((item as Scalar).value ?? item) === version);
  if (listed) {
    log(`${impl} ${version} is already declared in ${configFile}: its pins were refreshed`);
  } else {
    writeFileSync(configFile, withVersion(text, list, version));
    log(`declared ${impl}@${version} in ${configFile}`);
  }

  const fresh = loadMatrix(configFile);
  const key = fresh.releases[impl]?.version === version ? impl : `${impl}@${version}`;
  const built = await ensureBuilt(fresh, [key], { root, logDir: join(root, 'reports', 'logs', 'builds'), onProgress: log });
  const outcome = built.get(key);
  if (outcome?.status === 'failed') throw new ConfigError(`versions add: ${key} is declared but does not build: ${outcome.error}`);
  log(`${key} is built: run it with npm run matrix -- --clients ${key} (or --servers ${key})`);
}
