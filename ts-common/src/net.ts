import { createServer } from 'node:net';

/**
 * A port on 127.0.0.1 that nothing listens on right now: bound, noted, released. Used as a
 * closed port (multi_address_failover) and to hand a port to servers that take --port=P.
 */
export function unusedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}
