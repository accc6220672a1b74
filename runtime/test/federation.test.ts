import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { writeConfigFile } from './helpers/config-file.js';
import { connectClient, EVERYTHING, GatewayProcess, PYTHON_SERVER } from './helpers/gateway.js';
import { allToolNames } from './helpers/lists.js';
import { startSseServer, startStreamableServer, type TestUpstream } from './helpers/upstreams.js';

describe('federation of a stdio, a Streamable HTTP and a legacy SSE target', () => {
  let http: TestUpstream;
  let sse: TestUpstream;
  let gateway: GatewayProcess;
  let client: Client;

  beforeAll(async () => {
    [http, sse] = await Promise.all([startStreamableServer('http'), startSseServer('sse')]);
    const dir = mkdtempSync(join(tmpdir(), 'gw-federation-'));
    const file = join(dir, 'config.yaml');
    writeFileSync(
      file,
      JSON.stringify({
        binds: [
          {
            port: 0,
            listeners: [
              {
                routes: [
                  {
                    name: 'federated',
                    matches: [{ path: { exact: '/mcp' } }],
                    backends: [
                      {
                        mcp: {
                          serverInfo: { name: 'acme-tools', version: '2.0.0' },
                          targets: [
                            { name: 'everything', stdio: { cmd: process.execPath, args: [EVERYTHING, 'stdio'] } },
                            { name: 'http', mcp: { host: http.url } },
                            { name: 'sse', sse: { host: sse.url } },
                          ],
                        },
                      },
                    ],
                  },
                ],
              },
            ],
          },
        ],
      }),
    );
    gateway = await GatewayProcess.serving(file);
    client = await connectClient(`${gateway.url}/mcp`);
  });

  afterAll(async () => {
    await client?.close();
    await gateway?.stop();
    await Promise.all([http?.close(), sse?.close()]);
  });

  test('initialize is merged: our serverInfo, union of capabilities, instructions per target', () => {
    expect(client.getServerVersion()).toMatchObject({ name: 'acme-tools', version: '2.0.0' });
    const capabilities = client.getServerCapabilities()!;
    expect(capabilities.tools).toBeDefined();
    expect(capabilities.resources).toBeDefined();
    expect(capabilities.prompts).toBeDefined();
    expect(client.getInstructions()).toContain('[http]\nThe http server.');
    expect(client.getInstructions()).toContain('[sse]\nThe sse server.');
  });

  test('tools/list merges every target, prefixed, with each target paginating', async () => {
    const pages: string[][] = [];
    let cursor: string | undefined;
    do {
      const page = await client.listTools(cursor ? { cursor } : {});
      pages.push(page.tools.map((tool) => tool.name));
      cursor = page.nextCursor;
    } while (cursor);
    const names = pages.flat();
    // The HTTP and SSE servers hand out one tool per page; all their pages must come through.
    expect(names).toEqual(
      expect.arrayContaining(['everything_echo', 'http_whoami', 'http_ask', 'http_add', 'http_wait', 'sse_whoami', 'sse_ask', 'sse_add']),
    );
    expect(new Set(names).size).toBe(names.length);
    expect(pages.length).toBeGreaterThanOrEqual(5);
    expect(names.filter((name) => !/^(everything|http|sse)_/.test(name))).toEqual([]);
  });

  test('calls go to the target named by the prefix, with the upstream name', async () => {
    expect((await client.callTool({ name: 'http_whoami', arguments: {} })).content).toEqual([{ type: 'text', text: 'http' }]);
    expect((await client.callTool({ name: 'sse_whoami', arguments: {} })).content).toEqual([{ type: 'text', text: 'sse' }]);
    expect((await client.callTool({ name: 'sse_add', arguments: { a: 2, b: 3 } })).content).toEqual([{ type: 'text', text: '5' }]);
    expect((await client.callTool({ name: 'everything_echo', arguments: { message: 'x' } })).content).toEqual([{ type: 'text', text: 'Echo: x' }]);
  });

  test('resources are listed and read as <target>+<uri>', async () => {
    const uris: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await client.listResources(cursor ? { cursor } : {});
      uris.push(...page.resources.map((resource) => resource.uri));
      cursor = page.nextCursor;
    } while (cursor);
    expect(uris).toEqual(expect.arrayContaining(['http+http://readme', 'sse+sse://readme']));
    expect(uris.some((uri) => uri.startsWith('everything+'))).toBe(true);
    const read = await client.readResource({ uri: 'sse+sse://readme' });
    expect(read.contents).toEqual([{ uri: 'sse+sse://readme', mimeType: 'text/plain', text: 'readme of sse' }]);
  });

  test('prompts of the stdio target are prefixed and routed', async () => {
    const { prompts } = await client.listPrompts();
    const simple = prompts.find((prompt) => prompt.name.startsWith('everything_') && !prompt.arguments?.some((argument) => argument.required));
    expect(simple).toBeDefined();
    expect((await client.getPrompt({ name: simple!.name })).messages.length).toBeGreaterThan(0);
  });

  test('an unknown prefix or tool is an unknown tool', async () => {
    await expect(client.callTool({ name: 'nosuch_tool', arguments: {} })).rejects.toThrow(/Unknown tool: nosuch_tool/);
    await expect(client.callTool({ name: 'notprefixed', arguments: {} })).rejects.toThrow(/Unknown tool: notprefixed/);
  });

  test('a cancelled call is cancelled upstream, under the id the upstream knows', async () => {
    const controller = new AbortController();
    const call = client.callTool({ name: 'http_wait', arguments: {} }, undefined, { signal: controller.signal });
    while (http.waitingCount === 0) await new Promise((resolve) => setTimeout(resolve, 20));
    controller.abort('changed my mind');
    await expect(call).rejects.toThrow();
    while (http.cancelledCount === 0) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(http.cancelledCount).toBe(1);
    // The session still works afterwards.
    expect((await client.callTool({ name: 'http_whoami', arguments: {} })).content).toEqual([{ type: 'text', text: 'http' }]);
  });

  test('each upstream saw exactly one initialize for the session', () => {
    expect(http.initializeCount).toBe(1);
    expect(sse.initializeCount).toBe(1);
  });
});

