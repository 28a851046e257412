/**
 * Stage 1 — config: matrix.yaml in, a validated Matrix out. Every error names the file, the
 * line and the field, so a user can fix it without reading a stack trace.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { runnerCheckNames, type RunnerCheckName } from './checks.js';
import { ConfigError, issueText, problemsError, readYaml } from './yaml-file.js';
import { loadCaseDir, type ScriptedCase } from './scripted/cases.js';
import { scriptedRoot } from './scripted/schema.js';
import { protosDir, repoRoot } from '../../ts-common/src/paths.js';
import { resolve } from 'node:path';
import semver from 'semver';
import { parseSide, sideProblem } from './patterns.js';

export { ConfigError };

const commandLine = z.array(z.string().min(1)).min(1);

const Requirement = z.strictObject({
  command: z.string().min(1),
  install: z.string().min(1),
});

const Build = z.strictObject({
  command: commandLine,
  /** Files and folders whose content decides whether the build is stale. */
  inputs: z.array(z.string().min(1)).min(1),
  /** Path prefixes under `inputs` that the build writes itself (generated code): not hashed. */
  exclude: z.array(z.string().min(1)).default([]),
  /** Files the build must leave behind; a missing one makes the build stale. */
  outputs: z.array(z.string().min(1)).default([]),
  /** Implementations whose build must run first. */
  after: z.array(z.string().min(1)).default([]),
});

const TransportArgs = z.strictObject({
  server_args: z.array(z.string()).default([]),
  client_args: z.array(z.string()).default([]),
});

const DockerImage = z.strictObject({
  /** The Dockerfile (build context: the repository root). */
  dockerfile: z.string().min(1),
  /** Files and folders whose content decides the image tag (an unchanged peer is not rebuilt). */
  inputs: z.array(z.string().min(1)).min(1),
  /** Path prefixes under `inputs` that a local build writes (generated code, caches): not hashed. */
  exclude: z.array(z.string().min(1)).default([]),
  /** `docker build --build-arg NAME=VALUE` (part of the image tag). */
  build_args: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/), z.string()).default({}),
});

const Implementation = z.strictObject({
  language: z.string().min(1),
  library: z.string().min(1),
  requires: z.array(Requirement).default([]),
  build: Build.optional(),
  /** How --launcher docker builds the peer's image; commands run in it from /app. */
  docker: DockerImage.optional(),
  server: commandLine.optional(),
  client: commandLine.optional(),
  /** The client takes --test_case=a,b,c and prints one JSON line per case (SPEC §3). */
  batch: z.boolean().default(false),
  /**
   * The client has executor mode (`client --executor`, docs/peer-contract.md): the process
   * launcher starts it once and hands it every batch of the run.
   */
  executor: z.boolean().default(false),
  /**
   * How the server tells its port: `line` — started with --port=0, it prints
   * {"event":"listening","port":P}; `port` — the runner picks a free port and passes --port=P.
   */
  listening: z.enum(['line', 'port']).default('line'),
  /** Readiness probe: `health` (grpc.health.v1 Check) or `tcp` (the port accepts connections). */
  readiness: z.enum(['health', 'tcp']).default('health'),
  /** Where the library version is read when the server has no interop.ServerInfo. */
  version_file: z.string().min(1).optional(),
  /**
   * A command that prints the gRPC library version installed for this implementation (run from
   * the repository root, or in the image with --launcher docker): what `runner_checks:
   * [server_version]` compares the version the server reports with.
   */
  installed_version: commandLine.optional(),
  /** The peer takes the self-test's --fault (server) and --client_fault (client) flags. */
  self_test: z.boolean().default(false),
  /**
   * The peer speaks HTTP/2 frames, no gRPC library (interop/raw): it runs only the cases written
   * for it, a `raw_response` case as the server and a `raw_request` case as the client.
   */
  raw: z.boolean().default(false),
  /** The client has the load mode of `npm run bench` (--bench=unary,server_streaming). */
  bench: z.boolean().default(false),
  /** Per transport, flags that replace the transport's own (for peers with other flag names). */
  transport_args: z.record(z.string(), TransportArgs).default({}),
  /**
   * The library releases this implementation runs, the first being the default (the one
   * `build`, `server`, `client` and `installed_version` above are for). Each other release is
   * the implementation `NAME@VERSION`, built and run by `other_versions`.
   */
  versions: z.array(z.string().refine((v) => semver.valid(v) === v, { error: 'a version is an exact semver release, e.g. "1.62.3"' })).min(1).optional(),
  /** How a release other than the default is built and run; `{version}` in any string is replaced by it. */
  other_versions: z
    .strictObject({
      build: Build.optional(),
      server: commandLine.optional(),
      client: commandLine.optional(),
      installed_version: commandLine.optional(),
      /** The image of a release for --launcher docker (e.g. the default Dockerfile with a VERSION build argument). */
      docker: DockerImage.optional(),
      /** Pins one more release ({version}): writes its lock (`matrix versions add NAME VERSION` runs it). */
      add: commandLine.optional(),
      /** Prints the newest release of the library on its registry (`--latest`). */
      latest: commandLine.optional(),
    })
    .optional(),
});

