import { status } from '@grpc/grpc-js';
import type * as grpc from '@grpc/grpc-js';
import type { HealthCheckResponse__Output } from '../../../ts-common/src/generated/grpc/health/v1/HealthCheckResponse.js';
import type { HelloReply__Output } from '../../../ts-common/src/generated/helloworld/HelloReply.js';
import type { ServerInfoReply__Output } from '../../../ts-common/src/generated/interop/ServerInfoReply.js';
import { unusedPort } from '../../../ts-common/src/net.js';
import { expectEqual, expectOk, expectStatus, expectThat } from '../check.js';
import type { CaseContext } from '../context.js';
import { collect, unary } from '../rpc.js';
import type { CaseFn } from './registry.js';

/** The `seeds` suite: every check of docs/peer-contract.md, in the same order in every client. */

async function sayHello(ctx: CaseContext, name: string, expected: string, address?: string): Promise<void> {
  const greeter = ctx.client(ctx.protos.helloworld.Greeter, {}, address);
  const reply = await expectOk(`SayHello{name:${JSON.stringify(name)}}`, unary<HelloReply__Output>((cb) => greeter.SayHello({ name }, ctx.deadline(), cb)));
  expectEqual(`SayHello{name:${JSON.stringify(name)}}`, expected, reply.message);
}

const greeterSayHello: CaseFn = async (ctx) => {
  await sayHello(ctx, 'world', 'Hello, world!');
  await sayHello(ctx, '世界🌏', 'Hello, 世界🌏!');
};

const greeterSayHelloAgain: CaseFn = async (ctx) => {
  const greeter = ctx.client(ctx.protos.helloworld.Greeter);
  const first = await expectOk('SayHello{name:"world"}', unary<HelloReply__Output>((cb) => greeter.SayHello({ name: 'world' }, ctx.deadline(), cb)));
  expectEqual('SayHello{name:"world"}', 'Hello, world!', first.message);
  const again = await expectOk('SayHelloAgain{name:"world"}', unary<HelloReply__Output>((cb) => greeter.SayHelloAgain({ name: 'world' }, ctx.deadline(), cb)));
  expectEqual('SayHelloAgain{name:"world"}', 'Hello again, world!', again.message);
};

const helloworldService: CaseFn = async (ctx) => {
  const service = ctx.client(ctx.protos.rpc_package.HelloWorldService);
  const what = 'rpc_package.HelloWorldService/SayHello{name:"shen"}';
  const reply = await expectOk(what, unary<HelloReply__Output>((cb) => service.SayHello({ name: 'shen' }, ctx.deadline(), cb)));
  expectEqual(what, 'Hello, shen!', reply.message);
};

const computeLength: CaseFn = async (ctx) => {
  const compute = ctx.client(ctx.protos.compute.Compute);
  for (const [input, expected] of [['123456', '6'], ['你好😈', '3'], ['', '0']] as const) {
    const what = `Compute/SayHello{helloworld:${JSON.stringify(input)}}`;
    const reply = await expectOk(what, unary<{ result: string }>((cb) => compute.SayHello({ helloworld: input }, ctx.deadline(), cb)));
    expectEqual(what, expected, reply.result);
  }
};

const FIVE_MINUTES_MS = 5 * 60 * 1000;

interface Article {
  article_id: string;
  track: { click: string; collect: string; share: string; read: string } | null;
}

/** `UserRecommend{user_id:1, channel_id:1, article_num, time_stamp:now_ms}` on one channel. */
function recommender(ctx: CaseContext) {
  const reco = ctx.client(ctx.protos.UserRecommend);
  return (article_num: number) =>
    unary<{ exposer: string; time_stamp: string; recommends: Article[] }>((cb) =>
      reco.UserRecommend({ user_id: 1, channel_id: 1, article_num, time_stamp: String(Date.now()) }, ctx.deadline(), cb),
    );
}

/** Exactly `count` articles, article `i` with `article_id` i+1, each also checked by `more`. */
function expectArticles(what: string, recommends: Article[], count: number, more: (at: string, article: Article) => void = () => undefined): void {
  expectEqual(`${what} number of articles`, count, recommends.length);
  recommends.forEach((article, i) => {
    const at = `${what} recommends[${i}]`;
    expectEqual(`${at}.article_id`, String(i + 1), article.article_id);
    more(at, article);
  });
}

