import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import * as grpc from '@grpc/grpc-js';
import type { HealthClient, HealthHandlers } from '../../ts-common/src/generated/grpc/health/v1/Health.js';
import type { TestServiceClient } from '../../ts-common/src/generated/grpc/testing/TestService.js';
import type { ScriptedClient } from '../../ts-common/src/generated/interop/scripted/Scripted.js';
import { loadProtos } from '../../ts-common/src/proto.js';
import { drain, settled, unary } from '../../ts-client/src/rpc.js';
import { NO_FAULTS, parseFaults, FAULTS } from '../src/faults.js';
import { serve } from '../src/server.js';
import { codePointLength, measuredLength } from '../src/services/compute.js';
import { healthHandlers, setHealth } from '../src/services/health.js';
import { increment } from '../src/services/panda.js';
import { serverInfo } from '../src/services/server-info.js';
import { MAX_REPLIES, replyCount } from '../src/services/streaming-greeter.js';
import { recommend } from '../src/services/user-recommend.js';

describe('compute: length in code points', () => {
  it.each([
    ['', 0],
    ['123456', 6],
    ['你好😈', 3],
    ['🌏🌏', 2],
  ])('%j has %d code points', (s, n) => {
    expect(codePointLength(s)).toBe(n);
  });

  it('the length faults count what JavaScript and Go would get wrong', () => {
    expect(measuredLength('你好😈', parseFaults('length-utf16'))).toBe(4);
    expect(measuredLength('你好😈', parseFaults('length-bytes'))).toBe(10);
  });
});

describe('panda: arg + 1 over int64', () => {
  it('is exact beyond 2^53 and at the bottom of int64', () => {
    expect(increment('9007199254740993', NO_FAULTS)).toBe('9007199254740994');
    expect(increment('-9223372036854775808', NO_FAULTS)).toBe('-9223372036854775807');
    expect(increment('9223372036854775806', NO_FAULTS)).toBe('9223372036854775807');
  });

  it('reports overflow at 2^63 - 1', () => {
    expect(increment('9223372036854775807', NO_FAULTS)).toEqual({ overflow: expect.stringContaining('overflow') });
  });

  it('loses precision under the float64 fault', () => {
    expect(increment('9007199254740993', parseFaults('panda-float64'))).toBe('9007199254740992');
  });
});

describe('user recommend', () => {
  it('returns article ids from 1 with share unset', () => {
    const r = recommend(3, 42, NO_FAULTS);
    if (typeof r === 'string') throw new Error(r);
    expect(r.recommends?.map((a) => a.article_id)).toEqual(['1', '2', '3']);
    expect(r.recommends?.[0]?.track).toEqual({ click: 'click param', collect: 'collect param', read: 'read param' });
    expect(r.time_stamp).toBe('42');
  });

  it.each([-1, 1001])('rejects article_num %d naming the field', (n) => {
    expect(recommend(n, 0, NO_FAULTS)).toEqual(expect.stringContaining('article_num'));
  });

  it('accepts the bounds 0 and 1000', () => {
    expect(recommend(0, 0, NO_FAULTS)).toMatchObject({ recommends: [] });
    expect(recommend(1000, 0, NO_FAULTS)).toMatchObject({ recommends: expect.any(Array) });
  });

  it('rejects 1000 under article-limit-low, naming the field, and still accepts 999', () => {
    const faults = parseFaults('article-limit-low');
    expect(recommend(1000, 0, faults)).toEqual(expect.stringContaining('article_num'));
    expect(recommend(999, 0, faults)).toMatchObject({ recommends: expect.any(Array) });
  });
});

describe('LotsOfReplies: how many replies', () => {
  it('sends count replies for 0..10000 and names count otherwise', () => {
    expect(replyCount(0, NO_FAULTS)).toBe(0);
    expect(replyCount(MAX_REPLIES, NO_FAULTS)).toBe(10_000);
    expect(replyCount(10_001, NO_FAULTS)).toEqual(expect.stringContaining('count'));
    expect(replyCount(-5, NO_FAULTS)).toEqual(expect.stringContaining('count'));
  });

  it('rejects 10000 under count-limit-low, naming count', () => {
    expect(replyCount(10_000, parseFaults('count-limit-low'))).toEqual(expect.stringContaining('count'));
    expect(replyCount(9_999, parseFaults('count-limit-low'))).toBe(9_999);
  });

  it('accepts any count >= 0 under count-limit-none', () => {
    expect(replyCount(10_001, parseFaults('count-limit-none'))).toBe(10_001);
    expect(replyCount(-5, parseFaults('count-limit-none'))).toEqual(expect.stringContaining('count'));
  });

  it('sends one reply short under stream-truncate', () => {
    expect(replyCount(5, parseFaults('stream-truncate'))).toBe(4);
    expect(replyCount(0, parseFaults('stream-truncate'))).toBe(0);
  });
});