/**
 * Suite and case names become part of a cell id (`client→server/transport/suite/case`), of a batch
 * client's `--test_case=a,b,c` and of cell patterns (`*`, `**`, `{a,b}`): none of these may be in them.
 */
const NAME_SYNTAX = /^[^\s/→,*{}]+$/;
const NAME_RULE = 'must not contain "/", "→", ",", whitespace, "*", "{" or "}" (cell ids, --test_case lists and cell patterns use them)';

const CaseName = z
  .string()
  .min(1)
  .regex(NAME_SYNTAX, { error: (issue) => `bad case name ${JSON.stringify(issue.input)}: ${NAME_RULE}` });

const CaseEntry = z.union([
  CaseName,
  z.strictObject({
    name: CaseName,
    /** Extra server flags: the case gets a server of its own started with them. */
    server_args: z.array(z.string()).default([]),
    /** Checks the runner makes on what the client observed (runner/src/checks.ts). */
    runner_checks: z.array(z.enum(runnerCheckNames)).default([]),
    /** Only these of the suite's clients run the case (a protocol only some of them speak). */
    clients: z.array(z.string().min(1)).min(1).optional(),
  }),
]);

const Suite = z.strictObject({
  description: z.string().default(''),
  cases: z.array(CaseEntry).min(1).optional(),
  /**
   * A data suite: one YAML file per case in this folder (relative to the repository root), run by the
   * generic executors against the scripted service and judged by the runner (runner/src/scripted/).
   */
  cases_dir: z.string().min(1).optional(),
  /** Only these transports run this suite (default: all). */
  transports: z.array(z.string().min(1)).optional(),
  /** Only these clients run this suite (default: all). */
  clients: z.array(z.string().min(1)).optional(),
  /** Only these servers run this suite (default: all). */
  servers: z.array(z.string().min(1)).optional(),
  /** Deliberately slow: runs only when named in --suites (never by default). */
  opt_in: z.boolean().default(false),
  /**
   * Its cases mostly wait (a conformance tool's timeouts, say): its server groups run beside the
   * CPU-bound ones, as a data suite's paced cases do (runner/src/scripted/cases.ts, paced).
   */
  paced: z.boolean().default(false),
  /**
   * Its cells break the protocol on purpose and may take a server down (a conformance tool):
   * they get server groups of their own, so a crash spends only their own server restarts.
   */
  own_servers: z.boolean().default(false),
});

const Transport = TransportArgs;

const KnownFailure = z.strictObject({
  cell: z.string().min(1),
  reason: z.string().min(1),
  reference: z.string().min(1).optional(),
});

/** A flaky entry may ask for more attempts than the default 2 retries (a race that often loses). */
const Flaky = KnownFailure.extend({
  retries: z.number().int().min(1).max(10).optional(),
  /**
   * The race is lost too often to retry away (an open library bug): a cell that fails every
   * attempt is a known failure instead of a failure; a pass is still a pass.
   */
  may_fail: z.literal(true).optional(),
});

const ms = (fallback: number) => z.number().int().min(1).max(3_600_000).default(fallback);

