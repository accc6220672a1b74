import { createServer } from 'node:net';

/**
 * A TCP port that was free a moment ago on 127.0.0.1, for processes that must be told their port up front
 * (a gateway whose config names its admin and metrics ports, a bridge started with `--port`).
 */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}
