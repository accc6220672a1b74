import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { GatewayProcess } from '../helpers/gateway.js';

/** A plain HTTP server on a loopback port answering every request with `handler`; closes with `close()`. */
export async function httpServer(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<{ url: string; close(): Promise<void> }> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Port a gateway's admin page or metrics listen on, from its start-up log line. */
export async function adminSidePort(gateway: GatewayProcess, what: 'admin page' | 'metrics'): Promise<number> {
  const line = () => gateway.logs.find((log) => log.msg === `${what} listening`);
  await gateway.waitFor(() => line() !== undefined, `${what} listening`);
  return line()!.port as number;
}

/** The value of one Prometheus series (0 when absent), matched by metric name and label subset. */
export function metricValue(exposition: string, name: string, labels: Record<string, string> = {}): number {
  let total = 0;
  for (const line of exposition.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (Object.entries(labels).every(([key, value]) => line.includes(`${key}="${value}"`))) total += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return total;
}

/** Everything the gateway logged so far, as one string to search for leaked secrets. */
export function allLogs(gateway: GatewayProcess): string {
  return gateway.logs.map((line) => JSON.stringify(line)).join('\n') + gateway.stderr;
}