/** How long the runner waits for peers before it calls them hung (milliseconds). */
const Timeouts = z.strictObject({
  /** From a server's start to its listening line (or, with a chosen port, to its exit). */
  server_start_ms: ms(30_000),
  /** From listening to SERVING on the health service (or accepting connections). */
  ready_ms: ms(15_000),
  /** A client's start-up, added to the deadline of its first case. */
  client_start_ms: ms(10_000),
  /** Each case of a client: no result within this long and the client is killed. */
  case_ms: ms(10_000),
  /** A health check after a failed case: no answer within this long and the server is hung. */
  health_check_ms: ms(2_000),
});

/** A helper program the runner builds and starts itself (not a peer): e.g. the network proxy. */
const Tool = z.strictObject({
  requires: z.array(Requirement).default([]),
  build: Build.optional(),
  command: commandLine,
});

/**
 * One Toxiproxy toxic (https://github.com/Shopify/toxiproxy#toxics): `latency` {latency, jitter}
 * ms, `bandwidth` {rate} KB/s, `slicer` {average_size, size_variation, delay}, `reset_peer`
 * {timeout}, … Without `stream` it applies in both directions.
 */
const Toxic = z.strictObject({
  type: z.enum(['latency', 'bandwidth', 'slicer', 'slow_close', 'timeout', 'reset_peer', 'limit_data']),
  stream: z.enum(['upstream', 'downstream']).optional(),
  toxicity: z.number().min(0).max(1).default(1),
  attributes: z.record(z.string(), z.number()).default({}),
});

/**
 * A network condition between every client and the server: the runner puts the proxy of
 * `network_proxy` between them with these toxics. A network runs the cases it lists (per
 * suite), over `transports` (default: all); its cells are `client→server/TRANSPORT~NETWORK/…`.
 */
const Network = z.strictObject({
  description: z.string().default(''),
  toxics: z.array(Toxic).min(1),
  transports: z.array(z.string()).optional(),
  cases: z.record(z.string(), z.array(z.string()).min(1)),
  /**
   * A network that breaks calls (a connection cut or reset): each of its cells must end with one
   * of these status codes — never a hang, never another outcome — instead of the case's own
   * expectation. Only data-suite cases can be judged so.
   */
  expect: z.strictObject({ codes: z.array(z.number().int().min(0).max(16)).min(1), reason: z.string().min(1) }).optional(),
});

const NETWORK_NAME = /^[a-z][a-z0-9-]*$/;

const MatrixSchema = z.strictObject({
  implementations: z.record(z.string().regex(/^[a-z][a-z0-9-]*$/, 'use lower-case letters, digits and dashes'), Implementation),
  suites: z.record(z.string().min(1).regex(NAME_SYNTAX, `a suite name ${NAME_RULE}`), Suite),
  transports: z.record(z.string().regex(/^[a-z][a-z0-9-]*$/, 'use lower-case letters, digits and dashes'), Transport),
  known_failures: z.array(KnownFailure).default([]),
  /** Cells that fail now and then for a known reason: retried, and reported as flaky when a retry passes. */
  flaky: z.array(Flaky).default([]),
  timeouts: Timeouts.default(Timeouts.parse({})),
  tools: z.record(z.string().regex(/^[a-z][a-z0-9-]*$/, 'use lower-case letters, digits and dashes'), Tool).default({}),
  /** The tool (of `tools`) that makes the networks: a Toxiproxy server, started as COMMAND -host 127.0.0.1 -port P. */
  network_proxy: z.string().optional(),
  networks: z.record(z.string().regex(NETWORK_NAME, 'use lower-case letters, digits and dashes').refine((n) => n !== 'direct', { error: '"direct" is the network without a proxy; pick another name' }), Network).default({}),
});

export type Implementation = z.infer<typeof Implementation>;
export type Build = z.infer<typeof Build>;
export type KnownFailure = z.infer<typeof KnownFailure>;
export type FlakyEntry = z.infer<typeof Flaky>;
export type DockerImage = z.infer<typeof DockerImage>;
export type Timeouts = z.infer<typeof Timeouts>;
export type Tool = z.infer<typeof Tool>;
export type Network = z.infer<typeof Network>;
export type Toxic = z.infer<typeof Toxic>;