const userRecommend: CaseFn = async (ctx) => {
  const ask = recommender(ctx);
  const what = 'UserRecommend{article_num:10}';
  const ten = await expectOk(what, ask(10));
  expectEqual(`${what} exposer`, 'exposure', ten.exposer);
  const skew = Math.abs(Number(ten.time_stamp) - Date.now());
  expectThat(`${what} time_stamp`, skew <= FIVE_MINUTES_MS, `server time ${ten.time_stamp} is ${skew} ms from the client's clock (limit ±5 min)`);
  expectArticles(what, ten.recommends, 10, (at, article) => {
    expectThat(`${at}.track`, article.track !== null, 'track is missing');
    expectEqual(`${at}.track.click`, 'click param', article.track?.click);
    expectEqual(`${at}.track.collect`, 'collect param', article.track?.collect);
    expectEqual(`${at}.track.read`, 'read param', article.track?.read);
    expectEqual(`${at}.track.share`, '', article.track?.share);
  });
  const none = await expectOk('UserRecommend{article_num:0}', ask(0));
  expectEqual('UserRecommend{article_num:0} exposer', 'exposure', none.exposer);
  expectEqual('UserRecommend{article_num:0} number of articles', 0, none.recommends.length);
  await expectStatus('UserRecommend{article_num:-1}', ask(-1), status.INVALID_ARGUMENT, 'article_num');
  await expectStatus('UserRecommend{article_num:1001}', ask(1001), status.INVALID_ARGUMENT, 'article_num');
};

const userRecommendMaxArticles: CaseFn = async (ctx) => {
  const what = 'UserRecommend{article_num:1000}';
  const reply = await expectOk(what, recommender(ctx)(1000));
  expectArticles(what, reply.recommends, 1000);
};

const randomGet: CaseFn = async (ctx) => {
  const server = ctx.client(ctx.protos.TestServer);
  const randoms: number[] = [];
  for (let i = 1; i <= 20; i++) {
    const id = `req-${i}`;
    const what = `GetRandom{id:"${id}"}`;
    const reply = await expectOk(what, unary<{ random: number; id: string }>((cb) => server.GetRandom({ id }, ctx.deadline(), cb)));
    expectThat(`${what} random`, reply.random >= 0 && reply.random < 1000, `${reply.random} is outside [0, 1000)`);
    expectEqual(`${what} id`, id, reply.id);
    randoms.push(reply.random);
  }
  expectThat('GetRandom x20', new Set(randoms).size > 1, `all 20 answers were ${randoms[0]}`);
};

const pandaGetinfo: CaseFn = async (ctx) => {
  const panda = ctx.client(ctx.protos.panda.Panda);
  const getinfo = (arg: string) => unary<{ reply: string }>((cb) => panda.Getinfo({ arg }, ctx.deadline(), cb));
  const cases = [['123', '124'], ['9007199254740993', '9007199254740994'], ['-9223372036854775808', '-9223372036854775807']] as const;
  for (const [arg, expected] of cases) {
    const reply = await expectOk(`Getinfo{arg:${arg}}`, getinfo(arg));
    expectEqual(`Getinfo{arg:${arg}}`, expected, reply.reply);
  }
  await expectStatus('Getinfo{arg:9223372036854775807}', getinfo('9223372036854775807'), status.OUT_OF_RANGE);
};

/** `LotsOfReplies{name, count}` on one channel: every reply, once the stream ends OK. */
function lotsOfReplies(ctx: CaseContext) {
  const greeter = ctx.client(ctx.protos.helloworld.StreamingGreeter);
  return (name: string, count: number) => collect<HelloReply__Output>(greeter.LotsOfReplies({ name, count }, ctx.deadline()));
}

const repliesTo = (name: string, count: number) => `LotsOfReplies{name:${JSON.stringify(name)},count:${count}}`;

/** Exactly `Hello, {name}! #1` … `#count`, in order, status OK. */
async function expectReplies(replies: ReturnType<typeof lotsOfReplies>, name: string, count: number): Promise<void> {
  const what = repliesTo(name, count);
  const got = await expectOk(what, replies(name, count));
  expectEqual(`${what} number of replies`, count, got.length);
  expectEqual(
    what,
    Array.from({ length: count }, (_, i) => `Hello, ${name}! #${i + 1}`),
    got.map((r) => r.message),
  );
}

