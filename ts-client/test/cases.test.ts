import { readFileSync } from 'node:fs';
import * as grpc from '@grpc/grpc-js';
import type { StreamingGreeterHandlers } from '../../ts-common/src/generated/helloworld/StreamingGreeter.js';
import { certPath } from '../../ts-common/src/paths.js';
import { loadProtos } from '../../ts-common/src/proto.js';
import { DISCOVERY_CASES } from '../src/cases/discovery.js';
import { SEEDS_CASES } from '../src/cases/seeds.js';
import { TESTING_EDGES_CASES } from '../src/cases/testing-edges.js';
import { runCase } from '../src/run-case.js';
import { parseFaults } from '../../ts-server/src/faults.js';
import { serve, type RunningServer, type TlsFiles } from '../../ts-server/src/server.js';
import { grpcJsVersion } from '../../ts-server/src/services/server-info.js';
import { streamingGreeterHandlers } from '../../ts-server/src/services/streaming-greeter.js';

/** The TypeScript client against the TypeScript server, in one process. */
async function withServer(fault: string, fn: (port: number) => Promise<void>, tls?: TlsFiles): Promise<void> {
  const server: RunningServer = await serve({ host: '127.0.0.1', port: 0, faults: parseFaults(fault), ...(tls ? { tls } : {}) });
  try {
    await fn(server.port);
  } finally {
    await server.stop(100);
  }
}

/** @grpc/reflection 1.0.4 names the services of package-less files ".TestServer" and ".UserRecommend" (see below). */
const REFLECTION_LIST_CASES = ['reflection_list_v1', 'reflection_list_v1alpha'];

const singleProcessCases = [
  ...Object.keys(SEEDS_CASES).filter((c) => c !== 'reuseport_workers'),
  ...Object.keys(TESTING_EDGES_CASES),
  ...Object.keys(DISCOVERY_CASES).filter((c) => !REFLECTION_LIST_CASES.includes(c)),
];

const target = (port: number, more: { clientFault?: string } = {}) => ({ host: '127.0.0.1', port, rpcTimeoutMs: 5000, ...more });

