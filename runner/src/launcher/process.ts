/**
 * The process launcher: peers run as local processes, each in its own process group, with
 * stdout and stderr captured into a log file per peer. Where a peer runs is a `Host`: this
 * machine (the default), or a container that lives for the run (the Docker launcher), in which
 * case the local process is the `docker exec` that runs the peer there.
 */
import type { WriteStream } from 'node:fs';
import { tmpdir } from 'node:os';
import { execa } from 'execa';
import { ExecutorPool } from './executors.js';
import { LOCAL, nextTag, type Host, type Peer } from './host.js';
import { lines, logTail, openLog } from './output.js';
import { cannotStart, StartError, stoppedBeforeStart, type ClientRun, type ClientSpec, type Launcher, type ServerHandle, type ServerSpec } from './launcher.js';

const LOOPBACK = '127.0.0.1';

interface Spawned {
  peer: Peer;
  log: WriteStream;
  /** Resolves once it ended and its log is closed: how it ended, in words. */
  exited: Promise<string>;
  impl: string;
}

async function spawn(host: Host, impl: string, command: string[], args: string[], logFile: string, cwd: string, onStdoutLine?: (line: string) => void): Promise<Spawned> {
  const full = [...command, ...args];
  const log = openLog(logFile, full.join(' '));
  let peer: Peer;
  try {
    await host.ready(impl);
    peer = await host.start(impl, full, nextTag(), { cwd, stdin: false });
  } catch (err) {
    await new Promise<void>((resolve) => log.end(`[runner] cannot start: ${(err as Error).message}\n`, () => resolve()));
    throw err instanceof StartError ? err : new StartError((err as Error).message);
  }
  const split = onStdoutLine ? lines(onStdoutLine) : undefined;
  peer.stdout.on('data', (chunk: Buffer) => {
    log.write(chunk);
    split?.(chunk);
  });
  peer.stderr.on('data', (chunk: Buffer) => log.write(chunk));
  const exited = peer.ended.then((ending) => {
    const how = ending.signal ? `killed by ${ending.signal}` : `exited with code ${ending.exitCode}`;
    return new Promise<string>((resolve) => log.end(`\n[runner] process ${how}\n`, () => resolve(how)));
  });
  return { peer, log, exited, impl };
}

export class ProcessLauncher implements Launcher {
  readonly name: string = 'process';
  readonly startAllowanceMs: number = 0;
  private readonly running = new Set<Spawned>();
  private closed = false;
  private readonly executors: ExecutorPool;

  constructor(
    private readonly root: string,
    protected readonly host: Host = LOCAL,
  ) {
    this.executors = new ExecutorPool(root, host);
  }

  async startServer(spec: ServerSpec): Promise<ServerHandle> {
    if (this.closed) throw new StartError('the run is stopping');
    let onListening: (port: number) => void = () => undefined;
    const listening = new Promise<number>((resolve) => (onListening = resolve));
    let spawned: Spawned;
    try {
      spawned = await spawn(this.host, spec.impl, spec.command, spec.args, spec.logFile, this.root, (line) => {
        try {
        const msg = JSON.parse(line) as { event?: string; port?: number };
          if (msg.event === 'listening' && typeof msg.port === 'number') onListening(msg.port);
        } catch {
          // not the listening line
        }
      });
    } catch (err) {
      throw err instanceof StartError ? err : new StartError(`cannot start ${spec.command[0]}: ${(err as Error).message}`);
    }
    this.running.add(spawned);
    let alive = true;
    void spawned.exited.then(() => {
      alive = false;
      this.running.delete(spawned);
    });
    const stop = () => this.stopSpawned(spawned);
    const pid = spawned.peer.pid !== undefined ? { pid: spawned.peer.pid } : {};
    if (spec.port !== undefined) return { host: LOOPBACK, port: spec.port, ...pid, exited: spawned.exited, running: () => alive, stop };
    let timer: NodeJS.Timeout | undefined;
    const outcome = await Promise.race([
      listening.then((port) => ({ port })),
      spawned.exited.then((how) => ({ failed: `the server ${how} before listening` })),
      new Promise<{ failed: string }>((resolve) => {
        timer = setTimeout(() => resolve({ failed: `the server printed no listening line within ${spec.startTimeoutMs} ms` }), spec.startTimeoutMs);
      }),
    ]);
    clearTimeout(timer);
    if ('failed' in outcome) {
      await stop();
      throw new StartError(`${outcome.failed}\n${logTail(spec.logFile)}`);
    }
    return { host: LOOPBACK, port: outcome.port, ...pid, exited: spawned.exited, running: () => alive, stop };
  }

  async runClient(spec: ClientSpec): Promise<ClientRun> {
    if (this.closed || spec.signal.aborted) return stoppedBeforeStart(spec.signal);
    if (spec.executor) return this.executors.run(spec);
    spec.onStart?.();
    const started = performance.now();
    let stdout = '';
    let spawned: Spawned;
    try {
      spawned = await spawn(this.host, spec.impl, spec.command, spec.args, spec.logFile, this.root, (line) => {
        stdout += `${line}\n`;
        spec.onLine?.(line);
      });
    } catch (err) {
      // A client that cannot be started fails its cells with the reason; the run goes on.
      return cannotStart((err as Error).message);
    }
    this.running.add(spawned);
    let aborted = false;
    const kill = () => {
      aborted = true;
      void this.stopSpawned(spawned);
    };
    spec.signal.addEventListener('abort', kill, { once: true });
    const ending = await spawned.peer.ended;
    await spawned.exited;
    spec.signal.removeEventListener('abort', kill);
    this.running.delete(spawned);
    return {
      exitCode: ending.exitCode,
      signal: ending.signal,
      aborted,
      stdout,
      ms: Math.round(performance.now() - started),
      newProcess: true,
    };
  }

  /** Where the runner makes folders a peer uses (Unix sockets). */
  get scratchDir(): string {
    return tmpdir();
  }

  /** Runs on this machine (the Docker launcher runs it in a one-off container of the image). */
  async runCommand(_impl: string, command: string[]): Promise<{ ok: boolean; output: string }> {
    const r = await execa(command[0]!, command.slice(1), { cwd: this.root, reject: false, all: true, stdin: 'ignore', timeout: 60_000 });
    return { ok: !r.failed, output: r.failed ? (r.all ?? r.shortMessage ?? '') : r.stdout };
  }

  /** Ends the executors of `impl`: no run asks for them any more. */
  async release(impl: string): Promise<void> {
    await this.executors.release(impl);
  }

  private stopSpawned(spawned: Spawned): Promise<void> {
    return this.host.stop(spawned.impl, spawned.peer).then(() => spawned.exited.then(() => undefined));
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([this.executors.close(), ...[...this.running].map((s) => this.stopSpawned(s))]);
  }
}