const streamServer: CaseFn = async (ctx) => {
  const replies = lotsOfReplies(ctx);
  await expectReplies(replies, 'a', 5);
  await expectReplies(replies, 'a', 0);
  await expectStatus(repliesTo('a', -5), replies('a', -5), status.INVALID_ARGUMENT);
};

/** `LotsOfReplies{name, count}` until its first reply, then cancelled: the count was accepted. */
function firstReply(ctx: CaseContext, name: string, count: number): Promise<HelloReply__Output> {
  const call = ctx.client(ctx.protos.helloworld.StreamingGreeter).LotsOfReplies({ name, count }, ctx.deadline());
  return new Promise((resolve, reject) => {
    call.once('data', (reply: HelloReply__Output) => {
      resolve(reply);
      call.cancel();
    });
    call.on('error', reject); // after the cancel, too late to matter
    call.on('end', () => reject(new Error('the stream ended OK without a reply')));
  });
}

const streamServerMaxCount: CaseFn = async (ctx) => {
  const first = await expectOk(repliesTo('m', 10_000), firstReply(ctx, 'm', 10_000));
  expectEqual(`${repliesTo('m', 10_000)} first reply`, 'Hello, m! #1', first.message);
  await expectStatus(repliesTo('m', 10_001), firstReply(ctx, 'm', 10_001), status.INVALID_ARGUMENT, 'count');
};

const streamClient: CaseFn = async (ctx) => {
  const greeter = ctx.client(ctx.protos.helloworld.StreamingGreeter);
  const greetings = (names: string[]) =>
    unary<HelloReply__Output>((cb) => {
      const call = greeter.LotsOfGreetings(ctx.deadline(), cb);
      for (const name of names) call.write({ name });
      call.end();
    });
  const three = await expectOk('LotsOfGreetings[a,b,c]', greetings(['a', 'b', 'c']));
  expectEqual('LotsOfGreetings[a,b,c]', 'Hello, a, b, c!', three.message);
  const empty = await expectOk('LotsOfGreetings[]', greetings([]));
  expectEqual('LotsOfGreetings[]', 'Hello, !', empty.message);
};

const streamBidi: CaseFn = async (ctx) => {
  const greeter = ctx.client(ctx.protos.helloworld.StreamingGreeter);
  const call = greeter.BidiHello(ctx.deadline());
  const replies: AsyncIterator<HelloReply__Output> = call[Symbol.asyncIterator]();
  try {
    for (const name of ['x', 'y', 'z']) {
      const what = `BidiHello reply to ${JSON.stringify(name)} (lockstep)`;
      call.write({ name });
      const reply = await expectOk(what, replies.next());
      expectThat(what, !reply.done, 'the stream ended before the reply');
      expectEqual(what, `Hello, ${name}!`, reply.value.message);
    }
    call.end();
    const last = await expectOk('BidiHello after half-close', replies.next());
    expectThat('BidiHello after half-close', last.done === true, `unexpected extra reply ${JSON.stringify(last.value)}`);
  } finally {
    call.cancel();
  }
};

const concurrentUnary: CaseFn = async (ctx) => {
  const greeter = ctx.client(ctx.protos.helloworld.Greeter);
  const names = Array.from({ length: 100 }, (_, i) => `user-${i}`);
  const replies = await Promise.allSettled(
    names.map((name) => unary<HelloReply__Output>((cb) => greeter.SayHello({ name }, ctx.deadline(), cb))),
  );
  for (const [i, result] of replies.entries()) {
    const what = `SayHello{name:"user-${i}"} (1 of 100 concurrent)`;
    const reply = await expectOk(what, result.status === 'fulfilled' ? Promise.resolve(result.value) : Promise.reject(result.reason));
    expectEqual(what, `Hello, user-${i}!`, reply.message);
  }
};

const multiAddressFailover: CaseFn = async (ctx) => {
  const target = `ipv4:127.0.0.1:${await unusedPort()},127.0.0.1:${ctx.target.port}`;
  await sayHello(ctx, 'failover', 'Hello, failover!', target);
};

