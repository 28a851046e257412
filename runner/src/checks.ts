/**
 * Assertions the runner holds: what a client cannot judge by itself, because it needs knowledge
 * only the runner has. A case lists them in matrix.yaml (`runner_checks`); the client reports
 * what its library gave it (`observed` in its result line) and the runner judges it here, once,
 * for every client.
 */

export interface CheckContext {
  /** The server implementation of the cell. */
  server: string;
  /** The gRPC library version installed for an implementation (`installed_version`), or why it is not known. */
  installed(impl: string): string | { error: string } | undefined;
}

export type Observed = Record<string, unknown>;

/** A runner check: undefined when the observation is right, else why it is not. */
type RunnerCheck = (observed: Observed | undefined, context: CheckContext) => string | undefined;

export const RUNNER_CHECKS = {
  /** The library version the server reports (interop.ServerInfo) is the one installed. */
  server_version: (observed, { server, installed }) => {
    const want = installed(server);
    if (want === undefined) return `the runner knows no installed library version for ${server} (installed_version in matrix.yaml)`;
    if (typeof want !== 'string') return `cannot tell the installed library version of ${server}: ${want.error}`;
    const got = observed?.['version'];
    if (typeof got !== 'string') return `the client reported no observed.version (got ${JSON.stringify(observed ?? null)})`;
    const library = typeof observed?.['implementation'] === 'string' ? `${observed['implementation']} ` : '';
    return got === want ? undefined : `server ${server} reports ${library}${got}, but ${want} is installed`;
  },
} satisfies Record<string, RunnerCheck>;

export type RunnerCheckName = keyof typeof RUNNER_CHECKS;

export const runnerCheckNames = Object.keys(RUNNER_CHECKS) as [RunnerCheckName, ...RunnerCheckName[]];

/** The first failing check of `names`, or undefined when all hold. */
export function judge(names: readonly RunnerCheckName[], observed: Observed | undefined, context: CheckContext): string | undefined {
  for (const name of names) {
    const problem = RUNNER_CHECKS[name](observed, context);
    if (problem !== undefined) return `${name}: ${problem}`;
  }
  return undefined;
}