describe('server info', () => {
  it('reports the grpc-js version this process loaded', () => {
    expect(serverInfo(NO_FAULTS)).toMatchObject({ language: 'typescript', implementation: 'grpc-js', version: expect.stringMatching(/^\d+\.\d+\.\d+/), pid: process.pid });
  });

  it('reports 0.0.0-fault under version-wrong', () => {
    expect(serverInfo(parseFaults('version-wrong')).version).toBe('0.0.0-fault');
  });
});

describe('faults', () => {
  it('parses a comma list of known faults', () => {
    expect([...parseFaults('random-constant, bidi-buffered')]).toEqual(['random-constant', 'bidi-buffered']);
    expect(parseFaults('').size).toBe(0);
  });

  it('rejects an unknown fault and lists the known ones', () => {
    expect(() => parseFaults('nope')).toThrow(/unknown fault "nope".*greeting-punctuation/);
  });

  it('has 63 faults (19 seeds, 4 discovery, 11 grpc.testing, 3 testing-edges, 26 scripted), as the peer contract lists', () => {
    expect(FAULTS).toHaveLength(63);
    expect(FAULTS.filter((f) => f.startsWith('scripted-'))).toHaveLength(26);
    expect([...parseFaults('health-watch-no-updates,scripted-second-host-ignored')]).toEqual(['health-watch-no-updates', 'scripted-second-host-ignored']);
  });
});

/** The in-process server with `fault`, and a stub of each service it is asked about (health and scripted share a channel). */
async function withServer(fault: string, fn: (stubs: { health: HealthClient; testing: TestServiceClient; scripted: ScriptedClient }) => Promise<void>): Promise<void> {
  const server = await serve({ host: '127.0.0.1', port: 0, faults: parseFaults(fault) });
  const p = loadProtos();
  const address = `127.0.0.1:${server.port}`;
  const health = new p.grpc.health.v1.Health(address, grpc.credentials.createInsecure());
  const testing = new p.grpc.testing.TestService(address, grpc.credentials.createInsecure());
  const scripted = new p.interop.scripted.Scripted(address, grpc.credentials.createInsecure(), { channelOverride: health.getChannel() });
  try {
    await fn({ health, testing, scripted });
  } finally {
    health.close();
    testing.close();
    await server.stop(100);
  }
}

const deadline = () => ({ deadline: Date.now() + 5000 });

/** How a unary call ended: its status code and message. */
const ended = async (start: (cb: grpc.requestCallback<unknown>) => unknown) => {
  const { code, details } = await settled(unary(start));
  return { code, details };
};

/** How a server stream ended, and how many messages came first. */
async function streamEnded(call: grpc.ClientReadableStream<unknown>): Promise<{ code: number; details: string; messages: number }> {
  const { messages, status } = await drain(call);
  return { code: status.code, details: status.details, messages: messages.length };
}

