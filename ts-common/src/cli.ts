import { Command, CommanderError, InvalidArgumentError } from 'commander';

/** Exit code for bad flags, shared by every CLI of the project. */
export const USAGE_ERROR = 2;

/** Parses `true` / `false` (the upstream interop flags' spelling). */
export function parseBool(value: string): boolean {
  if (value === 'true') return true;
  if (value === 'false') return false;
  throw new InvalidArgumentError('expected true or false');
}

/** Parses an integer within [min, max]. */
export function intIn(min: number, max: number): (value: string) => number {
  return (value: string) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min || n > max) throw new InvalidArgumentError(`expected an integer in ${min}..${max}`);
    return n;
  };
}

/** Bad flags (exitCode USAGE_ERROR), or --help/--version (exitCode 0, already printed). */
export class UsageError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = USAGE_ERROR,
  ) {
    super(message);
  }
}

/**
 * Parses argv with commander; throws UsageError with commander's one-line message (without its
 * "error: ") instead of exiting. `from: 'user'` takes the flags alone (no node and script).
 */
export function parseArgs<T>(program: Command, argv: readonly string[], from: 'node' | 'user' = 'node'): T {
  program.exitOverride().configureOutput({ writeErr: () => undefined });
  try {
    program.parse(argv as string[], { from });
  } catch (err) {
    if (err instanceof CommanderError) throw new UsageError(err.message.replace(/^error: /, ''), err.exitCode === 0 ? 0 : USAGE_ERROR);
    throw err;
  }
  return program.opts<T & object>() as T;
}

/**
 * Parses argv with commander; bad flags print one line on stderr and exit with USAGE_ERROR
 * (commander's default would be 1, which the peer contract reserves for failed cases).
 */
export function parseOrExit<T>(program: Command, argv: readonly string[] = process.argv): T {
  try {
    return parseArgs<T>(program, argv);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    if (err.exitCode === 0) process.exit(0); // --help, --version
    process.stderr.write(`${program.name()}: ${err.message}\n`);
    process.exit(USAGE_ERROR);
  }
}

/** Formats host:port for a gRPC target or bind address (brackets around IPv6 literals). */
export function hostPort(host: string, port: number): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]:${port}` : `${host}:${port}`;
}
