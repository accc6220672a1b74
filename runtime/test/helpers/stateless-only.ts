import { createServer, request, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A front that makes a server which speaks both eras (the 2026-07-28 reference server serves sessions
 * too) speak 2026-07-28 only, as a stateless-only server does: a request without the revision's `_meta`
 * (so `initialize` and every session-era request) gets 400/-32602, GET and DELETE get 405, the rest is
 * passed through untouched. `refused` counts what it turned away, so a test can see the gateway bridged.
 */
export async function statelessOnly(upstreamUrl: string): Promise<{ url: string; refused: () => number; close: () => Promise<void> }> {
  const upstream = new URL(upstreamUrl);
  let refused = 0;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      if (req.method !== 'POST') {
        refused++;
        const refusal = { jsonrpc: '2.0', id: null, error: { code: -32600, message: 'Method not allowed' } };
        res.writeHead(405, { 'content-type': 'application/json' }).end(JSON.stringify(refusal));
        return;
      }
      let message: { id?: unknown; params?: { _meta?: Record<string, unknown> } } = {};
      try {
        message = JSON.parse(body.toString('utf8')) as typeof message;
      } catch {
        /* passed on: the server answers the parse error itself */
      }
      if (message.params?._meta?.['io.modelcontextprotocol/protocolVersion'] !== '2026-07-28' || req.headers['mcp-session-id'] !== undefined) {
        refused++;
        const error = { code: -32602, message: 'Invalid params: this server speaks 2026-07-28 only' };
        const refusal = { jsonrpc: '2.0', id: message.id ?? null, error };
        res.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify(refusal));
        return;
      }
      forward(req, body, upstream, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}${upstream.pathname}`,
    refused: () => refused,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

function forward(req: IncomingMessage, body: Buffer, upstream: URL, res: import('node:http').ServerResponse): void {
  const headers = { ...req.headers, 'host': upstream.host, 'content-length': String(body.length) };
  const out = request({ host: upstream.hostname, port: upstream.port, path: upstream.pathname, method: 'POST', headers }, (answer) => {
    res.writeHead(answer.statusCode ?? 502, answer.headers);
    answer.pipe(res);
  });
  out.on('error', () => res.headersSent ? res.end() : res.writeHead(502).end());
  res.on('close', () => out.destroy());
  out.end(body);
}