describe('health over the wire', () => {
  const firstWatched = (health: HealthClient, service: string) =>
    new Promise<string>((resolve, reject) => {
      const watch = health.Watch({ service }, deadline());
      watch.on('error', () => undefined);
      watch.once('data', (m: { status: string }) => {
        resolve(m.status);
        watch.cancel();
      });
      watch.once('status', (s: grpc.StatusObject) => reject(new Error(`Watch ended before a message: ${s.details}`)));
    });

  it('an unknown service is NOT_FOUND to Check and SERVICE_UNKNOWN to Watch', async () => {
    await withServer('', async ({ health }) => {
      expect(await ended((cb) => health.Check({ service: 'no.such.Service' }, deadline(), cb))).toMatchObject({ code: grpc.status.NOT_FOUND });
      expect(await firstWatched(health, 'no.such.Service')).toBe('SERVICE_UNKNOWN');
      expect(await firstWatched(health, 'helloworld.Greeter')).toBe('SERVING');
    });
  });

  it('health-serving-any answers SERVING for any name, "" included', async () => {
    await withServer('health-serving-any', async ({ health }) => {
      for (const service of ['no.such.Service', '']) {
        expect(await unary((cb) => health.Check({ service }, deadline(), cb))).toEqual({ status: 'SERVING' });
      }
      expect(await firstWatched(health, 'no.such.Service')).toBe('SERVING');
    });
  });

  it('health-services-not-serving: every served service is NOT_SERVING, "" stays SERVING, an unknown name stays unknown', async () => {
    await withServer('health-services-not-serving', async ({ health }) => {
      const check = (service: string) => ended((cb) => health.Check({ service }, deadline(), cb));
      expect(await unary((cb) => health.Check({ service: '' }, deadline(), cb))).toEqual({ status: 'SERVING' });
      expect(await unary((cb) => health.Check({ service: 'helloworld.Greeter' }, deadline(), cb))).toEqual({ status: 'NOT_SERVING' });
      expect(await check('no.such.Service')).toMatchObject({ code: grpc.status.NOT_FOUND });
      expect(await firstWatched(health, '')).toBe('SERVING');
      expect(await firstWatched(health, 'interop.scripted.Scripted')).toBe('NOT_SERVING');
      expect(await firstWatched(health, 'no.such.Service')).toBe('SERVICE_UNKNOWN');
    });
  });

  it('health-watch-silent: Watch sends nothing and holds the stream until the client cancels; Check answers', async () => {
    await withServer('health-watch-silent', async ({ health }) => {
      expect(await unary((cb) => health.Check({ service: '' }, deadline(), cb))).toEqual({ status: 'SERVING' });
      const watch = health.Watch({ service: '' }, deadline());
      watch.on('error', () => undefined);
      const messages: unknown[] = [];
      watch.on('data', (m: unknown) => messages.push(m));
      const ended = new Promise<grpc.StatusObject>((resolve) => watch.on('status', resolve));
      const open = await Promise.race([ended.then(() => false), new Promise<boolean>((resolve) => setTimeout(() => resolve(true), 300))]);
      expect({ open, messages }).toEqual({ open: true, messages: [] });
      watch.cancel();
      expect((await ended).code).toBe(grpc.status.CANCELLED);
    });
  });
});

/** A name no other test of this process sets (statuses are per process). */
const freshName = (prefix: string) => `${prefix}.${randomBytes(8).toString('hex')}`;

type WatchCall = Parameters<HealthHandlers['Watch']>[0];
type CheckCall = Parameters<HealthHandlers['Check']>[0];

/**
 * Health/Watch{service} as the handler sees it, without a network: what it writes is recorded at
 * once (setHealth tells the streams synchronously), `cancel` is the client cancelling.
 */
function watchedBy(handlers: HealthHandlers, service: string) {
  const written: string[] = [];
  const call = Object.assign(new EventEmitter(), {
    request: { service },
    cancelled: false,
    write: (m: { status: string }) => written.push(m.status) > 0,
    end: () => undefined,
  });
  handlers.Watch(call as unknown as WatchCall);
  return {
    written,
    cancel: () => {
      call.cancelled = true;
      call.emit('cancelled');
    },
  };
}

/** Health/Check{service} through the handler: the status, or the error code. */
function checked(handlers: HealthHandlers, service: string): string | number | undefined {
  let got: string | number | undefined;
  handlers.Check({ request: { service } } as unknown as CheckCall, (err, reply) => (got = err ? (err.code ?? -1) : reply?.status));
  return got;
}