/** `ServerInfo/GetInfo{}` on a channel of its own, which must succeed. */
function getInfo(ctx: CaseContext, what: string, options: grpc.ClientOptions = {}): Promise<ServerInfoReply__Output> {
  const info = ctx.client(ctx.protos.interop.ServerInfo, options);
  return expectOk(what, unary<ServerInfoReply__Output>((cb) => info.GetInfo({}, ctx.deadline(), cb)));
}

const reuseportWorkers: CaseFn = async (ctx) => {
  const pids = new Set<number>();
  for (let i = 0; i < 16; i++) {
    // A local subchannel pool: grpc-js would otherwise share one connection among the 16.
    const reply = await getInfo(ctx, `ServerInfo/GetInfo on channel ${i + 1}`, { 'grpc.use_local_subchannel_pool': 1 });
    pids.add(reply.pid);
  }
  expectThat('ServerInfo/GetInfo on 16 channels', pids.size >= 2, `only pid ${[...pids].join(', ')} answered; expected at least 2 workers`);
};

/** A Health stub on its own channel: `check(S)` is `Health/Check{service:S}`, `watch(S)` checks the first message of `Health/Watch{service:S}`. */
export function healthClient(ctx: CaseContext) {
  const health = ctx.client(ctx.protos.grpc.health.v1.Health);
  const check = (service: string) => unary<HealthCheckResponse__Output>((cb) => health.Check({ service }, ctx.deadline(), cb));
  /** `Health/Check{service}` must answer `SERVING`. */
  const serving = async (service: string) => {
    const what = `Health/Check{service:${JSON.stringify(service)}}`;
    const reply = await expectOk(what, check(service));
    expectEqual(`${what} status`, 'SERVING', reply.status);
  };
  /**
   * Opens `Health/Watch{service}` (with the case's deadline): `next` checks that the stream's
   * next message (`message` names it) has status `expected`; `cancel` ends the stream.
   */
  const watchStream = (service: string) => {
    const call = health.Watch({ service }, ctx.deadline());
    call.on('error', () => undefined); // CANCELLED, once the client has seen enough
    const messages: AsyncIterator<HealthCheckResponse__Output> = call[Symbol.asyncIterator]();
    const next = async (message: string, expected: HealthCheckResponse__Output['status']) => {
      const what = `Health/Watch{service:${JSON.stringify(service)}} ${message}`;
      const got = await expectOk(what, messages.next());
      expectThat(what, !got.done, `the stream ended before its ${message}`);
      expectEqual(`${what} status`, expected, got.value?.status);
    };
    return { next, cancel: () => call.cancel() };
  };
  /** The first message of `Health/Watch{service}` must have status `expected`; then the client cancels. */
  const watch = async (service: string, expected: HealthCheckResponse__Output['status']) => {
    const stream = watchStream(service);
    try {
      await stream.next('first message', expected);
    } finally {
      stream.cancel();
    }
  };
  return { stub: health, check, serving, watch, watchStream };
}

const healthUnknownService: CaseFn = async (ctx) => {
  const health = healthClient(ctx);
  await health.serving('helloworld.Greeter');
  await expectStatus('Health/Check{service:"no.such.Service"}', health.check('no.such.Service'), status.NOT_FOUND);
  await health.watch('no.such.Service', 'SERVICE_UNKNOWN');
};

/** The runner judges the version (the client cannot know what is installed for the server): report it. */
const serverInfoVersion: CaseFn = async (ctx) => {
  const { language, implementation, version } = await getInfo(ctx, 'ServerInfo/GetInfo{}');
  ctx.observe({ language, implementation, version });
};

export const SEEDS_CASES: Record<string, CaseFn> = {
  greeter_say_hello: greeterSayHello,
  greeter_say_hello_again: greeterSayHelloAgain,
  helloworld_service: helloworldService,
  compute_length: computeLength,
  user_recommend: userRecommend,
  random_get: randomGet,
  panda_getinfo: pandaGetinfo,
  stream_server: streamServer,
  stream_client: streamClient,
  stream_bidi: streamBidi,
  concurrent_unary: concurrentUnary,
  multi_address_failover: multiAddressFailover,
  reuseport_workers: reuseportWorkers,
  stream_server_max_count: streamServerMaxCount,
  user_recommend_max_articles: userRecommendMaxArticles,
  health_unknown_service: healthUnknownService,
  server_info_version: serverInfoVersion,
};
