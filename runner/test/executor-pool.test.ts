/**
 * The executor pool keeps at most a few processes per command: a run that finds them all busy
 * waits for one, and that wait is not its time (onStart comes when it gets one).
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ExecutorPool } from '../src/launcher/executors.js';
import { LOCAL } from '../src/launcher/host.js';

const dir = mkdtempSync(join(tmpdir(), 'executor-pool-'));
const starts = join(dir, 'starts');
const script = join(dir, 'executor.mjs');
writeFileSync(starts, '');
// Each run takes 300 ms (answering its one case), so runs asked at once overlap.
writeFileSync(
  script,
  `import { appendFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
appendFileSync(${JSON.stringify(starts)}, process.pid + '\\n');
for await (const text of createInterface({ input: process.stdin })) {
  const { run } = JSON.parse(text);
  await new Promise((r) => setTimeout(r, 300));
  process.stdout.write(JSON.stringify({ case: 'c', status: 'passed' }) + '\\n');
  process.stdout.write(JSON.stringify({ run, exit_code: 0 }) + '\\n');
  process.stderr.write(JSON.stringify({ run, exit_code: 0 }) + '\\n');
}
`,
);

const spec = (i: number, events: string[], signal = new AbortController().signal) => ({
  impl: 'fake',
  command: [process.execPath, script],
  args: [`--test_case=c${i}`],
  logFile: join(dir, `run${i}.log`),
  signal,
  executor: true,
  onStart: () => events.push(`start ${i}`),
});

describe('executor pool', () => {
  it('runs five runs asked at once on two processes; each run starts only when it has one', async () => {
    const pool = new ExecutorPool(dir, LOCAL, 2);
    const events: string[] = [];
    try {
      const runs = await Promise.all(
        [1, 2, 3, 4, 5].map((i) =>
          pool.run(spec(i, events)).then((r) => {
            events.push(`end ${i}`);
            return r;
          }),
        ),
      );
      expect(runs.map((r) => [r.exitCode, r.stdout.trim()])).toEqual(Array(5).fill([0, '{"case":"c","status":"passed"}']));
      expect(readFileSync(starts, 'utf8').trim().split('\n')).toHaveLength(2);
      expect(runs.filter((r) => r.newProcess)).toHaveLength(2);
      // Never more than two runs between their start and their end.
      let open = 0;
      let most = 0;
      for (const e of events) {
        open += e.startsWith('start') ? 1 : -1;
        most = Math.max(most, open);
      }
      expect(most).toBe(2);
      expect(events.slice(0, 2).sort()).toEqual(['start 1', 'start 2']);
    } finally {
      await pool.close();
    }
  });

  it('a run aborted while it waits for a process never starts and reports the abort', async () => {
    const pool = new ExecutorPool(dir, LOCAL, 1);
    const events: string[] = [];
    try {
      const first = pool.run(spec(1, events));
      const controller = new AbortController();
      const second = pool.run(spec(2, events, controller.signal));
      controller.abort();
      expect(await second).toMatchObject({ aborted: true, exitCode: undefined });
      expect((await first).exitCode).toBe(0);
      expect(events).toEqual(['start 1']);
    } finally {
      await pool.close();
    }
  });
});