/** The network without a proxy: today's cells, whose transport names no network. */
export const DIRECT = 'direct';

/** A cell's transport segment: `tls`, or `tls~latency` on a network → its transport and network. */
export function splitTransport(segment: string): { transport: string; network: string } {
  const at = segment.indexOf('~');
  return at < 0 ? { transport: segment, network: DIRECT } : { transport: segment.slice(0, at), network: segment.slice(at + 1) };
}

export interface CaseSpec {
  suite: string;
  name: string;
  serverArgs: string[];
  runnerChecks: RunnerCheckName[];
  /** Only these clients (implementation names, any release) run the case; absent: every client of the suite. */
  clients?: string[];
  /** A data suite's case: what the executor runs and the runner expects. */
  scripted?: ScriptedCase;
}

export interface SuiteSpec {
  description: string;
  /** A data suite's folder of case files (relative to the repository root). */
  casesDir?: string;
  /** Runs only when named in --suites. */
  optIn?: boolean;
  /** Its cases mostly wait: its server groups run beside the CPU-bound ones. */
  paced?: boolean;
  /** Its cells get server groups of their own (they may take a server down on purpose). */
  ownServers?: boolean;
  cases: CaseSpec[];
  transports?: string[];
  clients?: string[];
  servers?: string[];
}

/** Which library release an implementation of the plan is: `python` (the default) or `python@1.62.3`. */
export interface ReleaseInfo {
  base: string;
  /** The library version (undefined for an implementation without `versions`). */
  version?: string;
  /** The first of its implementation's versions (or the only build it has). */
  isDefault: boolean;
}

export interface Matrix {
  file: string;
  /** Every implementation, and every release other than the default as `NAME@VERSION`. */
  implementations: Record<string, Implementation>;
  /** Per key of `implementations`: which release it is. */
  releases: Record<string, ReleaseInfo>;
  suites: Record<string, SuiteSpec>;
  transports: Record<string, z.infer<typeof Transport>>;
  knownFailures: KnownFailure[];
  flaky: FlakyEntry[];
  timeouts: Timeouts;
  tools: Record<string, Tool>;
  networkProxy?: string;
  networks: Record<string, Network>;
  /** `file:line` of a field, for messages about it (e.g. ['known_failures', 3, 'cell']). */
  locate(path: ReadonlyArray<PropertyKey>): string;
}


