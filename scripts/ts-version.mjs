#!/usr/bin/env node
// Builds the TypeScript peers for one pinned @grpc/grpc-js release, beside the default build:
//
//   node scripts/ts-version.mjs 1.10.11
//
// gives build/versions/ts/1.10.11/{ts-server,ts-client,ts-common} (copies of the compiled trees
// of build/ts, so run `npm run build` first) and build/versions/ts/1.10.11/node_modules/@grpc/grpc-js,
// the release installed with `npm ci` from interop/ts-versions/1.10.11/package-lock.json.
//
// Layout, and why:
//   build/versions/ts/V/npm/                   package.json + package-lock.json of
//                                              interop/ts-versions/V, and `npm ci`'s node_modules
//                                              (grpc-js and its own dependencies: proto-loader 0.7,
//                                              protobufjs, @js-sdsl/ordered-map, …)
//   build/versions/ts/V/node_modules/@grpc/grpc-js -> ../../npm/node_modules/@grpc/grpc-js
//   build/versions/ts/V/node_modules/@grpc/reflection     a copy of the repository's
//   build/versions/ts/V/ts-server, ts-client, ts-common   the compiled peers (copies)
// From a peer's file, Node finds @grpc/grpc-js in build/versions/ts/V/node_modules first and
// every other package (@grpc/proto-loader 0.8.1, protobufjs, commander, …) further up, in the
// repository's node_modules: only grpc-js differs from the default peers. npm ci straight into
// build/versions/ts/V/node_modules would put grpc-js's own proto-loader 0.7 and protobufjs there
// too, in front of the repository's (and two protobufjs copies would meet in the scripted
// service). The link is resolved to its real path, so grpc-js's own requires find its own
// dependencies in npm/node_modules. @grpc/reflection (the server's reflection) requires
// @grpc/grpc-js itself and registers its services with that one: copied here (not linked: a link
// would be resolved to the repository's copy, which finds the repository's grpc-js), it finds the
// pinned release, the server's own, and everything else (its proto-loader, protobufjs) as before.
// No package.json in build/versions/ts/V itself: the compiled peers are ES modules because the
// repository's package.json says "type": "module", and a package.json nearer to them would say
// otherwise. No protos/ there either: ts-common's repoRoot() walks up to the nearest folder with
// protos/ and package.json, the repository.
//
// Idempotent: npm ci runs only when the pinned package.json or lock file changed (or the install
// is incomplete), the peer trees are copied only when build/ts changed; the check at the end
// runs every time (about a second in all when nothing changed).
//
// Pinning a release (no build):
//
//   node scripts/ts-version.mjs --add 1.12.6
//
// writes interop/ts-versions/1.12.6/package.json (the shape of the others, see pinnedPackageJson)
// and its package-lock.json (`npm install --package-lock-only --no-audit --no-fund --ignore-scripts`).
// The version must be an exact semver release that the registry has (`npm view`); refused with
// exit 2 otherwise. An existing folder is refreshed: package.json rewritten, the lock regenerated
// from scratch. npm runs in a temporary folder and both files are renamed into place only when it
// succeeded, so a failure leaves no folder (or the existing one as it was).
import { createHash } from 'node:crypto';
import { cpSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { execa } from 'execa';
import semver from 'semver';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const rel = (p) => relative(root, p) || '.';
const PEERS = ['ts-server', 'ts-client', 'ts-common'];

function fail(message, code = 2) {
  process.stderr.write(`ts-version: ${message}\n`);
  process.exit(code);
}

/** The package.json of interop/ts-versions/V: the same for every release, but for V. */
function pinnedPackageJson(v) {
  const pkg = {
    name: `grpc-interop-matrix-ts-grpc-js-${v}`,
    version: '0.0.0',
    private: true,
    description: `@grpc/grpc-js ${v} for the TypeScript peers (scripts/ts-version.mjs ${v})`,
    dependencies: { '@grpc/grpc-js': v },
  };
  return `${JSON.stringify(pkg, null, 2)}\n`;
}

/** --add V: pins @grpc/grpc-js V in interop/ts-versions/V (package.json + package-lock.json). */
async function add(v) {
  if (process.argv.length !== 4 || !v) fail('usage: node scripts/ts-version.mjs --add <grpc-js version>, e.g. 1.12.6');
  if (semver.valid(v) !== v) fail(`--add needs an exact semver release such as 1.12.6, not ${JSON.stringify(v)}`);
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

  // The registry must have that release (npm view: exit 0 and the version, or E404 / nothing when it has not).
  const view = await execa(npm, ['view', `@grpc/grpc-js@${v}`, 'version'], { cwd: root, reject: false, stdin: 'ignore' });
  if (view.exitCode !== 0 || view.stdout.trim() !== v) {
    if ((view.exitCode === 0 && view.stdout.trim() === '') || /\bE404\b/.test(view.stderr)) fail(`@grpc/grpc-js has no release ${v} on the registry`);
    const why = view.stderr.split('\n').find((l) => /error code/.test(l)) ?? view.stderr.split('\n').find((l) => l.trim()) ?? view.shortMessage ?? `exit ${view.exitCode}`;
    fail(`cannot check @grpc/grpc-js ${v} on the registry (npm view failed: ${why.trim()}; is the npm registry reachable?)`);
  }

  const pinned = join(root, 'interop', 'ts-versions', v);
  const shown = rel(pinned).split(sep).join('/');
  if (existsSync(pinned)) process.stderr.write(`ts-version: ${shown} exists: rewriting package.json and regenerating package-lock.json\n`);

  // npm in a temporary folder; the files go into place only when it succeeded.
  const packageJson = pinnedPackageJson(v);
  const work = mkdtempSync(join(tmpdir(), `ts-version-${v}-`));
  writeFileSync(join(work, 'package.json'), packageJson);
  const install = await execa(npm, ['install', '--package-lock-only', '--no-audit', '--no-fund', '--ignore-scripts'], { cwd: work, all: true, reject: false, stdin: 'ignore' });
  const lock = install.exitCode === 0 ? readFileSync(join(work, 'package-lock.json'), 'utf8') : '';
  rmSync(work, { recursive: true, force: true });
  if (install.exitCode !== 0) fail(`npm install --package-lock-only for @grpc/grpc-js ${v} failed (exit ${install.exitCode}; is the npm registry reachable?):\n${install.all}`);
  const locked = JSON.parse(lock).packages?.['node_modules/@grpc/grpc-js']?.version;
  if (locked !== v) fail(`the lock npm wrote for @grpc/grpc-js ${v} pins ${JSON.stringify(locked)}`, 1);

  // Each file written beside, then renamed into place.
  mkdirSync(pinned, { recursive: true });
  for (const [name, text] of [['package.json', packageJson], ['package-lock.json', lock]]) {
    const tmp = join(pinned, `.${name}.tmp.${process.pid}`);
    writeFileSync(tmp, text);
    renameSync(tmp, join(pinned, name));
  }
  process.stdout.write(`ts-version: pinned @grpc/grpc-js ${v} in ${shown} (package.json, package-lock.json)\n`);
}

if (process.argv[2] === '--add') {
  await add(process.argv[3]);
  process.exit(0);
}

const version = process.argv[2];
if (process.argv.length !== 3 || !version || !/^\d+\.\d+\.\d+([-+][0-9A-Za-z.-]+)?$/.test(version)) {
  fail('usage: node scripts/ts-version.mjs <grpc-js version>, e.g. 1.10.11');
}

const pinned = join(root, 'interop', 'ts-versions', version);
if (!existsSync(join(pinned, 'package.json')) || !existsSync(join(pinned, 'package-lock.json'))) {
  fail(
    `no interop/ts-versions/${version}: add it with ` +
      `mkdir -p interop/ts-versions/${version} && ` +
      `echo '{"private": true, "dependencies": {"@grpc/grpc-js": "${version}"}}' > interop/ts-versions/${version}/package.json && ` +
      `(cd interop/ts-versions/${version} && npm install --package-lock-only)`,
  );
}
const wanted = JSON.parse(readFileSync(join(pinned, 'package.json'), 'utf8')).dependencies?.['@grpc/grpc-js'];
if (wanted !== version) fail(`interop/ts-versions/${version}/package.json must depend on "@grpc/grpc-js": "${version}" exactly (it says ${JSON.stringify(wanted)})`);

const defaultBuild = join(root, 'build', 'ts');
for (const peer of PEERS) {
  if (!existsSync(join(defaultBuild, peer, 'src'))) fail(`no default build (${rel(join(defaultBuild, peer, 'src'))}): run \`npm run build\` first`);
}

const dest = join(root, 'build', 'versions', 'ts', version);
mkdirSync(dest, { recursive: true });

// 1. grpc-js, installed by npm ci from the pinned lock file (only when that changed).
const npmDir = join(dest, 'npm');
const lockHash = createHash('sha256')
  .update(readFileSync(join(pinned, 'package.json')))
  .update(readFileSync(join(pinned, 'package-lock.json')))
  .digest('hex');
const stamp = join(npmDir, '.installed');
const installedPkg = join(npmDir, 'node_modules', '@grpc', 'grpc-js', 'package.json');
const upToDate =
  existsSync(stamp) && readFileSync(stamp, 'utf8').trim() === lockHash && existsSync(installedPkg) && JSON.parse(readFileSync(installedPkg, 'utf8')).version === version;
if (!upToDate) {
  // Installed beside, then renamed into place: an interrupted install never looks complete.
  const tmp = `${npmDir}.tmp.${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  for (const f of ['package.json', 'package-lock.json']) cpSync(join(pinned, f), join(tmp, f));
  process.stderr.write(`ts-version: installing @grpc/grpc-js ${version} (npm ci in ${rel(npmDir)})…\n`);
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const result = await execa(npm, ['ci', '--no-audit', '--no-fund', '--ignore-scripts'], { cwd: tmp, all: true, reject: false, stdin: 'ignore' });
  if (result.exitCode !== 0) {
    rmSync(tmp, { recursive: true, force: true });
    fail(`npm ci for @grpc/grpc-js ${version} failed (exit ${result.exitCode}; is the npm registry reachable?):\n${result.all}`);
  }
  writeFileSync(join(tmp, '.installed'), `${lockHash}\n`);
  rmSync(npmDir, { recursive: true, force: true });
  renameSync(tmp, npmDir);
}

// 2. The link build/versions/ts/V/node_modules/@grpc/grpc-js -> ../../npm/node_modules/@grpc/grpc-js.
const link = join(dest, 'node_modules', '@grpc', 'grpc-js');
const target = relative(dirname(link), join(npmDir, 'node_modules', '@grpc', 'grpc-js'));
let linked = false;
try {
  linked = lstatSync(link).isSymbolicLink() && readlinkSync(link) === target;
} catch {
  // absent
}
if (!linked) {
  rmSync(link, { recursive: true, force: true });
  mkdirSync(dirname(link), { recursive: true });
  symlinkSync(target, link, 'junction'); // 'junction': a directory link Windows allows without privileges
}

// 3. @grpc/reflection, copied from the repository's node_modules (with its nested node_modules)
//    beside the link, so that its require('@grpc/grpc-js') finds the pinned release. Copied again
//    only when the repository's copy changed.
const reflectionFrom = join(root, 'node_modules', '@grpc', 'reflection');
const reflectionTo = join(dest, 'node_modules', '@grpc', 'reflection');
const reflectionStamp = join(reflectionTo, '.copied');
const reflectionHash = treeHash(reflectionFrom);
if (!existsSync(reflectionStamp) || readFileSync(reflectionStamp, 'utf8').trim() !== reflectionHash) {
  const tmp = `${reflectionTo}.tmp.${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  cpSync(reflectionFrom, tmp, { recursive: true, dereference: true });
  writeFileSync(join(tmp, '.copied'), `${reflectionHash}\n`);
  rmSync(reflectionTo, { recursive: true, force: true });
  renameSync(tmp, reflectionTo);
}

// 4. The compiled peers, copied (a symlinked tree would be resolved from build/ts, where
//    @grpc/grpc-js is the default one). Copied again only when build/ts changed, so that a call
//    with nothing new leaves the files of a running peer alone.
function treeHash(dir) {
  const hash = createHash('sha256');
  const files = readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath ?? e.path, e.name))
    .sort();
  for (const file of files) hash.update(`${relative(dir, file)}\0`).update(readFileSync(file)).update('\0');
  return hash.digest('hex');
}
const peersStamp = join(dest, '.peers');
const peersHash = createHash('sha256')
  .update(PEERS.map((peer) => `${peer}:${treeHash(join(defaultBuild, peer))}`).join('\n'))
  .digest('hex');
