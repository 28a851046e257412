/**
 * The TypeScript peers as the runner starts them (needs the build, like the other tests of test/):
 * the server binary with --port=0, the client binary with --cases_file and a --test_case list
 * that mixes scripted and ordinary cases.
 */
import { join } from 'node:path';
import { execa, type ResultPromise } from 'execa';
import { repoRoot } from '../ts-common/src/paths.js';

const root = repoRoot();
const SAMPLE = join(root, 'test/fixtures/scripted-sample.json');
const client = (...args: string[]) => execa('node', ['build/ts/ts-client/src/main.js', ...args], { cwd: root, reject: false, stdin: 'ignore', timeout: 30_000 });

let server: ResultPromise | undefined;
let port = 0;

beforeAll(async () => {
  const s = execa('node', ['build/ts/ts-server/src/main.js', '--port=0'], { cwd: root, reject: false, stdin: 'ignore' });
  server = s;
  port = await new Promise<number>((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(() => reject(new Error(`no listening line within 20 s: ${seen}`)), 20_000);
    s.stdout.on('data', (chunk: Buffer) => {
      seen += chunk.toString('utf8');
      const match = /\{"event":"listening","port":(\d+)\}/.exec(seen);
      if (match) {
        clearTimeout(timer);
        resolve(Number(match[1]));
      }
    });
  });
});

afterAll(async () => {
  server?.kill('SIGTERM');
  await server;
});

describe('ts-client --cases_file', () => {
  it('runs the scripted cases on the executor and the others as ordinary cases, one line each', async () => {
    const names = ['unary_values', 'greeter_say_hello', 'non_ascii_metadata', 'bidi_cancel'];
    const run = await client('--server_host=127.0.0.1', `--server_port=${port}`, `--cases_file=${SAMPLE}`, `--test_case=${names.join(',')}`);
    expect(run.exitCode).toBe(0);
    const lines = run.stdout.split('\n').map((l) => JSON.parse(l) as { case: string; status: string; ms: number; observed?: Record<string, unknown> });
    expect(lines.map((l) => [l.case, l.status])).toEqual(names.map((n) => [n, 'passed']));
    expect(lines[0]!.observed).toMatchObject({ status: { code: 0, message: 'OK' }, responses: [{ values: { i64: '9007199254740993', by: { $bytes: '00ff' } } }] });
    // OK with a response: RequestInfo in that response (Any-free script walked like any field), no trailer.
    expect(lines[0]!.observed).toMatchObject({ responses: [{ request_info: { requests: [{ values: { i64: '-9007199254740993' } }] } }] });
    expect(lines[0]!.observed).not.toHaveProperty('request_info');
    expect(lines[1]!).not.toHaveProperty('observed');
    expect(lines[2]!.observed).toEqual({ local_error: 'Metadata string value "café" contains illegal characters' });
    expect(lines[3]!.observed).toMatchObject({ status: { code: 1 } });
  });

  it('a name the cases file does not have is an ordinary (here unknown) case', async () => {
    const run = await client('--server_host=127.0.0.1', `--server_port=${port}`, `--cases_file=${SAMPLE}`, '--test_case=no_such_case');
    expect(run.exitCode).toBe(1);
    expect(JSON.parse(run.stdout)).toMatchObject({ case: 'no_such_case', status: 'failed', error: 'unknown test case: no_such_case' });
  });

  it('an unreadable or malformed cases file is a usage error', async () => {
    const missing = await client('--server_port=1', '--cases_file=/nonexistent/cases.json', '--test_case=x');
    expect(missing.exitCode).toBe(2);
    expect(missing.stderr).toMatch(/--cases_file/);
    const malformed = await client('--server_port=1', `--cases_file=${join(root, 'package.json')}`, '--test_case=x');
    expect(malformed.exitCode).toBe(2);
    expect(malformed.stderr).toMatch(/expected \{"cases"/);
  });
});