/** Checks that names used across sections exist and are unique. */
function crossCheck(m: z.infer<typeof MatrixSchema>): Array<{ path: PropertyKey[]; message: string }> {
  const problems: Array<{ path: PropertyKey[]; message: string }> = [...networkProblems(m)];
  for (const [name, impl] of Object.entries(m.implementations)) {
    if (!impl.server && !impl.client) problems.push({ path: ['implementations', name], message: 'needs a server, a client, or both' });
    const versions = impl.versions ?? [];
    if (new Set(versions).size !== versions.length) problems.push({ path: ['implementations', name, 'versions'], message: 'a version is listed twice' });
    if (versions.length > 1 && !impl.other_versions) problems.push({ path: ['implementations', name, 'versions'], message: 'more than one version needs other_versions (how a release other than the first is built and run)' });
    if (impl.other_versions && versions.length < 2) problems.push({ path: ['implementations', name, 'other_versions'], message: 'other_versions needs versions: [DEFAULT, OTHER…] (the first is the default build)' });
    if (impl.other_versions?.server && !impl.server) problems.push({ path: ['implementations', name, 'other_versions', 'server'], message: 'the default release has no server' });
    if (impl.other_versions?.client && !impl.client) problems.push({ path: ['implementations', name, 'other_versions', 'client'], message: 'the default release has no client' });
    impl.build?.after.forEach((dep, i) => {
      if (!(dep in m.implementations)) problems.push({ path: ['implementations', name, 'build', 'after', i], message: `unknown implementation "${dep}"` });
    });
  }
  for (const [name, impl] of Object.entries(m.implementations)) {
    for (const t of Object.keys(impl.transport_args)) {
      if (!(t in m.transports)) problems.push({ path: ['implementations', name, 'transport_args', t], message: `unknown transport "${t}"` });
    }
  }
  const seen = new Map<string, string>();
  for (const [suite, s] of Object.entries(m.suites)) {
    s.transports?.forEach((t, i) => {
      if (!(t in m.transports)) problems.push({ path: ['suites', suite, 'transports', i], message: `unknown transport "${t}"` });
    });
    s.clients?.forEach((c, i) => {
      if (!m.implementations[c]?.client) problems.push({ path: ['suites', suite, 'clients', i], message: `unknown client "${c}"` });
    });
    s.servers?.forEach((c, i) => {
      if (!m.implementations[c]?.server) problems.push({ path: ['suites', suite, 'servers', i], message: `unknown server "${c}"` });
    });
    (s.cases ?? []).forEach((entry, i) => {
      const name = typeof entry === 'string' ? entry : entry.name;
      if (seen.has(name)) problems.push({ path: ['suites', suite, 'cases', i], message: `duplicate case "${name}" (already in suite ${seen.get(name)})` });
      seen.set(name, suite);
      if (typeof entry === 'string') return;
      entry.clients?.forEach((c, j) => {
        if (!m.implementations[c]?.client) problems.push({ path: ['suites', suite, 'cases', i, 'clients', j], message: `unknown client "${c}"` });
        else if (s.clients && !s.clients.includes(c)) problems.push({ path: ['suites', suite, 'cases', i, 'clients', j], message: `"${c}" is not one of the suite's clients (${s.clients.join(', ')})` });
      });
    });
  }
  problems.push(...patternProblems(m, 'known_failures'), ...patternProblems(m, 'flaky'));
  return problems;
}

/** Networks need the proxy tool, and name transports, suites and cases that exist. */
function networkProblems(m: z.infer<typeof MatrixSchema>): Array<{ path: PropertyKey[]; message: string }> {
  const problems: Array<{ path: PropertyKey[]; message: string }> = [];
  for (const name of Object.keys(m.tools)) {
    if (name in m.implementations) problems.push({ path: ['tools', name], message: `"${name}" is an implementation too: a tool needs a name of its own (builds are kept by name)` });
  }
  if (m.network_proxy !== undefined && !(m.network_proxy in m.tools)) problems.push({ path: ['network_proxy'], message: `unknown tool "${m.network_proxy}"; tools: ${Object.keys(m.tools).join(', ') || 'none'}` });
  if (Object.keys(m.networks).length > 0 && m.network_proxy === undefined) problems.push({ path: ['networks'], message: 'networks need network_proxy: the tool (of tools) that runs Toxiproxy' });
  for (const [name, net] of Object.entries(m.networks)) {
    net.transports?.forEach((t, i) => {
      if (!(t in m.transports)) problems.push({ path: ['networks', name, 'transports', i], message: `unknown transport "${t}"; known: ${Object.keys(m.transports).join(', ')}` });
    });
    for (const [suite, names] of Object.entries(net.cases)) {
      const spec = m.suites[suite];
      if (!spec) {
        problems.push({ path: ['networks', name, 'cases', suite], message: `unknown suite "${suite}"; known: ${Object.keys(m.suites).join(', ')}` });
        continue;
      }
      if (net.expect && spec.cases_dir === undefined) problems.push({ path: ['networks', name, 'cases', suite], message: `a network with expect judges data-suite cases only; ${suite} is not a data suite (cases_dir)` });
      if (!spec.cases) continue; // a suite without cases is reported on its own (a data suite's are its files, read by now)
      const known = spec.cases.map((c) => (typeof c === 'string' ? c : c.name));
      names.forEach((c, i) => {
        if (!known.includes(c)) problems.push({ path: ['networks', name, 'cases', suite, i], message: `unknown case "${c}" of suite ${suite}` });
      });
    }
  }
  return problems;
}

/**
 * A known_failures or flaky cell pattern (`client→server/transport/suite/case`, with `*`, `**`
 * and `{a,b}`) must have that shape, and every literal name in it must exist: a typo would
 * otherwise never match and silently stop guarding.
 */
