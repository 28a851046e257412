/**
 * Stage 3 — build: check each implementation's toolchain, then rebuild what is stale. A build is
 * stale when the content hash of its inputs changed or an output is missing; the hash is kept in
 * build/stamps/. A failed build does not stop the run: its cells fail with the build log.
 */
import { createHash } from 'node:crypto';
import { accessSync, constants, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { delimiter, dirname, join, relative } from 'node:path';
import { availableParallelism } from 'node:os';
import { execa } from 'execa';
import pLimit from 'p-limit';
import { startReaper } from './launcher/children.js';
import { ConfigError, type Build, type Matrix } from './config.js';
import { whileLocked } from './locks.js';

export interface BuildOutcome {
  impl: string;
  status: 'fresh' | 'built' | 'failed';
  ms: number;
  log?: string;
  error?: string;
}

export interface BuildOptions {
  root: string;
  logDir: string;
  onProgress?: (line: string) => void;
}

/** Files under `path` (a file or a folder), skipping excluded prefixes, sorted. */
function filesUnder(root: string, path: string, exclude: string[]): string[] {
  const abs = join(root, path);
  if (!existsSync(abs)) return [];
  const rels = statSync(abs).isDirectory()
    ? readdirSync(abs, { recursive: true, encoding: 'utf8' }).map((f) => join(path, f))
    : [path];
  return rels
    .filter((rel) => !exclude.some((ex) => rel === ex || rel.startsWith(`${ex}/`)))
    .filter((rel) => statSync(join(root, rel)).isFile())
    .sort();
}

export function inputHash(root: string, build: Build): string {
  const hash = createHash('sha256').update(JSON.stringify(build.command));
  for (const input of build.inputs) {
    for (const file of filesUnder(root, input, build.exclude)) {
      hash.update(file).update('\0').update(readFileSync(join(root, file))).update('\0');
    }
  }
  return hash.digest('hex');
}

function onPath(command: string): boolean {
  const dirs = command.includes('/') ? [''] : (process.env.PATH ?? '').split(delimiter);
  return dirs.some((dir) => {
    try {
      accessSync(dir ? join(dir, command) : command, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

/** The build of an implementation, or of a tool (`tools` in matrix.yaml) the run needs. */
const buildOf = (matrix: Matrix, name: string): Build | undefined => (matrix.implementations[name] ?? matrix.tools[name])?.build;

/** The implementations and everything their builds need first, dependencies before dependents. */
export function buildOrder(matrix: Matrix, impls: Iterable<string>): string[] {
  const order: string[] = [];
  const visit = (name: string, trail: string[]) => {
    if (order.includes(name)) return;
    if (trail.includes(name)) throw new ConfigError(`${matrix.file}: build dependency cycle: ${[...trail, name].join(' → ')}`);
    for (const dep of buildOf(matrix, name)?.after ?? []) visit(dep, [...trail, name]);
    order.push(name);
  };
  for (const name of impls) visit(name, []);
  return order;
}

/** Throws a ConfigError naming what to install when a required command is missing. */
export function checkToolchains(matrix: Matrix, impls: string[]): void {
  const missing: string[] = [];
  for (const name of impls) {
    for (const req of (matrix.implementations[name] ?? matrix.tools[name])?.requires ?? []) {
      if (!onPath(req.command)) missing.push(`- ${req.command} (needed by "${name}"): ${req.install}`);
    }
  }
  if (missing.length > 0) {
    throw new ConfigError(
      `missing toolchain:\n${missing.join('\n')}\n` +
        'Install what is missing, leave those implementations out (--clients/--servers), or run the peers in containers with --launcher docker.',
    );
  }
}

/**
 * Runs `build` holding the build lock of the checkout: two runs at once on one machine build
 * one after the other (the second then finds everything fresh), never into the same files at once.
 */
export function whileBuilding<T>(root: string, onProgress: ((line: string) => void) | undefined, build: () => Promise<T>, what: 'build' | 'images' = 'build'): Promise<T> {
  // Image builds write nothing under build/: they take a lock of their own, so that a run of
  // local processes never waits for another run's image builds.
  return whileLocked(join(root, 'build'), `.${what}.lock`, () => onProgress?.(`another run is building ${what === 'build' ? 'the peers' : 'images'}; waiting for it…`), build);
}

/** Builds every stale implementation of `impls` (with dependencies), in order. */
export async function ensureBuilt(matrix: Matrix, impls: Iterable<string>, options: BuildOptions): Promise<Map<string, BuildOutcome>> {
  const order = buildOrder(matrix, impls);
  checkToolchains(matrix, order);
  startReaper(); // builds too are ended if the runner dies
  return whileBuilding(options.root, options.onProgress, () => buildInOrder(matrix, order, options));
}

/** Builds run at once: releases of one library build side by side (pip, npm and go mostly wait on I/O at first). */
const BUILD_JOBS = Math.max(2, availableParallelism());

/**
 * Builds every implementation of `order` that is stale, each once its `after` builds are done,
 * up to BUILD_JOBS at a time.
 */
async function buildInOrder(matrix: Matrix, order: string[], options: BuildOptions): Promise<Map<string, BuildOutcome>> {
  const outcomes = new Map<string, BuildOutcome>();
  const limit = pLimit(BUILD_JOBS);
  const done = new Map<string, Promise<void>>();
  for (const name of order) {
    const deps = buildOf(matrix, name)?.after ?? [];
    done.set(
      name,
      Promise.all(deps.map((dep) => done.get(dep))).then(() => limit(async () => outcomes.set(name, await buildOne(matrix, name, outcomes, options))).then(() => undefined)),
    );
  }
  await Promise.all(done.values());
  // In build order, whatever order they finished in.
  return new Map(order.map((name) => [name, outcomes.get(name)!]));
}

/** One implementation's build: fresh (stamp and outputs match), built, or failed with why. */
async function buildOne(matrix: Matrix, name: string, outcomes: Map<string, BuildOutcome>, options: BuildOptions): Promise<BuildOutcome> {
  const { root, logDir } = options;
  const build = buildOf(matrix, name);
  if (!build) return { impl: name, status: 'fresh', ms: 0 };
  const failedDep = build.after.find((dep) => outcomes.get(dep)?.status === 'failed');
  if (failedDep) return { impl: name, status: 'failed', ms: 0, log: outcomes.get(failedDep)?.log, error: `its dependency "${failedDep}" failed to build` };
  const stamp = join(root, 'build', 'stamps', `${name}.json`);
  const hash = inputHash(root, build);
  const outputsThere = build.outputs.every((out) => existsSync(join(root, out)));
  const previous = existsSync(stamp) ? (JSON.parse(readFileSync(stamp, 'utf8')) as { hash?: string }).hash : undefined;
  if (previous === hash && outputsThere) return { impl: name, status: 'fresh', ms: 0 };
  options.onProgress?.(`building ${name}: ${build.command.join(' ')}`);
  const started = performance.now();
  const log = join(logDir, 'build', `${name}.log`);
  mkdirSync(dirname(log), { recursive: true });
  const result = await execa(build.command[0]!, build.command.slice(1), { cwd: root, all: true, reject: false, stdin: 'ignore' });
  writeFileSync(log, `$ ${build.command.join(' ')}\n${result.all ?? ''}\n`);
  const ms = Math.round(performance.now() - started);
  const missing = build.outputs.filter((out) => !existsSync(join(root, out)));
  if (result.failed || missing.length > 0) {
    const why = result.failed ? (result.exitCode !== undefined ? `exit code ${result.exitCode}` : result.shortMessage) : `it did not produce ${missing.join(', ')}`;
    options.onProgress?.(`build of ${name} failed (${why}); log: ${relative(root, log)}`);
    return { impl: name, status: 'failed', ms, log, error: `build failed (${why}); see ${relative(root, log)}` };
  }
  mkdirSync(dirname(stamp), { recursive: true });
  writeFileSync(stamp, `${JSON.stringify({ hash, builtAt: new Date().toISOString() })}\n`);
  options.onProgress?.(`built ${name} in ${(ms / 1000).toFixed(1)} s`);
  return { impl: name, status: 'built', ms, log };
}

/**
 * The gRPC library version installed for each of `impls` that declares `installed_version`:
 * its command's output, run by `run` (from the repository root, or in the peer's image). A
 * command that fails leaves the version unknown, and says why.
 */
export async function installedVersions(
  matrix: Matrix,
  impls: Iterable<string>,
  run: (impl: string, command: string[]) => Promise<{ ok: boolean; output: string }>,
): Promise<Map<string, string | { error: string }>> {
  const versions = new Map<string, string | { error: string }>();
  for (const impl of impls) {
    const command = matrix.implementations[impl]?.installed_version;
    if (!command) continue;
    const { ok, output } = await run(impl, command);
    const version = output.trim();
    versions.set(impl, ok && version !== '' && !version.includes('\n') ? version : { error: `\`${command.join(' ')}\` ${ok ? `printed ${JSON.stringify(output)}` : `failed: ${output.trim().split('\n').slice(-1)[0] ?? ''}`}` });
  }
  return versions;
}
