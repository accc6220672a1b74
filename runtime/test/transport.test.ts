import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GatewayProcess, post, PYTHON_SERVER, rawSession } from './helpers/gateway.js';

const V = { 'mcp-protocol-version': '2025-11-25' };

/** Reads SSE events from a response until `stop` says so; returns them. */
async function readEvents(
  response: Response,
  stop: (events: Array<{ id?: string; data: string }>) => boolean,
): Promise<Array<{ id?: string; data: string }>> {
  const events: Array<{ id?: string; data: string }> = [];
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  while (!stop(events)) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += value;
    let end: number;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      if (block.startsWith(':')) continue;
      const id = /^id: (.*)$/m.exec(block)?.[1];
      const data = /^data: ?(.*)$/m.exec(block)?.[1] ?? '';
      events.push({ id, data });
    }
  }
  await reader.cancel().catch(() => undefined);
  return events;
}

describe('Streamable HTTP details', () => {
  let gateway: GatewayProcess;
  let url: string;

  beforeAll(async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'gw-transport-')), 'config.yaml');
    writeFileSync(
      file,
      `binds:
- port: 0
  listeners:
  - routes:
    - name: web
      matches: [{ path: { exact: /mcp } }]
      policies:
        cors:
          allowOrigins: [https://app.example]
          allowHeaders: [x-custom]
          maxAge: 10m
      backends:
      - mcp:
          targets:
          - { name: py, stdio: { cmd: python3, args: ["${PYTHON_SERVER}"] } }
    - name: stateless
      matches: [{ path: { exact: /stateless/mcp } }]
      backends:
      - mcp:
          statefulMode: stateless
          prefixMode: always
          targets:
          - { name: py, stdio: { cmd: python3, args: ["${PYTHON_SERVER}"] } }
`,
    );
    gateway = await GatewayProcess.listening(['--config', file, '--host', '127.0.0.1']);
    url = `${gateway.url}/mcp`;
  });

  afterAll(async () => {
    await gateway?.stop();
  });

  test('a POST stream cut mid-call is resumed with GET and Last-Event-ID, and the result arrives', async () => {
    const session = await rawSession(url);
    const body = JSON.stringify({ jsonrpc: '2.0', id: 'slow', method: 'tools/call', params: { name: 'sleep', arguments: { seconds: 0.5 } } });
    // Listing text/event-stream first asks for a stream even for a single answer.
    const first = await post(url, body, { ...V, 'mcp-session-id': session, 'accept': 'text/event-stream, application/json' });
    expect(first.headers.get('content-type')).toBe('text/event-stream');
    const [priming] = await readEvents(first, (events) => events.length >= 1);
    expect(priming.id).toMatch(/\.0$/);
    expect(priming.data).toBe('');

    const resumed = await fetch(url, { headers: { 'accept': 'text/event-stream', 'mcp-session-id': session, ...V, 'last-event-id': priming.id! } });
    expect(resumed.status).toBe(200);
    const events = await readEvents(resumed, (seen) => seen.some((event) => event.data.includes('"slow"')));
    const answer = JSON.parse(events.find((event) => event.data.includes('"slow"'))!.data);
    expect(answer).toEqual({ jsonrpc: '2.0', id: 'slow', result: { content: [{ type: 'text', text: 'slept' }] } });
  });

  test('2026-07-28: server/discover passes through without a session; GET is 405; header and body must agree', async () => {
    const meta = { 'io.modelcontextprotocol/protocolVersion': '2026-07-28', 'io.modelcontextprotocol/clientCapabilities': {} };
    const discover = await post(url, JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'server/discover', params: { _meta: meta } }), {
      'mcp-protocol-version': '2026-07-28',
      'mcp-method': 'server/discover',
    });
    expect(discover.status).toBe(200);
    expect(discover.headers.get('mcp-session-id')).toBeNull();
    const result = ((await discover.json()) as { result: { supportedVersions: string[] } }).result;
    expect(result.supportedVersions).toContain('2026-07-28');

    const call = await post(
      url,
      JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'add', arguments: { a: 1, b: 1 }, _meta: meta } }),
      { 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/call', 'mcp-name': 'add' },
    );
    expect(await call.json()).toEqual({ jsonrpc: '2.0', id: 2, result: { content: [{ type: 'text', text: '2' }] } });
    // The mirrored headers must match the body (SEP-2243), or an intermediary routing on them sees another call.
    const misnamed = await post(
      url,
      JSON.stringify({ jsonrpc: '2.0', id: 6, method: 'tools/call', params: { name: 'add', arguments: { a: 1, b: 1 }, _meta: meta } }),
      { 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/call', 'mcp-name': 'sub' },
    );
    expect(misnamed.status).toBe(400);
    expect(await misnamed.json()).toMatchObject({ id: 6, error: { code: -32020 } });

    const mismatch = await post(url, JSON.stringify({ jsonrpc: '2.0', id: 3, method: 'server/discover', params: { _meta: meta } }), {
      'mcp-protocol-version': '2025-11-25',
    });
    expect(mismatch.status).toBe(400);
    expect((await fetch(url, { headers: { 'accept': 'text/event-stream', 'mcp-protocol-version': '2026-07-28' } })).status).toBe(405);

    // 2026-07-28 error rules: a request without its _meta version is invalid params (not a header
    // mismatch), and every error answers the request it refuses, with that request's id.
    const withoutMeta = await post(url, JSON.stringify({ jsonrpc: '2.0', id: 4, method: 'tools/list', params: {} }), {
      'mcp-protocol-version': '2026-07-28',
    });
    expect(withoutMeta.status).toBe(400);
    expect(await withoutMeta.json()).toMatchObject({ id: 4, error: { code: -32602 } });
    const unknownVersion = await post(url, JSON.stringify({ jsonrpc: '2.0', id: 5, method: 'tools/list', params: { _meta: meta } }), {
      'mcp-protocol-version': '2099-01-01',
    });
    expect(unknownVersion.status).toBe(400);
    expect(await unknownVersion.json()).toMatchObject({ id: 5, error: { code: -32022 } });
  });

  test('CORS: preflight for an allowed origin, MCP headers included; answers carry the CORS headers', async () => {
    const preflight = await fetch(url, {
      method: 'OPTIONS',
      headers: { 'origin': 'https://app.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type, mcp-session-id' },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe('https://app.example');
    expect(preflight.headers.get('access-control-allow-headers')).toContain('mcp-session-id');
    expect(preflight.headers.get('access-control-allow-headers')).toContain('x-custom');
    expect(preflight.headers.get('access-control-max-age')).toBe('600');

    const session = await rawSession(url);
    const answer = await post(url, JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' }), { ...V, 'mcp-session-id': session, 'origin': 'https://app.example' });
    expect(answer.status).toBe(200);
    expect(answer.headers.get('access-control-allow-origin')).toBe('https://app.example');
    expect(answer.headers.get('access-control-expose-headers')).toContain('mcp-session-id');

    const other = await post(url, JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' }), { ...V, 'mcp-session-id': session, 'origin': 'https://other.example' });
    expect(other.status).toBe(403);
  });

  test('stateless mode: no session id, every request served on its own; prefixMode always prefixes a lone target', async () => {
    const statelessUrl = `${gateway.url}/stateless/mcp`;
    const init = await post(
      statelessUrl,
      JSON.stringify({
        jsonrpc: '2.0',
        id: 1,
        method: 'initialize',
        params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'x', version: '1' } },
      }),
    );
    expect(init.status).toBe(200);
    expect(init.headers.get('mcp-session-id')).toBeNull();
    await init.text();
    const list = await post(statelessUrl, JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/list' }), V);
    const tools = ((await list.json()) as { result: { tools: Array<{ name: string }> } }).result.tools.map((tool) => tool.name);
    expect(tools).toEqual(expect.arrayContaining(['py_echo', 'py_add']));
    const call = await post(
      statelessUrl,
      JSON.stringify({ jsonrpc: '2.0', id: 3, method: 'tools/call', params: { name: 'py_add', arguments: { a: 3, b: 4 } } }),
      V,
    );
    expect(await call.json()).toEqual({ jsonrpc: '2.0', id: 3, result: { content: [{ type: 'text', text: '7' }] } });
    expect((await fetch(statelessUrl, { headers: { accept: 'text/event-stream' } })).status).toBe(405);

    // 2026-07-28 on a federated (prefixed) backend: discovery merged, calls routed by prefix.
    const meta = { 'io.modelcontextprotocol/protocolVersion': '2026-07-28', 'io.modelcontextprotocol/clientCapabilities': {} };
    const modern = { 'mcp-protocol-version': '2026-07-28' };
    const discover = await post(statelessUrl, JSON.stringify({ jsonrpc: '2.0', id: 4, method: 'server/discover', params: { _meta: meta } }), {
      ...modern,
      'mcp-method': 'server/discover',
    });
    const discovered = ((await discover.json()) as { result: { supportedVersions: string[]; capabilities: Record<string, unknown> } }).result;
    expect(discovered.supportedVersions).toContain('2026-07-28');
    expect(discovered.capabilities.tools).toBeDefined();
    const echo = { jsonrpc: '2.0', id: 5, method: 'tools/call', params: { name: 'py_echo', arguments: { message: 'new' }, _meta: meta } };
    const modernCall = await post(statelessUrl, JSON.stringify(echo), { ...modern, 'mcp-method': 'tools/call', 'mcp-name': 'py_echo' });
    expect(await modernCall.json()).toEqual({ jsonrpc: '2.0', id: 5, result: { content: [{ type: 'text', text: 'python says: new' }] } });
  });
});
