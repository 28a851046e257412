/**
 * Stage 2 — plan: expand the matrix into cells (client × server × transport × suite × case),
 * filter them, and group them by the server they need.
 */
import { createHash } from 'node:crypto';
import { distance } from 'fastest-levenshtein';
import { ConfigError, DIRECT, type CaseSpec, type Matrix } from './config.js';
import { patternMatches, splitRelease } from './patterns.js';
import type { PlanRecord } from './results.js';

export interface Cell {
  /** `client→server/transport/suite/case`, e.g. `ts→go/insecure/seeds/greeter_say_hello`. */
  id: string;
  client: string;
  server: string;
  transport: string;
  suite: string;
  case: string;
}

/** One server process and the clients that run against it. */
export interface ServerGroup {
  /** e.g. `go/insecure` or `go/insecure/workers=4`: names the server's log folder. */
  id: string;
  server: string;
  transport: string;
  /** Extra server flags of the cases in this group (e.g. --workers=4). */
  serverArgs: string[];
  /** Per client, the cells it runs here, in plan order. */
  pairings: Array<{ client: string; cells: Cell[] }>;
  /** Its cases mostly wait on purpose (ScriptedCase.paced): it runs beside the CPU-bound groups. */
  paced?: boolean;
}

/**
 * Which library releases meet: `paired` (the default) — the default releases with each other,
 * and every other release with the default releases of every implementation, in both roles;
 * `default` — the default releases only; `all` — every release with every release.
 */
export type VersionMode = 'paired' | 'default' | 'all';

export interface Selection {
  versions?: VersionMode;
  clients?: string[];
  servers?: string[];
  suites?: string[];
  transports?: string[];
  /** `direct` (the default: no proxy) and/or networks of matrix.yaml. */
  networks?: string[];
  grep?: RegExp;
  shard?: Shard;
}

/** `i/n`, 1-based: which part of the sorted plan this run takes. */
export interface Shard {
  index: number;
  count: number;
}

export function parseShard(text: string): Shard {
  const m = /^(\d+)\/(\d+)$/.exec(text);
  const index = Number(m?.[1]);
  const count = Number(m?.[2]);
  if (!m || count < 1 || index < 1 || index > count) throw new ConfigError(`--shard ${text}: expected i/n with 1 ≤ i ≤ n, e.g. 2/3`);
  return { index, count };
}

/**
 * The cells of one shard: the plan sorted by cell id, cut into `count` contiguous slices of
 * near-equal size. Pure arithmetic, so every shard of every machine agrees on the split.
 */
export function shardCells(cells: Cell[], shard: Shard): Cell[] {
  const sorted = [...cells].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const from = Math.floor(((shard.index - 1) * sorted.length) / shard.count);
  const to = Math.floor((shard.index * sorted.length) / shard.count);
  const ids = new Set(sorted.slice(from, to).map((c) => c.id));
  return cells.filter((c) => ids.has(c.id)); // back in plan order
}

export const cellId = (c: Omit<Cell, 'id'>): string => `${c.client}→${c.server}/${c.transport}/${c.suite}/${c.case}`;

function choose(kind: string, available: string[], wanted: string[] | undefined): string[] {
  if (!wanted) return available;
  if (wanted.length === 0) throw new ConfigError(`--${kind}s: the list is empty; name at least one of: ${available.join(', ')}`);
  const unknown = wanted.filter((w) => !available.includes(w));
  if (unknown.length > 0) throw new ConfigError(`unknown ${kind} "${unknown.join('", "')}"; available: ${available.join(', ')}`);
  return available.filter((a) => wanted.includes(a));
}

/**
 * The implementations (releases) of one role that a selection names: `python` is every release
 * of python, `python@1.62.3` that release (the default release's own version names it too).
 */
function chooseReleases(matrix: Matrix, kind: 'client' | 'server', wanted: string[] | undefined): string[] {
  const available = Object.entries(matrix.implementations).filter(([, i]) => i[kind]).map(([n]) => n);
  const release = (n: string) => matrix.releases[n] ?? { base: n, isDefault: true };
  if (!wanted) return available;
  const bases = [...new Set(available.map((n) => release(n).base))];
  const named = (w: string): string[] => {
    const { base, version } = splitRelease(w);
    return available.filter((n) => release(n).base === base && (version === undefined || release(n).version === version));
  };
  if (wanted.length === 0) throw new ConfigError(`--${kind}s: the list is empty; name at least one of: ${bases.join(', ')}`);
  const unknown = wanted.filter((w) => named(w).length === 0);
  if (unknown.length > 0) {
    const names = available.map((n) => (release(n).version ? `${release(n).base}@${release(n).version}` : n));
    throw new ConfigError(`unknown ${kind} "${unknown.join('", "')}"; available: ${bases.join(', ')} (or a release: ${names.join(', ')})`);
  }
  const chosen = new Set(wanted.flatMap(named));
  return available.filter((a) => chosen.has(a));
}

