/**
 * The generic executor (ts-client/src/scripted.ts) against the scripted service of the TypeScript
 * server (ts-server/src/services/scripted.ts), in one process, on test/fixtures/scripted-sample.json.
 * The expectations are what grpc-js and protobufjs really give, divergences included (each is
 * named where it is asserted).
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { execa } from 'execa';
import { unusedPort } from '../../ts-common/src/net.js';
import { certPath, repoRoot } from '../../ts-common/src/paths.js';
import { loadProtos, protoRoot } from '../../ts-common/src/proto.js';
import { parseFaults } from '../../ts-server/src/faults.js';
import { serve, type RunningServer, type ServeOptions, type TlsFiles } from '../../ts-server/src/server.js';
import type { CaseResult } from '../src/run-case.js';
import { channelAddress, channelOptions, lenient, loadCasesFile, parseInstruction, REQUEST_INFO_TRAILER, runScripted, withRun } from '../src/scripted.js';

const SAMPLE = loadCasesFile(join(repoRoot(), 'test/fixtures/scripted-sample.json'));

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type O = Record<string, any>;

async function withServer<T>(fault: string, fn: (port: number) => Promise<T>): Promise<T> {
  const server: RunningServer = await serve({ host: '127.0.0.1', port: 0, faults: parseFaults(fault) });
  try {
    return await fn(server.port);
  } finally {
    await server.stop(100);
  }
}

const target = (port: number) => ({ host: '127.0.0.1', port, rpcTimeoutMs: 5000 });

/** Runs sample cases against one server; the observations by case name. */
async function observe(fault: string, ...names: string[]): Promise<Record<string, O>> {
  return withServer(fault, async (port) => {
    const out: Record<string, O> = {};
    for (const name of names) {
      const result: CaseResult = await runScripted(name, SAMPLE.get(name), target(port));
      expect(result).toMatchObject({ case: name, status: 'passed' });
      out[name] = result.observed as O;
    }
    return out;
  });
}

const values = (o: O, i = 0): O => o['responses'][i]['values'];
/** RequestInfo where the server put it: the last response of a call that ended OK, else the trailer. */
const lastResponseInfo = (o: O): O | null | undefined => {
  const responses: O[] = o['responses'] ?? [];
  return responses[responses.length - 1]?.['request_info'];
};
const headerValues = (pairs: unknown[][] | undefined, key: string) => (pairs ?? []).filter(([k]) => k === key).map(([, v]) => v);

