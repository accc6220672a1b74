import { request } from 'node:http';
import { INITIALIZE } from '../helpers/gateway.js';

/**
 * A tiny attacker's client for the hostile-input tests. It speaks raw HTTP through `node:http` (not
 * fetch) because attacks need what fetch forbids: any `Host` header, bodies sent in pieces, headers
 * no browser would send.
 *
 * Adding a case: put it in the file of its kind (jsonrpc, tokens, authz, rebinding, legacy-sse, cors)
 * or a new `<kind>.test.ts` here; start the real gateway (GatewayProcess) with the limits the case
 * needs set in its config, send the attack with `send`/`rpc`, assert `outcome(response)` (HTTP status
 * and JSON-RPC code), and end with `stillServes` so a crash or poisoned state fails the test. Cases
 * about limits set the limit small in the config instead of waiting on the clock.
 */

export interface RawResponse {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly text: string;
  /** The body parsed as JSON, or undefined when it is not JSON (SSE answers are unwrapped to their first message). */
  readonly json?: { jsonrpc?: string; id?: unknown; result?: Record<string, unknown>; error?: { code: number; message: string } };
}

export interface RawRequest {
  readonly method?: string;
  /** Source address (127.0.0.2, …): without authentication the gateway tells clients apart by address. */
  readonly localAddress?: string;
  readonly headers?: Record<string, string>;
  /** A string or Buffer sent at once, or a function that writes the body itself (slow bodies). */
  readonly body?: string | Buffer | ((write: (chunk: string) => void, end: () => void) => void);
}

/** The headers an MCP client sends with a POST; the protocol version is one that keeps sessions. */
export const MCP_HEADERS = {
  'content-type': 'application/json',
  'accept': 'application/json, text/event-stream',
  'mcp-protocol-version': '2025-06-18',
};

export function send(url: string, options: RawRequest = {}): Promise<RawResponse> {
  const target = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: target.hostname,
        port: target.port,
        path: `${target.pathname}${target.search}`,
        method: options.method ?? 'POST',
        headers: options.headers ?? MCP_HEADERS,
        localAddress: options.localAddress,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json: parseAnswer(text) });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    const body = options.body;
    if (typeof body === 'function') {
      body(
        (chunk) => req.write(chunk),
        () => req.end(),
      );
    } else {
      req.end(body);
    }
  });
}

function parseAnswer(text: string): RawResponse['json'] {
  const sse = /^data: (.+)$/m.exec(text);
  try {
    return JSON.parse(sse && !text.trimStart().startsWith('{') ? sse[1] : text);
  } catch {
    return undefined;
  }
}

/** POSTs one JSON-RPC message (object or raw text) with MCP headers plus `headers`. */
export function rpc(url: string, message: unknown, headers: Record<string, string> = {}): Promise<RawResponse> {
  return send(url, { headers: { ...MCP_HEADERS, ...headers }, body: typeof message === 'string' ? message : JSON.stringify(message) });
}

/** Opens a session (initialize + initialized) with `headers` on every request; returns its id. */
export async function openSession(url: string, headers: Record<string, string> = {}): Promise<string> {
  const init = await rpc(url, INITIALIZE, headers);
  if (init.status !== 200) throw new Error(`initialize failed: ${init.status} ${init.text}`);
  const id = init.headers['mcp-session-id'] as string;
  await rpc(url, { jsonrpc: '2.0', method: 'notifications/initialized' }, { ...headers, 'mcp-session-id': id });
  return id;
}

/** The status and JSON-RPC error code of an answer, for one `toEqual`. */
export function outcome(response: RawResponse): { status: number; code?: number } {
  return { status: response.status, code: response.json?.error?.code };
}

/**
 * The gateway still serves an honest client after the attack: a fresh session lists tools. Every
 * hostile test ends with this, so a crash, a hang or a poisoned shared state shows up as a failure.
 */
export async function stillServes(url: string, headers: Record<string, string> = {}): Promise<void> {
  const session = await openSession(url, headers);
  const listed = await rpc(url, { jsonrpc: '2.0', id: 'after', method: 'tools/list' }, { ...headers, 'mcp-session-id': session });
  if (listed.status !== 200 || !Array.isArray(listed.json?.result?.tools)) {
    throw new Error(`the gateway no longer serves honest clients: ${listed.status} ${listed.text.slice(0, 300)}`);
  }
}
