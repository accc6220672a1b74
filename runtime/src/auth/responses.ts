import type { ServerResponse } from 'node:http';

/** Browser MCP clients must be able to read these on every auth response. */
const EXPOSED_HEADERS = ['WWW-Authenticate', 'Mcp-Session-Id'];

/** Metadata and registration documents are public: any origin may read them. */
export function setOpenCors(res: ServerResponse, methods: string): void {
  res.setHeader('Access-Control-Allow-Origin', '*');
  res.setHeader('Access-Control-Allow-Methods', methods);
  res.setHeader('Access-Control-Allow-Headers', 'Content-Type, Authorization, MCP-Protocol-Version');
  res.setHeader('Access-Control-Max-Age', '3600');
}

/** Adds our exposed headers to whatever the route's CORS policy already set on `res`. */
export function exposeAuthHeaders(res: ServerResponse): void {
  const current = res.getHeader('Access-Control-Expose-Headers');
  const names = new Set(
    String(current ?? '')
      .split(',')
      .map((name) => name.trim())
      .filter(Boolean),
  );
  const lower = new Set([...names].map((name) => name.toLowerCase()));
  for (const name of EXPOSED_HEADERS) if (!lower.has(name.toLowerCase())) names.add(name);
  res.setHeader('Access-Control-Expose-Headers', [...names].join(', '));
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const payload = JSON.stringify(body);
  res.writeHead(status, {
    ...headers,
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(payload),
    'Cache-Control': 'no-store',
  });
  res.end(payload);
}

export function sendPreflight(res: ServerResponse, methods: string): void {
  setOpenCors(res, methods);
  res.writeHead(204, { 'Content-Length': '0' });
  res.end();
}
