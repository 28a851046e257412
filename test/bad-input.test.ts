/**
 * Bad input through the real CLI: each kind of malformed or invalid matrix.yaml (made from the
 * repository's own file with one mistake) exits 2 with file, line and field and no stack trace;
 * a missing toolchain says what to install or to use Docker.
 */
import { mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { execa } from 'execa';
import { parse } from 'yaml';
import { repoRoot } from '../ts-common/src/paths.js';

const root = repoRoot();
const cli = join(root, 'build/ts/runner/src/cli.js');
const original = readFileSync(join(root, 'matrix.yaml'), 'utf8');

function edit(old: string, replacement: string): string {
  if (!original.includes(old)) throw new Error(`the test's anchor is gone from matrix.yaml: ${old}`);
  return original.replace(old, replacement);
}

const KF = '  - cell: "*→ts/*/grpc.testing/client_compressed_*"';

/** The index of the known_failures entry whose cell is `cell` (entries are added above it over time). */
function kfIndex(cell: string): number {
  const list = (parse(original) as { known_failures: Array<{ cell: string; reason?: string }> }).known_failures;
  const i = list.findIndex((k) => k.cell === cell);
  if (i < 0) throw new Error(`the test's anchor is gone from matrix.yaml: ${cell}`);
  return i;
}
const KF_AT = kfIndex('*→ts/*/grpc.testing/client_compressed_*');
/** The entry whose reason the "without a reason" kind renames. */
const GRPCIO_AT = (parse(original) as { known_failures: Array<{ reason: string }> }).known_failures.findIndex((k) => k.reason.startsWith('a grpcio client cannot compress one message'));

/** Each level refers nine times to the one before: 9^6 copies if aliases were expanded blindly. */
const ALIAS_BOMB = ['# an alias bomb', 'a: &a [x, x, x, x, x, x, x, x, x]', ...'bcdef'.split('').map((l, i) => `${l}: &${l} [${Array(9).fill(`*${'abcdef'[i]}`).join(', ')}]`), ''].join('\n');

// [kind, matrix.yaml text, what the message must say after "FILE:LINE: "]
const KINDS: Array<[string, string, RegExp]> = [
  ['YAML syntax', edit('    cases:\n', '    cases: [\n'), /^\d+: YAML syntax error: .*\(the line: /],
  ['empty file', '', /^ the file is empty; it needs implementations, suites and transports/],
  ['unknown top-level key', `${original}\nnotifications: {}\n`, /^\d+: notifications: unknown key "notifications"/],
  ['unknown key in an implementation', edit('    batch: true\n', '    batch: true\n    serve: [x]\n'), /^\d+: implementations\.ts\.serve: unknown key "serve"/],
  ['wrong type (boolean)', edit('    batch: true\n', '    batch: yes please\n'), /^24: implementations\.ts\.batch: Invalid input: expected boolean, received string/],
  ['wrong type (command line as a string)', edit('    server: [node, build/ts/ts-server/src/main.js]', '    server: node build/ts/ts-server/src/main.js'), /^\d+: implementations\.ts\.server: Invalid input: expected array, received string/],
  ['out-of-range number', `${original}\ntimeouts: {case_ms: -5}\n`, /^\d+: timeouts\.case_ms: Too small: expected number to be >=1/],
  ['bad implementation name', edit('  python:\n', '  Python:\n'), /^\d+: implementations\.Python: bad name: use lower-case letters, digits and dashes/],
  ['duplicate implementation', edit('implementations:\n', 'implementations:\n  go:\n    language: go\n    library: x\n    client: [x]\n'), /^\d+: YAML syntax error: Map keys must be unique .*\(the line: go:\)/],
  ['duplicate case', edit('      - greeter_say_hello\n', '      - greeter_say_hello\n      - greeter_say_hello\n'), /^\d+: suites\.seeds\.cases\[1\]: duplicate case "greeter_say_hello" \(already in suite seeds\)/],
  ['unknown client in a suite', edit('    clients: [ts, python, go, cpp]', '    clients: [ts, rust, go, cpp]'), /^\d+: suites\.seeds\.clients\[1\]: unknown client "rust"/],
  ['unknown transport in a suite', edit('    transports: [mtls]', '    transports: [mtsl]'), /^\d+: suites\.security\.transports\[0\]: unknown transport "mtsl"/],
  ['unknown implementation in build.after', edit('      command: [npm, run, --silent, build]\n', '      command: [npm, run, --silent, build]\n      after: [rust]\n'), /^\d+: implementations\.ts\.build\.after\[0\]: unknown implementation "rust"/],
  ['unknown case in known_failures', edit(KF, '  - cell: "*→ts/*/grpc.testing/client_compresed_streaming"'), new RegExp(`^\\d+: known_failures\\[${KF_AT}\\]\\.cell: unknown case "client_compresed_streaming" in `)],
  ['unknown implementation in known_failures', edit(KF, '  - cell: "*→rust/*/grpc.testing/client_compressed_*"'), new RegExp(`^\\d+: known_failures\\[${KF_AT}\\]\\.cell: unknown server "rust" in "\\*→rust/.*"; known: ts, python, go, cpp, upstream-go`)],
  ['malformed cell pattern', edit(KF, '  - cell: "*→ts/grpc.testing/client_compressed_*"'), new RegExp(`^\\d+: known_failures\\[${KF_AT}\\]\\.cell: ".*" is not a cell pattern: expected client→server/transport/suite/case`)],
  ['known failure without a reason', edit('    reason: a grpcio client cannot compress one message', '    reasons: a grpcio client cannot compress one message'), new RegExp(`^\\d+: known_failures\\[${GRPCIO_AT}\\]\\.reason: missing \\(required: string\\)`)],
  ['pattern that matches no cell', edit(KF, '  - cell: "*→ts/*/security/client_compressed_*"'), new RegExp(`^\\d+: known_failures\\[${KF_AT}\\]\\.cell: unknown case "client_compressed_\\*"|matches no cell`)],
  ['alias bomb (billion laughs)', `${ALIAS_BOMB}${original}`, /^[3-7]: YAML: too many aliases \(/],
  ['case name with a slash', edit('      - greeter_say_hello\n', '      - greeter/say_hello\n'), /^\d+: suites\.seeds\.cases\[0\]: bad case name "greeter\/say_hello": /],
  ['case name with a comma', edit('      - greeter_say_hello\n', '      - "greeter,say_hello"\n'), /^\d+: suites\.seeds\.cases\[0\]: bad case name "greeter,say_hello": /],
  ['case name with a space', edit('      - name: reuseport_workers\n', '      - name: reuseport workers\n'), /^\d+: suites\.seeds\.cases\[12\]\.name: bad case name "reuseport workers": /],
  ['case name with a pattern brace', edit('      - empty_unary\n', '      - "{empty_unary}"\n'), /^\d+: suites\.grpc\.testing\.cases\[0\]: bad case name "\{empty_unary\}": /],
  ['suite name with an arrow', edit('  security:\n', '  security→mtls:\n'), /^\d+: suites\.security→mtls: bad name: /],
  ['suite name with a star', edit('  security:\n', '  "security*":\n'), /^\d+: suites\.security\*: bad name: /],
];

describe('a malformed matrix.yaml', () => {
  it.each(KINDS)('%s: exit 2 naming the file, line and field', async (_kind, text, message) => {
    const file = join(mkdtempSync(join(tmpdir(), 'matrix-bad-')), 'matrix.yaml');
    writeFileSync(file, text);
    const run = await execa('node', [cli, '--config', file, '--list'], { cwd: root, reject: false, all: true, env: { NO_COLOR: '1' } });
    expect(run.exitCode).toBe(2);
    const prefix = `matrix: ${file}:`;
    expect(run.all?.startsWith(prefix) ? '' : run.all).toBe('');
    expect(run.all!.slice(prefix.length)).toMatch(message);
    expect(run.all).not.toMatch(/\n\s+at .*:\d+:\d+/); // no stack trace
  });

  it('is checked before anything runs (the same errors without --list)', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'matrix-bad-')), 'matrix.yaml');
    writeFileSync(file, KINDS[3]![1]);
    const run = await execa('node', [cli, '--config', file, '--out', dirname(file)], { cwd: root, reject: false, all: true, env: { NO_COLOR: '1' } });
    expect(run.exitCode).toBe(2);
    expect(run.all).toMatch(/implementations\.ts\.serve: unknown key "serve"/);
  });
});

