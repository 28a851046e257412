/**
 * ServerWatch.check after a failed case: a check already in flight may have been answered before
 * the failure, by a server that went down since, so a check asked meanwhile runs after it.
 */
import { ServerWatch, type Serving } from '../src/execute.js';
import type { HealthProbe } from '../src/probe.js';

/** A server whose health checks answer in the order the test says: undefined is SERVING. */
function serving(answers: Array<(answer: string | undefined) => void>): { serving: Serving; checks: () => number } {
  let checks = 0;
  const health = {
    check: () => {
      checks++;
      return new Promise<string | undefined>((resolve) => answers.push(resolve));
    },
    close: () => undefined,
  } as unknown as HealthProbe;
  const handle = { host: '127.0.0.1', port: 1, exited: new Promise<string>(() => undefined), running: () => true, stop: async () => undefined };
  return { serving: { handle, target: { host: '127.0.0.1', port: 1 }, health, logFile: '/dev/null' }, checks: () => checks };
}

describe('ServerWatch.check', () => {
  it('a check asked while one is in flight runs after it: the server that went down meanwhile is seen down', async () => {
    const answers: Array<(answer: string | undefined) => void> = [];
    const { serving: s, checks } = serving(answers);
    const watch = new ServerWatch(s, 'ts@1.8.22', 1000, () => Promise.reject(new Error('no restart here')));
    void watch.check(); // asked by an earlier case; the server is still up
    void watch.check(); // asked after a case that took the server down
    void watch.check(); // and after the next: waits with the one before
    const settled = watch.settled();
    answers.shift()!(undefined); // the first check: SERVING, answered before the crash
    await new Promise((r) => setTimeout(r, 10));
    expect(checks()).toBe(2);
    answers.shift()!('connection refused'); // the second: the server is gone
    await settled;
    expect(checks()).toBe(2);
    expect(watch.down()).toMatch(/^server ts@1\.8\.22 stopped answering: its health check got no SERVING reply within 1000 ms \(connection refused\)/);
  });

  it('checks asked one after another, each after the previous answered, run once each', async () => {
    const answers: Array<(answer: string | undefined) => void> = [];
    const { serving: s, checks } = serving(answers);
    const watch = new ServerWatch(s, 'go', 1000, () => Promise.reject(new Error('no restart here')));
    const first = watch.check();
    answers.shift()!(undefined);
    await first;
    const second = watch.check();
    answers.shift()!(undefined);
    await second;
    await watch.settled();
    expect(checks()).toBe(2);
    expect(watch.down()).toBeUndefined();
  });
});
