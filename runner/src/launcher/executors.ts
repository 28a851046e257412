/**
 * Long-lived client executors (docs/peer-contract.md, "Executor mode"): a client that has
 * executor mode is started once as `command --executor` and then takes run after run as JSON
 * lines on stdin, so the number of client processes no longer grows with the number of servers,
 * transports or releases. One run at a time per process; a pool keeps up to MAX_PER_COMMAND
 * processes per command, and a run that finds them all busy waits for one (outside its
 * deadlines: ClientSpec.onStart). A process that hangs is killed (the run in flight is reported
 * like a killed one-shot client) and the next run gets a fresh one.
 */
import type { WriteStream } from 'node:fs';
import { lines, openLog } from './output.js';
import { cannotStart, stoppedBeforeStart, type ClientRun, type ClientSpec } from './launcher.js';
import { nextTag, type Host, type Peer } from './host.js';

/** The run in flight on an executor: where its output goes, and what ends it. */
interface Current {
  run: number;
  spec: ClientSpec;
  log: WriteStream;
  stdout: string;
  exitCode?: number;
  /** The end line seen on stdout / stderr. */
  stdoutEnded: boolean;
  stderrEnded: boolean;
  finish: (how: { exitCode?: number; signal?: string }) => void;
}

/** The end line of run `run`, or undefined for any other line. */
function endLine(line: string, run: number): { exit_code: number } | undefined {
  if (!line.startsWith('{"run":')) return undefined;
  try {
    const v = JSON.parse(line) as { run?: unknown; exit_code?: unknown; case?: unknown };
    return v.run === run && typeof v.exit_code === 'number' && v.case === undefined ? { exit_code: v.exit_code } : undefined;
  } catch {
    return undefined;
  }
}

class Executor {
  private current: Current | undefined;
  /** stderr printed while no run was in flight: it goes into the next run's log. */
  private between = '';
  readonly exited: Promise<string>;
  alive = true;
  busy = false;
  /** Ending: the run needs its implementation no more (ExecutorPool.release), so no run takes it. */
  retired = false;

  private constructor(
    readonly peer: Peer,
    private readonly host: Host,
    readonly impl: string,
  ) {
    peer.stdout.on('data', lines((line) => this.onStdout(line)));
    peer.stderr.on('data', lines((line) => this.onStderr(line)));
    peer.stdin?.on('error', () => undefined); // it died: the exit below tells the run
    this.exited = peer.ended.then((ending) => {
      this.alive = false;
      const how = ending.signal ? `killed by ${ending.signal}` : `exited with code ${ending.exitCode}`;
      this.current?.log.write(`\n[runner] executor process ${how}\n`);
      this.current?.finish(ending);
      return how;
    });
  }

  /** Starts `command --executor` of `impl` on `host`; a string says why it could not be started. */
  static async start(host: Host, impl: string, command: string[], cwd: string): Promise<Executor | string> {
    try {
      await host.ready(impl);
      return new Executor(await host.start(impl, [...command, '--executor'], nextTag(), { cwd, stdin: true }), host, impl);
    } catch (err) {
      return (err as Error).message;
    }
  }

  private onStdout(line: string): void {
    const current = this.current;
    if (!current) return; // nothing is asked: the peer broke the contract, and no run is blamed
    current.log.write(`${line}\n`);
    const end = endLine(line, current.run);
    if (end) {
      current.exitCode = end.exit_code;
      current.stdoutEnded = true;
      if (current.stderrEnded) current.finish({ exitCode: end.exit_code });
      return;
    }
    current.stdout += `${line}\n`;
    current.spec.onLine?.(line);
  }

  private onStderr(line: string): void {
    const current = this.current;
    if (!current || current.stderrEnded) {
      this.between += `${line}\n`;
      return;
    }
    if (endLine(line, current.run)) {
      current.stderrEnded = true;
      if (current.stdoutEnded) current.finish({ exitCode: current.exitCode! });
      return;
    }
    current.log.write(`${line}\n`);
  }

  /** Runs one request; killed (with its process group) when the spec's signal aborts. */
  async run(spec: ClientSpec, run: number, command: string[]): Promise<ClientRun> {
    const started = performance.now();
    const request = JSON.stringify({ run, args: spec.args });
    const log = openLog(spec.logFile, `${command.join(' ')} --executor  (${this.peer.where}, run ${run}) <<< ${request}`);
    if (this.between !== '') log.write(`[runner] printed by the executor before this run:\n${this.between}`);
    this.between = '';
    let aborted = false;
    const kill = () => {
      aborted = true;
      void this.stop();
    };
    const ended = new Promise<{ exitCode?: number; signal?: string }>((resolve) => {
      this.current = { run, spec, log, stdout: '', stdoutEnded: false, stderrEnded: false, finish: resolve };
    });
    spec.signal.addEventListener('abort', kill, { once: true });
    if (spec.signal.aborted) kill();
    else if (!this.alive) this.current!.finish({ signal: 'SIGKILL' });
    else this.peer.stdin?.write(`${request}\n`);
    const how = await ended;
    spec.signal.removeEventListener('abort', kill);
    const { stdout } = this.current!;
    this.current = undefined;
    await new Promise<void>((resolve) => log.end(() => resolve()));
    return { exitCode: how.exitCode, signal: how.signal, aborted, stdout, ms: Math.round(performance.now() - started), newProcess: false };
  }

