import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { GatewayProcess, PYTHON_SERVER } from './helpers/gateway.js';

async function clientWith(url: string, headers: Record<string, string> = {}): Promise<Client> {
  const client = new Client({ name: 'authz-test', version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers } }));
  return client;
}

async function allTools(client: Client): Promise<string[]> {
  const names: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await client.listTools(cursor ? { cursor } : {});
    names.push(...page.tools.map((tool) => tool.name));
    cursor = page.nextCursor;
  } while (cursor);
  return names.sort();
}

describe('mcpAuthorization through the gateway', () => {
  let gateway: GatewayProcess;
  let url: string;

  beforeAll(async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'gw-authz-')), 'config.yaml');
    writeFileSync(
      file,
      `binds:
- port: 0
  listeners:
  - routes:
    - name: guarded
      matches: [{ path: { exact: /mcp } }]
      policies:
        mcpAuthorization:
          rules:
          - 'mcp.tool.name == "echo"'
          - allow: 'mcp.tool.name == "add" && request.headers["x-role"] == "math"'
          - deny: 'mcp.tool.target == "py2" && mcp.tool.name == "echo"'
      backends:
      - mcp:
          targets:
          - { name: py, stdio: { cmd: python3, args: ["${PYTHON_SERVER}"] } }
          - { name: py2, stdio: { cmd: python3, args: ["${PYTHON_SERVER}"] } }
`,
    );
    gateway = await GatewayProcess.listening(['--config', file, '--host', '127.0.0.1']);
    url = `${gateway.url}/mcp`;
  });

  afterAll(async () => {
    await gateway?.stop();
  });

  test('lists are filtered per item with the un-prefixed name and the target', async () => {
    const plain = await clientWith(url);
    expect(await allTools(plain)).toEqual(['py_echo']);
    // No rule allows resources, so the allow-list hides them.
    expect((await plain.listResources()).resources).toEqual([]);
    await plain.close();
    const math = await clientWith(url, { 'x-role': 'math' });
    expect(await allTools(math)).toEqual(['py2_add', 'py_add', 'py_echo']);
    expect((await math.callTool({ name: 'py2_add', arguments: { a: 20, b: 22 } })).content).toEqual([{ type: 'text', text: '42' }]);
    await math.close();
  });

  test('a denied call looks exactly like a call of a tool that does not exist', async () => {
    const client = await clientWith(url);
    const failure = async (name: string): Promise<unknown> =>
      fetch(url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'application/json, text/event-stream',
          'mcp-session-id': (client.transport as StreamableHTTPClientTransport).sessionId!,
          'mcp-protocol-version': client.getNegotiatedProtocolVersion?.() ?? '2025-11-25',
        },
        body: JSON.stringify({ jsonrpc: '2.0', id: 9, method: 'tools/call', params: { name, arguments: {} } }),
      }).then(async (response) => ({ status: response.status, body: await response.json() }));
    const denied = await failure('py_add');
    const missing = await failure('nosuch_add');
    expect(denied).toEqual({ status: 200, body: { jsonrpc: '2.0', id: 9, error: { code: -32602, message: 'Unknown tool: py_add' } } });
    expect(missing).toEqual({ status: 200, body: { jsonrpc: '2.0', id: 9, error: { code: -32602, message: 'Unknown tool: nosuch_add' } } });
    await expect(client.readResource({ uri: 'py+py://motd' })).rejects.toThrow(/Unknown resource: py\+py:\/\/motd/);
    await client.close();
  });
});
