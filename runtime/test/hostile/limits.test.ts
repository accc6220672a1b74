import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { adminSidePort, BIG_LINE_SERVER, initializeFrom, metricValue, requestFrom } from './limits-helpers.js';
import { writeConfigFile } from '../helpers/config-file.js';
import { GatewayProcess } from '../helpers/gateway.js';
import { startStreamableServer, type TestUpstream } from '../helpers/upstreams.js';

/** Two anonymous clients, told apart by their loopback source address. */
const A = '127.0.0.1';
const B = '127.0.0.2';
const V = { 'mcp-protocol-version': '2025-06-18' };

interface JsonRpcError {
  readonly error: { readonly code: number; readonly message: string; readonly data?: { limit?: string } };
}

const errorOf = (text: string) => (JSON.parse(text) as JsonRpcError).error;

/**
 * Every limit here is configured tiny (a handful of sessions, tokens that refill once an hour), so the
 * tests count requests and never depend on timing.
 */
describe('hostile: sessions, processes, batches and request rates are limited', () => {
  let upstream: TestUpstream;
  let gateway: GatewayProcess;
  let metrics: () => Promise<string>;

  beforeAll(async () => {
    upstream = await startStreamableServer('limited');
    const server = join(mkdtempSync(join(tmpdir(), 'gw-limits-server-')), 'server.js');
    writeFileSync(server, BIG_LINE_SERVER);
    const file = writeConfigFile(
      'gw-limits-',
      `config:
  statsAddr: 127.0.0.1:0
  adminAddr: 127.0.0.1:0
  limits: { maxSessionsPerSubject: 3, maxBatchSize: 2 }
binds:
- port: 0
  listeners:
  - routes:
    - name: http
      matches: [{ path: { pathPrefix: /http } }]
      backends:
      - mcp:
          targets: [{ name: up, mcp: { host: "${upstream.url}" } }]
    - name: stdio
      matches: [{ path: { pathPrefix: /stdio } }]
      backends:
      - mcp:
          stdio: { maxProcesses: 4, maxProcessesPerSubject: 1 }
          targets: [{ name: big, stdio: { cmd: "${process.execPath}", args: ["${server}"] } }]
    - name: rated
      matches: [{ path: { pathPrefix: /rated } }]
      backends:
      - mcp:
          targets: [{ name: up, mcp: { host: "${upstream.url}" } }]
      policies:
        localRateLimit:
        - { maxTokens: 3, tokensPerFill: 3, fillInterval: 1h, type: requests, per: subject }
        - { maxTokens: 1, fillInterval: 1h, per: tool }
`,
    );
    gateway = await GatewayProcess.serving(file);
    const port = await adminSidePort(gateway, 'metrics');
    metrics = async () => (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  });

  afterAll(async () => {
    expect((await fetch(`${gateway.url}/healthz`)).status).toBe(200);
    await gateway?.stop();
    await upstream?.close();
  });

  const end = (url: string, from: string, session: string) => requestFrom(from, url, 'DELETE', undefined, { ...V, 'mcp-session-id': session });

  test('one client holds at most maxSessionsPerSubject sessions (429); another client is not affected', async () => {
    const url = `${gateway.url}/http/mcp`;
    const held = [];
    for (let i = 0; i < 3; i++) held.push((await initializeFrom(A, url)).session!);
    const refused = await initializeFrom(A, url);
    expect(refused.status).toBe(429);
    expect(errorOf(refused.text)).toMatchObject({ code: -32002, data: { limit: 'subject_sessions' } });
    expect(errorOf(refused.text).message).toMatch(/config\.limits\.maxSessionsPerSubject = 3/);
    const other = await initializeFrom(B, url);
    expect(other.status).toBe(200);
    // Ending a session gives its place back.
    expect((await end(url, A, held[0])).status).toBe(200);
    const again = await initializeFrom(A, url);
    expect(again.status).toBe(200);
    for (const session of [...held.slice(1), again.session!]) await end(url, A, session);
    await end(url, B, other.session!);
    expect(metricValue(await metrics(), 'mcp_gateway_limit_refusals_total', { route: 'http', limit: 'subject_sessions' })).toBe(1);
  });

  test('one client cannot take every stdio slot: stdio.maxProcessesPerSubject', async () => {
    const url = `${gateway.url}/stdio/mcp`;
    const first = await initializeFrom(A, url);
    expect(first.status).toBe(200);
    const refused = await initializeFrom(A, url);
    expect(refused.status).toBe(429);
    expect(errorOf(refused.text).message).toMatch(/stdio\.maxProcessesPerSubject = 1/);
    const other = await initializeFrom(B, url);
    expect(other.status).toBe(200);
    await end(url, A, first.session!);
    await end(url, B, other.session!);
    expect(metricValue(await metrics(), 'mcp_gateway_limit_refusals_total', { route: 'stdio', limit: 'subject_processes' })).toBe(1);
  });

  test('a batch over limits.maxBatchSize is refused whole (413) before anything is forwarded', async () => {
    const url = `${gateway.url}/http/mcp`;
    const { session } = await initializeFrom(A, url, '2025-03-26');
    const ping = (id: number) => ({ jsonrpc: '2.0', id, method: 'ping' });
    const headers = { 'mcp-session-id': session!, 'mcp-protocol-version': '2025-03-26' };
    const ok = await requestFrom(A, url, 'POST', JSON.stringify([ping(1), ping(2)]), headers);
    expect(ok.status).toBe(200);
    const refused = await requestFrom(A, url, 'POST', JSON.stringify([ping(1), ping(2), ping(3)]), headers);
    expect(refused.status).toBe(413);
    expect(errorOf(refused.text)).toMatchObject({ code: -32600, data: { limit: 'batch_size' } });
    expect(errorOf(refused.text).message).toMatch(/config\.limits\.maxBatchSize \(2\)/);
    await end(url, A, session!);
  });

  test('localRateLimit per subject and per tool: 429 with Retry-After once a bucket is empty', async () => {
    const url = `${gateway.url}/rated/mcp`;
    const call = (from: string, session: string, id: number, name: string) =>
      requestFrom(from, url, 'POST', JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params: { name, arguments: { a: 1, b: 2 } } }), {
        ...V,
        'mcp-session-id': session,
      });
    // initialize takes the subject's first token (notifications take none).
    const { session } = await initializeFrom(A, url);
    expect((await call(A, session!, 2, 'whoami')).status).toBe(200);
    const toolLimited = await call(A, session!, 3, 'whoami');
    expect(toolLimited.status).toBe(429);
    expect(Number(toolLimited.headers['retry-after'])).toBeGreaterThan(0);
    expect(errorOf(toolLimited.text)).toMatchObject({ code: -32002, data: { limit: 'rate_tool' } });
    expect(errorOf(toolLimited.text).message).toMatch(/tool "whoami"/);
    // Another tool has its own bucket; the subject's bucket (3 tokens; the refused call took none) runs out after it.
    expect((await call(A, session!, 4, 'add')).status).toBe(200);
    const subjectLimited = await call(A, session!, 5, 'ping-me');
    expect(subjectLimited.status).toBe(429);
    expect(errorOf(subjectLimited.text)).toMatchObject({ data: { limit: 'rate_subject' } });
    // Another client has buckets of its own.
    const other = await initializeFrom(B, url);
    expect(other.status).toBe(200);
    expect((await call(B, other.session!, 2, 'whoami')).status).toBe(200);
    const exposition = await metrics();
    expect(metricValue(exposition, 'mcp_gateway_limit_refusals_total', { route: 'rated', limit: 'rate_tool' })).toBe(1);
    expect(metricValue(exposition, 'mcp_gateway_limit_refusals_total', { route: 'rated', limit: 'rate_subject' })).toBe(1);
  });

  test('limits.maxSessions caps sessions however many initializes arrive at once', async () => {
    const file = writeConfigFile(
      'gw-max-sessions-',
      `config:
  statsAddr: 127.0.0.1:0
  limits: { maxSessions: 2 }
binds:
- port: 0
  listeners:
  - routes:
    - backends:
      - mcp:
          targets: [{ name: up, mcp: { host: "${upstream.url}" } }]
`,
    );
    const capped = await GatewayProcess.serving(file);
    try {
      const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => initializeFrom(i % 2 ? A : B, `${capped.url}/mcp`)));
      expect(answers.filter((answer) => answer.status === 200)).toHaveLength(2);
      const refused = answers.filter((answer) => answer.status === 429);
      expect(refused).toHaveLength(18);
      expect(errorOf(refused[0].text).message).toMatch(/config\.limits\.maxSessions = 2/);
      expect((await requestFrom(A, `${capped.url}/healthz`, 'GET')).status).toBe(200);
    } finally {
      await capped.stop();
    }
  });
});