function patternProblems(m: z.infer<typeof MatrixSchema>, section: 'known_failures' | 'flaky'): Array<{ path: PropertyKey[]; message: string }> {
  const problems: Array<{ path: PropertyKey[]; message: string }> = [];
  const impls = Object.entries(m.implementations);
  const cases = (suite: string) => Object.entries(m.suites).filter(([name]) => suite.includes('*') || suite.includes('{') || name === suite).flatMap(([, s]) => (s.cases ?? []).map((c) => (typeof c === 'string' ? c : c.name)));
  m[section].forEach((entry, i) => {
    const path = [section, i, 'cell'];
    if (entry.cell.includes('**')) return; // spans segments: only whether it matches a cell is checked
    const [client, rest] = entry.cell.split('→');
    const segments = rest?.split('/') ?? [];
    if (client === undefined || rest === undefined || segments.length !== 4) {
      problems.push({ path, message: `"${entry.cell}" is not a cell pattern: expected client→server/transport/suite/case (with *, ** or {a,b})` });
      return;
    }
    const [server, transport, suite, name] = segments as [string, string, string, string];
    const known: Array<[string, string, string[]]> = [
      ['client', client, impls.filter(([, d]) => d.client).map(([n]) => n)],
      ['server', server, impls.filter(([, d]) => d.server).map(([n]) => n)],
      ['transport', transport, [...Object.keys(m.transports), ...Object.entries(m.networks).flatMap(([n, net]) => (net.transports ?? Object.keys(m.transports)).map((t) => `${t}~${n}`))]],
      ['suite', suite, Object.keys(m.suites)],
      ['case', name, cases(suite)],
    ];
    for (const side of [client, server]) {
      const problem = sideProblem(side);
      if (problem) problems.push({ path, message: `${problem} in "${entry.cell}"` });
    }
    known[0]![1] = parseSide(client).name;
    known[1]![1] = parseSide(server).name;
    for (const [what, segment, names] of known) {
      if (segment.includes('*')) continue;
      const wanted = /^\{.*\}$/.test(segment) ? segment.slice(1, -1).split(',') : [segment];
      const unknown = wanted.filter((w) => !names.includes(w));
      if (unknown.length > 0) problems.push({ path, message: `unknown ${what} "${unknown[0]}" in "${entry.cell}"; known: ${[...new Set(names)].join(', ')}` });
    }
  });
  return problems;
}

