import { createHash } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { protosDir } from '../../ts-common/src/paths.js';
import { caughtByFor, loadCaseFile, type ScriptedCase } from '../src/scripted/cases.js';
import { derivedExpectation, expectationFor, judgeScripted, peerFamily } from '../src/scripted/judge.js';
import { scriptedRoot } from '../src/scripted/schema.js';
import { compareMessage, validateMessage } from '../src/scripted/values.js';
import { ConfigError } from '../src/yaml-file.js';

const root = scriptedRoot(protosDir());
const dir = mkdtempSync(join(tmpdir(), 'scripted-cases-'));

function caseOf(name: string, text: string): ScriptedCase {
  const file = join(dir, `${name}.yaml`);
  writeFileSync(file, text);
  return loadCaseFile(file, root, `cases/t/${name}.yaml`);
}

/** The message of the ConfigError a case file gets (a file that loads fails the test). */
function configErrorOf(name: string, text: string): string {
  try {
    caseOf(name, text);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    return err.message;
  }
  throw new Error('no error');
}

const diff = (type: string, expected: unknown, observed: unknown) => compareMessage(root, `interop.scripted.${type}`, expected as never, observed).map((d) => `${d.path}: ${d.text}`);

describe('values: observed against expected, by type', () => {
  test('64-bit integers: exact strings pass, a rounded JS number fails with its kind', () => {
    expect(diff('Values', { i64: '9007199254740993' }, { i64: '9007199254740993' })).toEqual([]);
    expect(diff('Values', { i64: '9007199254740993' }, { i64: 9007199254740992 })).toEqual(['i64: expected 9007199254740993, got 9007199254740992 (a floating-point number)']);
    expect(diff('Values', { i32: 5 }, { i32: '5' })).toEqual([]);
    expect(diff('Values', { u64: '18446744073709551615' }, { u64: { $long: '18446744073709551615' } })).toEqual([]);
  });

  test('implicit presence: absent equals the default; explicit presence: set-to-zero differs from unset', () => {
    expect(diff('Values', {}, { i32: 0, s: '', b: false })).toEqual([]);
    expect(diff('Values', { opt_i32: 0 }, {})).toEqual(['opt_i32: expected 0, got unset']);
    expect(diff('Values', {}, { opt_s: '' })).toEqual(['opt_s: expected unset, got ""']);
    expect(diff('Values', { choice_values: {} }, { choice_values: {} })).toEqual([]);
  });

  test('floats: NaN, -0 and float32 rounding', () => {
    expect(diff('Values', { d: 'NaN', f: 0.1 }, { d: 'NaN', f: Math.fround(0.1) })).toEqual([]);
    expect(diff('Values', { d: '-0' }, { d: 0 })).toEqual(['d: expected -0, got 0']);
    expect(diff('Values', { d: '-0' }, { d: '-0' })).toEqual([]);
  });

  test('enums by name or number; bytes in hex; map keys normalised', () => {
    expect(diff('Values', { color: 'BLUE' }, { color: 3 })).toEqual([]);
    expect(diff('Values', { color: 'BLUE' }, { color: 'BLUE' })).toEqual([]);
    expect(diff('Values', { color: 'BLUE' }, { color: 4 })).toEqual(['color: expected BLUE (3), got 4']);
    expect(diff('Values', { by: 'AP8=' }, { by: { $bytes: '00ff' } })).toEqual([]);
    expect(diff('Values', { by: 'AP8=' }, { by: 'AP8=' })).toEqual(['by: expected bytes 00 ff, got "AP8="']);
    expect(diff('Values', { bool_str: { true: 'y', false: 'n' } }, { bool_str: { true: 'y', false: 'n' } })).toEqual([]);
    expect(diff('Values', { bool_str: { true: 'y', false: 'n' } }, { bool_str: { true: 'n' } })).toEqual([
      'bool_str["true"]: expected "y", got "n"',
      'bool_str["false"]: missing key "false" (keys received: "true")',
    ]);
    expect(diff('Values', { i64_str: { '-1': 'm' } }, { i64_str: { '\u00ff\u00ff': 'm' } })[0]).toMatch(/missing key "-1"/);
  });

  test('repeated: length first, then each element', () => {
    expect(diff('Values', { packed_i64: ['1', '2'] }, { packed_i64: ['1'] })).toEqual(['packed_i64: expected 2 element(s), got 1']);
    expect(diff('Values', { packed_i64: ['1', '2'] }, { packed_i64: ['1', '3'] })).toEqual(['packed_i64[1]: expected 2, got "3"']);
  });

  test('unknown fields ($unknown): kept passes; dropped, changed or invented fails', () => {
    const sent = { s: 'x', $unknown: 'c03e9601', nested: { $unknown: 'D93E01' } };
    expect(diff('Values', sent, { s: 'x', $unknown: 'c03e9601', nested: { $unknown: 'd93e01' } })).toEqual([]);
    expect(diff('Values', sent, { s: 'x', nested: {} })).toEqual([
      '$unknown: expected unknown fields c0 3e 96 01, got none (the library dropped them)',
      'nested.$unknown: expected unknown fields d9 3e 01, got none (the library dropped them)',
    ]);
    expect(diff('Values', { $unknown: 'c03e01' }, { $unknown: 'c03e02' })).toEqual(['$unknown: expected unknown fields c0 3e 01, got c0 3e 02']);
    expect(diff('Values', { i32: 1 }, { i32: 1, $unknown: 'c03e01' })).toEqual(['$unknown: expected no unknown fields, got c0 3e 01']);
    expect(() => validateMessage(root, 'interop.scripted.Values', { $unknown: 'xyz' }, 'values')).toThrow('values.$unknown: "xyz" is not wire-format bytes in hex');
  });
});