const peersCurrent =
  existsSync(peersStamp) && readFileSync(peersStamp, 'utf8').trim() === peersHash && PEERS.every((peer) => existsSync(join(dest, peer, 'src')));
if (!peersCurrent) {
  rmSync(peersStamp, { force: true });
  for (const peer of PEERS) {
    const to = join(dest, peer);
    const tmp = `${to}.tmp.${process.pid}`;
    rmSync(tmp, { recursive: true, force: true });
    cpSync(join(defaultBuild, peer), tmp, { recursive: true, dereference: true });
    rmSync(to, { recursive: true, force: true });
    renameSync(tmp, to);
  }
  writeFileSync(peersStamp, `${peersHash}\n`);
}

// 5. Check what a peer's file resolves: grpc-js the pinned release from this folder, everything
//    else the repository's, and the repository root found by ts-common's paths.js; and what
//    @grpc/reflection resolves: the same grpc-js, the repository's protobufjs.
const check = `
const { createRequire } = require('node:module');
const r = createRequire(${JSON.stringify(join(dest, 'ts-server', 'src', 'main.js'))});
const { realpathSync } = require('node:fs');
const grpc = r.resolve('@grpc/grpc-js');
const reflection = r.resolve('@grpc/reflection');
const fromReflection = createRequire(reflection);
console.log(JSON.stringify({
  version: r('@grpc/grpc-js/package.json').version,
  grpc: realpathSync(grpc),
  protoLoader: r.resolve('@grpc/proto-loader'),
  protobufjs: r.resolve('protobufjs'),
  reflection: realpathSync(reflection),
  reflectionGrpc: realpathSync(fromReflection.resolve('@grpc/grpc-js')),
  reflectionProtobufjs: fromReflection.resolve('protobufjs'),
}));`;
const probe = await execa(process.execPath, ['-e', check], { cwd: dest, reject: false, stdin: 'ignore' });
if (probe.exitCode !== 0) fail(`${rel(dest)}: cannot resolve the peers' packages:\n${probe.stderr}`, 1);
const found = JSON.parse(probe.stdout);
const inside = (p, dir) => p.startsWith(dir + sep);
if (found.version !== version) fail(`${rel(dest)}: @grpc/grpc-js resolves to ${found.version}, not ${version}`, 1);
if (!inside(found.grpc, npmDir)) fail(`${rel(dest)}: @grpc/grpc-js resolves to ${found.grpc}, outside ${rel(npmDir)}`, 1);
if (!inside(found.reflection, reflectionTo)) fail(`${rel(dest)}: @grpc/reflection resolves to ${found.reflection}, outside ${rel(reflectionTo)}`, 1);
if (found.reflectionGrpc !== found.grpc) fail(`${rel(dest)}: @grpc/reflection resolves @grpc/grpc-js to ${found.reflectionGrpc}, not ${found.grpc}`, 1);
for (const name of ['protoLoader', 'protobufjs', 'reflectionProtobufjs']) {
  if (inside(found[name], dest) || !inside(found[name], join(root, 'node_modules'))) fail(`${rel(dest)}: ${name} resolves to ${found[name]}, not the repository's node_modules`, 1);
}
const rootProbe = await execa(
  process.execPath,
  ['--input-type=module', '-e', `import { repoRoot } from ${JSON.stringify(pathToFileURL(join(dest, 'ts-common', 'src', 'paths.js')).href)}; console.log(repoRoot());`],
  { cwd: dest, reject: false, stdin: 'ignore' },
);
if (rootProbe.exitCode !== 0 || rootProbe.stdout.trim() !== root) fail(`${rel(dest)}: the peers find the repository root at ${rootProbe.stdout.trim() || rootProbe.stderr}, not ${root}`, 1);

process.stdout.write(`${rel(dest)}: TypeScript peers on @grpc/grpc-js ${found.version}\n`);
