/**
 * Where peers run is made while the cases run (the Docker launcher's containers): the executor
 * starts making them the busiest first, a server group takes a job slot once its server's host is
 * up, a group runs the pairings whose client is up first and waits for the others outside every
 * deadline, and an implementation whose groups are all done is released at once. Shown with the
 * process launcher and hosts that come up when the test says so: no peer may start before its
 * host is up, or after its implementation was released.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadMatrix } from '../runner/src/config.js';
import { execute } from '../runner/src/execute.js';
import { ProcessLauncher } from '../runner/src/launcher/process.js';
import type { ClientRun, ClientSpec, ServerHandle, ServerSpec } from '../runner/src/launcher/launcher.js';
import { groupByServer, selectedCells } from '../runner/src/plan.js';
import type { CellResult } from '../runner/src/results.js';
import { repoRoot } from '../ts-common/src/paths.js';

const root = repoRoot();

/** Hosts that are up when `up(impl)` is called; every start and release is checked and noted. */
class HeldHosts extends ProcessLauncher {
  readonly events: string[] = [];
  readonly wrong: string[] = [];
  asked: string[] = [];
  private readonly waiting = new Map<string, { promise: Promise<void>; resolve: () => void }>();
  private readonly isUp = new Set<string>();
  private readonly released = new Set<string>();

  constructor(private readonly held: string[]) {
    super(root);
  }

  startHosts(impls: string[]): void {
    this.asked = impls;
    for (const impl of impls) {
      if (!this.held.includes(impl)) this.isUp.add(impl);
      else {
        let resolve!: () => void;
        const promise = new Promise<void>((r) => (resolve = r));
        this.waiting.set(impl, { promise, resolve });
      }
    }
  }

  up(impl: string): void {
    this.events.push(`up ${impl}`);
    this.isUp.add(impl);
    this.waiting.get(impl)?.resolve();
  }

  hostPending(impl: string): Promise<void> | undefined {
    return this.isUp.has(impl) ? undefined : this.waiting.get(impl)?.promise;
  }

  private check(what: string, impl: string): void {
    this.events.push(`${what} ${impl}`);
    if (!this.isUp.has(impl)) this.wrong.push(`${what} ${impl} before its host was up`);
    if (this.released.has(impl)) this.wrong.push(`${what} ${impl} after it was released`);
  }

  override startServer(spec: ServerSpec): Promise<ServerHandle> {
    this.check('server', spec.impl);
    return super.startServer(spec);
  }

  override runClient(spec: ClientSpec): Promise<ClientRun> {
    this.check('client', spec.impl);
    return super.runClient(spec);
  }

  override async release(impl: string): Promise<void> {
    this.events.push(`release ${impl}`);
    if (this.released.has(impl)) this.wrong.push(`${impl} released twice`);
    this.released.add(impl);
    await super.release(impl);
  }
}

async function run(launcher: HeldHosts, servers: string[], onCell?: (cell: CellResult) => void) {
  const matrix = loadMatrix(join(root, 'matrix.yaml'));
  const cells = selectedCells(matrix, { versions: 'default', suites: ['seeds'], transports: ['insecure'], clients: ['ts', 'python', 'go'], servers, grep: /\/(greeter_say_hello|stream_bidi)$/ });
  const logDir = mkdtempSync(join(tmpdir(), 'hosts-'));
  try {
    return await execute(groupByServer(matrix, cells), { matrix, launcher, root, logDir, jobs: 2, builds: new Map(), ...(onCell ? { onCell } : {}) });
  } finally {
    await launcher.close();
  }
}

describe('hosts made while the cases run', () => {
  it('no peer starts before its host is up: a group runs the clients that are up first, and waits for the others', async () => {
    const launcher = new HeldHosts(['python', 'go']);
    // go comes up once the first cell has a result, python once a cell with go's client has.
    const done = run(launcher, ['ts'], (cell) => {
      if (!launcher.events.includes('up go')) launcher.up('go');
      else if (cell.client === 'go' && !launcher.events.includes('up python')) launcher.up('python');
    });
    const { cells } = await done;
    expect(launcher.wrong).toEqual([]);
    expect(cells.map((c) => `${c.id}: ${c.status}`).filter((c) => !c.endsWith(': passed'))).toEqual([]);
    expect(cells).toHaveLength(6);
    // The pairings ran in the order their clients came up, not in the plan's (ts, python, go).
    const clients = launcher.events.filter((e) => e.startsWith('client ')).map((e) => e.slice(7));
    expect([...new Set(clients)]).toEqual(['ts', 'go', 'python']);
  }, 120_000);

  it('a group takes a job slot once its server is up; hosts are asked for the busiest first; each implementation is released once, after its last peer', async () => {
    const launcher = new HeldHosts(['go']);
    const done = run(launcher, ['ts', 'go'], () => {
      if (!launcher.events.includes('up go') && launcher.events.filter((e) => e.startsWith('client ')).length >= 2) launcher.up('go');
    });
    const { cells } = await done;
    expect(launcher.wrong).toEqual([]);
    expect(cells.filter((c) => c.status !== 'passed')).toEqual([]);
    expect(cells).toHaveLength(12);
    // ts and go serve and call (8 cells each); python only calls (4).
    expect(launcher.asked.slice(-1)).toEqual(['python']);
    expect(launcher.events.indexOf('server go')).toBeGreaterThan(launcher.events.indexOf('up go'));
    const releases = launcher.events.filter((e) => e.startsWith('release ')).sort();
    expect(releases).toEqual(['release go', 'release python', 'release ts']);
    for (const impl of ['ts', 'python', 'go']) {
      const last = launcher.events.map((e, i) => (e.endsWith(` ${impl}`) && !e.startsWith('release') ? i : -1)).reduce((a, b) => Math.max(a, b));
      expect(launcher.events.indexOf(`release ${impl}`)).toBeGreaterThan(last);
    }
  }, 120_000);
});
