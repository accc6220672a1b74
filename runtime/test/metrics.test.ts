/**
 * Prometheus metrics and access logs of a real gateway process, scraped after real calls: every series of
 * the metrics contract (docs/ARCHITECTURE.md) with its labels, name labels bounded to listed names, and
 * the access log line carrying the token's subject.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { writeConfigFile } from './helpers/config-file.js';
import { connectClient, GatewayProcess, post, PYTHON_SERVER, rawSession, RUNTIME_DIR } from './helpers/gateway.js';
import { allToolNames } from './helpers/lists.js';
import { startStreamableServer, type TestUpstream } from './helpers/upstreams.js';
import { PrometheusMetrics } from '../src/telemetry/metrics.js';

const ISSUER = 'https://issuer.test';
const AUDIENCE = 'mcp-gateway-test';

interface Sample {
  readonly name: string;
  readonly labels: Record<string, string>;
  readonly value: number;
}

/** The Prometheus text format, one sample per line. */
function parseMetrics(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match) throw new Error(`not a sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const pair of (match[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[pair[1]] = pair[2];
    samples.push({ name: match[1], labels, value: Number(match[3]) });
  }
  return samples;
}

function find(samples: readonly Sample[], name: string, labels: Record<string, string>): Sample | undefined {
  return samples.find((sample) => sample.name === name && Object.entries(labels).every(([key, wanted]) => sample.labels[key] === wanted));
}

function value(samples: readonly Sample[], name: string, labels: Record<string, string>): number {
  const sample = find(samples, name, labels);
  if (!sample) {
    throw new Error(
      `no series ${name}${JSON.stringify(labels)}; have:\n${samples
        .filter((s) => s.name === name)
        .map((s) => JSON.stringify(s.labels))
        .join('\n')}`,
    );
  }
  return sample.value;
}

function configYaml(upstream: TestUpstream, jwks: string): string {
  return `config:
  statsAddr: 127.0.0.1:0
  adminAddr: 127.0.0.1:0
binds:
- port: 0
  listeners:
  - routes:
    - name: fed
      matches: [{ path: { exact: /mcp } }]
      policies:
        mcpAuthorization:
          rules:
          - deny: 'mcp.tool.name == "pid"'
          - 'true'
      backends:
      - mcp:
          targets:
          - { name: py, stdio: { cmd: python3, args: ["${PYTHON_SERVER}"] } }
          - { name: web, mcp: { host: "${upstream.url}" } }
    - name: secure
      matches: [{ path: { exact: /secure/mcp } }]
      policies:
        mcpAuthentication:
          issuer: ${ISSUER}
          audiences: [${AUDIENCE}]
          jwks: '${jwks}'
      backends:
      - mcp:
          targets:
          - { name: py, stdio: { cmd: python3, args: ["${PYTHON_SERVER}"] } }
`;
}

describe('the metrics contract', () => {
  test('the gateway registers exactly the metrics, types and labels of docs/ARCHITECTURE.md', async () => {
    const doc = readFileSync(join(RUNTIME_DIR, '..', 'docs', 'ARCHITECTURE.md'), 'utf8');
    const contract = [...doc.matchAll(/^\| `(mcp_gateway_[a-z_]+)` \| (counter|gauge|histogram) \| (.*) \|$/gm)].map(([, name, type, labels]) => ({
      name,
      type,
      // Values are listed in parentheses (`what` (`sse_replay`: …)): only the names outside count.
      labels: [...labels.replace(/\([^)]*\)/g, '').matchAll(/`([a-z_]+)`/g)]
        .map((match) => match[1])
        .filter(
          (label) =>
            !['tool', 'prompt', 'resource', 'other', 'ok', 'error', 'denied', 'started', 'exited', 'restarted', 'applied', 'rejected'].includes(
              label,
            ),
        ),
    }));
    expect(contract.length).toBe(13);
    const { registry } = new PrometheusMetrics();
    const registered = (await registry.getMetricsAsJSON()).map((metric) => ({
      name: metric.name,
      type: String(metric.type),
      labels: [...((registry.getSingleMetric(metric.name) as unknown as { labelNames: string[] }).labelNames ?? [])],
    }));
    const byName = (list: Array<{ name: string }>) => [...list].sort((a, b) => a.name.localeCompare(b.name));
    expect(byName(registered)).toEqual(byName(contract));
  });
});

describe('metrics and access logs', () => {
  let upstream: TestUpstream;
  let gateway: GatewayProcess;
  let file: string;
  let token: string;
  let jwks: string;

  beforeAll(async () => {
    upstream = await startStreamableServer('web');
    const { publicKey, privateKey } = await generateKeyPair('ES256');
    jwks = JSON.stringify({ keys: [{ ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256', use: 'sig' }] });
    token = await new SignJWT({})
      .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setSubject('alice')
      .setIssuedAt()
      .setExpirationTime('10m')
      .sign(privateKey);
    file = writeConfigFile('gw-metrics-', configYaml(upstream, jwks));
    gateway = await GatewayProcess.serving(file);
    await gateway.waitFor(() => gateway.logs.some((line) => line.msg === 'metrics listening'), 'metrics listening');
  });

  afterAll(async () => {
    await gateway?.stop();
    await upstream?.close();
  });

  const statsUrl = (): string => `http://127.0.0.1:${gateway.logs.find((line) => line.msg === 'metrics listening')!.port as number}/metrics`;

  async function scrape(): Promise<Sample[]> {
    const response = await fetch(statsUrl());
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain/);
    return parseMetrics(await response.text());
  }

  test('counts MCP calls by target, method, kind, listed name and outcome; sessions and stdio processes', async () => {
    const client = await connectClient(`${gateway.url}/mcp`);
    const names = await allToolNames(client);
    expect(names).toEqual(expect.arrayContaining(['py_echo', 'web_add']));
    // Hidden by the rules, but the target listed it: metrics still name it.
    expect(names).not.toContain('py_pid');
    expect(await client.callTool({ name: 'py_echo', arguments: { message: 'hi' } })).toMatchObject({ content: [{ text: 'python says: hi' }] });
    expect(await client.callTool({ name: 'web_add', arguments: { a: 2, b: 3 } })).toMatchObject({ content: [{ text: '5' }] });
    await expect(client.callTool({ name: 'py_pid', arguments: {} })).rejects.toThrow(/Unknown tool/);
    // A name nobody listed: must not become a label value of its own.
    await expect(client.callTool({ name: 'py_invented-9f3a', arguments: {} })).rejects.toThrow(/Unknown tool/);

    let samples = await scrape();
    const route = { route: 'fed' };
    expect(
      value(samples, 'mcp_gateway_mcp_requests_total', { ...route, target: 'py', method: 'tools/call', kind: 'tool', name: 'echo', outcome: 'ok' }),
    ).toBe(1);
    expect(
      value(samples, 'mcp_gateway_mcp_requests_total', { ...route, target: 'web', method: 'tools/call', kind: 'tool', name: 'add', outcome: 'ok' }),
    ).toBe(1);
    expect(
      value(samples, 'mcp_gateway_mcp_requests_total', {
        ...route,
        target: 'py',
        method: 'tools/call',
        kind: 'tool',
        name: 'pid',
        outcome: 'denied',
      }),
    ).toBe(1);
    expect(
      value(samples, 'mcp_gateway_mcp_requests_total', {
        ...route,
        target: 'py',
        method: 'tools/call',
        kind: 'tool',
        name: 'other',
        outcome: 'error',
      }),
    ).toBe(1);
    expect(
      value(samples, 'mcp_gateway_mcp_requests_total', { ...route, target: 'all', method: 'tools/list', kind: 'other', name: '', outcome: 'ok' }),
    ).toBeGreaterThanOrEqual(1);
    expect(value(samples, 'mcp_gateway_mcp_requests_total', { ...route, target: 'all', method: 'initialize', kind: 'other', outcome: 'ok' })).toBe(1);
    expect(samples.some((sample) => sample.labels.name === 'invented-9f3a')).toBe(false);
    expect(
      value(samples, 'mcp_gateway_mcp_request_duration_seconds_count', { ...route, target: 'py', method: 'tools/call', kind: 'tool', name: 'echo' }),
    ).toBe(1);
    expect(find(samples, 'mcp_gateway_mcp_request_duration_seconds_bucket', { ...route, target: 'web', name: 'add', le: '+Inf' })?.value).toBe(1);
    expect(value(samples, 'mcp_gateway_sessions_active', route)).toBe(1);
    expect(value(samples, 'mcp_gateway_stdio_processes', { ...route, target: 'py' })).toBe(1);
    expect(value(samples, 'mcp_gateway_stdio_process_events_total', { ...route, target: 'py', event: 'started' })).toBe(1);
    expect(value(samples, 'mcp_gateway_http_requests_total', { ...route, method: 'POST', status: '200' })).toBeGreaterThanOrEqual(5);

    // The client's DELETE ends the session and its process.
    await (client.transport as StreamableHTTPClientTransport).terminateSession();
    await client.close();
    await gateway.waitFor(() => gateway.logs.some((line) => line.msg === 'request' && line.method === 'DELETE'), 'the DELETE');
    samples = await scrape();
    expect(value(samples, 'mcp_gateway_sessions_active', route)).toBe(0);
    expect(value(samples, 'mcp_gateway_stdio_processes', { ...route, target: 'py' })).toBe(0);
    expect(value(samples, 'mcp_gateway_stdio_process_events_total', { ...route, target: 'py', event: 'exited' })).toBe(1);
    expect(value(samples, 'mcp_gateway_http_requests_total', { ...route, method: 'DELETE', status: '200' })).toBe(1);
  });

  test('unknown methods collapse to "other"; the access log names method, target, tool, session and status', async () => {
    const session = await rawSession(`${gateway.url}/mcp`);
    const response = await post(`${gateway.url}/mcp`, JSON.stringify({ jsonrpc: '2.0', id: 7, method: 'x-vendor/made-up', params: {} }), {
      'mcp-session-id': session,
      'mcp-protocol-version': '2025-06-18',
    });
    expect((await response.json()) as unknown).toMatchObject({ error: { code: -32601 } });
    const samples = await scrape();
    expect(value(samples, 'mcp_gateway_mcp_requests_total', { route: 'fed', method: 'other', outcome: 'error' })).toBe(1);
    expect(samples.some((sample) => sample.labels.method === 'x-vendor/made-up')).toBe(false);

    // Access log lines are written in batches (every 50 ms).
    await gateway.waitFor(() => gateway.logs.some((line) => line.msg === 'request' && line.resource === 'pid'), 'the access log lines');
    const logged = gateway.logs.find((line) => line.msg === 'request' && line.mcpMethod === 'tools/call' && line.resource === 'echo');
    expect(logged).toMatchObject({ route: 'fed', method: 'POST', target: 'py', status: 200, session: expect.any(String) });
    expect(typeof logged!.durationMs).toBe('number');
    const denied = gateway.logs.find((line) => line.msg === 'request' && line.resource === 'pid');
    expect(denied).toMatchObject({ errorCode: -32602 });
  });

  test('authentication failures by reason; the access log carries the token subject but never the token', async () => {
    const url = `${gateway.url}/secure/mcp`;
    expect((await post(url, '{}')).status).toBe(401);
    expect((await post(url, '{}', { authorization: 'Bearer not-a-jwt' })).status).toBe(401);

    const client = await connectClient(url, undefined, { authorization: `Bearer ${token}` });
    expect(await client.callTool({ name: 'echo', arguments: { message: 'signed' } })).toMatchObject({ content: [{ text: 'python says: signed' }] });
    await client.close();

    const samples = await scrape();
    expect(value(samples, 'mcp_gateway_auth_failures_total', { route: 'secure', reason: 'missing_token' })).toBe(1);
    expect(value(samples, 'mcp_gateway_auth_failures_total', { route: 'secure', reason: 'invalid_token' })).toBe(1);
    expect(value(samples, 'mcp_gateway_http_requests_total', { route: 'secure', method: 'POST', status: '401' })).toBe(2);
    expect(
      value(samples, 'mcp_gateway_mcp_requests_total', { route: 'secure', target: 'py', method: 'tools/call', name: 'other', outcome: 'ok' }),
    ).toBe(1);

    await gateway.waitFor(
      () => gateway.logs.some((entry) => entry.msg === 'request' && entry.route === 'secure' && entry.mcpMethod === 'tools/call'),
      'the access log line',
    );
    const line = gateway.logs.find((entry) => entry.msg === 'request' && entry.route === 'secure' && entry.mcpMethod === 'tools/call');
    expect(line).toMatchObject({ subject: 'alice', target: 'py', resource: 'echo', status: 200 });
    const everything = JSON.stringify(gateway.logs);
    expect(everything).not.toContain(token);
    expect(everything).not.toContain('signed');
  });

  test('configuration reloads, applied and rejected', async () => {
    const reloaded = (): number => gateway.logs.filter((line) => line.msg === 'configuration reloaded').length;
    const rejected = (): number => gateway.logs.filter((line) => line.msg.startsWith('configuration change rejected')).length;
    writeFileSync(file, configYaml(upstream, jwks).replace('- name: secure', '- name: secure\n      # touched'));
    await gateway.waitFor(() => reloaded() === 1, 'the reload');
    writeFileSync(file, 'binds: [ { port: "not a number" } ]\n');
    await gateway.waitFor(() => rejected() === 1, 'the rejection');
    const samples = await scrape();
    expect(value(samples, 'mcp_gateway_config_reloads_total', { outcome: 'applied' })).toBe(1);
    expect(value(samples, 'mcp_gateway_config_reloads_total', { outcome: 'rejected' })).toBe(1);
  });
});
