import { MCP_HEADERS, outcome, send, stillServes } from './harness.js';
import { writeConfigFile } from '../helpers/config-file.js';
import { GatewayProcess, INITIALIZE, PYTHON_SERVER } from '../helpers/gateway.js';

/**
 * DNS rebinding: a web page on rebind.attacker.example resolves its own name to 127.0.0.1, so the
 * browser sends `Host: rebind.attacker.example:P` with a matching Origin to a gateway on loopback.
 * On a loopback bind the Host must be a loopback name (the MCP SDK's rule) unless the operator names
 * more hosts.
 */
const ATTACKER = 'rebind.attacker.example';

function attack(port: number): Record<string, string> {
  return { ...MCP_HEADERS, host: `${ATTACKER}:${port}`, origin: `http://${ATTACKER}:${port}` };
}

describe('the stdio bridge on 127.0.0.1', () => {
  let gateway: GatewayProcess;
  let url: string;
  let port: number;

  beforeAll(async () => {
    gateway = await GatewayProcess.listening(['--port', '0', '--', 'python3', PYTHON_SERVER]);
    port = gateway.ports[0];
    url = `${gateway.url}/mcp`;
  });

  afterAll(async () => {
    await gateway.stop();
  });

  test('a rebound Host with a matching Origin gets 403 and no session', async () => {
    const response = await send(url, { headers: attack(port), body: INITIALIZE });
    expect(outcome(response)).toEqual({ status: 403, code: -32600 });
    expect(response.json?.error?.message).toContain(`Host ${ATTACKER}:${port} is not a loopback name`);
    expect(response.headers['mcp-session-id']).toBeUndefined();
    // The legacy SSE endpoint of the bridge is guarded the same way.
    const sse = await send(`${gateway.url}/sse`, { method: 'GET', headers: { host: `${ATTACKER}:${port}`, accept: 'text/event-stream' } });
    expect(sse.status).toBe(403);
    await stillServes(url);
  });

  test('loopback is recognised however it is spelt', async () => {
    for (const host of [`localhost:${port}`, `[::1]:${port}`, `[::ffff:127.0.0.1]:${port}`, `127.1:${port}`, `LOCALHOST:${port}`]) {
      const response = await send(url, { headers: { ...MCP_HEADERS, host }, body: INITIALIZE });
      expect({ host, status: response.status }).toEqual({ host, status: 200 });
    }
  });

  test('a missing or unparsable Host is refused', async () => {
    const response = await send(url, { headers: { ...MCP_HEADERS, host: 'bad host:1' }, body: INITIALIZE });
    expect(outcome(response)).toEqual({ status: 403, code: -32600 });
  });
});

describe('the bridge with --allowed-hosts', () => {
  test('names the operator lists are accepted, others still refused', async () => {
    const gateway = await GatewayProcess.listening([
      '--port',
      '0',
      '--allowed-hosts',
      'mcp.internal.test,other.test',
      '--',
      'python3',
      PYTHON_SERVER,
    ]);
    try {
      const port = gateway.ports[0];
      const url = `${gateway.url}/mcp`;
      const allowed = await send(url, { headers: { ...MCP_HEADERS, host: `mcp.internal.test:${port}`, origin: `http://mcp.internal.test:${port}` }, body: INITIALIZE });
      expect(allowed.status).toBe(200);
      const refused = await send(url, { headers: attack(port), body: INITIALIZE });
      expect(outcome(refused)).toEqual({ status: 403, code: -32600 });
      await stillServes(url);
    } finally {
      await gateway.stop();
    }
  });
});

describe('a configured route on a loopback bind', () => {
  const config = (protection: string) =>
    writeConfigFile(
      'rebinding-',
      `binds:
  - port: 0
    listeners:
      - routes:
          - name: local
            backends:
              - mcp:
${protection}                  targets:
                    - name: py
                      stdio: { cmd: python3, args: [${JSON.stringify(PYTHON_SERVER)}] }
`,
    );

  test('is protected by default', async () => {
    const gateway = await GatewayProcess.serving(config(''));
    try {
      const url = `${gateway.url}/mcp`;
      const response = await send(url, { headers: attack(gateway.ports[0]), body: INITIALIZE });
      expect(outcome(response)).toEqual({ status: 403, code: -32600 });
      await stillServes(url);
    } finally {
      await gateway.stop();
    }
  });

  test('an explicit dnsRebindingProtection: false is the operator opting out', async () => {
    const gateway = await GatewayProcess.serving(config('                  dnsRebindingProtection: false\n'));
    try {
      const response = await send(`${gateway.url}/mcp`, { headers: attack(gateway.ports[0]), body: INITIALIZE });
      expect(response.status).toBe(200);
    } finally {
      await gateway.stop();
    }
  });
});

describe('the admin page on a loopback address however it is spelt', () => {
  test('[::ffff:127.0.0.1] insists on a loopback Host as 127.0.0.1 does', async () => {
    const file = writeConfigFile(
      'rebinding-admin-',
      `config:
  adminAddr: "[::ffff:127.0.0.1]:0"
binds:
  - port: 0
    listeners:
      - routes:
          - backends:
              - mcp:
                  targets:
                    - name: py
                      stdio: { cmd: python3, args: [${JSON.stringify(PYTHON_SERVER)}] }
`,
    );
    const gateway = await GatewayProcess.serving(file);
    try {
      await gateway.waitFor(() => gateway.logs.some((line) => line.msg === 'admin page listening'), 'the admin page');
      const adminPort = gateway.logs.find((line) => line.msg === 'admin page listening')!.port as number;
      const rebound = await send(`http://127.0.0.1:${adminPort}/api/status`, { method: 'GET', headers: { host: `${ATTACKER}:${adminPort}` } });
      expect(rebound.status).toBe(403);
      const local = await send(`http://127.0.0.1:${adminPort}/api/status`, { method: 'GET', headers: { host: `[::ffff:127.0.0.1]:${adminPort}` } });
      expect(local.status).toBe(200);
    } finally {
      await gateway.stop();
    }
  });
});