/** Whether a case runs on a network over a transport (every case runs on `direct`). */
function runsOn(matrix: Matrix, network: string, transport: string, suite: string, name: string): boolean {
  if (network === DIRECT) return true;
  const net = matrix.networks[network]!;
  return (!net.transports || net.transports.includes(transport)) && (net.cases[suite]?.includes(name) ?? false);
}

/** Whether two releases meet under a version mode (see VersionMode). */
function releasesMeet(matrix: Matrix, client: string, server: string, mode: VersionMode): boolean {
  const isDefault = (n: string) => matrix.releases[n]?.isDefault ?? true;
  if (mode === 'all') return true;
  if (mode === 'default') return isDefault(client) && isDefault(server);
  return isDefault(client) || isDefault(server);
}

/**
 * Whether a case meets a pairing as far as the raw HTTP/2 peer goes (implementations with `raw:
 * true`): a raw_response case needs it as the server and a library client, a raw_request case
 * it as the client and a library server, any other case two libraries.
 */
function rawSidesMeet(matrix: Matrix, scripted: CaseSpec['scripted'], client: string, server: string): boolean {
  const isRaw = (impl: string) => matrix.implementations[baseOf(matrix, impl)]?.raw === true;
  const side = scripted?.raw;
  return isRaw(server) === (side === 'server') && isRaw(client) === (side === 'client');
}

/** The base implementation of a release (`python@1.62.3` → `python`). */
export const baseOf = (matrix: Matrix, impl: string): string => matrix.releases[impl]?.base ?? impl;

/** The cells of the selection, in matrix.yaml order (suite, case, transport, server, client). */
export function planCells(matrix: Matrix, selection: Selection = {}): Cell[] {
  const clients = chooseReleases(matrix, 'client', selection.clients);
  const servers = chooseReleases(matrix, 'server', selection.servers);
  const mode = selection.versions ?? 'paired';
  // An opt-in suite (deliberately slow) runs only when --suites names it.
  const suites = choose('suite', Object.keys(matrix.suites), selection.suites ?? Object.keys(matrix.suites).filter((s) => !matrix.suites[s]!.optIn));
  const transports = choose('transport', Object.keys(matrix.transports), selection.transports);
  const networks = choose('network', [DIRECT, ...Object.keys(matrix.networks)], selection.networks ?? [DIRECT]);
  const cells: Cell[] = [];
  for (const suite of suites) {
    const spec = matrix.suites[suite]!;
    for (const { name, scripted, clients: caseClients } of spec.cases) {
      const only = scripted?.transports;
      const segments = transports
        .filter((t) => (!spec.transports || spec.transports.includes(t)) && (!only || only.includes(t)))
        .flatMap((t) => networks.filter((n) => runsOn(matrix, n, t, suite, name)).map((n) => (n === DIRECT ? t : `${t}~${n}`)));
      for (const transport of segments) {
        for (const server of servers.filter((v) => !spec.servers || spec.servers.includes(baseOf(matrix, v)))) {
          for (const client of clients.filter((c) => (!spec.clients || spec.clients.includes(baseOf(matrix, c))) && (!caseClients || caseClients.includes(baseOf(matrix, c))) && releasesMeet(matrix, c, server, mode) && rawSidesMeet(matrix, scripted, c, server))) {
            const cell = { client, server, transport, suite, case: name };
            const id = cellId(cell);
            if (!selection.grep || selection.grep.test(id)) cells.push({ id, ...cell });
          }
        }
      }
    }
  }
  return selection.shard ? shardCells(cells, selection.shard) : cells;
}

/**
 * The cells of the selection, or a ConfigError when it selects none: a run of nothing is a
 * mistake in the options (a typo in --grep, filters that exclude each other), never a success.
 * Names the nearest cell ids, so the typo shows. An empty shard of a non-empty plan is fine.
 */
export function selectedCells(matrix: Matrix, selection: Selection): Cell[] {
  const cells = planCells(matrix, selection);
  if (cells.length > 0 || planCells(matrix, { ...selection, shard: undefined }).length > 0) return cells;
  const { grep, ...filters } = selection;
  const pattern = grep?.source.replaceAll('\\/', '/'); // as typed: RegExp#source escapes every "/"
  const candidates = planCells(matrix, { ...filters, shard: undefined }).map((c) => c.id);
  const options = [
    ...(['clients', 'servers', 'suites', 'transports'] as const).filter((k) => selection[k]).map((k) => `--${k} ${selection[k]!.join(',')}`),
    ...(pattern ? [`--grep '${pattern}'`] : []),
  ].join(' ');
  if (candidates.length === 0) {
    throw new ConfigError(`no cell matches ${options}: these filters exclude each other (a suite may be restricted to some transports, clients or servers; see matrix.yaml)`);
  }
  const nearest = pattern ? [...candidates].sort((a, b) => distance(pattern, a) - distance(pattern, b)).slice(0, 3) : [];
  throw new ConfigError(`no cell matches ${options}${nearest.length > 0 ? `; nearest cell ids: ${nearest.join(', ')}` : ''}`);
}

