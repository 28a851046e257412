/**
 * The agent of a container (launcher/docker.ts): one `docker exec` per container for the whole
 * run, a small `sh` loop that starts the peers there and signals them, on request. A `docker
 * exec` per peer cost about 70 ms of CPU each (the docker CLI, the daemon, runc), and relayed
 * every byte a peer printed through the daemon; the whole matrix starts some 1400 peers. Through
 * the agent, starting a peer is a fork in the container, and its stdin, stdout and stderr are
 * named pipes in the folder every container shares with the runner at the same path, read and
 * written by the runner directly.
 *
 * Its protocol, one line each way (ids are peer tags, which hold no space):
 *   runner → agent  `run ID 0|1`       start ROOT/ID/cmd (a sh script), with stdin from ROOT/ID/in (1) or /dev/null (0)
 *   agent → runner  `made ID 0|1`      the named pipes are made (0), or could not be (1)
 *   agent → runner  `pid ID PID`       started, in a session of its own (its process group is PID)
 *   agent → runner  `exit ID CODE`     ended (CODE: 128 + n when killed by signal n); what it left in its group is killed
 *   runner → agent  `kill PID SIG...`  sends the signals in turn to the process group PID (or the process, before it has one)
 * The container needs `sh`, `mkfifo` and `setsid` (every Debian-based image has them).
 */
