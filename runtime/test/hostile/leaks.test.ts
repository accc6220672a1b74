import { adminSidePort, allLogs, httpServer } from './limits-helpers.js';
import { writeConfigFile } from '../helpers/config-file.js';
import { GatewayProcess, INITIALIZE, post, PYTHON_SERVER, rawSession } from '../helpers/gateway.js';

/**
 * Secrets a gateway sees (URL credentials, upstream error bodies, session ids, environment values) must
 * not reach its logs, the errors clients get, or the admin page.
 */
describe('hostile: nothing secret leaks into logs, client errors or the admin page', () => {
  const UPSTREAM_BODY = 'Traceback: db.connect(password=upstream-internal-detail)';
  let failing: Awaited<ReturnType<typeof httpServer>>;
  let gateway: GatewayProcess;

  beforeAll(async () => {
    failing = await httpServer((req, res) => {
      req.resume();
      res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(UPSTREAM_BODY);
    });
    const port = new URL(failing.url).port;
    const file = writeConfigFile(
      'gw-leaks-',
      `config:
  adminAddr: 127.0.0.1:0
  statsAddr: 127.0.0.1:0
binds:
- port: 0
  listeners:
  - routes:
    - name: creds
      matches: [{ path: { pathPrefix: /creds } }]
      backends:
      - mcp:
          targets:
          - { name: remote, mcp: { host: "http://alice:hunter2-pass@127.0.0.1:${port}/mcp?token=query-token-value" } }
    - name: broken
      matches: [{ path: { pathPrefix: /broken } }]
      backends:
      - mcp:
          targets:
          - { name: remote, mcp: { host: "http://127.0.0.1:${port}/mcp" } }
    - name: py
      matches: [{ path: { pathPrefix: /py } }]
      backends:
      - mcp:
          targets:
          - name: py
            stdio:
              cmd: python3
              args: ["${PYTHON_SERVER}"]
              env: { GITHUB_PAT: github_pat_11AAAAAAA0secretvalue, PLAIN: visible-value }
`,
    );
    gateway = await GatewayProcess.serving(file);
  });

  afterAll(async () => {
    await gateway?.stop();
    await failing?.close();
  });

  test('a target URL with credentials appears in neither the client error nor the log', async () => {
    const response = await post(`${gateway.url}/creds/mcp`, INITIALIZE);
    const text = await response.text();
    expect(text).toMatch(/error/);
    for (const secret of ['hunter2-pass', 'query-token-value']) {
      expect(text).not.toContain(secret);
      expect(allLogs(gateway)).not.toContain(secret);
    }
  });

  test("an upstream's 500 body is not relayed to the client, which still learns the status", async () => {
    const response = await post(`${gateway.url}/broken/mcp`, INITIALIZE);
    const body = (await response.json()) as { error: { message: string } };
    expect(body.error.message).toMatch(/HTTP 500/);
    expect(body.error.message).not.toContain('upstream-internal-detail');
  });

  test('full session ids are never logged', async () => {
    const id = await rawSession(`${gateway.url}/py/mcp`);
    const listed = await post(`${gateway.url}/py/mcp`, '{"jsonrpc":"2.0","id":2,"method":"tools/list"}', {
      'mcp-session-id': id,
      'mcp-protocol-version': '2025-06-18',
    });
    expect(listed.status).toBe(200);
    await listed.text();
    await gateway.waitFor(() => gateway.logs.filter((line) => line.msg === 'request').length >= 3, 'request log lines');
    expect(allLogs(gateway)).not.toContain(id);
    expect(allLogs(gateway)).toContain(id.slice(0, 8));
  });

  test('the admin page hides a GITHUB_PAT environment value and still shows plain ones', async () => {
    const port = await adminSidePort(gateway, 'admin page');
    const status = await (await fetch(`http://127.0.0.1:${port}/api/status`)).text();
    expect(status).not.toContain('secretvalue');
    expect(status).toContain('visible-value');
  });
});