describe('case files', () => {
  test('a case derives its expectation from the script', () => {
    const c = caseOf(
      'derive',
      `description: d
method: ServerStream
metadata: [{key: x-a, value: one}, {key: x-a, value: two}, {key: x-b-bin, hex: "00ff"}]
script: {replies: [{values: {i32: 1}}, {}], code: 10, message: m, trailers: [{key: x-t, values: [t]}]}
caught_by: [scripted-status-unknown]
`,
    );
    expect(derivedExpectation(c)).toEqual({
      status: { code: 10, message: 'm' },
      responses: [{ values: { i32: 1 } }, {}],
      trailers: { 'x-t': ['t'] },
      request_headers: { 'x-a': ['one', 'two'], 'x-b-bin': [{ hex: '00ff' }] },
      request_values: [{}],
    });
  });

  test('a mistake in a case file is reported with file:line and field', () => {
    const bad = (text: string) => configErrorOf('bad', text);
    expect(bad('description: d\nmethod: Unary\nscript: {replies: [{values: {i64: 1.5}}]}\ncaught_by: [scripted-read-all]\n')).toBe(
      'cases/t/bad.yaml:3: script: replies[0].values.i64: 1.5 is not an integer (write 64-bit integers as strings, e.g. "9007199254740993")',
    );
    expect(bad('description: d\nmethod: Unary\nscript: {}\ncaught_by: [no-such-fault]\n')).toMatch(/^cases\/t\/bad\.yaml:4: caught_by\[0\]: /);
    expect(bad('description: d\nmethod: Unary\nscript: {readRequests: 1}\ncaught_by: [scripted-read-all]\n')).toMatch(/bad\.yaml:3: script: .*"readRequests" \(write the proto field name, "read_requests"\)/);
    expect(bad('description: d\nmethod: Sideways\nscript: {}\ncaught_by: [scripted-read-all]\n')).toMatch(/bad\.yaml:2: method: /);
  });

  test('the judge names every difference, and a library difference replaces the expectation', () => {
    const c = caseOf(
      'judge',
      `description: d
method: Unary
script: {code: 5, message: gone, headers: [{key: x-h-bin, binary_values: [AAE=, Ag==]}]}
by_client:
  ts: {expect: {status: {code: 2}}, reason: why, reference: somewhere}
caught_by: [scripted-status-unknown]
`,
    );
    const good = { status: { code: 5, message: 'gone' }, responses: [], headers: [['x-h-bin', { $bytes: '0001' }], ['x-h-bin', { $bytes: '02' }]], request_info: { requests: [{}] } };
    expect(judgeScripted(root, c, good, 'go', 'python')).toBeUndefined();
    const joined = { ...good, headers: [['x-h-bin', { $bytes: '000102' }]] };
    expect(judgeScripted(root, c, joined, 'go', 'python')).toBe('cases/t/judge.yaml: header x-h-bin: expected [00 01, 02], got [00 01 02]');
    expect(judgeScripted(root, c, { ...good, status: { code: 2, message: 'gone' } }, 'go', 'python')).toMatch(/status: expected NOT_FOUND \(5\), got UNKNOWN \(2\)/);
    expect(judgeScripted(root, c, { ...good, status: { code: 2, message: 'gone' } }, 'ts', 'python')).toBeUndefined();
    expect(judgeScripted(root, c, { local_error: 'boom' }, 'go', 'python')).toMatch(/raised before the call had a status: boom/);
    expect(judgeScripted(root, c, { ...good, request_info: { requests: [] } }, 'go', 'python')).toMatch(/requests the server read: expected 1, got 0/);
  });

  test('RequestInfo is taken from the last response of an OK call, and is not part of the response compared', () => {
    const c = caseOf('ok', 'description: d\nmethod: Unary\nrequests: [{script: {replies: [{values: {i32: 1}}]}, values: {i64: "9007199254740993"}}]\ncaught_by: [scripted-request-info-empty]\n');
    const info = { requests: [{ values: { i64: '9007199254740993' } }] };
    expect(judgeScripted(root, c, { status: { code: 0, message: '' }, responses: [{ values: { i32: 1 }, request_info: info }] }, 'go', 'go')).toBeUndefined();
    expect(judgeScripted(root, c, { status: { code: 0, message: '' }, responses: [{ values: { i32: 1 }, request_info: { requests: [{ values: { i64: 9007199254740992 } }] } }] }, 'go', 'go')).toBe(
      'cases/t/ok.yaml: request[0].values (as the server read it).i64: expected 9007199254740993, got 9007199254740992 (a floating-point number)',
    );
    expect(judgeScripted(root, c, { status: { code: 0, message: '' }, responses: [{ values: { i32: 1 } }] }, 'go', 'go')).toMatch(/request info: none/);
  });

  test('text values joined with "," are equivalent (PROTOCOL-HTTP2); binary values are not; a list of codes is any of them', () => {
    const c = caseOf(
      'joined',
      'description: d\nmethod: Unary\nscript: {code: 9, headers: [{key: x-t, values: [a, b]}, {key: x-b-bin, binary_values: [AAE=, Ag==]}]}\nexpect: {status: {code: [9, 13]}}\ncaught_by: [scripted-metadata-joined]\n',
    );
    const base = { status: { code: 13, message: '' }, request_info: { requests: [{}] } };
    const bin: Array<[string, unknown]> = [['x-b-bin', { $bytes: '0001' }], ['x-b-bin', { $bytes: '02' }]];
    expect(judgeScripted(root, c, { ...base, headers: [['x-t', 'a, b'], ...bin] }, 'go', 'go')).toBeUndefined();
    expect(judgeScripted(root, c, { ...base, headers: [['x-t', 'a'], ['x-t', 'b'], ...bin] }, 'go', 'go')).toBeUndefined();
    expect(judgeScripted(root, c, { ...base, headers: [['x-t', 'a; b'], ...bin] }, 'go', 'go')).toMatch(/header x-t: expected \["a", "b"\], got \["a; b"\]/);
    expect(judgeScripted(root, c, { ...base, headers: [['x-t', 'a, b'], ['x-b-bin', { $bytes: '000102' }]] }, 'go', 'go')).toMatch(/header x-b-bin: expected \[00 01, 02\], got \[00 01 02\]/);
    expect(judgeScripted(root, c, { ...base, status: { code: 2, message: '' }, headers: [['x-t', 'a, b'], ...bin] }, 'go', 'go')).toMatch(/expected FAILED_PRECONDITION \(9\) or INTERNAL \(13\), got UNKNOWN \(2\)/);
  });

  test('a library\'s own expectation may name its own faults (caught_by): the self-test expects them of its cells only', () => {
    const c = caseOf(
      'own-faults',
      `description: d
method: Unary
metadata: [{key: ":path", value: /x}]
script: {}
expect: {status_or_local_error: {code: 0}}
caught_by: [scripted-request-info-empty]
by_client:
  python: {expect: {refused: true}, reason: r, reference: ref, caught_by: [scripted-lenient]}
`,
    );
    expect(caughtByFor(c, 'python', 'go')).toEqual(['scripted-lenient']);
    expect(caughtByFor(c, 'go', 'python')).toEqual(['scripted-request-info-empty']);
  });

  test('limits, compression and deadlines: channel options, per-call compression, server flags, $fill_bytes and fill_bytes', () => {
    const c = caseOf(
      'sizes',
      [
        'description: d',
        'method: ServerStream',
        'timeout_ms: 31536000000',
        'compression: gzip',
        'channel: {max_receive_message_length: 1024, compression: deflate}',
        'server_args: ["--max_send_message_length=1024"]',
        'requests: [{script: {replies: [{fill_bytes: 3, values: {s: x}}]}, $fill_bytes: 2}]',
        'caught_by: [scripted-client-limits-ignored, scripted-deadline-ignored]',
        '',
      ].join('\n'),
    );
    expect(c.serverArgs).toEqual(['--max_send_message_length=1024']);
    expect(c.instruction).toMatchObject({ timeout_ms: 31536000000, compression: 'gzip', channel: { max_receive_message_length: 1024, compression: 'deflate' } });
    const derived = derivedExpectation(c);
    expect(derived.responses).toEqual([{ values: { s: 'x', by: 'AAAA' } }]);
    expect(derived.request_values).toEqual([{ by: 'AAA=' }]);
    const bad = (text: string) => {
      try {
        caseOf('bad', text);
      } catch (err) {
        return (err as Error).message;
      }
      throw new Error('no error');
    };
    expect(bad('description: d\nmethod: Unary\nrequests: [{script: {}, $fill_bytes: -1}]\ncaught_by: [scripted-read-all]\n')).toMatch(/bad\.yaml:3: requests\[0\]\.\$fill_bytes: /);
    expect(bad('description: d\nmethod: Unary\nchannel: {compression: snappy}\ncaught_by: [scripted-read-all]\n')).toMatch(/bad\.yaml:3: channel\.compression: /);
    expect(bad('description: d\nmethod: Unary\nserver_args: [max=1]\ncaught_by: [scripted-read-all]\n')).toMatch(/bad\.yaml:3: server_args\[0\]: a server flag/);
    expect(bad('description: d\nmethod: Unary\ntimeout_ms: 31622400001\ncaught_by: [scripted-read-all]\n')).toMatch(/bad\.yaml:3: timeout_ms: /);
  });

  test('addressing: the peer family as each library names it, the :authority with {port}, a target on the server\'s Unix socket', () => {
    for (const [peer, family] of [
      ['ipv4:127.0.0.1:5555', 'ipv4'],
      ['tcp:127.0.0.1:5555', 'ipv4'],
      ['127.0.0.1:5555', 'ipv4'],
      ['::ffff:127.0.0.1:5555', 'ipv4'],
      ['ipv6:%5B::1%5D:5555', 'ipv6'],
      ['ipv6:[::1]:5555', 'ipv6'],
      ['tcp:[::1]:5555', 'ipv6'],
      ['::1:5555', 'ipv6'],
      ['unix:/tmp/s.sock', 'unix'],
      ['unix:', 'unix'],
      ['unix:@', 'unix'],
      ['unknown', 'unknown'],
      ['10.0.0.1:5555', undefined],
      ['ipv6:%zz', undefined],
    ] as const) expect([peer, peerFamily(peer)]).toEqual([peer, family]);
    const c = caseOf(
      'unix',
      [
        'description: d',
        'method: Unary',
        'server_args: ["--ipv6_loopback=true", "--unix_socket={unix_socket}"]',
        'channel: {target: "unix:{unix_socket}", authority: "a.example"}',
        'expect: {request_peer: unix, request_authority: "localhost:{port}"}',
        'caught_by: [scripted-peer-ipv4, scripted-target-ignored]',
        '',
      ].join('\n'),
    );
    expect(c.instruction.channel).toEqual({ target: 'unix:{unix_socket}', authority: 'a.example' });
    const info = (i: object) => ({ status: { code: 0, message: '' }, responses: [{ request_info: { requests: [{}], ...i } }] });
    expect(judgeScripted(root, c, info({ peer: 'unix:', authority: 'localhost:40123' }), 'go', 'go')).toBeUndefined();
    expect(judgeScripted(root, c, info({ peer: 'ipv4:127.0.0.1:1', authority: 'localhost:4x' }), 'go', 'go')).toBe(
      'cases/t/unix.yaml: client address (as the server saw it): expected unix, got "ipv4:127.0.0.1:1" (ipv4); :authority (as the server saw it): expected "localhost:{port}", got "localhost:4x"',
    );
    expect(judgeScripted(root, c, info({}), 'go', 'go')).toMatch(/expected unix, got no peer; :authority \(as the server saw it\): expected "localhost:\{port\}", got none$/);
    expect(() => caseOf('nosocket', 'description: d\nmethod: Unary\nchannel: {target: "unix:{unix_socket}"}\ncaught_by: [scripted-target-ignored]\n')).toThrow(
      /nosocket\.yaml:3: channel\.target: names \{unix_socket\}: the server must listen there, add server_args: \["--unix_socket=\{unix_socket\}"\]/,
    );
  });

  test('long bytes come as their SHA-256 and length: the digest and the length are compared', () => {
    const big = Buffer.alloc(70_000, 7);
    const digest = createHash('sha256').update(big).digest('hex');
    expect(diff('Values', { by: big.toString('base64') }, { by: { $sha256: digest, $length: 70_000 } })).toEqual([]);
    const short = big.subarray(1);
    const other = createHash('sha256').update(short).digest('hex');
    expect(diff('Values', { by: big.toString('base64') }, { by: { $sha256: other, $length: 69_999 } })).toEqual([`by: expected 70000 bytes with SHA-256 ${digest}, got 69999 bytes with SHA-256 ${other}`]);
  });

  test('long expected bytes are converted once and kept by content: two values of one length stay apart, a case judged again keeps its verdicts', () => {
    const a = Buffer.alloc(70_000, 1);
    const b = Buffer.alloc(70_000, 2);
    const hex = (x: Buffer) => ({ by: { $sha256: createHash('sha256').update(x).digest('hex'), $length: x.length } });
    for (let i = 0; i < 3; i++) {
      expect(diff('Values', { by: a.toString('base64') }, hex(a))).toEqual([]);
      expect(diff('Values', { by: b.toString('base64') }, hex(b))).toEqual([]);
      expect(diff('Values', { by: a.toString('base64') }, hex(b))).toHaveLength(1);
    }
    // A case's expectation is worked out once per pairing and shared by its cells: judging one
    // cell must not change what the next one is held to.
    const c = caseOf('again', 'description: d\nmethod: ServerStream\nscript: {replies: [{fill_bytes: 70000}], code: 5, message: gone}\ncaught_by: [scripted-bytes-truncated]\n');
    const ok = { status: { code: 5, message: 'gone' }, responses: [{ values: hex(Buffer.alloc(70_000)) }], request_info: { requests: [{}] } };
    const short = { ...ok, responses: [{ values: hex(Buffer.alloc(69_999)) }] };
    for (let i = 0; i < 2; i++) {
      expect(judgeScripted(root, c, ok, 'ts', 'go')).toBeUndefined();
      expect(judgeScripted(root, c, short, 'ts', 'go')).toMatch(/responses\[0\]\.values\.by: expected 70000 bytes/);
      expect(judgeScripted(root, c, { status: { code: 0, message: '' } }, 'ts', 'go')).toMatch(/status: expected NOT_FOUND \(5\), got OK/);
    }
    expect(expectationFor(c, 'ts', 'go')).toBe(expectationFor(c, 'ts', 'go'));
    expect(expectationFor(c, 'ts', 'go')).not.toBe(expectationFor(c, 'go', 'ts'));
  });

  test('a network that breaks calls judges only the end: one of its codes, never a success, whatever the case expects', () => {
    const c = caseOf('cut', 'description: d\nmethod: ServerStream\nscript: {replies: [{fill_bytes: 100000}]}\ncaught_by: [scripted-bytes-truncated]\n');
    const cut = { codes: [14], reason: 'a cut connection ends UNAVAILABLE' };
    expect(judgeScripted(root, c, { status: { code: 14, message: 'Connection dropped' } }, 'ts', 'go', cut)).toBeUndefined();
    expect(judgeScripted(root, c, { status: { code: 1, message: 'Call cancelled' } }, 'ts', 'go', cut)).toMatch(/status: expected UNAVAILABLE \(14\), got CANCELLED \(1\).*\(on this network: a cut connection ends UNAVAILABLE\)$/);
    expect(judgeScripted(root, c, { status: { code: 0, message: '' }, responses: [] }, 'ts', 'go', cut)).toMatch(/expected UNAVAILABLE \(14\), got OK \(0\)/);
    // Without the network, the same observation is judged against the case.
    expect(judgeScripted(root, c, { status: { code: 14, message: 'Connection dropped' } }, 'ts', 'go')).toMatch(/status: expected OK/);
  });

  test('lifecycle: concurrent calls each judged, follow-ups with their own expectations, the connection compared by client address', () => {
    const c = caseOf(
      'life',
      [
        'description: d',
        'method: Unary',
        'concurrent: 2',
        'server_args: ["--max_concurrent_streams=1"]',
        'channel: {keepalive_time_ms: 100, keepalive_permit_without_calls: true}',
        'script: {call_id: "{run}", delay_ms: 10}',
        'expect: {request_active_calls: {max: 1}}',
        'followups:',
        '  - {after_ms: 5, method: Unary, script: {report_call: "{run}"}, expect: {new_connection: true, reported_call: {ended: completed, replies_sent: {min: 1, max: 1}}}}',
        'by_server:',
        '  ts: {expect: {}, followups: [{new_connection: false}], reason: r, reference: ref}',
        'caught_by: [scripted-lifecycle-ignored]',
        '',
      ].join('\n'),
    );
    expect(c.instruction.concurrent).toBe(2);
    expect(c.instruction.followups).toEqual([{ after_ms: 5, method: 'Unary', metadata: [], requests: [{ script: { report_call: '{run}' } }] }]);
    const call = (info: object) => ({ status: { code: 0, message: 'OK' }, responses: [{ request_info: { requests: [{ script: { call_id: 'x', delay_ms: 10 } }], ...info } }] });
    const report = (peer: string, ended: string, sent: number) => call({ peer, reported_call: { ended, replies_sent: sent } });
    const good = { ...call({ peer: '127.0.0.1:1000', active_calls: 1 }), concurrent: [call({ peer: '127.0.0.1:1000', active_calls: 1 })], followups: [report('127.0.0.1:2000', 'completed', 1)] };
    // the follow-up's request differs from the case's: its own derived expectation
    good.followups[0]!.responses[0]!.request_info.requests = [{ script: { report_call: 'x' } } as never];
    expect(judgeScripted(root, c, good, 'go', 'go')).toBeUndefined();
    const bad = { ...good, concurrent: [call({ peer: '127.0.0.1:1000', active_calls: 2 })], followups: [{ ...report('127.0.0.1:1000', 'cancelled', 3), responses: good.followups[0]!.responses }] };
    bad.followups[0]!.responses = [{ request_info: { requests: [{ script: { report_call: 'x' } }], peer: '127.0.0.1:1000', reported_call: { ended: 'cancelled', replies_sent: 3 } } }] as never;
    const problems = judgeScripted(root, c, bad, 'go', 'go') ?? '';
    expect(problems).toMatch(/concurrent call 2: calls the server was handling when this one started \(active_calls\): expected 0\.\.1, got 2/);
    expect(problems).toMatch(/follow-up 1: the earlier call as the server saw it: expected it completed, got "cancelled"/);
    expect(problems).toMatch(/follow-up 1: the earlier call as the server saw it: expected 1\.\.1 replies sent before it stopped, got 3/);
    expect(problems).toMatch(/follow-up 1: expected a new connection as the first call, but the server saw the client at "127\.0\.0\.1:1000" then "127\.0\.0\.1:1000"/);
    // a library's own follow-up expectation replaces the case's
    expect(judgeScripted(root, c, bad, 'go', 'ts')).not.toMatch(/expected a new connection/);
    expect(judgeScripted(root, c, { ...good, concurrent: [], followups: [] }, 'go', 'go')).toMatch(/concurrent calls: expected 1 more reported, got 0; follow-ups: expected 1 reported, got 0/);
    const bad2 = (text: string) => configErrorOf('bad2', text);
    expect(bad2('description: d\nmethod: Unary\nexpect: {new_connection: true}\ncaught_by: [scripted-read-all]\n')).toMatch(/bad2\.yaml:3: expect\.new_connection: only a follow-up/);
    expect(bad2('description: d\nmethod: Unary\nfollowups: [{method: Unary, requests: [{}, {}]}]\ncaught_by: [scripted-read-all]\n')).toMatch(/bad2\.yaml:3: followups\[0\]\.requests: Unary sends exactly one request/);
    expect(bad2('description: d\nmethod: Unary\nconcurrent: 0\ncaught_by: [scripted-read-all]\n')).toMatch(/bad2\.yaml:3: concurrent: /);
  });

  test('connections: the calls of one channel counted by the client address the server saw, each carrying enough of them', () => {
    const c = caseOf(
      'lb',
      [
        'description: d',
        'method: Unary',
        'server_args: ["--second_host=127.0.0.2"]',
        'channel: {addresses: ["{host}:{port}", "127.0.0.2:{port}"], lb_policy: round_robin}',
        'script: {}',
        'followups: [{method: Unary, script: {}}, {method: Unary, script: {}}, {method: Unary, script: {}}]',
        'connections: {count: 2, min_calls_each: 2}',
        'caught_by: [scripted-second-host-ignored]',
        '',
      ].join('\n'),
    );
    expect(c.instruction.channel).toEqual({ addresses: ['{host}:{port}', '127.0.0.2:{port}'], lb_policy: 'round_robin' });
    const at = (peer?: string) => ({ status: { code: 0, message: 'OK' }, responses: [{ request_info: { requests: [{ script: {} }], ...(peer ? { peer } : {}) } }] });
    const run = (...peers: Array<string | undefined>) => ({ ...at(peers[0]), followups: peers.slice(1).map(at) });
    expect(judgeScripted(root, c, run('ipv4:127.0.0.1:1', 'ipv4:127.0.0.1:2', 'ipv4:127.0.0.1:1', 'ipv4:127.0.0.1:2'), 'go', 'go')).toBeUndefined();
    expect(judgeScripted(root, c, run('ipv4:127.0.0.1:1', 'ipv4:127.0.0.1:1', 'ipv4:127.0.0.1:1', 'ipv4:127.0.0.1:1'), 'go', 'go')).toMatch(/expected the 4 calls over 2 connections, but the server saw the client at 1 address: ipv4:127\.0\.0\.1:1 ×4/);
    expect(judgeScripted(root, c, run('ipv4:127.0.0.1:1', 'ipv4:127.0.0.1:1', 'ipv4:127.0.0.1:1', 'ipv4:127.0.0.1:2'), 'go', 'go')).toMatch(/expected each of the 2 connections to carry at least 2 of the 4 calls, but the server saw ipv4:127\.0\.0\.1:1 ×3, ipv4:127\.0\.0\.1:2 ×1/);
    expect(judgeScripted(root, c, run('ipv4:127.0.0.1:1', undefined, 'ipv4:127.0.0.1:1', 'ipv4:127.0.0.1:2'), 'go', 'go')).toMatch(/cannot count the connections: the server reported no client address for follow-up 1/);
    const bad = (text: string) => configErrorOf('bad3', text);
    expect(bad('description: d\nmethod: Unary\nconnections: {count: 1}\ncaught_by: [scripted-read-all]\n')).toMatch(/bad3\.yaml:3: connections: the connections of one call cannot spread: add followups/);
    expect(bad('description: d\nmethod: Unary\nchannel: {target: "x:1", addresses: ["a:1", "b:1"]}\ncaught_by: [scripted-read-all]\n')).toMatch(/bad3\.yaml:3: channel\.addresses: give either target or addresses/);
    expect(bad('description: d\nmethod: Unary\nchannel: {addresses: ["a:1"]}\ncaught_by: [scripted-read-all]\n')).toMatch(/bad3\.yaml:3: channel\.addresses: /);
    expect(bad('description: d\nmethod: Unary\nchannel: {lb_policy: grpclb}\ncaught_by: [scripted-read-all]\n')).toMatch(/bad3\.yaml:3: channel\.lb_policy: /);
  });

  test('raw cases: the frames compile into the x-raw-response-bin header, with their own channel and no RequestInfo; mistakes name file:line and field', () => {
    const c = caseOf(
      'raw',
      [
        'description: d',
        'method: Unary',
        'script: {}',
        'raw_response:',
        '  respond_before_end: true',
        '  actions:',
        '    - {headers: [[":status", "200"], ["content-type", "application/grpc"]], split: 4}',
        '    - {message: {values: {i32: 7}}, frame_size: 1}',
        '    - {message_hex: "0a00", compressed: true, length: 9}',
        '    - {rst_stream: CANCEL}',
        '    - {goaway: ENHANCE_YOUR_CALM, debug: x}',
        'expect: {status: {code: 1}}',
        'followups:',
        '  - {method: Unary, script: {}, raw_response: {actions: [{close: true}]}, expect: {status: {code: 14}}}',
        'caught_by: [raw-well-behaved]',
        '',
      ].join('\n'),
    );
    const header = (metadata: Array<{ key: string; value: unknown }>) => {
      const entry = metadata.find((m) => m.key === 'x-raw-response-bin')!;
      return JSON.parse(Buffer.from((entry.value as { $bytes: string }).$bytes, 'hex').toString()) as unknown;
    };
    expect(header(c.instruction.metadata)).toEqual({
      respond_before_end: true,
      actions: [
        { headers: [[':status', '200'], ['content-type', 'application/grpc']], split: 4 },
        { message: '0a020807', frame_size: 1 }, // ScriptedResponse{values: {i32: 7}}
        { message: '0a00', compressed: true, length: 9 },
        { rst_stream: 8 },
        { goaway: 11, debug: 'x' },
      ],
    });
    expect(header(c.instruction.followups![0]!.metadata)).toEqual({ respond_before_end: false, actions: [{ close: true }] });
    expect(c.instruction.channel).toEqual({});
    expect(c.expect.no_request_info).toBe(true);
    // judged on what the client saw: no RequestInfo is expected, and nothing is derived from the script
    expect(judgeScripted(root, c, { status: { code: 1, message: 'Cancelled' }, followups: [{ status: { code: 14, message: 'gone' } }] }, 'go', 'raw')).toBeUndefined();
    expect(judgeScripted(root, c, { status: { code: 0, message: '' }, responses: [{ values: {} }], followups: [{ status: { code: 14, message: 'gone' } }] }, 'go', 'raw')).toMatch(/status: expected CANCELLED \(1\), got OK/);
    const bad = (text: string) => configErrorOf('bad4', `description: d\nmethod: Unary\n${text}caught_by: [raw-well-behaved]\n`);
    expect(bad('raw_response: {actions: [{data: "00", rst_stream: CANCEL}]}\nexpect: {status: {code: 1}}\n')).toMatch(/bad4\.yaml:3: raw_response\.actions\[0\]: one of headers, message, message_hex, data, rst_stream, goaway, sleep_ms, close \(data and rst_stream given\)/);
    expect(bad('raw_response: {actions: [{rst_stream: OOPS}]}\nexpect: {status: {code: 1}}\n')).toMatch(/bad4\.yaml:3: raw_response\.actions\[0\]\.rst_stream: /);
    expect(bad('raw_response: {actions: [{message: {values: {i32: "x"}}}]}\nexpect: {status: {code: 1}}\n')).toMatch(/bad4\.yaml:3: raw_response\.actions\[0\]\.message: /);
    expect(bad('raw_response: {actions: [{close: true}]}\n')).toMatch(/bad4\.yaml:\d+: expect: a raw case says what the client sees: expect\.status/);
    expect(bad('raw_response: {actions: [{close: true}]}\nexpect: {status: {code: 1}}\nfollowups: [{method: Unary, script: {}}]\n')).toMatch(/bad4\.yaml:5: followups\[0\]: a raw case's follow-up says what the raw server answers: raw_response/);
  });

  test('raw_request cases: request_headers become a correct request\'s header block with the case\'s changes; messages encoded (and compressed); nothing derived; mistakes name file:line and field', () => {
    const c = caseOf(
      'rawreq',
      [
        'description: d',
        'method: ServerStream',
        'raw_request:',
        '  actions:',
        '    - {request_headers: {set: [[grpc-timeout, 1S], [x-extra, "1"]], drop: [te]}, split: 3}',
        '    - {message: {script: {}}, frame_size: 1}',
        '    - {message: {values: {s: "z"}}, compress: gzip, end_stream: true}',
        '    - {headers: [[":path", "{scheme}://{authority}"]]}',
        '    - {rst_stream: CANCEL}',
        '    - {wait: headers}',
        'timeout_ms: 2000',
        'expect: {raw: {failed: true}}',
        'caught_by: [raw-client-well-behaved]',
        '',
      ].join('\n'),
    );
    const actions = c.instruction.raw_request!.actions;
    expect(actions[0]).toEqual({
      headers: [[':method', 'POST'], [':scheme', '{scheme}'], [':path', '/interop.scripted.Scripted/ServerStream'], [':authority', '{authority}'], ['content-type', 'application/grpc'], ['grpc-timeout', '1S'], ['x-extra', '1']],
      split: 3,
    });
    expect(actions[1]).toEqual({ message: '0a00', frame_size: 1 }); // ScriptedRequest{script: {}}
    expect(actions[2]).toMatchObject({ compressed: true, end_stream: true });
    const request = root.lookupType('interop.scripted.ScriptedRequest');
    expect(request.toObject(request.decode(gunzipSync(Buffer.from(actions[2]!['message'] as string, 'hex'))))).toEqual({ values: { s: 'z' } });
    expect(actions.slice(3)).toEqual([{ headers: [[':path', '{scheme}://{authority}']] }, { rst_stream: 8 }, { wait: 'headers' }]);
    expect(c.instruction.timeout_ms).toBe(2000);
    expect(c.raw).toBe('client');
    // nothing derived from a script: only the case's own expectation
    expect(expectationFor(c, 'raw', 'go').expect).toEqual({ raw: { failed: true } });
    const bad = (text: string) => configErrorOf('bad5', `description: d\nmethod: Unary\n${text}caught_by: [raw-client-well-behaved]\n`);
    expect(bad('raw_request: {actions: [{request_headers: {drop: [grpc-timeout]}}]}\nexpect: {status: {code: 0}}\n')).toMatch(/bad5\.yaml:3: raw_request\.actions\[0\]\.request_headers\.drop: "grpc-timeout" is not a field of the request's header block/);
    expect(bad('raw_request: {actions: [{data: "00", wait: headers}]}\nexpect: {status: {code: 0}}\n')).toMatch(/bad5\.yaml:3: raw_request\.actions\[0\]: one of request_headers, headers, message, message_hex, data, rst_stream, goaway, sleep_ms, wait \(data and wait given\)/);
    expect(bad('raw_request: {actions: [{message: {values: {i32: "x"}}}]}\nexpect: {status: {code: 0}}\n')).toMatch(/bad5\.yaml:3: raw_request\.actions\[0\]\.message: /);
    expect(bad('raw_request: {actions: [{data: ""}]}\n')).toMatch(/bad5\.yaml:\d+: expect: a raw_request case says what the raw client sees: expect\.status or expect\.raw/);
    expect(bad('script: {}\nraw_request: {actions: [{data: ""}]}\nexpect: {status: {code: 0}}\n')).toMatch(/bad5\.yaml:3: script: a raw_request case sends only its frames/);
    expect(bad('metadata: [{key: a, value: b}]\nraw_request: {actions: [{data: ""}]}\nexpect: {status: {code: 0}}\n')).toMatch(/bad5\.yaml:3: metadata: a raw_request case sends only its frames: put request metadata in a request_headers action/);
    expect(bad('script: {}\nexpect: {status: {code: 0}, raw: {failed: true}}\n')).toMatch(/bad5\.yaml:4: expect\.raw: only a raw_request case \(the raw client\) sees the wire/);
  });

  test('raw_request cases are judged on the wire as a gRPC client reads it: grpc-status (trailers or trailers-only), percent-decoded grpc-message, messages and RequestInfo decoded, expect.raw', () => {
    const c = caseOf('rawjudge', 'description: d\nmethod: Unary\nraw_request: {actions: [{request_headers: {}}]}\nexpect: {status: {code: 0}, responses: [{values: {s: "é"}}], request_timeout_ms: {min: 900, max: 1000}, trailers: {x-t: ["v"]}, raw: {http_status: 200, end: end_stream, trailers_only: false, header_tokens: {grpc-accept-encoding: [gzip]}}}\ncaught_by: [raw-client-well-behaved]\n');
    const t = root.lookupType('interop.scripted.ScriptedResponse');
    const info = root.lookupType('interop.scripted.RequestInfo');
    const message = Buffer.from(t.encode(t.fromObject({ values: { s: 'é' } })).finish()).toString('hex');
    const ok = {
      http_status: '200',
      headers: [[':status', '200'], ['content-type', 'application/grpc'], ['grpc-accept-encoding', 'identity, deflate,gzip']],
      messages: [{ compressed: false, hex: message }],
      trailers: [['grpc-status', '0'], ['grpc-message', ''], ['x-t', 'v'], ['x-scripted-request-info-bin', Buffer.from(info.encode(info.fromObject({ timeout_ms: 950 })).finish()).toString('base64')]],
      end: 'end_stream',
    };
    expect(judgeScripted(root, c, { raw: ok }, 'raw', 'go')).toBeUndefined();
    const judged = (raw: object) => judgeScripted(root, c, { raw: { ...ok, ...raw } }, 'raw', 'go') ?? '';
    expect(judged({ trailers: [['grpc-status', '13'], ['grpc-message', 'bad%2C%zz%C3%A9']] })).toMatch(/status: expected OK \(0\), got INTERNAL \(13\) "bad,%zzé"/);
    expect(judged({ headers: [[':status', '200'], ['grpc-status', '12'], ['grpc-accept-encoding', 'gzip']], end_stream_on_headers: true, trailers: undefined, messages: undefined })).toMatch(/status: expected OK \(0\), got UNIMPLEMENTED \(12\).*expected headers before the end of the stream, got a trailers-only response/);
    expect(judged({ http_status: '415', end: 'rst_stream', rst_stream: 2 })).toMatch(/HTTP status: expected 200, got "415".*the stream: expected it to end by end_stream, got "rst_stream"/);
    expect(judged({ headers: [[':status', '200'], ['grpc-accept-encoding', 'identity,deflate']] })).toMatch(/header grpc-accept-encoding: expected it to list gzip, got "identity,deflate"/);
    expect(judged({ messages: [{ compressed: true, hex: message }] })).toMatch(/responses\[0\]/);
    const failedCase = caseOf('rawfailed', 'description: d\nmethod: Unary\nraw_request: {actions: [{request_headers: {}}]}\nexpect: {raw: {failed: true, rst_stream: [PROTOCOL_ERROR, CANCEL]}}\ncaught_by: [raw-client-well-behaved]\n');
    const failed = (raw: object) => judgeScripted(root, failedCase, { raw: { end: 'rst_stream', rst_stream: 1, ...raw } }, 'raw', 'go') ?? '';
    expect(failed({})).toBe('');
    expect(failed({ rst_stream: 2 })).toMatch(/RST_STREAM: expected PROTOCOL_ERROR or CANCEL, got INTERNAL_ERROR/);
    expect(failed({ end: 'timeout', rst_stream: 8 })).toMatch(/expected the call to fail .*got the stream ending by "timeout" without any/);
    expect(failed({ end: 'end_stream', trailers: [['grpc-status', '0']] })).toMatch(/expected the call to fail .*got grpc-status 0 \(OK\)/);
  });

  test('by_pair: one pairing\'s own expectation wins over the client\'s and the server\'s; no_request_info false lifts the case\'s true', () => {
    const c = caseOf(
      'pair',
      [
        'description: d',
        'method: ServerStream',
        'script: {replies: [{values: {i32: 1}}, {values: {i32: 2}, delay_ms: 100}]}',
        'expect: {status: {code: 14}, responses: [{values: {i32: 1}}], no_request_info: true}',
        'by_client:',
        '  ts: {expect: {status: {code: 8}}, reason: client, reference: r}',
        'by_server:',
        '  ts: {expect: {status: {code: 0}, responses: [{values: {i32: 1}}, {values: {i32: 2}}], no_request_info: false}, reason: server, reference: r, caught_by: [scripted-replies-drop-last]}',
        'by_pair:',
        '  ts→ts: {expect: {status: {code: 0}, responses: [{values: {i32: 1}}, {values: {i32: 2}}], no_request_info: false}, reason: pair, reference: r, caught_by: [scripted-replies-drop-last]}',
        'caught_by: [scripted-delay-ignored]',
        '',
      ].join('\n'),
    );
    const ok = { status: { code: 0, message: '' }, responses: [{ values: { i32: 1 } }, { values: { i32: 2 }, request_info: { requests: [{ script: { replies: [{ values: { i32: 1 } }, { values: { i32: 2 }, delay_ms: 100 }] } }] } }] };
    expect(judgeScripted(root, c, ok, 'ts', 'ts')).toBeUndefined();
    expect(judgeScripted(root, c, ok, 'go', 'ts')).toBeUndefined();
    expect(judgeScripted(root, c, ok, 'ts', 'go')).toMatch(/expected RESOURCE_EXHAUSTED \(8\), got OK.*\(this cell's expectation differs: client\)$/);
    expect(caughtByFor(c, 'ts', 'ts')).toEqual(['scripted-replies-drop-last']);
    expect(caughtByFor(c, 'ts', 'go')).toEqual(['scripted-delay-ignored']);
    expect(() => caseOf('badpair', 'description: d\nmethod: Unary\nby_pair: {ts: {expect: {}, reason: r, reference: r}}\ncaught_by: [scripted-read-all]\n')).toThrow(/badpair\.yaml:3: by_pair\.ts: bad name: a pairing, "client→server"/);
  });
});