describe('ts client against the in-process ts server', () => {
  it.each(singleProcessCases)('%s passes', async (name) => {
    await withServer('', async (port) => {
      const result = await runCase(name, { host: '127.0.0.1', port, rpcTimeoutMs: 5000 });
      expect(result).toMatchObject({ case: name, status: 'passed' });
    });
  });

  it('reuseport_workers fails against a single process', async () => {
    await withServer('', async (port) => {
      const result = await runCase('reuseport_workers', { host: '127.0.0.1', port, rpcTimeoutMs: 5000 });
      expect(result.status).toBe('failed');
      expect(result.error).toMatch(/at least 2 workers/);
    });
  });

  it.each(REFLECTION_LIST_CASES)('%s fails: @grpc/reflection lists TestServer and UserRecommend as ".TestServer" and ".UserRecommend"', async (name) => {
    await withServer('', async (port) => {
      const result = await runCase(name, target(port));
      expect(result).toMatchObject({ case: name, status: 'failed' });
      expect(result.error).toMatch(/^list_services_response service names: missing UserRecommend, TestServer; listed \[/);
      expect(result.error).toContain('"interop.scripted.Scripted"');
      expect(result.error).toContain('".TestServer",".UserRecommend"');
    });
  });

  it('an unknown case is a failed case, not a crash', async () => {
    const result = await runCase('no_such_case', { host: '127.0.0.1', port: 1, rpcTimeoutMs: 100 });
    expect(result).toMatchObject({ status: 'failed', error: 'unknown test case: no_such_case' });
  });

  it('a hung stream fails at its deadline', async () => {
    await withServer('bidi-buffered', async (port) => {
      const result = await runCase('stream_bidi', { host: '127.0.0.1', port, rpcTimeoutMs: 300 });
      expect(result.status).toBe('failed');
      expect(result.error).toMatch(/DEADLINE_EXCEEDED/);
    });
  });
});

describe('the new cases catch the faults meant for them', () => {
  it.each([
    ['stream_server_max_count', 'count-limit-low', /LotsOfReplies\{name:"m",count:10000\}: expected OK, got INVALID_ARGUMENT: count/],
    ['stream_server_max_count', 'count-limit-none', /LotsOfReplies\{name:"m",count:10001\}: expected INVALID_ARGUMENT, got OK/],
    ['user_recommend_max_articles', 'article-limit-low', /UserRecommend\{article_num:1000\}: expected OK, got INVALID_ARGUMENT: article_num/],
    ['health_unknown_service', 'health-serving-any', /Health\/Check\{service:"no.such.Service"\}: expected NOT_FOUND, got OK/],
    ['status_unary_non_unknown', 'testing-status-unknown', /status: expected "FAILED_PRECONDITION", got "UNKNOWN"/],
    ['status_server_streaming_non_unknown', 'testing-status-unknown', /status: expected "OUT_OF_RANGE", got "UNKNOWN"/],
    ['status_server_streaming_non_unknown', 'testing-stream-status-ok', /status: expected "OUT_OF_RANGE", got "OK"/],
    ['status_bidi_non_unknown', 'testing-status-unknown', /status: expected "ALREADY_EXISTS", got "UNKNOWN"/],
    ['streaming_output_interval', 'testing-interval-ignored', /timing: the third response came .* ms after the call started; expected at least 135 ms/],
    ['reflection_list_v1', 'reflection-incomplete', /^list_services_response service names: missing .*interop\.scripted\.Scripted; listed /],
    ['reflection_list_v1alpha', 'reflection-incomplete', /^list_services_response service names: missing .*interop\.scripted\.Scripted; listed /],
    [
      'reflection_file_containing_symbol',
      'reflection-incomplete',
      /^v1 ServerReflectionInfo \{"file_containing_symbol":"interop\.scripted\.Scripted"\}: expected file_descriptor_response, got error_response \{"error_code":5,/,
    ],
    ['health_check_every_service', 'health-services-not-serving', /^Health\/Check\{service:"helloworld\.Greeter"\} status: expected "SERVING", got "NOT_SERVING"$/],
    ['health_unknown_service', 'health-services-not-serving', /^Health\/Check\{service:"helloworld\.Greeter"\} status: expected "SERVING", got "NOT_SERVING"$/],
  ])('%s fails against the %s server', async (name, fault, error) => {
    await withServer(fault, async (port) => {
      const result = await runCase(name, target(port));
      expect(result).toMatchObject({ case: name, status: 'failed', error: expect.stringMatching(error) });
    });
  });

  it.each([
    ['health_watch_serving', /^Health\/Watch\{service:""\} first message: expected OK, got DEADLINE_EXCEEDED/],
    ['health_unknown_service', /^Health\/Watch\{service:"no\.such\.Service"\} first message: expected OK, got DEADLINE_EXCEEDED/],
    ['health_watch_updates', /^Health\/Watch\{service:"interop\.watched\.[0-9a-f]{16}"\} first message: expected OK, got DEADLINE_EXCEEDED/],
  ])('%s fails at its deadline against the health-watch-silent server', async (name, error) => {
    await withServer('health-watch-silent', async (port) => {
      const result = await runCase(name, { ...target(port), rpcTimeoutMs: 300 });
      expect(result).toMatchObject({ case: name, status: 'failed', error: expect.stringMatching(error) });
    });
  });

  it('health_watch_updates fails at its deadline against the health-watch-no-updates server: the first message came, the change never does', async () => {
    await withServer('health-watch-no-updates', async (port) => {
      // The deadline covers the whole Watch: long enough for the steps before the wait that fails.
      const result = await runCase('health_watch_updates', { ...target(port), rpcTimeoutMs: 1000 });
      const error = /^Health\/Watch\{service:"interop\.watched\.[0-9a-f]{16}"\} message after set_health SERVING: expected OK, got DEADLINE_EXCEEDED/;
      expect(result).toMatchObject({ case: 'health_watch_updates', status: 'failed', error: expect.stringMatching(error) });
    });
  });

  it('health_watch_updates watches a fresh name each run: it passes twice against one server', async () => {
    await withServer('', async (port) => {
      for (let i = 0; i < 2; i++) expect(await runCase('health_watch_updates', target(port))).toMatchObject({ status: 'passed' });
    });
  });

  it.each([
    ['reflection-incomplete', ['health_watch_serving', 'health_watch_updates', 'health_check_every_service']],
    ['health-watch-silent', ['reflection_file_containing_symbol', 'health_check_every_service']],
    ['health-services-not-serving', ['reflection_file_containing_symbol', 'health_watch_serving', 'health_watch_updates']],
    ['health-watch-no-updates', ['health_watch_serving', 'health_unknown_service', 'health_check_every_service']],
  ])('the other discovery cases pass against the %s server', async (fault, names) => {
    await withServer(fault, async (port) => {
      for (const name of names) expect(await runCase(name, target(port))).toMatchObject({ case: name, status: 'passed' });
    });
  });

  it('the streaming cases of testing-edges pass against servers with unrelated faults', async () => {
    await withServer('testing-stream-drop-last', async (port) => {
      // Drop-last only touches requests of two or more parameters: the bidi case sends one.
      expect(await runCase('status_bidi_non_unknown', target(port))).toMatchObject({ status: 'passed' });
    });
  });
});

describe('server_info_version reports what it got, for the runner to judge', () => {
  it('puts language, implementation and version in its result line', async () => {
    const version = grpcJsVersion();
    await withServer('', async (port) => {
      const result = await runCase('server_info_version', target(port));
      expect(result).toEqual({ case: 'server_info_version', status: 'passed', ms: expect.any(Number), observed: { language: 'typescript', implementation: 'grpc-js', version } });
    });
  });

  it('passes against version-wrong (the runner fails it), reporting the wrong version faithfully', async () => {
    await withServer('version-wrong', async (port) => {
      const result = await runCase('server_info_version', target(port));
      expect(result).toMatchObject({ status: 'passed', observed: { version: '0.0.0-fault' } });
    });
  });

  it('the other cases carry no observed', async () => {
    await withServer('', async (port) => {
      expect(await runCase('greeter_say_hello', target(port))).not.toHaveProperty('observed');
    });
  });
});

describe('--client_fault=no-checks', () => {
  const noChecks = { clientFault: 'no-checks' };

  it.each([
    ['stream_server', 'stream-truncate'],
    ['user_recommend', 'recommend-no-validation'],
    ['stream_server_max_count', 'count-limit-low'],
    ['health_unknown_service', 'health-serving-any'],
    ['status_code_and_message', 'testing-status-ignored'],
    ['ping_pong', 'testing-duplex-extra'],
    ['status_server_streaming_non_unknown', 'testing-status-unknown'],
    ['streaming_output_interval', 'testing-interval-ignored'],
    ['reflection_list_v1', 'reflection-incomplete'],
    ['reflection_file_containing_symbol', 'reflection-incomplete'],
    ['health_watch_serving', 'health-watch-silent'],
    ['health_watch_updates', 'health-watch-no-updates'],
    ['health_check_every_service', 'health-services-not-serving'],
  ])('%s passes against the %s server (it fails with its checks)', async (name, fault) => {
    await withServer(fault, async (port) => {
      // Against health-watch-silent and health-watch-no-updates the case waits for its deadline: a short one.
      const at = fault.startsWith('health-watch-') ? { ...target(port), rpcTimeoutMs: 1000 } : target(port);
      expect(await runCase(name, at)).toMatchObject({ status: 'failed' });
      expect(await runCase(name, { ...at, ...noChecks })).toEqual({ case: name, status: 'passed', ms: expect.any(Number) });
    });
  });

  it('the security case passes when the server takes the client without a certificate', async () => {
    const read = (name: string) => readFileSync(certPath(name));
    const tls = { ca: read('ca.pem'), cert: read('client.pem'), key: read('client.key'), serverNameOverride: 'foo.test.google.fr' };
    await withServer('', async (port) => {
      const over = (more: { clientFault?: string }) => ({ ...target(port, more), tls });
      expect(await runCase('mtls_client_without_certificate', over({}))).toMatchObject({ status: 'failed', error: expect.stringMatching(/expected UNAVAILABLE, got OK/) });
      expect(await runCase('mtls_client_without_certificate', over(noChecks))).toMatchObject({ status: 'passed' });
    }, { cert: read('server.pem'), key: read('server.key') });
  });

  it('still makes every call of the case: stream_server goes on past its failed checks', async () => {
    const counts: number[] = [];
    const handlers = streamingGreeterHandlers(parseFaults('stream-truncate'));
    const server = new grpc.Server();
    server.addService(loadProtos().helloworld.StreamingGreeter.service, {
      ...handlers,
      LotsOfReplies: (call) => {
        counts.push(call.request.count);
        handlers.LotsOfReplies(call);
      },
    } satisfies StreamingGreeterHandlers);
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, bound) => (err ? reject(err) : resolve(bound))),
    );
    try {
      expect(await runCase('stream_server', target(port, noChecks))).toMatchObject({ status: 'passed' });
      expect(counts).toEqual([5, 0, -5]);
    } finally {
      server.forceShutdown();
    }
  });

  it('an unknown case still fails: there is no case to run', async () => {
    expect(await runCase('no_such_case', { host: '127.0.0.1', port: 1, rpcTimeoutMs: 100, ...noChecks })).toMatchObject({ status: 'failed' });
  });
});