describe('a missing toolchain', () => {
  it('names the missing commands, what to install, and --launcher docker; exit 2 before building anything', async () => {
    // A PATH with node only: no go, no python3.
    const bin = mkdtempSync(join(tmpdir(), 'matrix-path-'));
    symlinkSync(process.execPath, join(bin, 'node'));
    const out = mkdtempSync(join(tmpdir(), 'matrix-tool-'));
    const run = await execa(process.execPath, [cli, '--clients', 'go', '--servers', 'go', '--suites', 'seeds', '--out', out], {
      cwd: root,
      reject: false,
      all: true,
      extendEnv: false,
      env: { PATH: bin, HOME: process.env.HOME ?? '/tmp', NO_COLOR: '1' },
    });
    expect(run.exitCode).toBe(2);
    expect(run.all).toMatch(/^matrix: missing toolchain:\n/);
    expect(run.all).toMatch(/\n- go \(needed by "go"\): Go 1\.\d+ or newer \(https:\/\/go\.dev\/dl\/\)\n/);
    expect(run.all).toMatch(/\n- python3 \(needed by "python"\): Python 3\.\d+ or newer with the venv module/);
    expect(run.all).toMatch(/or run the peers in containers with --launcher docker/);
    expect(run.all).not.toMatch(/\n\s+at .*:\d+:\d+/);
  });
});

describe('--build-only and --save-images', () => {
  const run = (args: string[]) => execa('node', [cli, ...args, '--out', mkdtempSync(join(tmpdir(), 'matrix-build-only-'))], { cwd: root, reject: false, all: true, env: { NO_COLOR: '1' } });

  it('--save-images without --build-only, or without --launcher docker: one line, exit 2, nothing built', async () => {
    const alone = await run(['--save-images', 'images.tar']);
    expect(alone.exitCode).toBe(2);
    expect(alone.all).toBe('matrix: --save-images goes with --build-only (e.g. --build-only --launcher docker --save-images images.tar)');
    const local = await run(['--build-only', '--save-images', 'images.tar', '--clients', 'ts', '--servers', 'ts', '--suites', 'seeds']);
    expect(local.exitCode).toBe(2);
    expect(local.all).toBe('matrix: --save-images needs --launcher docker (it saves the images of the Docker launcher)');
  });

  it('--build-only builds what the selection needs (here: the TypeScript peers, fresh), one line each, and runs no cell', async () => {
    const built = await run(['--build-only', '--versions', 'default', '--clients', 'ts', '--servers', 'ts', '--suites', 'seeds']);
    expect(built.exitCode).toBe(0);
    expect(built.stdout).toMatch(/^ts\t(fresh|built)\t\d+\.\d s$/);
    expect(built.all).not.toMatch(/cells|passed/);
  });
});
