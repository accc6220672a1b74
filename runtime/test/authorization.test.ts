import type { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { writeConfigFile } from './helpers/config-file.js';
import { connectClient, GatewayProcess, PYTHON_SERVER } from './helpers/gateway.js';
import { allToolNames } from './helpers/lists.js';

describe('mcpAuthorization through the gateway', () => {
  let gateway: GatewayProcess;
  let url: string;

  beforeAll(async () => {
    const file = writeConfigFile(
      'gw-authz-',
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
    gateway = await GatewayProcess.serving(file);
    url = `${gateway.url}/mcp`;
  });

  afterAll(async () => {
    await gateway?.stop();
  });

  test('lists are filtered per item with the un-prefixed name and the target', async () => {
    const plain = await connectClient(url);
    expect((await allToolNames(plain)).sort()).toEqual(['py_echo']);
    // No rule allows resources, so the allow-list hides them.
    expect((await plain.listResources()).resources).toEqual([]);
    await plain.close();
    const math = await connectClient(url, undefined, { 'x-role': 'math' });
    expect((await allToolNames(math)).sort()).toEqual(['py2_add', 'py_add', 'py_echo']);
    expect((await math.callTool({ name: 'py2_add', arguments: { a: 20, b: 22 } })).content).toEqual([{ type: 'text', text: '42' }]);
    await math.close();
  });

  test('a denied call looks exactly like a call of a tool that does not exist', async () => {
    const client = await connectClient(url);
    const failure = async (name: string): Promise<unknown> =>
      fetch(url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'accept': 'application/json, text/event-stream',
          'mcp-session-id': (client.transport as StreamableHTTPClientTransport).sessionId!,
          'mcp-protocol-version': (client.transport as StreamableHTTPClientTransport).protocolVersion ?? '2025-11-25',
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
