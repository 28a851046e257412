/**
 * The networks of matrix.yaml: one Toxiproxy server per run (started on loopback, stopped with
 * the run, known to the reaper like every peer), and per server group on a network a proxy from
 * a port of its own to the server's port, with the network's toxics. Clients dial the proxy; the
 * runner's health checks dial the server directly.
 */
import { execa, type ResultPromise } from 'execa';
import { setTimeout as delay } from 'node:timers/promises';
import { unusedPort } from '../../../ts-common/src/net.js';
import type { Toxic } from '../config.js';
import { stopGroup, track, untrack } from './children.js';
import { openLog } from './output.js';
import { startFailure } from './host.js';

const LOOPBACK = '127.0.0.1';
const READY_MS = 15_000;

export interface Route {
  /** Where clients connect: the proxy's port on loopback. */
  port: number;
  remove(): Promise<void>;
}

export class NetworkProxy {
  private serial = 0;

  private constructor(
    private readonly child: ResultPromise,
    private readonly pid: number,
    private readonly api: string,
  ) {}

  /** Starts `command -host 127.0.0.1 -port P` and waits for its API; throws with why. */
  static async start(command: string[], root: string, logFile: string): Promise<NetworkProxy> {
    const port = await unusedPort();
    const args = [...command.slice(1), '-host', LOOPBACK, '-port', String(port)];
    const log = openLog(logFile, [command[0]!, ...args].join(' '));
    const child = execa(command[0]!, args, { cwd: root, detached: true, stdin: 'ignore', buffer: false, reject: false, cleanup: false, env: { LOG_LEVEL: 'warn' } });
    child.stdout?.pipe(log, { end: false });
    child.stderr?.pipe(log, { end: false });
    if (child.pid === undefined) {
      const result = await child;
      throw new Error(`cannot start the network proxy ${startFailure(command[0]!, result.code, result.shortMessage ?? String(result.message))}`);
    }
    track(child.pid);
    void child.then(() => untrack(child.pid!));
    const proxy = new NetworkProxy(child, child.pid, `http://${LOOPBACK}:${port}`);
    const until = Date.now() + READY_MS;
    for (;;) {
      if ((await proxy.call('GET', '/version').catch(() => undefined)) !== undefined) return proxy;
      if (Date.now() > until || child.exitCode !== null) {
        await proxy.stop();
        throw new Error(`the network proxy did not answer on ${proxy.api} within ${READY_MS} ms (log: ${logFile})`);
      }
      await delay(100);
    }
  }

  private async call(method: string, path: string, body?: unknown): Promise<unknown> {
    const response = await fetch(`${this.api}${path}`, { method, ...(body !== undefined ? { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } } : {}) });
    const text = await response.text();
    if (!response.ok) throw new Error(`${method} ${path}: HTTP ${response.status} ${text.trim()}`);
    return text === '' ? {} : (JSON.parse(text) as unknown);
  }

  /** A proxy to `upstreamPort` on loopback with `toxics` (one without a stream goes both ways). */
  async route(upstreamPort: number, toxics: Toxic[]): Promise<Route> {
    const name = `route-${++this.serial}`;
    const made = (await this.call('POST', '/proxies', { name, listen: `${LOOPBACK}:0`, upstream: `${LOOPBACK}:${upstreamPort}`, enabled: true })) as { listen?: string };
    const port = Number(made.listen?.split(':').at(-1));
    if (!Number.isInteger(port) || port <= 0) throw new Error(`the network proxy gave no port for ${name}: ${JSON.stringify(made)}`);
    let i = 0;
    for (const toxic of toxics) {
      for (const stream of toxic.stream ? [toxic.stream] : (['upstream', 'downstream'] as const)) {
        await this.call('POST', `/proxies/${name}/toxics`, { name: `${toxic.type}-${++i}`, type: toxic.type, stream, toxicity: toxic.toxicity, attributes: toxic.attributes });
      }
    }
    return { port, remove: () => this.call('DELETE', `/proxies/${name}`).then(() => undefined, () => undefined) };
  }

  /** Stops its process group (children.ts stopGroup); resolves once it is gone. */
  stop(): Promise<void> {
    return stopGroup(this.pid, this.child);
  }
}
