/**
 * The Docker launcher: the same peers, in containers, through Docker Compose (the
 * docker-compose package: `docker compose` v2 when present, else `docker-compose` v1). Every
 * server is a Compose service started with `up -d`; every client run is a one-off
 * `run --rm`. All containers use the host network, so every connection stays on loopback, and
 * run from /app, where each image holds the repository layout its commands expect.
 * One Compose project per run (so two runs never collide); `close()` takes it all down.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import * as compose from 'docker-compose';
import { execa } from 'execa';
import { stringify } from 'yaml';
import { unusedPort } from '../../../ts-common/src/net.js';
import { ConfigError } from '../config.js';
import { dockerName } from '../images.js';
import { trackComposeProject } from './children.js';
import { lines, openLog } from './output.js';
import { StartError, type ClientRun, type ClientSpec, type Launcher, type ServerHandle, type ServerSpec } from './launcher.js';

const LOOPBACK = '127.0.0.1';
const STOP_GRACE_SECONDS = 3;

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
  container_name?: string;
  command?: string[];
  volumes?: string[];
}

export class DockerLauncher implements Launcher {
  readonly name = 'docker';
  /**
   * Creating a container takes seconds, and with the vfs storage driver (a copy of the whole
   * image per container) on a busy disk up to a minute or more: measured 12 to 49 s here.
   */
  readonly startAllowanceMs = 120_000;
  private readonly services: Record<string, Service> = {};
  /** Compose calls under way: the daemon finishes creating their containers even after a stop, so close() waits for them. */
  private readonly inFlight = new Set<Promise<unknown>>();
  private serial = 0;
  private closed = false;

  /**
   * @param images implementation → image tag
   * @param composeFile where this run's Compose file is written (kept with the reports)
   */
  constructor(
    private readonly root: string,
    private readonly images: Map<string, string>,
    private readonly composeFile: string,
    private readonly executable: Executable,
    readonly project = `grpc-interop-${process.pid}`,
  ) {
    trackComposeProject(project);
    // Compose gives up on a Docker API call after 60 s by default; creating a container on vfs can take longer.
    process.env.COMPOSE_HTTP_TIMEOUT ??= '600';
  }

  private options(extra: Partial<compose.IDockerComposeOptions> = {}): compose.IDockerComposeOptions {
    return { cwd: this.root, config: this.composeFile, composeOptions: [['--project-name', this.project]], executable: this.executable, ...extra };
  }

  private image(impl: string): string {
    const image = this.images.get(impl);
    if (!image) throw new StartError(`no image was built for "${impl}"`);
    return image;
  }

  private tracked<T>(call: Promise<T>): Promise<T> {
    this.inFlight.add(call);
    call.then(
      () => this.inFlight.delete(call),
      () => this.inFlight.delete(call),
    );
    return call;
  }

  /** Adds a service and rewrites the Compose file (services are only ever added). */
  private define(name: string, service: Service): void {
    this.services[name] = service;
    mkdirSync(dirname(this.composeFile), { recursive: true });
    writeFileSync(this.composeFile, stringify({ version: '2.4', services: this.services }));
  }

  async startServer(spec: ServerSpec): Promise<ServerHandle> {
    if (this.closed) throw new StartError('the run is stopping');
    // Containers share the host's network: the runner picks the port and hands it over.
    const port = spec.port ?? (await unusedPort());
    const args = spec.args.map((a) => (a === '--port=0' ? `--port=${port}` : a));
    const name = `server-${++this.serial}`;
    const container = `${this.project}-${name}`;
    this.define(name, { image: this.image(spec.impl), network_mode: 'host', working_dir: '/app', init: true, container_name: container, command: [...spec.command, ...args], ...(spec.mounts?.length ? { volumes: spec.mounts.map((d) => `${d}:${d}`) } : {}) });
    try {
      await this.tracked(compose.upOne(name, this.options()));
    } catch (err) {
      const out = (err as { err?: string }).err ?? String(err);
      throw new StartError(`docker compose up ${name} failed: ${out.trim().split('\n').slice(-5).join('\n')}`);
    }
    let alive = true;
    const exited = execa('docker', ['wait', container], { reject: false, stdin: 'ignore' }).then(async (r) => {
      alive = false;
      const log = openLog(spec.logFile, `${[...spec.command, ...args].join(' ')}   (container ${container}, image ${this.image(spec.impl)})`);
      const logs = await execa('docker', ['logs', container], { reject: false, all: true, stdin: 'ignore' });
      const how = r.failed ? 'could not be waited for' : `exited with code ${r.stdout.trim()}`;
      return new Promise<string>((resolve) => log.end(`${logs.all ?? ''}\n[runner] container ${how}\n`, () => resolve(how)));
    });
    const stop = async () => {
      await execa('docker', ['stop', '-t', String(STOP_GRACE_SECONDS), container], { reject: false, stdin: 'ignore' });
      await exited;
      await execa('docker', ['rm', '-f', container], { reject: false, stdin: 'ignore' });
    };
    return { host: LOOPBACK, port, exited, running: () => alive, stop };
  }

  async runClient(spec: ClientSpec): Promise<ClientRun> {
    if (this.closed || spec.signal.aborted) return { exitCode: undefined, signal: 'SIGTERM', aborted: spec.signal.aborted, stdout: '', ms: 0, newProcess: false };
    const service = `client-${dockerName(spec.impl)}`;
    if (!this.services[service]) this.define(service, { image: this.image(spec.impl), network_mode: 'host', working_dir: '/app', init: true });
    const container = `${this.project}-client-${++this.serial}`;
    const log = openLog(spec.logFile, `${[...spec.command, ...spec.args].join(' ')}   (container ${container})`);
    const started = performance.now();
    let stdout = '';
    const split = lines((line) => {
      stdout += `${line}\n`;
      spec.onLine?.(line);
    });
    let aborted = false;
    const kill = () => {
      aborted = true;
      void execa('docker', ['kill', container], { reject: false, stdin: 'ignore' });
    };
    spec.signal.addEventListener('abort', kill, { once: true });
    let exitCode: number | undefined;
    try {
      const result = await this.tracked(compose.run(service, [...spec.command, ...spec.args], this.options({
        // run() adds -T itself; files the client reads are mounted read-only at the same path.
        commandOptions: [
          '--rm',
          '--name',
          container,
          ...[...new Set((spec.files ?? []).map((f) => dirname(f)))].flatMap((d) => ['-v', `${d}:${d}:ro`]),
          ...(spec.mounts ?? []).flatMap((d) => ['-v', `${d}:${d}`]),
        ],
        maxOutputLength: 0,
        callback: (chunk, source) => {
          log.write(chunk);
          if (source === 'stdout') split(chunk);
        },
      })));
      exitCode = result.exitCode ?? 0;
    } catch (err) {
      exitCode = (err as { exitCode?: number | null }).exitCode ?? undefined;
    }
    spec.signal.removeEventListener('abort', kill);
    await new Promise<void>((resolve) => log.end(`\n[runner] container exited with code ${exitCode}\n`, () => resolve()));
    return { exitCode, signal: undefined, aborted, stdout, ms: Math.round(performance.now() - started), newProcess: true };
  }

  async runCommand(impl: string, command: string[]): Promise<{ ok: boolean; output: string }> {
    const r = await execa('docker', ['run', '--rm', '--network', 'host', '-w', '/app', '--label', `com.docker.compose.project=${this.project}`, this.image(impl), ...command], { reject: false, all: true, stdin: 'ignore', timeout: 300_000 });
    return { ok: !r.failed, output: r.failed ? (r.all ?? r.shortMessage ?? '') : r.stdout };
  }

  /**
   * Removes every container of this run at once (servers and one-off clients carry the Compose
   * project label), then the project's networks. Fast enough for Ctrl-C: no graceful stops.
   */
  async close(): Promise<void> {
    this.closed = true;
    if (Object.keys(this.services).length === 0) return;
    // A container asked for just before the stop is created all the same: wait for the calls under
    // way (a stop by signal is bounded anyway, and the reaper then removes what comes later).
    await Promise.allSettled([...this.inFlight]);
    // A container being created as this starts shows up a moment later: look again until none is left.
    for (let round = 0; round < 10; round++) {
      const ours = await execa('docker', ['ps', '-aq', '--filter', `label=com.docker.compose.project=${this.project}`], { reject: false, stdin: 'ignore' });
      const ids = ours.stdout.split('\n').filter((id) => id !== '');
      if (ids.length === 0 && round > 0) break;
      if (ids.length > 0) await execa('docker', ['rm', '-f', ...ids], { reject: false, stdin: 'ignore' });
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    await compose.down(this.options({ commandOptions: ['--remove-orphans', '--timeout', '1'] })).catch(() => undefined);
  }
}