describe('the sample against a correct server', () => {
  let o: Record<string, O>;
  beforeAll(async () => {
    o = await observe('', ...SAMPLE.keys());
  });

  it('unary_values: every value as grpc-js decoded it', () => {
    const v = values(o['unary_values']!);
    expect(v).toMatchObject({
      i64: '9007199254740993',
      u64: '18446744073709551615',
      s64: '-9223372036854775808',
      f64: '9007199254740993',
      sf64: '-9007199254740993',
      i32: -5,
      d: 'NaN',
      f: '-0',
      b: true,
      s: 'a\u0000😀é',
      by: { $bytes: '00ff' },
      color: 'BLUE',
      packed_i64: ['1', '-9007199254740993'],
      unpacked_i64: ['2'],
      str_i64: { k: '9007199254740993' },
      bool_str: { true: 'yes' },
      // proto3 optional and oneof members set to zero are present.
      opt_i32: 0,
      opt_s: '',
      choice_i32: 0,
    });
    expect(v['nested']['nested']['s']).toBe('deep');
    expect(v['children'].map((c: O) => c['i32'])).toEqual([0, 1]);
    // defaults: true reports every field; unset optionals are absent, the oneof's virtual member is not reported.
    expect(v).not.toHaveProperty('opt_i64');
    expect(v).not.toHaveProperty('choice');
    expect(v).not.toHaveProperty('_opt_i32');
    // protobufjs: an int64 map key decodes as an 8-character hash (decoder.js), which re-encodes as 0
    // when the server sends it back: the key -9007199254740993 arrives as the hash of 0.
    expect(Object.keys(v['i64_str'])).toEqual(['\u0000'.repeat(8)]);
  });

  it('unary_values: metadata both ways, RequestInfo', () => {
    const u = o['unary_values']!;
    // Binary values stay two values; Node's http2 joins repeated text headers with ", " and grpc-js does not split them.
    expect(headerValues(u['headers'], 'x-hb-bin')).toEqual([{ $bytes: '0001' }, { $bytes: '02' }]);
    expect(headerValues(u['headers'], 'x-h')).toEqual(['h1, h2']);
    expect(u['trailers']).toEqual([['x-t', 't1']]);
    expect(u['status']).toEqual({ code: 0, message: 'OK' });
    // An OK call with a response: RequestInfo in that response, no x-scripted-request-info-bin trailer.
    expect(u).not.toHaveProperty('request_info');
    const info = lastResponseInfo(u)!;
    expect(info['headers']).toEqual([
      { key: 'x-a', values: ['one, two'], binary_values: [] },
      { key: 'x-b-bin', values: [], binary_values: [{ $bytes: '00ff01' }] },
    ]);
    expect(Number(info['timeout_ms'])).toBeGreaterThan(0);
    expect(Number(info['timeout_ms'])).toBeLessThanOrEqual(5000);
    expect(info['requests']).toHaveLength(1);
    expect(info['requests'][0]['values']).toMatchObject({ i64: '-9007199254740993', by: { $bytes: '00010203' }, color: 7 });
    expect(info['requests'][0]['script']['replies'][0]['values']['i64']).toBe('9007199254740993');
  });

  it('unary_error_details: status, headers before the error, details unpacked', () => {
    const u = o['unary_error_details']!;
    expect(u['status']).toEqual({ code: 3, message: 'bad: 100% ✓, done\nnext' });
    expect(headerValues(u['headers'], 'x-before-error')).toEqual(['yes']);
    expect(u['trailers']).toEqual([['x-t-bin', { $bytes: '0001' }]]);
    expect(u).not.toHaveProperty('responses');
    // An error: RequestInfo in the trailer.
    expect(u['request_info']['requests']).toHaveLength(1);
    expect(u['details']).toEqual({
      status: {
        code: 3,
        message: 'bad: 100% ✓, done\nnext',
        details: [
          { '@type': 'type.googleapis.com/google.rpc.BadRequest', field_violations: [{ field: 'name', description: 'empty' }] },
          { '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason: 'R', domain: 'd.example', metadata: { k: 'v' } },
          { '@type': 'type.googleapis.com/google.rpc.RetryInfo', retry_delay: { seconds: '1', nanos: 500000000 } },
        ],
      },
    });
  });

  it('unary_contradicting_details: grpc-js sends details_code as it is (trailers-only: no headers)', () => {
    const u = o['unary_contradicting_details']!;
    expect(u['status']).toEqual({ code: 5, message: 'nf' });
    expect(u['details']['status']).toMatchObject({ code: 7, message: 'nf', details: [{ '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason: 'X' }] });
    expect(u).not.toHaveProperty('headers');
  });

  it('server_stream_then_error: every reply, then the status', () => {
    const u = o['server_stream_then_error']!;
    expect(u['responses'].map((r: O) => r['values']['i32'])).toEqual([1, 2, 3]);
    expect(u['status']).toEqual({ code: 10, message: 'aborted after 3' });
    // Not OK: no response carries RequestInfo (null: grpc-js's default for an absent message), the trailer does.
    expect(u['responses'].map((r: O) => r['request_info'])).toEqual([null, null, null]);
    expect(u['request_info']['requests']).toHaveLength(1);
  });

  it('client_stream_early_error: the server read two requests and ended the call', () => {
    const u = o['client_stream_early_error']!;
    expect(u['status']).toEqual({ code: 9, message: 'early' });
    expect(u['request_info']['requests'].map((r: O) => r['values']['i32'])).toEqual([1, 2]);
    expect(Number(u['request_info']['timeout_ms'])).toBeLessThanOrEqual(3000);
  });

  it('bidi_cancel: one response, then CANCELLED by the client', () => {
    const u = o['bidi_cancel']!;
    expect(u['responses'].map((r: O) => r['values']['s'])).toEqual(['first']);
    expect(u['status']['code']).toBe(1);
    expect(u).toHaveProperty('headers');
    expect(u).not.toHaveProperty('request_info');
  });

  it('non_ascii_metadata: grpc-js refuses the value before the call (only local_error)', () => {
    expect(o['non_ascii_metadata']).toEqual({ local_error: 'Metadata string value "café" contains illegal characters' });
  });

  it('server_non_ascii_header: the server reports the refusal as INTERNAL', () => {
    const u = o['server_non_ascii_header']!;
    expect(u['status']).toEqual({ code: 13, message: 'scripted: cannot send metadata x-text: Metadata string value "café" contains illegal characters' });
    expect(u['request_info']['requests']).toHaveLength(1);
  });
});

describe('server faults change the observation', () => {
  const cases: Array<[string, string, (o: O) => void]> = [
    ['scripted-status-unknown', 'unary_error_details', (o) => {
      expect(o['status']['code']).toBe(2);
      expect(o['details']['status']['code']).toBe(2);
    }],
    ['scripted-message-mangled', 'unary_error_details', (o) => expect(o['status']['message']).toBe('bad: 100%% ?, done?next')],
    ['scripted-details-dropped', 'unary_error_details', (o) => expect(o).not.toHaveProperty('details')],
    ['scripted-headers-dropped', 'unary_error_details', (o) => expect(o).not.toHaveProperty('headers')],
    ['scripted-trailers-as-headers', 'unary_values', (o) => {
      expect(headerValues(o['headers'], 'x-t')).toEqual(['t1']);
      expect(o['trailers']).toEqual([]);
    }],
    ['scripted-metadata-joined', 'unary_values', (o) => expect(headerValues(o['headers'], 'x-hb-bin')).toEqual([{ $bytes: '000102' }])],
    ['scripted-int64-double', 'unary_values', (o) => {
      expect(values(o)['i64']).toBe('9007199254740992');
      expect(values(o)['sf64']).toBe('-9007199254740992');
      expect(values(o)['packed_i64']).toEqual(['1', '-9007199254740992']);
      expect(values(o)['str_i64']).toEqual({ k: '9007199254740992' });
    }],
    ['scripted-enum-shifted', 'unary_values', (o) => {
      expect(values(o)['color']).toBe(4);
      expect(values(o)['nested']['color']).toBe('COLOR_UNSPECIFIED');
    }],
    ['scripted-map-keys-off', 'unary_values', (o) => {
      expect(values(o)['str_i64']).toEqual({ 'k~': '9007199254740993' });
      expect(values(o)['bool_str']).toEqual({ true: 'yes' }); // negated to "false", which protobufjs encodes as true
    }],
    ['scripted-floats-flushed', 'unary_values', (o) => {
      expect(values(o)['d']).toBe(0);
      expect(values(o)['f']).toBe(0);
    }],
    ['scripted-bytes-truncated', 'unary_values', (o) => expect(values(o)['by']).toEqual({ $bytes: '00' })],
    ['scripted-strings-truncated', 'unary_values', (o) => {
      expect(values(o)['s']).toBe('a\u0000😀');
      expect(values(o)['opt_s']).toBe('');
    }],
    ['scripted-presence-lost', 'unary_values', (o) => {
      for (const f of ['opt_i32', 'opt_s', 'choice_i32']) expect(values(o)).not.toHaveProperty(f);
      expect(values(o)['i64']).toBe('9007199254740993');
    }],
    ['scripted-repeated-truncated', 'unary_values', (o) => {
      expect(values(o)['packed_i64']).toEqual(['1']);
      expect(values(o)['unpacked_i64']).toEqual([]);
      expect(values(o)['children']).toHaveLength(1);
    }],
    ['scripted-replies-drop-last', 'server_stream_then_error', (o) => expect(o['responses']).toHaveLength(2)],
    ['scripted-replies-drop-last', 'unary_values', (o) => expect(o['responses']).toHaveLength(1)],
    ['scripted-request-info-empty', 'unary_values', (o) => {
      expect(lastResponseInfo(o)).toEqual({ headers: [], timeout_ms: '0', requests: [], active_calls: 0, reported_call: null });
      expect(o).not.toHaveProperty('request_info');
    }],
    ['scripted-request-info-empty', 'unary_error_details', (o) => expect(o['request_info']).toEqual({ headers: [], timeout_ms: '0', requests: [], active_calls: 0, reported_call: null })],
    ['scripted-strings-truncated', 'unary_values', (o) => {
      // The value faults touch `values` only, never request_info.
      expect(values(o)['s']).toBe('a\u0000😀');
      expect(lastResponseInfo(o)!['requests'][0]['script']['replies'][0]['values']['s']).toBe('a\u0000😀é');
    }],
    ['scripted-read-all', 'client_stream_early_error', (o) => {
      expect(o['status']['code']).toBe(9);
      expect(o['request_info']['requests']).toHaveLength(4);
    }],
  ];

  it.each(cases)('%s: %s', async (fault, name, check) => {
    const o = await observe(fault, name);
    check(o[name]!);
  });
});

describe('instructions the executor cannot run', () => {
  it.each([
    [{ method: 'Nope', requests: [{}] }, /unknown method "Nope"/],
    [{ method: 'Unary', requests: [] }, /Unary takes exactly one request, got 0/],
    [{ method: 'ClientStream', requests: ['x'] }, /requests: expected a list of ScriptedRequest objects/],
    [{ method: 'Unary', requests: [{}], metadata: [{ key: 'a-bin', value: { $bytes: 'xyz' } }] }, /metadata\[0\]/],
    [{ method: 'Unary', requests: [{}], cancel_after_responses: -1 }, /cancel_after_responses/],
    [{ method: 'Unary', requests: [{}], timeout_ms: 31_622_400_001 }, /timeout_ms: expected an integer from 0 to 31622400000/],
    [{ method: 'Unary', requests: [{}], compression: 1 }, /compression: expected a string/],
    [{ method: 'Unary', requests: [{}], channel: { compression: 'snappy' } }, /channel\.compression: expected one of identity, deflate, gzip/],
    [{ method: 'Unary', requests: [{}], channel: { max_receive_message_length: -1 } }, /channel\.max_receive_message_length/],
    [{ method: 'Unary', requests: [{}], channel: { keepalive: 1 } }, /channel: unknown member "keepalive"/],
    [{ method: 'Unary', requests: [{}], channel: { server_name: '' } }, /channel\.server_name: expected a non-empty string/],
    [{ method: 'Unary', requests: [{}], channel: { target: '' } }, /channel\.target: expected a non-empty string/],
    [{ method: 'Unary', requests: [{}], channel: { authority: 7 } }, /channel\.authority: expected a non-empty string, got 7/],
    [{ method: 'Unary', requests: [{}], channel: { addresses: [] } }, /channel\.addresses: expected a non-empty list of "host:port" strings, got \[\]/],
    [{ method: 'Unary', requests: [{}], channel: { addresses: '{host}:{port}' } }, /channel\.addresses: expected a non-empty list/],
    [{ method: 'Unary', requests: [{}], channel: { addresses: ['{host}:{port}'], target: '{host}:{port}' } }, /channel: give either target or addresses, not both/],
    [{ method: 'Unary', requests: [{}], channel: { lb_policy: 'grpclb' } }, /channel\.lb_policy: expected one of pick_first, round_robin, got "grpclb"/],
  ])('%j', (raw, error) => {
    expect(() => parseInstruction(raw)).toThrow(error);
  });

  it('is a failed case, with the reason', async () => {
    const result = await runScripted('bad', { method: 'Unary', requests: [{ script: { details: [{ '@type': 'type.googleapis.com/google.rpc.RetryInfo', retry_delay: 'soon' }] } }] }, target(1));
    expect(result).toMatchObject({ case: 'bad', status: 'failed', error: expect.stringMatching(/retry_delay: "soon" is not a Duration/) });
  });
});

describe('more shapes', () => {
  it('a client stream half-closed at once runs an empty script: one empty response, OK', async () => {
    const result = await withServer('', (port) => runScripted('empty', { method: 'ClientStream', requests: [] }, target(port)));
    expect(result.observed).toMatchObject({ status: { code: 0 }, responses: [{ values: null, request_info: { requests: [] } }] });
    expect(result.observed).not.toHaveProperty('request_info');
  });

  it('bidi: read_requests bounds what the server reads; every reply is sent before the status', async () => {
    const instruction = {
      method: 'BidiStream',
      requests: [{ script: { read_requests: 2, replies: [{ values: { s: 'a' } }, { values: { s: 'b' } }], code: 0, trailers: [{ key: 'x-t', values: ['1', '2'] }] }, values: { i32: 1 } }, { values: { i32: 2 } }, { values: { i32: 3 } }],
    };
    const result = await withServer('', (port) => runScripted('bidi', instruction, target(port)));
    const o = result.observed as O;
    expect(o['responses'].map((r: O) => r['values']['s'])).toEqual(['a', 'b']);
    expect(o['status']).toEqual({ code: 0, message: 'OK' });
    // Only the last response carries RequestInfo, with every request the server read.
    expect(o['responses'][0]['request_info']).toBeNull();
    expect(o['responses'][1]['request_info']['requests'].map((r: O) => r['values']['i32'])).toEqual([1, 2]);
    expect(o).not.toHaveProperty('request_info');
    expect(headerValues(o['trailers'], 'x-t')).toEqual(['1, 2']);
  });

  it('server stream OK under scripted-replies-drop-last: RequestInfo in the last reply actually sent', async () => {
    const instruction = { method: 'ServerStream', requests: [{ script: { replies: [{ values: { i32: 1 } }, { values: { i32: 2 } }, { values: { i32: 3 } }] } }] };
    const result = await withServer('scripted-replies-drop-last', (port) => runScripted('drop', instruction, target(port)));
    const o = result.observed as O;
    expect(o['status']).toEqual({ code: 0, message: 'OK' });
    expect(o['responses'].map((r: O) => r['values']['i32'])).toEqual([1, 2]);
    expect(o['responses'][0]['request_info']).toBeNull();
    expect(o['responses'][1]['request_info']['requests']).toHaveLength(1);
    expect(o).not.toHaveProperty('request_info');
  });

  it('server stream OK without replies: RequestInfo in the trailer', async () => {
    const result = await withServer('', (port) => runScripted('none', { method: 'ServerStream', requests: [{ values: { i32: 7 } }] }, target(port)));
    const o = result.observed as O;
    expect(o['status']).toEqual({ code: 0, message: 'OK' });
    expect(o).not.toHaveProperty('responses');
    expect(o['request_info']['requests'][0]['values']['i32']).toBe(7);
  });

  it('RequestInfo in a response is walked like any field: scripts with Any details unpacked', async () => {
    const instruction = {
      method: 'Unary',
      requests: [{ script: { code: 0, details: [{ '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason: 'R', metadata: { k: 'v' } }], replies: [{ values: { i64: '5' } }] } }],
    };
    const result = await withServer('', (port) => runScripted('any', instruction, target(port)));
    const o = result.observed as O;
    expect(o['status']['code']).toBe(0);
    expect(values(o)['i64']).toBe('5');
    const request = lastResponseInfo(o)!['requests'][0];
    expect(request['script']['details']).toEqual([{ '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason: 'R', domain: '', metadata: { k: 'v' } }]);
    expect(request['script']['replies'][0]['values']['i64']).toBe('5');
  });

  it('a large client stream (> 64 KiB of requests) ends OK with RequestInfo in its response, not a trailer', async () => {
    const big = 'x'.repeat(40_000);
    const instruction = { method: 'ClientStream', timeout_ms: 10_000, requests: [{ script: {}, values: { s: big } }, { values: { s: big } }, { values: { s: big } }] };
    const result = await withServer('', (port) => runScripted('big', instruction, target(port)));
    const o = result.observed as O;
    expect(o['status']).toEqual({ code: 0, message: 'OK' });
    expect(lastResponseInfo(o)!['requests'].map((r: O) => r['values']['s'].length)).toEqual([40_000, 40_000, 40_000]);
    expect(o).not.toHaveProperty('request_info');
  });

  it('as grpc-js sees it: an OK unary call has request_info in its response and no trailer; an error call has the trailer', async () => {
    await withServer('', async (port) => {
      const Scripted = loadProtos().interop.scripted.Scripted;
      const client = new Scripted(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
      try {
        const unary = (request: object) =>
          new Promise<{ err: grpc.ServiceError | null; response: O | undefined; trailers: grpc.Metadata }>((resolve) => {
            let response: O | undefined;
            let err: grpc.ServiceError | null = null;
            const call = client.Unary(request, { deadline: Date.now() + 5000 }, (e, r) => {
              err = e;
              response = r as O | undefined;
            });
            call.on('status', (s: grpc.StatusObject) => setImmediate(() => resolve({ err, response, trailers: s.metadata })));
          });
        const ok = await unary({ script: { replies: [{ values: { i32: 3 } }], trailers: [{ key: 'x-t', values: ['t'] }] }, values: { i32: 1 } });
        expect(ok.err).toBeNull();
        expect(ok.response!['values']['i32']).toBe(3);
        expect(ok.response!['request_info']['requests'].map((r: O) => r['values']['i32'])).toEqual([1]);
        expect(ok.trailers.get('x-t')).toEqual(['t']);
        expect(ok.trailers.get(REQUEST_INFO_TRAILER)).toEqual([]);

        const failed = await unary({ script: { code: 5, message: 'nf' }, values: { i32: 2 } });
        expect(failed.err?.code).toBe(5);
        expect(failed.response).toBeUndefined();
        const [info] = failed.trailers.get(REQUEST_INFO_TRAILER);
        expect(Buffer.isBuffer(info)).toBe(true);
        const type = protoRoot().lookupType('interop.scripted.RequestInfo');
        expect((type.toObject(type.decode(info as Buffer)) as O)['requests'][0]['values']['i32']).toBe(2);
      } finally {
        client.close();
      }
    });
  });

  it('an unknown enum number and an Any with a well-known type in its value form', async () => {
    const instruction = {
      method: 'Unary',
      requests: [{ script: { code: 3, details: [{ '@type': 'type.googleapis.com/google.protobuf.Duration', value: '-2.5s' }] }, values: { colors: ['RED', 9] } }],
    };
    const result = await withServer('', (port) => runScripted('wkt', instruction, target(port)));
    const o = result.observed as O;
    expect(o['details']['status']['details']).toEqual([{ '@type': 'type.googleapis.com/google.protobuf.Duration', seconds: '-2', nanos: -500000000 }]);
    expect(o['request_info']['requests'][0]['values']['colors']).toEqual(['RED', 9]);
  });

  it('a deadline ends a slow stream with DEADLINE_EXCEEDED after the first reply', async () => {
    const instruction = { method: 'ServerStream', timeout_ms: 300, requests: [{ script: { replies: [{ values: { i32: 1 } }, { values: { i32: 2 }, delay_ms: 3000 }] } }] };
    const result = await withServer('', (port) => runScripted('deadline', instruction, target(port)));
    const o = result.observed as O;
    expect(o['status']['code']).toBe(4);
    expect(o['responses']).toHaveLength(1);
  });
});

describe('the scripted-delay-ignored server fault', () => {
  const instruction = { method: 'Unary', timeout_ms: 500, requests: [{ script: { delay_ms: 3000, replies: [{ values: { i32: 1 } }] } }] };

  it('a correct server waits script.delay_ms: DEADLINE_EXCEEDED', async () => {
    const result = await withServer('', (port) => runScripted('slow', instruction, target(port)));
    expect((result.observed as O)['status']['code']).toBe(grpc.status.DEADLINE_EXCEEDED);
  });

  it('the faulty server answers at once: OK', async () => {
    const result = await withServer('scripted-delay-ignored', (port) => runScripted('slow', instruction, target(port)));
    const o = result.observed as O;
    expect(o['status']).toEqual({ code: 0, message: 'OK' });
    expect(values(o)['i32']).toBe(1);
  });

  it('every reply delay_ms is ignored too', async () => {
    const stream = { method: 'ServerStream', timeout_ms: 500, requests: [{ script: { replies: [{ values: { i32: 1 }, delay_ms: 3000 }, { values: { i32: 2 }, delay_ms: 3000 }] } }] };
    const result = await withServer('scripted-delay-ignored', (port) => runScripted('slow', stream, target(port)));
    const o = result.observed as O;
    expect(o['status']['code']).toBe(0);
    expect(o['responses'].map((r: O) => r['values']['i32'])).toEqual([1, 2]);
  });
});

describe('the scripted-lenient client fault', () => {
  const instruction = {
    method: 'Unary',
    metadata: [
      { key: 'X-Text', value: 'café ✓' },
      { key: 'X-Inner', value: 'a✓b é\tc' },
      { key: 'x-b-bin', value: { $bytes: '00ff' } },
      { key: ':path', value: '/x' },
    ],
    requests: [{ script: { replies: [{ values: { i32: 3 } }] }, values: { i32: 1, s: 'x' } }],
  };

  it('cleans the instruction: text metadata to printable ASCII under a lower-cased key, binary unchanged, illegal keys left out, requests without values', () => {
    expect(lenient(parseInstruction(instruction))).toEqual({
      method: 'Unary',
      metadata: [
        { key: 'x-text', value: 'caf ' },
        { key: 'x-inner', value: 'ab c' },
        { key: 'x-b-bin', value: { $bytes: '00ff' } },
      ],
      requests: [{ script: { replies: [{ values: { i32: 3 } }] } }],
    });
  });

  it('without it, grpc-js refuses the non-ASCII value: local_error, no call', async () => {
    const result = await withServer('', (port) => runScripted('lenient', instruction, target(port)));
    expect(result.status).toBe('passed');
    expect(Object.keys(result.observed as O)).toEqual(['local_error']);
  });

  it('with it, the call is made and the server reports the cleaned metadata and requests without values', async () => {
    const result = await withServer('', (port) => runScripted('lenient', instruction, { ...target(port), clientFault: 'scripted-lenient' }));
    expect(result.status).toBe('passed');
    const o = result.observed as O;
    expect(o).not.toHaveProperty('local_error');
    expect(o['status']).toEqual({ code: 0, message: 'OK' });
    const info = lastResponseInfo(o)!;
    // x-text is sent as "caf ", but Node's http2 (nghttp2) ignores a received header field whose
    // value ends (or starts) with whitespace (RFC 9113 §8.2.1): the grpc-js server never sees it.
    expect(info['headers']).toEqual([
      { key: 'x-inner', values: ['ab c'], binary_values: [] },
      { key: 'x-b-bin', values: [], binary_values: [{ $bytes: '00ff' }] },
    ]);
    expect(info['requests']).toHaveLength(1);
    expect(info['requests'][0]['values']).toBeNull();
    expect(info['requests'][0]['script']['replies'][0]['values']['i32']).toBe(3);
  });

  it('values the conversion would refuse are never converted', async () => {
    const refused = { method: 'ClientStream', requests: [{ script: {}, values: { i32: 2 ** 31 } }, { values: { i64: 'nope' } }] };
    const faulty = await withServer('', (port) => runScripted('refused', refused, { ...target(port), clientFault: 'scripted-lenient' }));
    const o = faulty.observed as O;
    expect(o['status']['code']).toBe(0);
    expect(lastResponseInfo(o)!['requests'].map((r: O) => r['values'])).toEqual([null, null]);
  });

  it('other client faults do not apply to scripted cases', async () => {
    const result = await withServer('', (port) => runScripted('lenient', instruction, { ...target(port), clientFault: 'no-checks' }));
    expect(Object.keys(result.observed as O)).toEqual(['local_error']);
  });
});

describe('what a grpc-js application cannot do or gets from its callback', () => {
  it('unknown fields to send ($unknown): a local error naming protobufjs, no call', async () => {
    const instruction = { method: 'Unary', requests: [{ script: {}, values: { nested: { $unknown: 'c03e01' } } }] };
    const result = await withServer('', (port) => runScripted('unknown', instruction, target(port)));
    expect(result.status).toBe('passed');
    expect(result.observed).toEqual({ local_error: expect.stringMatching(/^protobufjs 7\.\S+ has no API to send unknown fields \(requests\[0\]\.values\.nested\.\$unknown\)$/) });
  });

  it('a unary call that ends OK without a response: the callback error (UNIMPLEMENTED), not the OK of the status event', async () => {
    // The grpc-js server lets application trailers replace grpc-status (matrix.yaml known failures).
    const instruction = { method: 'Unary', requests: [{ script: { code: 5, message: 'real', trailers: [{ key: 'grpc-status', values: ['0'] }] } }] };
    const result = await withServer('', (port) => runScripted('ok-without-response', instruction, target(port)));
    const o = result.observed as O;
    expect(o['status']).toEqual({ code: grpc.status.UNIMPLEMENTED, message: 'No message received' });
    expect(o['responses']).toBeUndefined();
  });
});

/** A server of this process with the given flags (--max_*_message_length, the lifecycle ones, --second_host) and faults. */
async function withLimitedServer<T>(limits: Pick<ServeOptions, 'maxReceiveMessageLength' | 'maxSendMessageLength' | 'lifecycle' | 'secondHost'>, fault: string, fn: (port: number) => Promise<T>): Promise<T> {
  const server: RunningServer = await serve({ host: '127.0.0.1', port: 0, faults: parseFaults(fault), ...limits });
  try {
    return await fn(server.port);
  } finally {
    await server.stop(100);
  }
}

describe('limits, compression and deadlines', () => {
  // ScriptedRequest{script{}, values{by: N}} is N + 8 bytes under 16 KiB; ScriptedResponse{values{by: N}} is N + 6.
  const request = (fill: number, channel?: O) => ({ method: 'Unary', requests: [{ script: {}, $fill_bytes: fill }], ...(channel ? { channel } : {}) });
  const code = (o: CaseResult) => (o.observed as O)['status']?.['code'];

  it('a server receive limit is exact to the byte; scripted-limits-ignored lifts it', async () => {
    const [at, over] = await withLimitedServer({ maxReceiveMessageLength: 1024 }, '', async (port) => [await runScripted('at', request(1016), target(port)), await runScripted('over', request(1017), target(port))]);
    expect(code(at!)).toBe(grpc.status.OK);
    expect((at!.observed as O)['responses'][0]['request_info']['requests'][0]['values']['by']).toEqual({ $bytes: '00'.repeat(1016) });
    expect(code(over!)).toBe(grpc.status.RESOURCE_EXHAUSTED);
    const ignored = await withLimitedServer({ maxReceiveMessageLength: 1024 }, 'scripted-limits-ignored', (port) => runScripted('over', request(1017), target(port)));
    expect(code(ignored)).toBe(grpc.status.OK);
  });

  it('a server send limit fails the call at the first larger response', async () => {
    const stream = { method: 'ServerStream', requests: [{ script: { replies: [{ fill_bytes: 1018 }, { fill_bytes: 1019 }] } }] };
    const o = (await withLimitedServer({ maxSendMessageLength: 1024 }, '', (port) => runScripted('send', stream, target(port)))).observed as O;
    expect(o['status']['code']).toBe(grpc.status.RESOURCE_EXHAUSTED);
    expect(o['responses']).toHaveLength(1);
  });

  it('a channel receive limit and send limit; scripted-client-limits-ignored lifts both', async () => {
    const stream = { method: 'ServerStream', channel: { max_receive_message_length: 1024 }, requests: [{ script: { replies: [{ fill_bytes: 1018 }, { fill_bytes: 1019 }] } }] };
    await withServer('', async (port) => {
      const received = (await runScripted('recv', stream, target(port))).observed as O;
      expect(received['status']['code']).toBe(grpc.status.RESOURCE_EXHAUSTED);
      expect(received['responses']).toHaveLength(1);
      expect(code(await runScripted('send', request(1017, { max_send_message_length: 1024 }), target(port)))).toBe(grpc.status.RESOURCE_EXHAUSTED);
      expect(code(await runScripted('send', request(1016, { max_send_message_length: 1024 }), target(port)))).toBe(grpc.status.OK);
      const faulty = { ...target(port), clientFault: 'scripted-client-limits-ignored' };
      expect(code(await runScripted('recv', stream, faulty))).toBe(grpc.status.OK);
      expect(code(await runScripted('send', request(1017, { max_send_message_length: 1024 }), faulty))).toBe(grpc.status.OK);
    });
  });

  it('the default 4 MiB receive limit, and bytes past 64 KiB observed as their SHA-256', async () => {
    const stream = (fill: number) => ({ method: 'ServerStream', requests: [{ script: { replies: [{ fill_bytes: fill }, { values: { s: 'end' } }] } }] });
    await withServer('', async (port) => {
      const at = (await runScripted('at', stream(4194294), target(port))).observed as O;
      expect(at['status']['code']).toBe(grpc.status.OK);
      expect(values(at)['by']).toEqual({ $sha256: createHash('sha256').update(Buffer.alloc(4194294)).digest('hex'), $length: 4194294 });
      expect(code(await runScripted('over', stream(4194295), target(port)))).toBe(grpc.status.RESOURCE_EXHAUSTED);
    });
  });

  it('per-call compression is a local error in grpc-js; channel compression reaches the server intact', async () => {
    await withServer('', async (port) => {
      expect((await runScripted('call', { ...request(10), compression: 'gzip' }, target(port))).observed).toEqual({ local_error: 'grpc-js has no per-call compression' });
      for (const compression of ['gzip', 'deflate']) {
        const o = (await runScripted('channel', request(100_000, { compression }), target(port))).observed as O;
        expect(o['status']['code']).toBe(grpc.status.OK);
        expect(o['responses'][0]['request_info']['requests'][0]['values']['by']['$length']).toBe(100_000);
      }
    });
  });

  it('a grpc-js server refuses a script that asks for compressed responses', async () => {
    const o = (await withServer('', (port) => runScripted('rc', { method: 'Unary', requests: [{ script: { response_compression: 'gzip' } }] }, target(port)))).observed as O;
    expect(o['status']).toEqual({ code: grpc.status.UNIMPLEMENTED, message: 'scripted: cannot compress responses with gzip: grpc-js servers do not compress responses' });
  });

  it('timeout_ms 0 has passed already; scripted-deadline-ignored gives every call --rpc_timeout_ms', async () => {
    await withServer('', async (port) => {
      expect(code(await runScripted('expired', { method: 'Unary', timeout_ms: 0, requests: [{}] }, target(port)))).toBe(grpc.status.DEADLINE_EXCEEDED);
      const o = (await runScripted('ignored', { method: 'Unary', timeout_ms: 0, requests: [{}] }, { ...target(port), clientFault: 'scripted-deadline-ignored' })).observed as O;
      expect(o['status']['code']).toBe(grpc.status.OK);
      expect(Number(o['responses'][0]['request_info']['timeout_ms'])).toBeGreaterThan(1000);
    });
  });

  it('grpc-js divergence: its server wraps a grpc-timeout past 2^31 - 1 ms (30 days are seen as 0 ms left)', async () => {
    const o = (await withServer('', (port) => runScripted('long', { method: 'Unary', timeout_ms: 2_592_000_000, requests: [{}] }, target(port)))).observed as O;
    expect(o['responses'][0]['request_info']['timeout_ms']).toBe('0');
  });
});

describe('channel.server_name (TLS)', () => {
  const read = (name: string) => readFileSync(certPath(name));
  const call = (serverName: string) => ({ method: 'Unary', channel: { server_name: serverName }, requests: [{}] });
  const code = (r: CaseResult) => (r.observed as O)['status']?.['code'];

  it('replaces --server_host_override: a wrong name or two labels under a wildcard fail, the wildcard and upper case pass; the fault ignores it', async () => {
    const server = await serve({ host: '127.0.0.1', port: 0, faults: parseFaults(''), tls: { cert: read('server.pem'), key: read('server.key') } });
    try {
      const tlsTarget = { ...target(server.port), tls: { ca: read('ca.pem'), serverNameOverride: 'foo.test.google.fr' } };
      expect(code(await runScripted('wrong', call('wrong.example.com'), tlsTarget))).toBe(grpc.status.UNAVAILABLE);
      expect(code(await runScripted('two', call('a.b.test.google.fr'), tlsTarget))).toBe(grpc.status.UNAVAILABLE);
      expect(code(await runScripted('wild', call('other.test.google.fr'), tlsTarget))).toBe(grpc.status.OK);
      expect(code(await runScripted('upper', call('FOO.TEST.GOOGLE.FR'), tlsTarget))).toBe(grpc.status.OK);
      expect(code(await runScripted('wrong', call('wrong.example.com'), { ...tlsTarget, clientFault: 'scripted-server-name-ignored' }))).toBe(grpc.status.OK);
    } finally {
      await server.stop(100);
    }
  });

  it('is ignored over insecure', async () => {
    const result = await withServer('', (port) => runScripted('insecure', call('wrong.example.com'), target(port)));
    expect(code(result)).toBe(grpc.status.OK);
  });
});

/**
 * A server of this process that also listens on [::1] (same port) and on a Unix socket in a
 * fresh temporary directory (--ipv6_loopback=true --unix_socket=PATH), removed afterwards.
 */
async function withListeners<T>(fault: string, fn: (where: { port: number; unixSocket: string }) => Promise<T>, tls?: TlsFiles): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), 'ts-listeners-'));
  const unixSocket = join(dir, 'server.sock');
  try {
    const server = await serve({ host: '127.0.0.1', port: 0, faults: parseFaults(fault), ipv6Loopback: true, unixSocket, ...(tls ? { tls } : {}) });
    try {
      return await fn({ port: server.port, unixSocket });
    } finally {
      await server.stop(100);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('channel.target and channel.authority; RequestInfo authority and peer', () => {
  const unary = (channel?: O) => ({ method: 'Unary', requests: [{ script: { replies: [{ values: { i32: 1 } }] } }], ...(channel ? { channel } : {}) });
  /** RequestInfo's authority and peer of an OK unary call (undefined: not set). */
  const seen = (r: CaseResult) => {
    const o = r.observed as O;
    expect(o['status']).toEqual({ code: 0, message: 'OK' });
    const info = lastResponseInfo(o)!;
    return { authority: info['authority'], peer: info['peer'] };
  };
  const IPV4_PEER = /^127\.0\.0\.1:\d+$/;

  it('what grpc-js 1.14 gives: host:port for TCP targets, "localhost" and peer "unknown" over a Unix socket, "::1:PORT" (no brackets) from IPv6', async () => {
    await withListeners('', async ({ port, unixSocket }) => {
      const t = { ...target(port), unixSocket };
      const through = async (channelTarget?: string) => seen(await runScripted('t', unary(channelTarget === undefined ? undefined : { target: channelTarget }), t));
      expect(await through()).toEqual({ authority: `127.0.0.1:${port}`, peer: expect.stringMatching(IPV4_PEER) });
      expect(await through('ipv4:{host}:{port}')).toEqual({ authority: `127.0.0.1:${port}`, peer: expect.stringMatching(IPV4_PEER) });
      expect(await through('ipv6:[::1]:{port}')).toEqual({ authority: `[::1]:${port}`, peer: expect.stringMatching(/^::1:\d+$/) });
      expect(await through('dns:///localhost:{port}')).toEqual({ authority: `localhost:${port}`, peer: expect.any(String) });
      // grpc-js's UDS resolver names every Unix target "localhost"; getPeer() has no remote address to give.
      for (const unixTarget of ['unix:{unix_socket}', `unix://${unixSocket}`, 'unix://{unix_socket}']) {
        expect(await through(unixTarget)).toEqual({ authority: 'localhost', peer: 'unknown' });
      }
    });
  });

  it('channel.authority replaces the derived authority; the client faults ignore target and authority', async () => {
    await withListeners('', async ({ port, unixSocket }) => {
      const t = { ...target(port), unixSocket };
      const both = unary({ target: 'unix:{unix_socket}', authority: 'other.example:8443' });
      expect(seen(await runScripted('both', both, t))).toEqual({ authority: 'other.example:8443', peer: 'unknown' });
      expect(seen(await runScripted('v6', unary({ target: 'ipv6:[::1]:{port}', authority: 'x.example' }), t))).toEqual({ authority: 'x.example', peer: expect.stringMatching(/^::1:/) });
      // scripted-target-ignored: --server_host:--server_port is dialled (the authority still applies).
      expect(seen(await runScripted('both', both, { ...t, clientFault: 'scripted-target-ignored' }))).toEqual({ authority: 'other.example:8443', peer: expect.stringMatching(IPV4_PEER) });
      expect(seen(await runScripted('both', both, { ...t, clientFault: 'scripted-authority-ignored' }))).toEqual({ authority: 'localhost', peer: 'unknown' });
    });
  });

  it('{unix_socket} without --server_unix_socket: a failed case, no call', async () => {
    const result = await runScripted('nosock', unary({ target: 'unix:{unix_socket}' }), target(1));
    expect(result).toMatchObject({ status: 'failed', error: expect.stringMatching(/names \{unix_socket\}, but the client was given no --server_unix_socket/) });
    expect(result).not.toHaveProperty('observed');
  });

  it('the server faults: peer always ipv4:127.0.0.1:1, authority dropped, RequestInfo empty', async () => {
    const over = (fault: string) => withListeners(fault, async ({ port, unixSocket }) => seen(await runScripted('f', unary({ target: 'unix:{unix_socket}' }), { ...target(port), unixSocket })));
    expect(await over('scripted-peer-ipv4')).toEqual({ authority: 'localhost', peer: 'ipv4:127.0.0.1:1' });
    expect(await over('scripted-authority-dropped')).toEqual({ authority: undefined, peer: 'unknown' });
    expect(await over('scripted-request-info-empty')).toEqual({ authority: undefined, peer: undefined });
  });

  it('TLS over a Unix socket: the server name is the authority unless channel.authority says otherwise', async () => {
    const read = (name: string) => readFileSync(certPath(name));
    await withListeners('', async ({ port, unixSocket }) => {
      const t = { ...target(port), unixSocket, tls: { ca: read('ca.pem'), serverNameOverride: 'foo.test.google.fr' } };
      expect(seen(await runScripted('tls', unary({ target: 'unix:{unix_socket}' }), t))).toEqual({ authority: 'foo.test.google.fr', peer: 'unknown' });
      expect(seen(await runScripted('tls', unary({ target: 'unix:{unix_socket}', authority: 'bar.example' }), t))).toEqual({ authority: 'bar.example', peer: 'unknown' });
      // The certificate is still checked against the server name.
      const wrongName = await runScripted('tls', unary({ target: 'unix:{unix_socket}', server_name: 'wrong.example.com' }), t);
      expect((wrongName.observed as O)['status']['code']).toBe(grpc.status.UNAVAILABLE);
    }, { cert: read('server.pem'), key: read('server.key') });
  });

  it('the client binary takes --server_unix_socket in a run of executor mode (needs the build)', async () => {
    await withListeners('', async ({ port, unixSocket }) => {
      const dir = mkdtempSync(join(tmpdir(), 'ts-cases-'));
      try {
        const casesFile = join(dir, 'cases.json');
        writeFileSync(casesFile, JSON.stringify({ cases: { uds: unary({ target: 'unix:{unix_socket}' }) } }));
        const args = ['--server_host=127.0.0.1', `--server_port=${port}`, `--cases_file=${casesFile}`, '--test_case=uds'];
        const input = [{ run: 1, args: [...args, `--server_unix_socket=${unixSocket}`] }, { run: 2, args }].map((r) => JSON.stringify(r)).join('\n');
        const run = await execa('node', ['build/ts/ts-client/src/main.js', '--executor'], { cwd: repoRoot(), input, reject: false, timeout: 30_000 });
        const lines = run.stdout.split('\n').map((l) => JSON.parse(l) as O);
        expect(lines.map((l) => l['case'] ?? `end ${l['run']}:${l['exit_code']}`)).toEqual(['uds', 'end 1:0', 'uds', 'end 2:1']);
        expect(lastResponseInfo(lines[0]!['observed'])).toMatchObject({ authority: 'localhost', peer: 'unknown' });
        expect(lines[2]).toMatchObject({ status: 'failed', error: expect.stringContaining('--server_unix_socket') });
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
});

describe('an instruction of its own channel has a connection of its own', () => {
  // grpc-js's global subchannel pool would give a channel the connection of an earlier channel with
  // the same target and options, closed but not yet gone (and any state a misbehaving peer left there).
  it('40 own channels with the same target and options, one after the other: 40 connections', async () => {
    const own = { method: 'Unary', requests: [{}], channel: {} };
    const peers = await withLimitedServer({}, '', async (port) => {
      const seen: string[] = [];
      for (let n = 0; n < 40; n++) {
        const o = (await runScripted(`own_${n}`, own, target(port))).observed as O;
        expect(o['status']['code']).toBe(grpc.status.OK);
        seen.push(lastResponseInfo(o)!['peer']);
      }
      return seen;
    });
    expect(new Set(peers).size).toBe(40);
  });

  it('not the shared channel\'s either (whatever a case does to its connection stays there): shared, own, shared', async () => {
    const call = { method: 'Unary', requests: [{}] };
    const peers = await withLimitedServer({}, '', async (port) => {
      const seen: string[] = [];
      for (const [name, instruction] of [['shared_1', call], ['own', { ...call, channel: {} }], ['shared_2', call]] as const) {
        const o = (await runScripted(name, instruction, target(port))).observed as O;
        expect(o['status']['code']).toBe(grpc.status.OK);
        seen.push(lastResponseInfo(o)!['peer']);
      }
      return seen;
    });
    expect(peers[2]).toBe(peers[0]);
    expect(peers[1]).not.toBe(peers[0]);
  });
});

describe('channel.addresses and channel.lb_policy: one channel over two backends', () => {
  const at = (port: number) => ({ host: '127.0.0.1', port, rpcTimeoutMs: 5000 });
  const TWO = ['{host}:{port}', '127.0.0.2:{port}'];

  it('addresses become the one target ipv4:A,B ({host} and {port} replaced); scripted-target-ignored dials --server_host:--server_port', () => {
    expect(channelAddress(at(5), { addresses: TWO })).toBe('ipv4:127.0.0.1:5,127.0.0.2:5');
    expect(channelAddress({ ...at(5), clientFault: 'scripted-target-ignored' }, { addresses: TWO })).toBe('127.0.0.1:5');
  });

  it('lb_policy is the default service config of the channel', () => {
    expect(channelOptions({ lb_policy: 'round_robin' }, undefined)).toEqual({ 'grpc.service_config': '{"loadBalancingConfig":[{"round_robin":{}}]}' });
    expect(channelOptions({ lb_policy: 'pick_first' }, undefined)).toEqual({ 'grpc.service_config': '{"loadBalancingConfig":[{"pick_first":{}}]}' });
  });

  /**
   * 20 OK unary calls on one channel over both addresses of a server started with
   * --second_host=127.0.0.2; the calls each client connection (RequestInfo.peer) carried.
   */
  async function callsPerConnection(lbPolicy: string, fault = '', clientFault?: string): Promise<number[]> {
    const call = { method: 'Unary', requests: [{}] };
    const instruction = { ...call, channel: { addresses: TWO, lb_policy: lbPolicy }, followups: Array.from({ length: 19 }, () => ({ ...call, after_ms: 0 })) };
    const o = await withLimitedServer({ secondHost: '127.0.0.2' }, fault, async (port) => (await runScripted('lb', instruction, { ...at(port), ...(clientFault ? { clientFault } : {}) })).observed as O);
    const calls = [o, ...o['followups']] as O[];
    expect(calls.map((c) => c['status']['code'])).toEqual(calls.map(() => grpc.status.OK));
    const perPeer = new Map<string, number>();
    for (const c of calls) perPeer.set(lastResponseInfo(c)!['peer'], (perPeer.get(lastResponseInfo(c)!['peer']) ?? 0) + 1);
    return [...perPeer.values()].sort((a, b) => a - b);
  }

  it('round_robin spreads the calls over two connections, one per address', async () => {
    const spread = await callsPerConnection('round_robin');
    expect(spread).toHaveLength(2);
    expect(Math.min(...spread)).toBeGreaterThanOrEqual(3);
  });

  it('pick_first sends them all over one connection', async () => {
    expect(await callsPerConnection('pick_first')).toEqual([20]);
  });

  it('round_robin over one connection: the server ignores --second_host (scripted-second-host-ignored), or the client ignores addresses (scripted-target-ignored)', async () => {
    expect(await callsPerConnection('round_robin', 'scripted-second-host-ignored')).toEqual([20]);
    expect(await callsPerConnection('round_robin', '', 'scripted-target-ignored')).toEqual([20]);
  });

  // grpc-js 1.8 brings a closed round_robin channel whose subchannels failed back to life
  // (ts-common/src/grpc-compat.ts closeClient): without the workaround the executor never exits.
  const OLD_CLIENT = 'build/versions/ts/1.8.22/ts-client/src/main.js';
  (existsSync(join(repoRoot(), OLD_CLIENT)) ? it : it.skip)('the grpc-js 1.8.22 executor exits at end of input after a round_robin channel over addresses that refuse (needs `node scripts/ts-version.mjs 1.8.22`)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ts-cases-'));
    try {
      const casesFile = join(dir, 'cases.json');
      writeFileSync(casesFile, JSON.stringify({ cases: { rr: { method: 'Unary', requests: [{}], channel: { addresses: ['{host}:{port}', `127.0.0.2:{port}`], lb_policy: 'round_robin' } } } }));
      const input = `${JSON.stringify({ run: 1, args: ['--server_host=127.0.0.1', `--server_port=${await unusedPort()}`, `--cases_file=${casesFile}`, '--test_case=rr'] })}\n`;
      const run = await execa('node', [OLD_CLIENT, '--executor'], { cwd: repoRoot(), input, reject: false, timeout: 25_000 });
      expect({ exitCode: run.exitCode, timedOut: run.timedOut }).toEqual({ exitCode: 0, timedOut: false });
      const [result] = run.stdout.split('\n').map((l) => JSON.parse(l) as O);
      expect(result).toMatchObject({ case: 'rr', status: 'passed', observed: { status: { code: grpc.status.UNAVAILABLE } } });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 30_000);
});

describe('lifecycle: concurrent calls, follow-ups, call records, connection limits', () => {
  const info = (o: O): O => lastResponseInfo(o) ?? {};
  const replies = (n: number, delay: number) => Array.from({ length: n }, () => ({ values: { i32: 7 }, delay_ms: delay }));

  it('{run} is replaced in every string of the requests, nowhere else', () => {
    expect(withRun([{ script: { call_id: '{run}', report_call: 'a-{run}' }, values: { strings: ['{run}{run}'] } }], 'T')).toEqual([{ script: { call_id: 'T', report_call: 'a-T' }, values: { strings: ['TT'] } }]);
    expect(() => parseInstruction({ method: 'Unary', requests: [{}], concurrent: 0 })).toThrow(/concurrent: expected an integer >= 1/);
    expect(() => parseInstruction({ method: 'Unary', requests: [{}], followups: [{ method: 'Nope' }] })).toThrow(/followups\[0\]\.unknown method "Nope"/);
    expect(() => parseInstruction({ method: 'Unary', requests: [{}], channel: { keepalive_permit_without_calls: 1 } })).toThrow(/channel\.keepalive_permit_without_calls: expected true or false/);
  });

  it('a cancelled server stream is recorded cancelled within a few replies; scripted-cancel-ignored sends them all', async () => {
    const instruction = {
      method: 'ServerStream',
      cancel_after_responses: 2,
      requests: [{ script: { call_id: '{run}', replies: replies(20, 50) } }],
      followups: [{ after_ms: 0, method: 'Unary', requests: [{ script: { report_call: '{run}' } }] }],
    };
    const o = await withServer('', async (port) => (await runScripted('c', instruction, target(port))).observed as O);
    expect(o['status']['code']).toBe(grpc.status.CANCELLED);
    const record = info(o['followups'][0])['reported_call'];
    expect(record['ended']).toBe('cancelled');
    expect(record['replies_sent']).toBeGreaterThanOrEqual(2);
    expect(record['replies_sent']).toBeLessThanOrEqual(5);
    const faulty = await withServer('scripted-cancel-ignored', async (port) => (await runScripted('c', instruction, target(port))).observed as O);
    expect(info(faulty['followups'][0])['reported_call']).toEqual({ ended: 'completed', replies_sent: 20 });
  });

  it('a deadline during the handler\'s wait is recorded cancelled; an unknown id is "unknown"', async () => {
    const instruction = {
      method: 'Unary',
      timeout_ms: 300,
      requests: [{ script: { call_id: '{run}', delay_ms: 3000 } }],
      followups: [
        { after_ms: 0, method: 'Unary', requests: [{ script: { report_call: '{run}' } }] },
        { after_ms: 0, method: 'Unary', timeout_ms: 10_000, requests: [{ script: { report_call: 'never-{run}' } }] },
      ],
    };
    const o = await withServer('', async (port) => (await runScripted('d', instruction, target(port))).observed as O);
    expect(o['status']['code']).toBe(grpc.status.DEADLINE_EXCEEDED);
    expect(info(o['followups'][0])['reported_call']).toEqual({ ended: 'cancelled', replies_sent: 0 });
    expect(info(o['followups'][1])['reported_call']).toEqual({ ended: 'unknown', replies_sent: 0 });
  }, 20_000);

  it('--max_concurrent_streams=1: grpc-js queues four calls, the server handles one at a time; scripted-lifecycle-ignored lets them run at once', async () => {
    const instruction = { method: 'Unary', concurrent: 4, channel: {}, requests: [{ script: { delay_ms: 200 } }] };
    const active = (o: O) => [o, ...o['concurrent']].map((c: O) => info(c)['active_calls']);
    const limited = await withLimitedServer({ lifecycle: { maxConcurrentStreams: 1 } }, '', async (port) => (await runScripted('m', instruction, target(port))).observed as O);
    expect(active(limited)).toEqual([1, 1, 1, 1]);
    const ignored = await withLimitedServer({ lifecycle: { maxConcurrentStreams: 1 } }, 'scripted-lifecycle-ignored', async (port) => (await runScripted('m', instruction, target(port))).observed as O);
    expect(Math.max(...active(ignored))).toBeGreaterThan(1);
  });

  it('max connection age: the stream in flight completes, the follow-up comes over a new connection', async () => {
    const instruction = {
      method: 'ServerStream',
      channel: {},
      requests: [{ script: { replies: replies(4, 250) } }],
      followups: [{ after_ms: 300, method: 'Unary', requests: [{ script: {} }] }],
    };
    const lifecycle = { maxConnectionAgeMs: 300, maxConnectionAgeGraceMs: 30_000 };
    const o = await withLimitedServer({ lifecycle }, '', async (port) => (await runScripted('a', instruction, target(port))).observed as O);
    expect(o['status']['code']).toBe(grpc.status.OK);
    expect(o['followups'][0]['status']['code']).toBe(grpc.status.OK);
    expect(info(o['followups'][0])['peer']).not.toBe(info(o)['peer']);
    const ignored = await withLimitedServer({ lifecycle }, 'scripted-lifecycle-ignored', async (port) => (await runScripted('a', instruction, target(port))).observed as O);
    expect(info(ignored['followups'][0])['peer']).toBe(info(ignored)['peer']);
  }, 20_000);

  it('restart_server_after_ms: the stream in flight completes, the server listens again on the same port; scripted-shutdown-abrupt cancels the stream', async () => {
    const instruction = {
      method: 'ServerStream',
      channel: {},
      requests: [{ script: { restart_server_after_ms: 200, replies: replies(4, 150) } }],
      followups: [{ after_ms: 1500, method: 'Unary', timeout_ms: 10_000, requests: [{ script: {} }] }],
    };
    const o = await withServer('', async (port) => (await runScripted('r', instruction, target(port))).observed as O);
    expect(o['status']['code']).toBe(grpc.status.OK);
    expect(o['responses']).toHaveLength(4);
    expect(o['followups'][0]['status']['code']).toBe(grpc.status.OK);
    expect(info(o['followups'][0])['peer']).not.toBe(info(o)['peer']);
    const abrupt = await withServer('scripted-shutdown-abrupt', async (port) => (await runScripted('r', instruction, target(port))).observed as O);
    expect(abrupt['status']['code']).not.toBe(grpc.status.OK);
    expect(abrupt['followups'][0]['status']['code']).toBe(grpc.status.OK);
  }, 20_000);
});
