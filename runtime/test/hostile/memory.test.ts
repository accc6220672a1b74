import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { adminSidePort, BIG_LINE_SERVER, metricValue } from './limits-helpers.js';
import { writeConfigFile } from '../helpers/config-file.js';
import { GatewayProcess, post, rawSession } from '../helpers/gateway.js';

const V = { 'mcp-protocol-version': '2025-06-18' };
const callBig = (id: number, bytes: number) =>
  JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'big', arguments: { bytes } } });

/**
 * What a client (or a server) sends can make the gateway hold memory: every such buffer has a byte limit,
 * a clear error when it is reached, and a metric of what was dropped. Limits are tiny here, so the tests
 * do not depend on timing or on measuring memory.
 */
describe('hostile: memory held for clients is bounded', () => {
  let gateway: GatewayProcess;
  let url: string;
  let metrics: () => Promise<string>;

  beforeAll(async () => {
    const server = join(mkdtempSync(join(tmpdir(), 'gw-memory-server-')), 'server.js');
    writeFileSync(server, BIG_LINE_SERVER);
    const file = writeConfigFile(
      'gw-memory-',
      `config:
  adminAddr: 127.0.0.1:0
  statsAddr: 127.0.0.1:0
  limits: { maxReplayBytes: 50000 }
binds:
- port: 0
  listeners:
  - routes:
    - name: big
      backends:
      - mcp:
          stdio: { maxMessageBytes: 1000000 }
          targets:
          - { name: big, stdio: { cmd: "${process.execPath}", args: ["${server}"] } }
`,
    );
    gateway = await GatewayProcess.serving(file);
    url = `${gateway.url}/mcp`;
    const port = await adminSidePort(gateway, 'metrics');
    metrics = async () => (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  });

  afterAll(async () => {
    await gateway?.stop();
  });

  test('a stdio message over stdio.maxMessageBytes is an error for its request, not held; the server keeps serving', async () => {
    const session = await rawSession(url);
    const headers = { ...V, 'mcp-session-id': session };
    const response = await post(url, callBig(2, 2_000_000), headers);
    const text = await response.text();
    expect(text.length).toBeLessThan(2000);
    const body = JSON.parse(text) as { id: number; error: { code: number; message: string } };
    expect(body.id).toBe(2);
    expect(body.error.code).toBe(-32603);
    expect(body.error.message).toMatch(/larger than 1000000 bytes \(stdio\.maxMessageBytes\)/);
    const small = (await (await post(url, callBig(3, 10), headers)).json()) as { result: { content: Array<{ text: string }> } };
    expect(small.result.content[0].text).toBe('x'.repeat(10));
    await gateway.waitFor(() => gateway.logs.some((line) => line.msg === 'request' && line.mcpMethod === 'tools/call'), 'request log');
    expect(metricValue(await metrics(), 'mcp_gateway_dropped_bytes_total', { what: 'stdio_message' })).toBeGreaterThanOrEqual(2_000_000);
  });

  test('finished SSE answers kept for replay are bounded by limits.maxReplayBytes; a replay gets a short error instead', async () => {
    const session = await rawSession(url);
    const headers = { ...V, 'mcp-session-id': session };
    // The client ranks SSE first: the answer goes out live on a resumable stream.
    const live = await post(url, callBig(4, 200_000), { ...headers, accept: 'text/event-stream, application/json' });
    expect(live.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const liveText = await live.text();
    expect(liveText.length).toBeGreaterThan(200_000);
    const primingId = /^id: (\S+)$/m.exec(liveText)![1];

    // The client "lost" the stream and resumes from its start.
    const replay = await fetch(url, { headers: { ...headers, 'accept': 'text/event-stream', 'last-event-id': primingId } });
    expect(replay.status).toBe(200);
    const replayed = await replay.text();
    expect(replayed.length).toBeLessThan(5000);
    const data = /^data: (\{.*\})$/m.exec(replayed)![1];
    const message = JSON.parse(data) as { id: number; error: { message: string } };
    expect(message.id).toBe(4);
    expect(message.error.message).toMatch(/config\.limits\.maxReplayBytes/);
    expect(metricValue(await metrics(), 'mcp_gateway_dropped_bytes_total', { what: 'sse_replay' })).toBeGreaterThan(150_000);
  });

  test("a client's huge tool name is cut on the admin page's recent calls", async () => {
    const session = await rawSession(url);
    const name = 'n'.repeat(1_000_000);
    const response = await post(url, JSON.stringify({ jsonrpc: '2.0', id: 5, method: 'tools/call', params: { name, arguments: {} } }), {
      ...V,
      'mcp-session-id': session,
    });
    expect(response.status).toBe(200);
    await response.text();
    const port = await adminSidePort(gateway, 'admin page');
    const status = await (await fetch(`http://127.0.0.1:${port}/api/status`)).text();
    expect(status.length).toBeLessThan(100_000);
    expect(metricValue(await metrics(), 'mcp_gateway_dropped_bytes_total', { what: 'admin_activity' })).toBeGreaterThan(900_000);
  });
});