describe('health statuses set by script.set_health (setHealth)', () => {
  it('a Watch is sent each new status, never the one it sent last, and nothing once cancelled; Check answers the set status', () => {
    const service = freshName('interop.watched');
    const handlers = healthHandlers(new Set(), NO_FAULTS);
    const watch = watchedBy(handlers, service);
    const other = watchedBy(handlers, freshName('interop.other'));
    expect(checked(handlers, service)).toBe(grpc.status.NOT_FOUND);
    setHealth(service, 'SERVING');
    setHealth(service, 'SERVING');
    setHealth(service, 'NOT_SERVING');
    expect(checked(handlers, service)).toBe('NOT_SERVING');
    setHealth(service, 'UNKNOWN');
    expect(checked(handlers, service)).toBe('UNKNOWN'); // a known name, not NOT_FOUND
    watch.cancel();
    setHealth(service, 'SERVING');
    expect(watch.written).toEqual(['SERVICE_UNKNOWN', 'SERVING', 'NOT_SERVING', 'UNKNOWN']);
    expect(other.written).toEqual(['SERVICE_UNKNOWN']);
  });

  it('per process: a Watch of another server of the process (a restarted one) is told, and starts from the set status', () => {
    const service = freshName('interop.watched');
    const before = watchedBy(healthHandlers(new Set(), NO_FAULTS), service);
    setHealth(service, 'NOT_SERVING');
    const after = healthHandlers(new Set(), NO_FAULTS);
    expect(checked(after, service)).toBe('NOT_SERVING');
    expect(watchedBy(after, service).written).toEqual(['NOT_SERVING']);
    expect(before.written).toEqual(['SERVICE_UNKNOWN', 'NOT_SERVING']);
  });

  it('a set status wins over the health faults, which keep their meaning for the names not set', () => {
    const served = freshName('interop.Served');
    const notServing = healthHandlers(new Set([served, 'kept.Served']), parseFaults('health-services-not-serving'));
    const servingAny = healthHandlers(new Set(), parseFaults('health-serving-any'));
    const watch = watchedBy(notServing, served);
    expect(checked(notServing, served)).toBe('NOT_SERVING');
    setHealth(served, 'SERVING');
    expect(watch.written).toEqual(['NOT_SERVING', 'SERVING']);
    expect(checked(notServing, served)).toBe('SERVING');
    expect(checked(notServing, 'kept.Served')).toBe('NOT_SERVING');
    const name = freshName('interop.any');
    setHealth(name, 'NOT_SERVING');
    expect(checked(servingAny, name)).toBe('NOT_SERVING');
    expect(checked(servingAny, freshName('interop.any'))).toBe('SERVING');
  });

  it('health-watch-no-updates: the status of when the stream started, then nothing; Check still changes', () => {
    const service = freshName('interop.watched');
    const handlers = healthHandlers(new Set(), parseFaults('health-watch-no-updates'));
    const watch = watchedBy(handlers, service);
    setHealth(service, 'SERVING');
    expect(checked(handlers, service)).toBe('SERVING');
    setHealth(service, 'NOT_SERVING');
    expect(watch.written).toEqual(['SERVICE_UNKNOWN']);
    expect(watchedBy(handlers, service).written).toEqual(['NOT_SERVING']);
  });

  it('health-watch-silent: nothing at all, set statuses included', () => {
    const service = freshName('interop.watched');
    const handlers = healthHandlers(new Set(), parseFaults('health-watch-silent'));
    const watch = watchedBy(handlers, service);
    setHealth(service, 'SERVING');
    expect(watch.written).toEqual([]);
    expect(checked(handlers, service)).toBe('SERVING');
  });
});