  /** Stops it where it runs (locally: its process group, children.ts stopGroup); resolves once it is gone. */
  stop(): Promise<void> {
    return this.host.stop(this.impl, this.peer).then(() => this.exited.then(() => undefined));
  }
}

/**
 * Executor processes per command at most. Each costs its start-up (about a second of CPU for a
 * grpc-js one: modules and protos), and with a pool as wide as the runs wanted at once the whole
 * matrix started up to 16 of one command (its paced groups wait with a client each).
 */
export const MAX_PER_COMMAND = 4;

/** Executors by command, started on demand and kept for the next run. */
export class ExecutorPool {
  private readonly executors = new Map<string, Executor[]>();
  /** Runs waiting for an executor of their command, first come first served. */
  private readonly waiting = new Map<string, Array<() => void>>();
  /** Executors being started, per command (they count against the limit). */
  private readonly starting = new Map<string, number>();
  private runs = 0;
  private closed = false;

  constructor(
    private readonly cwd: string,
    private readonly host: Host,
    private readonly maxPerCommand = MAX_PER_COMMAND,
  ) {}

  /** Wakes the first run waiting for an executor of `key`. */
  private wake(key: string): void {
    this.waiting.get(key)?.shift()?.();
  }

  /**
   * Waits for an executor of `key`: a free one (marked busy at once), or leave to start one
   * (counted at once), so that runs asked together cannot both take the last place. Undefined:
   * aborted while waiting, or the pool closed.
   */
  private async acquire(key: string, list: Executor[], signal: AbortSignal): Promise<Executor | 'start' | undefined> {
    for (;;) {
      if (this.closed || signal.aborted) return undefined;
      const idle = list.find((e) => e.alive && !e.retired && !e.busy);
      if (idle) {
        idle.busy = true;
        return idle;
      }
      if (list.length + (this.starting.get(key) ?? 0) < this.maxPerCommand) {
        this.starting.set(key, (this.starting.get(key) ?? 0) + 1);
        return 'start';
      }
      await new Promise<void>((resolve) => {
        const queue = this.waiting.get(key) ?? [];
        this.waiting.set(key, queue);
        const done = () => {
          signal.removeEventListener('abort', aborted);
          resolve();
        };
        const aborted = () => {
          const at = queue.indexOf(done);
          if (at >= 0) queue.splice(at, 1);
          done();
        };
        queue.push(done);
        signal.addEventListener('abort', aborted, { once: true });
      });
    }
  }

  async run(spec: ClientSpec): Promise<ClientRun> {
    if (this.closed || spec.signal.aborted) return stoppedBeforeStart(spec.signal);
    const key = spec.command.join('\0');
    const list = this.executors.get(key) ?? [];
    this.executors.set(key, list);
    const got = await this.acquire(key, list, spec.signal);
    if (got === undefined) return stoppedBeforeStart(spec.signal);
    spec.onStart?.();
    let executor: Executor;
    if (got === 'start') {
      const startedAt = performance.now();
      const made = await Executor.start(this.host, spec.impl, spec.command, this.cwd).finally(() => this.starting.set(key, this.starting.get(key)! - 1));
      if (typeof made === 'string') {
        this.wake(key);
        openLog(spec.logFile, `${spec.command.join(' ')} --executor`).end(`[runner] cannot start: ${made}\n`);
        return cannotStart(made, Math.round(performance.now() - startedAt));
      }
      executor = made;
      executor.busy = true;
      list.push(made);
      void made.exited.then(() => {
        const at = list.indexOf(made);
        if (at >= 0) list.splice(at, 1);
        this.wake(key);
      });
    } else {
      executor = got;
    }
    try {
      return { ...(await executor.run(spec, ++this.runs, spec.command)), newProcess: got === 'start' };
    } finally {
      executor.busy = false;
      this.wake(key);
    }
  }

  /** Ends every executor: end of file on its stdin, then the signals of stop(). */
  async close(): Promise<void> {
    this.closed = true;
    for (const queue of this.waiting.values()) for (const wake of queue.splice(0)) wake();
    await ExecutorPool.end([...this.executors.values()].flat());
  }

  /**
   * Ends the idle executors of `impl`: the run needs it no more. (One still busy ends with the
   * pool; a run asked for later starts a fresh one.)
   */
  async release(impl: string): Promise<void> {
    const idle = [...this.executors.values()].flat().filter((e) => e.impl === impl && !e.busy);
    for (const e of idle) e.retired = true;
    await ExecutorPool.end(idle);
  }

  private static async end(executors: Executor[]): Promise<void> {
    for (const e of executors) e.peer.stdin?.end();
    await Promise.all(executors.map((e) => Promise.race([e.exited, new Promise((resolve) => setTimeout(resolve, 1000))]).then(() => e.stop())));
  }
}
