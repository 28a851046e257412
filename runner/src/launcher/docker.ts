/**
 * The Docker launcher: the same peers, in containers that live for the run. Each implementation
 * (and release) gets one container, started once through Docker Compose (the docker-compose
 * package: `docker compose` v2 when present, else `docker-compose` v1) — the busiest first, and
 * a server group or a client waits for its container outside every deadline — and removed once
 * the run needs it no more; its servers and clients then run inside it, started by its agent (agent.ts: one `docker exec`
 * for the run, which starts peers there and hands the runner their input and output through
 * named pipes), exactly as the process launcher runs them locally (same logs, listening line,
 * executors and deadlines), so the number of containers no longer depends on the number of cells. All containers use the host network, so
 * every connection stays on loopback, and run from /app, where each image holds the repository
 * layout its commands expect. The run's log folder and a scratch folder (Unix sockets) are
 * mounted into every container at the same paths. One Compose project per run (two runs never
 * collide); `close()` removes it all, and the reaper does if the runner dies.
 */
import { mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import * as compose from 'docker-compose';
import { execa } from 'execa';
import pLimit from 'p-limit';
import { stringify } from 'yaml';
import { ConfigError } from '../config.js';
import { dockerName } from '../images.js';
import { Agent } from './agent.js';
import { trackComposeProject } from './children.js';
import { nextTag, type Host, type Peer } from './host.js';
import { cannotStart, StartError, type ClientRun, type ClientSpec, type ServerHandle, type ServerSpec } from './launcher.js';
import { ProcessLauncher } from './process.js';

const STOP_GRACE_MS = 3_000;

/**
 * Containers made at once. On vfs, making one copies its whole image: more at once only share
 * the disk, and the first cases wait for the last container of the batch.
 */
const CONCURRENT_CREATES = 2;

type Executable = compose.IDockerComposeOptions['executable'];

/** Which Docker Compose a run uses: how the docker-compose package calls it, and what it says it is. */
export interface Compose {
  executable: Executable;
  /** e.g. `docker compose 2.40.3` (the plugin, v2) or `docker-compose 1.29.2` (standalone, v1). */
  version: string;
}

/** `docker compose` (v2) if the plugin is there, else `docker-compose` (v1); a ConfigError if neither. */
export async function composeExecutable(): Promise<Compose> {
  const plugin = await execa('docker', ['compose', 'version', '--short'], { reject: false, stdin: 'ignore' });
  if (!plugin.failed) return { executable: undefined, version: `docker compose ${plugin.stdout.trim().replace(/^v/, '')}` };
  const standalone = await execa('docker-compose', ['version', '--short'], { reject: false, stdin: 'ignore' });
  if (!standalone.failed) return { executable: { standalone: true }, version: `docker-compose ${standalone.stdout.trim().replace(/^v/, '')}` };
  throw new ConfigError('--launcher docker: Docker Compose is not installed. Install the Compose plugin (`docker compose`) or docker-compose.');
}

interface Service {
  image: string;
  network_mode: 'host';
  working_dir: '/app';
  init: true;
  container_name: string;
  command: string[];
  volumes: string[];
}

/** A container per implementation, started by Compose; peers run in it through `docker exec`. */
class Containers implements Host {
  private readonly services: Record<string, Service> = {};
  private readonly started = new Map<string, Promise<void>>();
  /** Implementations whose container is up, or failed to come up. */
  private readonly made = new Set<string>();
  private readonly creates = pLimit(CONCURRENT_CREATES);
  private readonly agents = new Map<string, Promise<Agent>>();
  private readonly peers = new WeakMap<Peer, { agent: Agent; id: string }>();
  /** Compose calls under way: the daemon finishes creating their containers even after a stop, so close() waits for them. */
  readonly inFlight = new Set<Promise<unknown>>();
  closed = false;

  constructor(
    private readonly images: Map<string, string>,
    private readonly composeFile: string,
    private readonly options: (extra?: Partial<compose.IDockerComposeOptions>) => compose.IDockerComposeOptions,
    readonly project: string,
    readonly shared: string[],
    private readonly scratch: string,
  ) {}

  container(impl: string): string {
    return `${this.project}-${dockerName(impl)}`;
  }

  private define(impl: string): string {
    const name = dockerName(impl);
    if (this.services[name]) return name;
    const image = this.images.get(impl)!; // warm() defines only implementations with an image
    // Idle until the run ends; every peer of the implementation is a `docker exec` into it.
    this.services[name] = { image, network_mode: 'host', working_dir: '/app', init: true, container_name: this.container(impl), command: ['sleep', 'infinity'], volumes: this.shared.map((d) => `${d}:${d}`) };
    // Written whole and renamed into place: a Compose call under way reads the file too.
    mkdirSync(dirname(this.composeFile), { recursive: true });
    const next = `${this.composeFile}.${process.pid}.tmp`;
    writeFileSync(next, stringify({ version: '2.4', services: this.services }));
    renameSync(next, this.composeFile);
    return name;
  }

  /**
   * Starts making the containers of `impls` in this order, CONCURRENT_CREATES at a time, in the
   * background: the cases of the first ones run while the later ones are made (on vfs each is a
   * whole copy of its image: 136 s for the whole matrix's 16 when they all came first).
   */
  warm(impls: string[]): void {
    const wanted = impls.filter((i) => !this.started.has(i) && this.images.has(i));
    for (const impl of wanted) this.define(impl);
    for (const impl of wanted) {
      const up = this.creates(() => this.up(impl));
      this.started.set(impl, up);
      void up.then(
        () => this.made.add(impl),
        () => this.made.add(impl),
      );
    }
  }

  private async up(impl: string): Promise<void> {
    if (this.closed) throw new StartError('the run is stopping');
    const name = dockerName(impl);
    await this.track(compose.upOne(name, this.options())).catch((e: unknown) => {
      const out = (e as { err?: string }).err ?? String(e);
      throw new StartError(`the container of ${impl} did not start (docker compose up ${name}): ${out.trim().split('\n').slice(-3).join(' | ')}`);
    });
  }

  /** Settles once `impl`'s container is up or failed; undefined when it already has. */
  pending(impl: string): Promise<void> | undefined {
    if (this.made.has(impl)) return undefined;
    if (!this.started.has(impl)) this.warm([impl]);
    const up = this.started.get(impl);
    return up?.then(
      () => undefined,
      () => undefined,
    );
  }

  ready(impl: string): Promise<void> {
    if (this.closed) return Promise.reject(new StartError('the run is stopping'));
    if (!this.started.has(impl)) {
      if (!this.images.has(impl)) return Promise.reject(new StartError(`no image was built for "${impl}"`));
      // Not warmed (a peer the plan did not name): made now, on first use.
      this.warm([impl]);
    }
    return this.started.get(impl)!;
  }

  /**
   * Removes `impl`'s container once its peers are done (the run needs it no more), in the
   * background of the cases still running: its agent ends, then `docker rm -f`. A peer asked
   * for later makes it again.
   */
  async remove(impl: string): Promise<void> {
    const up = this.started.get(impl);
    if (!up) return;
    this.started.delete(impl);
    this.made.delete(impl);
    const agent = this.agents.get(impl);
    this.agents.delete(impl);
    await up.catch(() => undefined);
    await agent?.then(
      (a) => a.close(),
      () => undefined,
    );
    await this.track(execa('docker', ['rm', '-f', this.container(impl)], { reject: false, stdin: 'ignore' }));
  }

  /** The agent of `impl`'s container, started once it runs. */
  private agent(impl: string): Promise<Agent> {
    let agent = this.agents.get(impl);
    if (!agent) {
      agent = this.ready(impl).then(() => Agent.start(this.container(impl), join(this.scratch, 'peers', dockerName(impl))));
      this.agents.set(impl, agent);
    }
    return agent;
  }

  async start(impl: string, command: string[], tag: string, options: { stdin: boolean }): Promise<Peer> {
    const agent = await this.agent(impl);
    const peer = await agent.start(command, tag, options.stdin);
    this.peers.set(peer, { agent, id: tag });
    return peer;
  }

  /** SIGTERM and SIGCONT to the peer's process group in its container; SIGKILL after a grace period. */
  async stop(_impl: string, peer: Peer): Promise<void> {
    const where = this.peers.get(peer);
    if (!where) return;
    let gone = false;
    void peer.ended.then(() => (gone = true));
    where.agent.kill(where.id, 'TERM', 'CONT');
    await Promise.race([peer.ended, new Promise((resolve) => setTimeout(resolve, STOP_GRACE_MS))]);
    if (!gone) {
      where.agent.kill(where.id, 'KILL');
      const force = setTimeout(() => where.agent.abandon(where.id), STOP_GRACE_MS);
      await peer.ended;
      clearTimeout(force);
    }
  }

  /** Ends every agent (their peers were stopped before). */
  async closeAgents(): Promise<void> {
    const agents = await Promise.allSettled([...this.agents.values()]);
    await Promise.all(agents.map((a) => (a.status === 'fulfilled' ? a.value.close() : undefined)));
  }

  track<T>(call: Promise<T>): Promise<T> {
    this.inFlight.add(call);
    call.then(
      () => this.inFlight.delete(call),
      () => this.inFlight.delete(call),
    );
    return call;
  }

  composeOptions(extra: Partial<compose.IDockerComposeOptions> = {}): compose.IDockerComposeOptions {
    return this.options(extra);
  }

  get defined(): boolean {
    return Object.keys(this.services).length > 0;
  }
}

export class DockerLauncher extends ProcessLauncher {
  override readonly name = 'docker';
  /** A peer starts through its container's agent: the container itself is waited for outside every deadline. */
  override readonly startAllowanceMs = 10_000;
  private readonly containers: Containers;
  private readonly scratch: string;

  /**
   * @param images implementation → image tag
   * @param composeFile where this run's Compose file is written (kept with the reports)
   * @param shared folders of the host the peers use (the run's logs): mounted at the same paths
   */
  constructor(
    root: string,
    private readonly images: Map<string, string>,
    composeFile: string,
    executable: Executable,
    shared: string[],
    readonly project = `grpc-interop-${process.pid}`,
  ) {
    const scratch = mkdtempSync(join(tmpdir(), 'grpc-interop-docker-'));
    const options = (extra: Partial<compose.IDockerComposeOptions> = {}): compose.IDockerComposeOptions => ({ cwd: root, config: composeFile, composeOptions: [['--project-name', project]], executable, ...extra });
    const containers = new Containers(images, composeFile, options, project, [...shared, scratch], scratch);
    super(root, containers);
    this.containers = containers;
    this.scratch = scratch;
    trackComposeProject(project);
    // Compose gives up on a Docker API call after 60 s by default; creating a container on vfs can take longer.
    process.env.COMPOSE_HTTP_TIMEOUT ??= '600';
  }

  /** Where the runner makes folders a peer uses (Unix sockets): shared with every container. */
  override get scratchDir(): string {
    return this.scratch;
  }

  /** Starts making the containers of these implementations, in this order, in the background. */
  startHosts(impls: string[]): void {
    this.containers.warm(impls);
  }

  hostPending(impl: string): Promise<void> | undefined {
    return this.containers.pending(impl);
  }

  /** The run needs no more peers of `impl`: its executors end, and its container is removed. */
  override async release(impl: string): Promise<void> {
    await super.release(impl);
    await this.containers.remove(impl);
  }

  /** A path the peer needs must be inside a folder shared with the containers. */
  private unshared(paths: string[] | undefined): string | undefined {
    return paths?.find((p) => !this.containers.shared.some((d) => !relative(d, p).startsWith('..')));
  }

  override async startServer(spec: ServerSpec): Promise<ServerHandle> {
    const outside = this.unshared(spec.mounts);
    if (outside) throw new StartError(`${outside} is not in a folder shared with the containers`);
    return super.startServer(spec);
  }

  override async runClient(spec: ClientSpec): Promise<ClientRun> {
    const outside = this.unshared([...(spec.files ?? []), ...(spec.mounts ?? [])]);
    if (outside) return cannotStart(`${outside} is not in a folder shared with the containers`);
    return super.runClient(spec);
  }

  /** A short command in the implementation's container (e.g. its installed library version), through its agent. */
  override async runCommand(impl: string, command: string[]): Promise<{ ok: boolean; output: string }> {
    try {
      const peer = await this.containers.start(impl, command, nextTag(), { stdin: false });
      let stdout = '';
      let all = '';
      peer.stdout.on('data', (chunk: Buffer) => ((stdout += chunk.toString()), (all += chunk.toString())));
      peer.stderr.on('data', (chunk: Buffer) => (all += chunk.toString()));
      const timer = setTimeout(() => void this.containers.stop(impl, peer), 300_000);
      const ending = await peer.ended;
      clearTimeout(timer);
      return ending.exitCode === 0 ? { ok: true, output: stdout } : { ok: false, output: all || `exit code ${ending.exitCode ?? ending.signal}` };
    } catch (err) {
      return { ok: false, output: (err as Error).message };
    }
  }

  /**
   * Stops the peers, then removes every container of this run at once (they carry the Compose
   * project label), then the project. Fast enough for Ctrl-C: the peers get a short grace.
   */
  override async close(): Promise<void> {
    this.containers.closed = true;
    await super.close();
    await this.containers.closeAgents();
    if (this.containers.defined) {
      // A container asked for just before the stop is created all the same: wait for the calls under
      // way (a stop by signal is bounded anyway, and the reaper then removes what comes later).
      await Promise.allSettled([...this.containers.inFlight]);
      for (let round = 0; round < 10; round++) {
        const ours = await execa('docker', ['ps', '-aq', '--filter', `label=com.docker.compose.project=${this.project}`], { reject: false, stdin: 'ignore' });
        const ids = ours.stdout.split('\n').filter((id) => id !== '');
        if (ids.length === 0 && round > 0) break;
        if (ids.length > 0) await execa('docker', ['rm', '-f', ...ids], { reject: false, stdin: 'ignore' });
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
    }
    if (this.containers.defined) await compose.down(this.containers.composeOptions({ commandOptions: ['--remove-orphans', '--timeout', '1'] })).catch(() => undefined);
    rmSync(this.scratch, { recursive: true, force: true });
  }
}
