/**
 * Traces over OTLP/HTTP to a real receiver started here: a span per client request, a child span per
 * upstream call, W3C trace context in `params._meta` for a stdio server (written here, it echoes what it
 * received) and in HTTP headers for a Streamable HTTP upstream, and errors recorded on the spans.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectClient, GatewayProcess } from './helpers/gateway.js';
import { startStreamableServer, type TestUpstream } from './helpers/upstreams.js';

/** stdio MCP server: `meta` answers with the `_meta` of the request it received; `fail` answers with an error. */
const META_SERVER = `
const readline = require('node:readline');
const send = (message) => process.stdout.write(JSON.stringify(message) + '\\n');
readline.createInterface({ input: process.stdin }).on('line', (line) => {
  const message = JSON.parse(line);
  if (message.id === undefined) return;
  const params = message.params || {};
  if (message.method === 'initialize') {
    return send({
      jsonrpc: '2.0',
      id: message.id,
      result: { protocolVersion: params.protocolVersion, capabilities: { tools: {} }, serverInfo: { name: 'meta', version: '1' } },
    });
  }
  if (message.method === 'tools/list') {
    return send({
      jsonrpc: '2.0',
      id: message.id,
      result: { tools: [{ name: 'meta', inputSchema: { type: 'object' } }, { name: 'fail', inputSchema: { type: 'object' } }] },
    });
  }
  if (message.method === 'tools/call' && params.name === 'meta') {
    return send({ jsonrpc: '2.0', id: message.id, result: { content: [{ type: 'text', text: JSON.stringify(params._meta || {}) }] } });
  }
  send({ jsonrpc: '2.0', id: message.id, error: { code: -32000, message: 'failing on purpose' } });
});
`;

interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  attributes: Array<{ key: string; value: { stringValue?: string; intValue?: string | number } }>;
  status?: { code?: number; message?: string };
  events?: Array<{ name: string }>;
}

function attribute(span: OtlpSpan, key: string): string | number | undefined {
  const found = span.attributes.find((entry) => entry.key === key)?.value;
  return found?.stringValue ?? found?.intValue;
}

/** An OTLP/HTTP collector: keeps every span of every JSON export request. */
async function startCollector(): Promise<{ url: string; spans: OtlpSpan[]; serviceNames: Set<string>; close(): Promise<void> }> {
  const spans: OtlpSpan[] = [];
  const serviceNames = new Set<string>();
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      if (req.method !== 'POST' || req.url !== '/v1/traces' || !String(req.headers['content-type']).includes('json')) {
        res.writeHead(415).end();
        return;
      }
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
        resourceSpans: Array<{ resource: { attributes: OtlpSpan['attributes'] }; scopeSpans: Array<{ spans: OtlpSpan[] }> }>;
      };
      for (const resource of body.resourceSpans) {
        const service = resource.resource.attributes.find((entry) => entry.key === 'service.name')?.value.stringValue;
        if (service) serviceNames.add(service);
        for (const scope of resource.scopeSpans) spans.push(...scope.spans);
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    spans,
    serviceNames,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

async function eventually<T>(probe: () => T | undefined, what: string): Promise<T> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const found = probe();
    if (found !== undefined) return found;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`never saw ${what}`);
}

