import { randomBytes } from 'node:crypto';
import { startStatelessServer } from './limits-helpers.js';
import { writeConfigFile } from '../helpers/config-file.js';
import { GatewayProcess, INITIALIZE, post, rawSession } from '../helpers/gateway.js';
import { startStreamableServer, type TestUpstream } from '../helpers/upstreams.js';

const V = { 'mcp-protocol-version': '2025-06-18' };
const LIST = JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/list' });
const SESSION_KEY = randomBytes(32).toString('hex');

function config(stateful: string, stateless: string, extra = ''): string {
  return `config:
  statsAddr: 127.0.0.1:0
  adminAddr: 127.0.0.1:0
${extra}binds:
- port: 0
  listeners:
  - routes:
    - name: stateful
      matches: [{ path: { pathPrefix: /stateful } }]
      backends:
      - mcp:
          targets: [{ name: up, mcp: { host: "${stateful}" } }]
    - name: stateless
      matches: [{ path: { pathPrefix: /stateless } }]
      backends:
      - mcp:
          targets: [{ name: up, mcp: { host: "${stateless}" } }]
`;
}

const del = (url: string, session: string) => fetch(url, { method: 'DELETE', headers: { ...V, 'mcp-session-id': session } });

/** A session ends when the client says so or when its id expires; its id stays small whatever the client declares. */
describe('hostile: session lifecycle', () => {
  let stateful: TestUpstream;
  let stateless: Awaited<ReturnType<typeof startStatelessServer>>;
  let gateway: GatewayProcess;

  beforeAll(async () => {
    stateful = await startStreamableServer('stateful');
    stateless = await startStatelessServer();
    gateway = await GatewayProcess.serving(writeConfigFile('gw-lifecycle-', config(stateful.url, stateless.url)), { SESSION_KEY });
  });

  afterAll(async () => {
    await gateway?.stop();
    await stateful?.close();
    await stateless?.close();
  });

  test('DELETE ends a session once: a second DELETE gets 404', async () => {
    const url = `${gateway.url}/stateful/mcp`;
    const session = await rawSession(url);
    expect((await del(url, session)).status).toBe(200);
    expect((await del(url, session)).status).toBe(404);
  });

  test('after DELETE on a route whose upstream keeps no session, the id gets 404', async () => {
    const url = `${gateway.url}/stateless/mcp`;
    const session = await rawSession(url);
    const before = await post(url, LIST, { ...V, 'mcp-session-id': session });
    expect(before.status).toBe(200);
    await before.text();
    expect((await del(url, session)).status).toBe(200);
    const after = await post(url, LIST, { ...V, 'mcp-session-id': session });
    expect(after.status).toBe(404);
    expect(((await after.json()) as { error: { message: string } }).error.message).toMatch(/Session not found/);
  });

  test('64 KB of client capabilities give a small session id that works', async () => {
    const url = `${gateway.url}/stateful/mcp`;
    const initialize = JSON.parse(INITIALIZE) as { params: { capabilities: Record<string, unknown> } };
    // Random, so compression cannot hide it: 64 KB of capabilities.
    initialize.params.capabilities = { roots: { listChanged: true }, experimental: { blob: { data: randomBytes(48 * 1024).toString('base64') } } };
    const response = await post(url, JSON.stringify(initialize));
    expect(response.status).toBe(200);
    expect(await response.text()).toMatch(/"result"/);
    const session = response.headers.get('mcp-session-id')!;
    expect(session.length).toBeLessThan(1024);
    const listed = await post(url, LIST, { ...V, 'mcp-session-id': session });
    expect(listed.status).toBe(200);
    expect(((await listed.json()) as { result: { tools: unknown[] } }).result.tools.length).toBeGreaterThan(0);
  });

  test('sealed ids expire after limits.sessionLifetime, on the replica that issued them and on any other', async () => {
    const file = writeConfigFile('gw-lifetime-', config(stateful.url, stateless.url, '  limits: { sessionLifetime: 1s }\n'));
    const [issuer, other] = await Promise.all([GatewayProcess.serving(file, { SESSION_KEY }), GatewayProcess.serving(file, { SESSION_KEY })]);
    try {
      const session = await rawSession(`${issuer.url}/stateless/mcp`);
      // Waiting past the lifetime (not racing it): the id is expired however slow the machine is.
      await new Promise((resolve) => setTimeout(resolve, 1500));
      for (const gw of [other, issuer]) {
        const response = await post(`${gw.url}/stateless/mcp`, LIST, { ...V, 'mcp-session-id': session });
        expect(response.status).toBe(404);
        await response.text();
      }
    } finally {
      await Promise.all([issuer.stop(), other.stop()]);
    }
  });
});