describe('failureMode with a target that cannot start', () => {
  let gateway: GatewayProcess;

  beforeAll(async () => {
    const targets = `
          - { name: ok, stdio: { cmd: python3, args: ["${PYTHON_SERVER}"] } }
          - { name: broken, stdio: { cmd: no-such-mcp-server-command } }`;
    const file = writeConfigFile(
      'gw-failure-',
      `binds:
- port: 0
  listeners:
  - routes:
    - name: open
      matches: [{ path: { exact: /open } }]
      backends:
      - mcp:
          failureMode: failOpen
          targets:${targets}
    - name: closed
      matches: [{ path: { exact: /closed } }]
      backends:
      - mcp:
          targets:${targets}
`,
    );
    gateway = await GatewayProcess.serving(file);
  });

  afterAll(async () => {
    await gateway?.stop();
  });

  test('failOpen: the route keeps serving the targets that work, and the failure is logged', async () => {
    const client = await connectClient(`${gateway.url}/open`);
    const names = await allToolNames(client);
    expect(names).toEqual(['ok_echo', 'ok_add', 'ok_pid', 'ok_sleep', 'ok_crash']);
    expect((await client.callTool({ name: 'ok_add', arguments: { a: 1, b: 1 } })).content).toEqual([{ type: 'text', text: '2' }]);
    await client.close();
    const skipped = gateway.logs.find((line) => line.msg === 'target skipped (failOpen)');
    expect(String(skipped?.error)).toContain('command "no-such-mcp-server-command" not found');
  });

  test('failClosed (the default): initialize fails and says which target and why', async () => {
    await expect(connectClient(`${gateway.url}/closed`)).rejects.toThrow(/target "broken".*command "no-such-mcp-server-command" not found/);
  });
});