describe('tracing', () => {
  let collector: Awaited<ReturnType<typeof startCollector>>;
  let upstream: TestUpstream;
  let gateway: GatewayProcess;

  beforeAll(async () => {
    collector = await startCollector();
    upstream = await startStreamableServer('web');
    const dir = mkdtempSync(join(tmpdir(), 'gw-tracing-'));
    writeFileSync(join(dir, 'meta-server.cjs'), META_SERVER);
    const file = join(dir, 'config.yaml');
    writeFileSync(
      file,
      `config:
  statsAddr: 127.0.0.1:0
  adminAddr: 127.0.0.1:0
  tracing: { otlpEndpoint: "${collector.url}", serviceName: gateway-under-test }
binds:
- port: 0
  listeners:
  - routes:
    - name: traced
      matches: [{ path: { exact: /mcp } }]
      backends:
      - mcp:
          targets:
          - { name: st, stdio: { cmd: "${process.execPath}", args: ["${join(dir, 'meta-server.cjs')}"] } }
          - { name: web, mcp: { host: "${upstream.url}" } }
`,
    );
    gateway = await GatewayProcess.serving(file);
  });

  afterAll(async () => {
    await gateway?.stop();
    await upstream?.close();
    await collector?.close();
  });

  test('a client request span continues the caller trace; its upstream call is a child whose context reaches the stdio server in _meta', async () => {
    const client = await connectClient(`${gateway.url}/mcp`);
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const callerSpanId = '00f067aa0ba902b7';
    const result = await client.callTool({ name: 'st_meta', arguments: {}, _meta: { traceparent: `00-${traceId}-${callerSpanId}-01` } });
    const received = JSON.parse((result.content as Array<{ text: string }>)[0].text) as { traceparent?: string };
    const [, receivedTrace, receivedSpan, flags] = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/.exec(received.traceparent ?? '') ?? [];
    expect(receivedTrace).toBe(traceId);
    expect(flags).toBe('01');

    const upstreamSpan = await eventually(() => collector.spans.find((span) => span.spanId === receivedSpan), 'the upstream call span');
    expect(upstreamSpan.name).toBe('tools/call st');
    expect(upstreamSpan.traceId).toBe(traceId);
    expect(attribute(upstreamSpan, 'mcp.method.name')).toBe('tools/call');
    expect(attribute(upstreamSpan, 'mcp.target')).toBe('st');
    expect(attribute(upstreamSpan, 'gen_ai.tool.name')).toBe('meta');

    const requestSpan = await eventually(() => collector.spans.find((span) => span.spanId === upstreamSpan.parentSpanId), 'the client request span');
    expect(requestSpan.parentSpanId).toBe(callerSpanId);
    expect(requestSpan.name).toBe('tools/call');
    expect(attribute(requestSpan, 'mcp.target')).toBe('st');
    expect(attribute(requestSpan, 'gen_ai.tool.name')).toBe('meta');
    expect(requestSpan.status?.code ?? 0).not.toBe(2);
    expect(collector.serviceNames.has('gateway-under-test')).toBe(true);
    await client.close();
  });

  test('an HTTP upstream gets the trace context in its headers; a new trace starts when the caller sends none', async () => {
    const client = await connectClient(`${gateway.url}/mcp`);
    const before = upstream.headers.length;
    expect(await client.callTool({ name: 'web_whoami', arguments: {} })).toMatchObject({ content: [{ text: 'web' }] });
    const sent = upstream.headers.slice(before).map((headers) => headers.traceparent).filter((value): value is string => typeof value === 'string');
    expect(sent.length).toBeGreaterThan(0);
    const spanId = sent[sent.length - 1].split('-')[2];
    const upstreamSpan = await eventually(() => collector.spans.find((span) => span.spanId === spanId), 'the HTTP upstream span');
    expect(upstreamSpan).toMatchObject({ name: 'tools/call web' });
    expect(attribute(upstreamSpan, 'gen_ai.tool.name')).toBe('whoami');
    const requestSpan = await eventually(() => collector.spans.find((span) => span.spanId === upstreamSpan.parentSpanId), 'its request span');
    expect(requestSpan.parentSpanId ?? '').toBe('');
    await client.close();
  });

  test('errors are recorded on both spans', async () => {
    const client = await connectClient(`${gateway.url}/mcp`);
    await expect(client.callTool({ name: 'st_fail', arguments: {} })).rejects.toThrow(/failing on purpose/);
    const failed = await eventually(
      () => collector.spans.find((span) => span.name === 'tools/call st' && attribute(span, 'gen_ai.tool.name') === 'fail'),
      'the failed upstream span',
    );
    expect(failed.status).toMatchObject({ code: 2, message: 'failing on purpose' });
    expect(attribute(failed, 'mcp.error.code')).toBe(-32000);
    expect(failed.events?.map((event) => event.name)).toContain('exception');
    const parent = await eventually(() => collector.spans.find((span) => span.spanId === failed.parentSpanId), 'its request span');
    expect(parent.status?.code).toBe(2);
    await client.close();
  });
});
