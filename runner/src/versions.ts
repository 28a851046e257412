/**
 * `matrix versions`: the library releases of matrix.yaml, and `matrix versions add IMPL VERSION`,
 * which pins one more release (the implementation's `other_versions.add` command writes its
 * lock), declares it in matrix.yaml (comments and layout kept) and builds it.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
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

/** Runs an implementation's `other_versions.add` for VERSION (throws when it fails). */
async function pin(impl: string, add: string[], version: string, root: string, log: (line: string) => void): Promise<void> {
  const [cmd, ...args] = add.map((a) => a.replaceAll('{version}', version));
  log(`pinning ${impl} ${version}: ${[cmd, ...args].join(' ')}`);
  const run = await execa(cmd!, args, { cwd: root, reject: false, stdio: ['ignore', 'inherit', 'inherit'] });
  if (run.exitCode !== 0) throw new ConfigError(`${[cmd, ...args].join(' ')} failed (exit ${run.exitCode ?? run.signal}): nothing was declared`);
}

/**
 * --latest: asks each library's registry for its newest release (`other_versions.latest`),
 * pins one that matrix.yaml does not declare (`other_versions.add`, as `versions add` does, but
 * without touching matrix.yaml) and returns a copy of the matrix file in OUT_DIR that declares
 * it, for this run only, with the release found per implementation.
 */
export async function withLatest(configFile: string, root: string, outDir: string, log: (line: string) => void): Promise<{ configFile: string; latest: Record<string, string> }> {
  const matrix = loadMatrix(configFile);
  let text = readFileSync(configFile, 'utf8');
  const latest: Record<string, string> = {};
  for (const [impl, spec] of Object.entries(matrix.implementations)) {
    const ask = spec.other_versions?.latest;
    const add = spec.other_versions?.add;
    if (!ask || !add || matrix.releases[impl]?.isDefault !== true) continue;
    const [cmd, ...args] = ask;
    const run = await execa(cmd!, args, { cwd: root, reject: false, stdin: 'ignore' });
    const printed = run.stdout.trim().replace(/^v/, '');
    if (run.exitCode !== 0) throw new ConfigError(`--latest: ${ask.join(' ')} failed (exit ${run.exitCode ?? run.signal}): ${(run.stderr.trim().split('\n').pop() ?? '').slice(0, 300)}`);
    if (semver.valid(printed) !== printed) throw new ConfigError(`--latest: ${ask.join(' ')} printed ${JSON.stringify(run.stdout.trim().slice(0, 100))}, not a release`);
    latest[impl] = printed;
    const declared = Object.entries(matrix.releases).some(([, r]) => r.base === impl && r.version === printed);
    if (declared) {
      log(`latest ${impl}: ${printed} (already declared)`);
      continue;
    }
    log(`latest ${impl}: ${printed} (not declared: pinned for this run)`);
    await pin(impl, add, printed, root, log);
    const list = parseDocument(text).getIn(['implementations', impl, 'versions']);
    if (!isSeq(list)) throw new ConfigError(`--latest: ${impl} has no versions list in ${configFile}`);
    text = withVersion(text, list, printed);
  }
  mkdirSync(outDir, { recursive: true });
  const copy = join(outDir, 'matrix.latest.yaml');
  writeFileSync(copy, text);
  return { configFile: copy, latest };
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
  try {
    await pin(impl, add, version, root, log);
  } catch (err) {
    throw new ConfigError(`versions add: ${(err as Error).message}`);
  }

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
