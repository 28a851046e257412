/**
 * Starting a server the way matrix.yaml does (`--port=0`) from tests, and waiting for its
 * listening line ({"event":"listening","port":P}, docs/peer-contract.md).
 */
import { execa, type ResultPromise } from 'execa';
import { repoRoot } from '../../ts-common/src/paths.js';

/** Starts `file args… --port=0` (recorded in `started`, for the test to stop); resolves to its port. */
export function startListening(file: string, args: string[], started: ResultPromise[], what = `${file} ${args.join(' ')}`): Promise<number> {
  const server = execa(file, [...args, '--port=0'], { cwd: repoRoot(), reject: false, stdin: 'ignore' });
  started.push(server);
  return new Promise<number>((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(() => reject(new Error(`${what}: no listening line within 20 s; stdout: ${seen}`)), 20_000);
    server.stdout.on('data', (chunk: Buffer) => {
      seen += chunk.toString('utf8');
      for (const line of seen.split('\n')) {
        try {
          const msg = JSON.parse(line) as { event?: string; port?: unknown };
          if (msg.event === 'listening' && typeof msg.port === 'number') {
            clearTimeout(timer);
            resolve(msg.port);
          }
        } catch {
          // not the listening line (or not complete yet)
        }
      }
    });
    void server.then((result) => {
      clearTimeout(timer);
      reject(new Error(`${what} exited before listening (${result.exitCode ?? result.signal}): ${result.stderr}`));
    });
  });
}