import { constants, mkdirSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { Socket } from 'node:net';
import { join } from 'node:path';
import { execa, type ResultPromise } from 'execa';
import { lines } from './output.js';
import { track, untrack } from './children.js';
import type { Ending, Peer } from './host.js';
import { StartError } from './launcher.js';

const SCRIPT = `root=$1
while IFS=' ' read -r verb id rest; do
  case "$verb" in
    run)
      dir="$root/$id"
      if ! { mkfifo "$dir/out" "$dir/err" && { [ "$rest" = 0 ] || mkfifo "$dir/in"; }; }; then echo "made $id 1"; continue; fi
      echo "made $id 0"
      if [ "$rest" = 1 ]; then src="$dir/in"; else src=/dev/null; fi
      { GRPC_INTEROP_PEER="$id" setsid sh "$dir/cmd" <"$src" >"$dir/out" 2>"$dir/err" & pid=$!
        echo "pid $id $pid"; wait "$pid"; code=$?; kill -s KILL -- "-$pid" 2>/dev/null; echo "exit $id $code"; } &
      ;;
    kill)
      set -- $id $rest; pid=$1; shift
      for s in "$@"; do kill -s "$s" -- "-$pid" 2>/dev/null || kill -s "$s" "$pid" 2>/dev/null; done
      ;;
  esac
done
`;

/** How long the agent may take to answer a request before the peer is said not to start. */
const ANSWER_MS = 60_000;

/** A command line as a sh script line: every argument single-quoted. */
export const shellWords = (words: string[]): string => words.map((w) => `'${w.replaceAll("'", `'\\''`)}'`).join(' ');

/** A readable or writable end of a named pipe, without blocking the runner (O_NONBLOCK; the write end opened read-write so that it never waits for a reader). */
function fifo(path: string, write: boolean): Socket {
  const fd = openSync(path, (write ? constants.O_RDWR : constants.O_RDONLY) | constants.O_NONBLOCK);
  return new Socket({ fd, readable: !write, writable: write });
}

export class Agent {
  private readonly answers = new Map<string, (value: string) => void>();
  private readonly running = new Map<string, (ending: Ending) => void>();
  /** The pid in the container of every peer started and not yet ended, by id. */
  private readonly pids = new Map<string, number>();
  private goneWhy: string | undefined;

  private constructor(
    private readonly child: ResultPromise,
    readonly container: string,
    private readonly root: string,
  ) {
    child.stdout?.on('data', lines((line) => this.onLine(line)));
    child.stdin?.on('error', () => undefined); // it ended: `gone` says so
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-2000)));
    const pid = child.pid!;
    track(pid);
    void child.then((result) => {
      untrack(pid);
      this.goneWhy = `the agent of container ${container} ended (${result.signal ? `killed by ${result.signal}` : `exit code ${result.exitCode}`})${stderr.trim() ? `: ${stderr.trim().split('\n').slice(-3).join(' | ')}` : ''}`;
      for (const answer of this.answers.values()) answer('');
      this.answers.clear();
      for (const end of this.running.values()) end({ signal: 'SIGKILL' });
      this.running.clear();
    });
  }

  /** Starts the agent in a running container; `root` is a folder the container shares with the runner at the same path. */
  static start(container: string, root: string): Agent {
    mkdirSync(root, { recursive: true });
    const child = execa('docker', ['exec', '-i', '-w', '/app', container, 'sh', '-c', SCRIPT, 'sh', root], { stdin: 'pipe', buffer: false, reject: false, cleanup: false, detached: true });
    if (child.pid === undefined) throw new StartError('docker: cannot run the docker command (is it installed and on PATH?)');
    return new Agent(child, container, root);
  }

  private onLine(line: string): void {
    const [verb, id, value] = line.split(' ');
    if (verb === 'exit') {
      this.running.get(id!)?.({ exitCode: Number(value) });
      this.running.delete(id!);
      this.pids.delete(id!);
      return;
    }
    // Noted as it arrives: its `exit` line may come in the same read.
    if (verb === 'pid' && this.running.has(id!)) this.pids.set(id!, Number(value));
    const key = `${verb} ${id}`;
    this.answers.get(key)?.(value ?? '');
    this.answers.delete(key);
  }

  /** The answer `verb id …` (its value), or a StartError when the agent is gone or does not answer. */
  private answer(verb: string, id: string): Promise<string> {
    if (this.goneWhy) return Promise.reject(new StartError(this.goneWhy));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.answers.delete(`${verb} ${id}`);
        reject(new StartError(`the agent of container ${this.container} did not answer within ${ANSWER_MS / 1000} s`));
      }, ANSWER_MS);
      this.answers.set(`${verb} ${id}`, (value) => {
        clearTimeout(timer);
        if (this.goneWhy) reject(new StartError(this.goneWhy));
        else resolve(value);
      });
    });
  }

  private send(line: string): void {
    this.child.stdin?.write(`${line}\n`);
  }

  /** Starts `command` in the container's /app, as peer `id`. */
  async start(command: string[], id: string, stdin: boolean): Promise<Peer> {
    const dir = join(this.root, id);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'cmd'), `cd /app && exec ${shellWords(command)}\n`);
    const made = this.answer('made', id);
    const started = this.answer('pid', id);
    let exit: (ending: Ending) => void = () => undefined;
    const exited = new Promise<Ending>((resolve) => (exit = resolve));
    this.running.set(id, exit);
    this.send(`run ${id} ${stdin ? 1 : 0}`);
    const cleanUp = () => rmSync(dir, { recursive: true, force: true });
    started.catch(() => undefined);
    try {
      if ((await made) !== '0') throw new StartError(`the agent of container ${this.container} could not make named pipes in ${dir}`);
    } catch (err) {
      this.running.delete(id);
      cleanUp();
      throw err;
    }
    // The peer's shell opens its ends once these are open: stdout and stderr wait for a reader.
    const stdout = fifo(join(dir, 'out'), false);
    const stderr = fifo(join(dir, 'err'), false);
    const input = stdin ? fifo(join(dir, 'in'), true) : undefined;
    const closed = (s: Socket) => new Promise<void>((resolve) => (s.destroyed ? resolve() : s.once('close', () => resolve())));
    const pid = Number(await started.catch((err: unknown) => {
      for (const s of [stdout, stderr, input]) s?.destroy();
      this.running.delete(id);
      this.pids.delete(id);
      cleanUp();
      throw err;
    }));
    const ended = exited.then(async (ending) => {
      // Everything it printed is read (the agent killed what it left behind); a gone agent ends it at once.
      if (ending.signal) for (const s of [stdout, stderr]) s.destroy();
      await Promise.all([closed(stdout), closed(stderr)]);
      input?.destroy();
      cleanUp();
      return ending;
    });
    return { stdout, stderr, ...(input ? { stdin: input } : {}), ended, where: `pid ${pid} in ${this.container}` };
  }

  /** Gives up on peer `id` (it outlived SIGKILL, or its container hangs): it counts as killed, and its output is no longer read. */
  abandon(id: string): void {
    this.running.get(id)?.({ signal: 'SIGKILL' });
    this.running.delete(id);
    this.pids.delete(id);
  }

  /** Sends `signals` in turn to the process group of peer `id` in the container (nothing once it has ended). */
  kill(id: string, ...signals: string[]): void {
    const pid = this.pids.get(id);
    if (pid !== undefined && !this.goneWhy) this.send(`kill ${pid} ${signals.join(' ')}`);
  }

  /** Ends the agent (end of its input); the peers it started are stopped first by the launcher. */
  close(): Promise<unknown> {
    this.child.stdin?.end();
    return Promise.race([this.child, new Promise((resolve) => setTimeout(resolve, 5_000))]);
  }
}
