import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { ListToolsRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { send, type RawResponse } from './harness.js';
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

/**
 * A minimal stdio MCP server (newline-delimited JSON-RPC) for limit tests: tool `big` answers with a text
 * of `arguments.bytes` characters on one line, so a test controls how large a message is.
 */
export const BIG_LINE_SERVER = `
let pending = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk) => {
  pending += chunk;
  let newline;
  while ((newline = pending.indexOf('\\n')) >= 0) {
    const line = pending.slice(0, newline);
    pending = pending.slice(newline + 1);
    if (line.trim()) handle(JSON.parse(line));
  }
});
function reply(id, result) {
  process.stdout.write(JSON.stringify({ jsonrpc: '2.0', id, result }) + '\\n');
}
function handle(message) {
  if (message.id === undefined) return;
  if (message.method === 'initialize') {
    return reply(message.id, {
      protocolVersion: message.params.protocolVersion, capabilities: { tools: {} }, serverInfo: { name: 'big', version: '1' },
    });
  }
  if (message.method === 'tools/list') return reply(message.id, { tools: [{ name: 'big', inputSchema: { type: 'object' } }] });
  if (message.method === 'tools/call' && message.params.name === 'big') {
    return reply(message.id, { content: [{ type: 'text', text: 'x'.repeat(message.params.arguments.bytes) }] });
  }
  if (message.method === 'tools/call') {
    return process.stdout.write(JSON.stringify({ jsonrpc: '2.0', id: message.id, error: { code: -32602, message: 'Unknown tool' } }) + '\\n');
  }
  reply(message.id, {});
}
`;

/** A Streamable HTTP MCP server without sessions (no `Mcp-Session-Id`): a fresh SDK transport per request. */
export async function startStatelessServer(): Promise<{ url: string; close(): Promise<void> }> {
  const server = await httpServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const mcp = new Server({ name: 'stateless', version: '1' }, { capabilities: { tools: {} } });
      mcp.setRequestHandler(ListToolsRequestSchema, async () => ({ tools: [{ name: 'hello', inputSchema: { type: 'object' as const } }] }));
      const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
      void mcp.connect(transport).then(() => transport.handleRequest(req, res, text ? JSON.parse(text) : undefined));
    });
  });
  return { url: `${server.url}/mcp`, close: server.close };
}

/**
 * A request from a chosen loopback source address (127.0.0.2, …): on routes without authentication the
 * gateway tells clients apart by address, so this is how a test plays two anonymous clients.
 */
export function requestFrom(
  localAddress: string,
  url: string,
  method: string,
  body?: string,
  headers: Record<string, string> = {},
): Promise<RawResponse> {
  return send(url, {
    method,
    localAddress,
    body,
    headers: { 'content-type': 'application/json', 'accept': 'application/json, text/event-stream', ...headers },
  });
}

/** `initialize` + `notifications/initialized` from `localAddress`; the answer of initialize (its session id in the header). */
export async function initializeFrom(localAddress: string, url: string, protocolVersion = '2025-06-18'): Promise<RawResponse & { session?: string }> {
  const body = JSON.stringify({
    jsonrpc: '2.0',
    id: 1,
    method: 'initialize',
    params: { protocolVersion, capabilities: {}, clientInfo: { name: 'limits', version: '1' } },
  });
  const answer = await requestFrom(localAddress, url, 'POST', body);
  const session = answer.headers['mcp-session-id'] as string | undefined;
  if (session) {
    await requestFrom(localAddress, url, 'POST', JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }), {
      'mcp-session-id': session,
      'mcp-protocol-version': protocolVersion,
    });
  }
  return { ...answer, session };
}