describe('set_health over the wire (Scripted/Unary, then Health on the same channel)', () => {
  const setHealthCall = (scripted: ScriptedClient, changes: Array<{ service: string; status: string }>) => ended((cb) => scripted.Unary({ script: { set_health: changes } }, deadline(), cb));

  /** A Watch stream whose messages are awaited one at a time (each wait ends at the call's deadline). */
  function watchStream(health: HealthClient, service: string) {
    const call = health.Watch({ service }, deadline());
    call.on('error', () => undefined);
    const messages = call[Symbol.asyncIterator]() as AsyncIterator<{ status: string }>;
    return { next: async () => (await messages.next()).value?.status, cancel: () => call.cancel() };
  }

  it('the Watch of a fresh name is told SERVING then NOT_SERVING; Check answers the last; the entries of one call apply in order', async () => {
    await withServer('', async ({ health, scripted }) => {
      const service = freshName('interop.watched');
      const watch = watchStream(health, service);
      try {
        expect(await watch.next()).toBe('SERVICE_UNKNOWN');
        expect(await setHealthCall(scripted, [{ service, status: 'SERVING' }])).toMatchObject({ code: grpc.status.OK });
        expect(await watch.next()).toBe('SERVING');
        // The same status again is not sent: the next message is the change after it.
        expect(await setHealthCall(scripted, [{ service, status: 'SERVING' }, { service, status: 'NOT_SERVING' }])).toMatchObject({ code: grpc.status.OK });
        expect(await watch.next()).toBe('NOT_SERVING');
        expect(await unary((cb) => health.Check({ service }, deadline(), cb))).toEqual({ status: 'NOT_SERVING' });
      } finally {
        watch.cancel();
      }
    });
  });

  it('any other status name ends the call INVALID_ARGUMENT, and sets nothing', async () => {
    await withServer('', async ({ health, scripted }) => {
      const service = freshName('interop.watched');
      expect(await setHealthCall(scripted, [{ service, status: 'SERVICE_UNKNOWN' }])).toEqual({
        code: grpc.status.INVALID_ARGUMENT,
        details: `scripted: set_health: unknown status "SERVICE_UNKNOWN" for service "${service}" (expected SERVING, NOT_SERVING, UNKNOWN)`,
      });
      expect(await setHealthCall(scripted, [{ service, status: 'serving' }])).toMatchObject({ code: grpc.status.INVALID_ARGUMENT });
      expect(await ended((cb) => health.Check({ service }, deadline(), cb))).toMatchObject({ code: grpc.status.NOT_FOUND });
    });
  });

  it('health-watch-no-updates: the Watch is not told, Check is', async () => {
    await withServer('health-watch-no-updates', async ({ health, scripted }) => {
      const service = freshName('interop.watched');
      const call = health.Watch({ service }, deadline());
      call.on('error', () => undefined);
      const messages: string[] = [];
      call.on('data', (m: { status: string }) => messages.push(m.status));
      const first = new Promise((resolve) => call.once('data', resolve));
      const closed = new Promise<grpc.StatusObject>((resolve) => call.on('status', resolve));
      await first;
      for (const status of ['SERVING', 'NOT_SERVING']) expect(await setHealthCall(scripted, [{ service, status }])).toMatchObject({ code: grpc.status.OK });
      expect(await unary((cb) => health.Check({ service }, deadline(), cb))).toEqual({ status: 'NOT_SERVING' });
      call.cancel();
      expect((await closed).code).toBe(grpc.status.CANCELLED);
      expect(messages).toEqual(['SERVICE_UNKNOWN']);
    });
  });
});

describe('TestService faults over the wire', () => {
  const response_status = { code: grpc.status.FAILED_PRECONDITION, message: 'edges' };
  const unaryStatus = (testing: TestServiceClient) => ended((cb) => testing.UnaryCall({ response_status }, deadline(), cb));
  const streamStatus = (testing: TestServiceClient) =>
    streamEnded(testing.StreamingOutputCall({ response_parameters: [{ size: 8 }, { size: 8 }], response_status }, deadline()));

  it('echoes the requested status, code and message, on unary and streaming calls', async () => {
    await withServer('', async ({ testing }) => {
      expect(await unaryStatus(testing)).toEqual({ code: grpc.status.FAILED_PRECONDITION, details: 'edges' });
      expect(await streamStatus(testing)).toEqual({ code: grpc.status.FAILED_PRECONDITION, details: 'edges', messages: 2 });
    });
  });

  it('testing-status-unknown turns every echoed code into UNKNOWN, message unchanged', async () => {
    await withServer('testing-status-unknown', async ({ testing }) => {
      expect(await unaryStatus(testing)).toEqual({ code: grpc.status.UNKNOWN, details: 'edges' });
      expect(await streamStatus(testing)).toEqual({ code: grpc.status.UNKNOWN, details: 'edges', messages: 2 });
    });
  });

  it('testing-stream-status-ok ends StreamingOutputCall OK, and only it', async () => {
    await withServer('testing-stream-status-ok', async ({ testing }) => {
      expect(await streamStatus(testing)).toMatchObject({ code: grpc.status.OK, messages: 2 });
      expect(await unaryStatus(testing)).toEqual({ code: grpc.status.FAILED_PRECONDITION, details: 'edges' });
    });
  });

  it.each([
    ['', (ms: number) => expect(ms).toBeGreaterThanOrEqual(270)],
    ['testing-interval-ignored', (ms: number) => expect(ms).toBeLessThan(150)],
  ])('StreamingOutputCall with 3 × interval_us 100000 under fault "%s"', async (fault, expectMs) => {
    await withServer(fault, async ({ testing }) => {
      const started = performance.now();
      const end = await streamEnded(testing.StreamingOutputCall({ response_parameters: [1, 2, 3].map(() => ({ size: 1, interval_us: 100_000 })) }, deadline()));
      expect(end).toMatchObject({ code: grpc.status.OK, messages: 3 });
      expectMs(performance.now() - started);
    });
  });
});
