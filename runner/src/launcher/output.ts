import { createWriteStream, mkdirSync, readFileSync, type WriteStream } from 'node:fs';
import { dirname } from 'node:path';
import { StringDecoder } from 'node:string_decoder';

/**
 * Splits a stream into lines, calling `onLine` for each complete one. A pipe read can end inside
 * a multi-byte UTF-8 character: the decoder keeps its first bytes for the next chunk (decoding
 * each chunk on its own turned a cut "✓" into two U+FFFD and failed a correct cell).
 */
export function lines(onLine: (line: string) => void): (chunk: Buffer) => void {
  const decoder = new StringDecoder('utf8');
  let pending = '';
  return (chunk) => {
    pending += decoder.write(chunk);
    let nl: number;
    while ((nl = pending.indexOf('\n')) >= 0) {
      onLine(pending.slice(0, nl));
      pending = pending.slice(nl + 1);
    }
  };
}

const failedLogs: string[] = [];

/** Logs that could not be written (a full disk): `FILE: CODE`, for one warning at the end. */
export const logWriteFailures = (): readonly string[] => failedLogs;

/**
 * A peer's log file, headed by what was run. A log that cannot be written (a full disk) loses
 * its text, not the run: the failure is noted for the end of the run.
 */
export function openLog(file: string, header: string): WriteStream {
  mkdirSync(dirname(file), { recursive: true });
  const log = createWriteStream(file);
  log.on('error', (err: NodeJS.ErrnoException) => failedLogs.push(`${file}: ${err.code ?? err.message}`));
  log.write(`$ ${header}\n`);
  return log;
}

/** The last `lines` lines of a log file, for error messages. */
export function logTail(file: string, lines = 15): string {
  try {
    const text = readFileSync(file, 'utf8').trimEnd();
    return text.split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}