/** Parses and validates matrix.yaml text; `file` is only used in messages. */
export function parseMatrix(text: string, file: string): Matrix {
  const { data, locate } = readYaml(text, file, 'implementations, suites and transports (see the matrix.yaml of the repository)');
  const parsed = MatrixSchema.safeParse(data);
  if (!parsed.success) throw problemsError(parsed.error.issues.map(issueText), locate);
  // Data suites: their cases are the files of their folder.
  const scripted = new Map<string, ScriptedCase[]>();
  const shapeProblems: Array<{ path: PropertyKey[]; message: string }> = [];
  for (const [suite, s] of Object.entries(parsed.data.suites)) {
    if ((s.cases === undefined) === (s.cases_dir === undefined)) {
      shapeProblems.push({ path: ['suites', suite], message: 'give either cases (a list of case names) or cases_dir (a folder of case files), one of them' });
      continue;
    }
    if (s.cases_dir !== undefined) {
      // Like every path in matrix.yaml, relative to the repository root (so a copy of the file elsewhere still finds them).
      const cases = loadCaseDir(resolve(repoRoot(), s.cases_dir), scriptedRoot(protosDir()), repoRoot());
      // The executors' cases file is keyed by case name, so a name belongs to one data suite.
      for (const c of cases) {
        const other = [...scripted.entries()].find(([, list]) => list.some((o) => o.name === c.name));
        if (other) throw new ConfigError(`${c.file}: the case name "${c.name}" is also a case of the data suite ${other[0]}: data-suite case names must be unique across suites (rename one of the files)`);
      }
      scripted.set(suite, cases);
      s.cases = cases.map((c) => c.name);
      cases.forEach((c) =>
        c.transports?.forEach((t) => {
          if (!(t in parsed.data.transports)) throw new ConfigError(`${c.file}: transports: unknown transport "${t}"`);
        }),
      );
    }
  }
  const problems = shapeProblems.length > 0 ? shapeProblems : crossCheck(parsed.data);
  if (problems.length > 0) throw problemsError(problems, locate);
  const m = parsed.data;
  const suites = Object.fromEntries(
    Object.entries(m.suites).map(([suite, s]) => [
      suite,
      {
        description: s.description,
        ...(s.transports ? { transports: s.transports } : {}),
        ...(s.clients ? { clients: s.clients } : {}),
        ...(s.servers ? { servers: s.servers } : {}),
        ...(s.cases_dir ? { casesDir: s.cases_dir } : {}),
        ...(s.opt_in ? { optIn: true } : {}),
        ...(s.paced ? { paced: true } : {}),
        ...(s.own_servers ? { ownServers: true } : {}),
        cases: (s.cases ?? []).map((c): CaseSpec => {
          if (typeof c !== 'string') return { suite, name: c.name, serverArgs: c.server_args, runnerChecks: c.runner_checks, ...(c.clients ? { clients: c.clients } : {}) };
          const data = scripted.get(suite)?.find((d) => d.name === c);
          return { suite, name: c, serverArgs: data?.serverArgs ?? [], runnerChecks: [], ...(data ? { scripted: data } : {}) };
        }),
      },
    ]),
  );
  const { implementations, releases } = expandReleases(m.implementations);
  return {
    file,
    implementations,
    releases,
    suites,
    transports: m.transports,
    knownFailures: m.known_failures,
    flaky: m.flaky,
    timeouts: m.timeouts,
    tools: m.tools,
    ...(m.network_proxy ? { networkProxy: m.network_proxy } : {}),
    networks: m.networks,
    locate,
  };
}

const substitute = (v: string, version: string): string => v.replaceAll('{version}', version);
const substituteAll = (list: string[], version: string): string[] => list.map((v) => substitute(v, version));

/**
 * Every release other than an implementation's default becomes an implementation of its own,
 * `NAME@VERSION`, with the `other_versions` build, commands and image (`{version}` replaced).
 * Those take no part in the self-test or the bench.
 */
function expandReleases(impls: Record<string, Implementation>): { implementations: Record<string, Implementation>; releases: Record<string, ReleaseInfo> } {
  const implementations: Record<string, Implementation> = {};
  const releases: Record<string, ReleaseInfo> = {};
  for (const [name, impl] of Object.entries(impls)) {
    const [first, ...others] = impl.versions ?? [];
    implementations[name] = impl;
    releases[name] = { base: name, ...(first ? { version: first } : {}), isDefault: true };
    const other = impl.other_versions;
    if (!other) continue;
    for (const version of others) {
      const key = `${name}@${version}`;
      const build = other.build ?? impl.build;
      implementations[key] = {
        ...impl,
        ...(build
          ? { build: { ...build, command: substituteAll(build.command, version), inputs: substituteAll(build.inputs, version), exclude: substituteAll(build.exclude, version), outputs: substituteAll(build.outputs, version) } }
          : {}),
        ...(impl.server ? { server: substituteAll(other.server ?? impl.server, version) } : {}),
        ...(impl.client ? { client: substituteAll(other.client ?? impl.client, version) } : {}),
        ...(other.installed_version ?? impl.installed_version ? { installed_version: substituteAll((other.installed_version ?? impl.installed_version)!, version) } : {}),
        docker: other.docker
          ? {
              dockerfile: substitute(other.docker.dockerfile, version),
              inputs: substituteAll(other.docker.inputs, version),
              exclude: substituteAll(other.docker.exclude, version),
              build_args: Object.fromEntries(Object.entries(other.docker.build_args).map(([k, v]) => [k, substitute(v, version)])),
            }
          : undefined,
        self_test: false,
        bench: false,
        versions: undefined,
        other_versions: undefined,
      };
      releases[key] = { base: name, version, isDefault: false };
    }
  }
  return { implementations, releases };
}

export function loadMatrix(file: string): Matrix {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`${file}: cannot read: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  return parseMatrix(text, file);
}