/**
 * Every known_failures and flaky pattern must match at least one cell of the whole matrix: a
 * pattern that matches nothing is a typo or a stale entry, and would silently stop guarding.
 */
export function checkPatterns(matrix: Matrix): void {
  // Every release against every release, every suite (opt-in ones too) on every network: an entry
  // for an old-against-old pairing, an opt-in suite or a network's cells is not stale.
  const ids = planCells(matrix, { versions: 'all', suites: Object.keys(matrix.suites), networks: [DIRECT, ...Object.keys(matrix.networks)] }).map((c) => c.id);
  const unmatched = (['known_failures', 'flaky'] as const).flatMap((section) =>
    (section === 'flaky' ? matrix.flaky : matrix.knownFailures)
      .map((k, i) => ({ section, i, pattern: k.cell }))
      .filter(({ pattern }) => !ids.some((id) => patternMatches(pattern, id, matrix.releases))),
  );
  if (unmatched.length > 0) {
    throw new ConfigError(unmatched.map(({ section, i, pattern }) => `${matrix.locate([section, i, 'cell'])}: ${section}[${i}].cell: the pattern "${pattern}" matches no cell`).join('\n'));
  }
}

export function caseSpec(matrix: Matrix, cell: Pick<Cell, 'suite' | 'case'>): CaseSpec {
  const spec = matrix.suites[cell.suite]?.cases.find((c) => c.name === cell.case);
  if (!spec) throw new Error(`no case ${cell.suite}/${cell.case} in ${matrix.file}`);
  return spec;
}

/** The setup part of the id of the server group the raw client's requests get. */
const RAW_REQUESTS = 'raw-requests';
/** … and of a group of paced cases (ScriptedCase.paced). */
const PACED = 'paced';

/** Groups cells by (server, transport, server flags): each group is one server process. */
export function groupByServer(matrix: Matrix, cells: Cell[]): ServerGroup[] {
  const groups = new Map<string, ServerGroup>();
  for (const cell of cells) {
    const spec = caseSpec(matrix, cell);
    const serverArgs = spec.serverArgs;
    // The raw client's requests break the protocol on purpose, and some take a server down
    // (a grpc-js before 1.14 on a corrupt gzip request): they get a server of their own, whose
    // restarts are theirs, and no other suite's cells meet a server they broke.
    // Paced cases (mostly deliberate waiting) get groups of their own, which the runner runs
    // beside the CPU-bound groups instead of in their job slots.
    // A suite with own_servers (h2spec's, which takes grpc-js servers before 1.14 down) the same.
    const paced = spec.scripted?.paced === true || matrix.suites[cell.suite]?.paced === true;
    const own = matrix.suites[cell.suite]?.ownServers === true ? [cell.suite] : [];
    const setup = [...serverArgs.map((a) => a.replace(/^--/, '')), ...(spec.scripted?.raw === 'client' ? [RAW_REQUESTS] : []), ...own, ...(paced ? [PACED] : [])].join(',');
    const id = [cell.server, cell.transport, setup].filter((s) => s !== '').join('/');
    let group = groups.get(id);
    if (!group) {
      group = { id, server: cell.server, transport: cell.transport, serverArgs, pairings: [], ...(paced ? { paced } : {}) };
      groups.set(id, group);
    }
    let pairing = group.pairings.find((p) => p.client === cell.client);
    if (!pairing) {
      pairing = { client: cell.client, cells: [] };
      group.pairings.push(pairing);
    }
    pairing.cells.push(cell);
  }
  return [...groups.values()];
}

/** What this run was asked to run, so that shards can be checked for completeness when merged. */
export function planRecord(matrix: Matrix, selection: Selection): PlanRecord {
  const whole = planCells(matrix, { ...selection, shard: undefined });
  const { versions, clients, servers, suites, transports, networks, grep, shard } = selection;
  return {
    selection: {
      ...(versions && versions !== 'paired' ? { versions } : {}),
      ...(clients ? { clients } : {}),
      ...(servers ? { servers } : {}),
      ...(suites ? { suites } : {}),
      ...(transports ? { transports } : {}),
      ...(networks ? { networks } : {}),
      ...(grep ? { grep: grep.source } : {}),
    },
    total: whole.length,
    fingerprint: planFingerprint(whole.map((c) => c.id)),
    ...(shard ? { shard } : {}),
  };
}

export const planFingerprint = (ids: string[]): string => createHash('sha256').update([...ids].sort().join('\n')).digest('hex');
