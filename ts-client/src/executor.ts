/**
 * Executor mode (docs/peer-contract.md, "Executor mode"): one process runs many client runs, one
 * at a time, each asked for by a JSON line on stdin, so the runner starts the client once per
 * run of the matrix instead of once per pairing.
 */
import { createInterface } from 'node:readline';
import { UsageError } from '../../ts-common/src/cli.js';

/** Runs one request's flags; returns its exit code (throws UsageError for bad flags). */
export type RunArgs = (args: string[], write: (line: object) => void) => Promise<number>;

export interface ExecutorOutput {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
}

interface Request {
  run: number;
  args: string[];
}

/** A request line, or the end line's `run` and the reason it is not one. */
function parseRequest(line: string): Request | { run: number; error: string } {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return { run: -1, error: `not a JSON request line: ${line.slice(0, 80)}` };
  }
  const object = typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
  const run = typeof object['run'] === 'number' && Number.isFinite(object['run']) ? object['run'] : undefined;
  if (run === undefined) return { run: -1, error: 'a request needs a numeric "run"' };
  const args = object['args'];
  if (!Array.isArray(args) || !args.every((a) => typeof a === 'string')) return { run, error: '"args" must be a list of strings' };
  return { run, args };
}

/**
 * Reads requests until the end of `input`, running each in order. Every request ends with its
 * end line, on stdout and then on stderr (which is how the runner splits the log between runs).
 */
export async function runExecutor(input: NodeJS.ReadableStream, out: ExecutorOutput, runArgs: RunArgs): Promise<void> {
  const end = (line: object) => {
    const text = `${JSON.stringify(line)}\n`;
    out.stdout(text);
    out.stderr(text);
  };
  for await (const line of createInterface({ input, crlfDelay: Infinity })) {
    const request = parseRequest(line);
    if (!('args' in request)) {
      end({ run: request.run, exit_code: 2, error: request.error });
      continue;
    }
    try {
      const code = await runArgs(request.args, (result) => out.stdout(`${JSON.stringify(result)}\n`));
      end({ run: request.run, exit_code: code });
    } catch (err) {
      if (err instanceof UsageError) {
        end({ run: request.run, exit_code: 2, error: err.message });
      } else {
        // A defect of the client: this run failed, the next one gets a clean start.
        out.stderr(`ts-client: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
        end({ run: request.run, exit_code: 1 });
      }
    }
  }
}
