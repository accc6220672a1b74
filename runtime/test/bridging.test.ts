/**
 * Bridging between protocol eras (src/federation/BRIDGING.md), both ways, through the real gateway process:
 * - a 2026-07-28 (stateless) client in front of session-era targets: an SDK Streamable HTTP server and
 *   server-everything over stdio, federated on one route. Their sampling and elicitation requests come
 *   back as input_required results; the retry with the answers completes the call.
 * - a 2025-11-25 SDK client in front of a stateless-only 2026-07-28 server: the gateway plays the session
 *   and turns the server's input_required into an elicitation request the client's handler answers.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { ElicitRequestSchema, ResourceUpdatedNotificationSchema, ToolListChangedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { writeConfigFile } from './helpers/config-file.js';
import { connectClient, EVERYTHING, GatewayProcess, post } from './helpers/gateway.js';
import { startStreamableServer, type TestUpstream } from './helpers/upstreams.js';

type Json = Record<string, any>;
const MODERN = '2026-07-28';
const NAME_SCHEMA = { type: 'object', properties: { name: { type: 'string' } } };

function meta(capabilities: Json = { sampling: {}, elicitation: {} }): Json {
  return {
    'io.modelcontextprotocol/protocolVersion': MODERN,
    'io.modelcontextprotocol/clientCapabilities': capabilities,
    'io.modelcontextprotocol/clientInfo': { name: 'stateless-test', version: '1' },
  };
}

/** One 2026-07-28 request; the JSON-RPC answer (the last one on an SSE stream) and the HTTP status. */
async function send(url: string, id: number, method: string, params: Json, capabilities?: Json): Promise<{ status: number; body: Json }> {
  const name = params.name ?? params.uri;
  const response = await post(url, JSON.stringify({ jsonrpc: '2.0', id, method, params: { ...params, _meta: meta(capabilities) } }), {
    'mcp-protocol-version': MODERN,
    'mcp-method': method,
    ...(typeof name === 'string' ? { 'mcp-name': name } : {}),
  });
  const text = await response.text();
  if (!(response.headers.get('content-type') ?? '').includes('text/event-stream')) return { status: response.status, body: JSON.parse(text) as Json };
  const answers = text
    .split('\n')
    .filter((line) => line.startsWith('data:'))
    .map((line) => JSON.parse(line.slice(5)) as Json)
    .filter((message) => message.id === id);
  return { status: response.status, body: answers[answers.length - 1] };
}

/**
 * A 2026-07-28 server and nothing else, as the revision describes one: no initialize (a request without
 * the revision's `_meta` is refused), `server/discover`, and a tool that asks for a name through
 * input_required and answers with it once the retry brings it (and the requestState it issued).
 */
async function startStatelessServer(): Promise<{ url: string; close: () => Promise<void>; refused: () => number }> {
  let refused = 0;
  const listening = new Set<{ stream: ServerResponse; id: Json }>();
  const server: Server = createServer((req: IncomingMessage, res) => {
    let text = '';
    req.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
    req.on('end', () => {
      const reply = (status: number, body: Json) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      if (req.method !== 'POST') return reply(405, { jsonrpc: '2.0', id: null, error: { code: -32600, message: 'Method not allowed' } });
      const message = JSON.parse(text) as Json;
      const params = (message.params ?? {}) as Json;
      if (params._meta?.['io.modelcontextprotocol/protocolVersion'] !== MODERN || req.headers['mcp-protocol-version'] !== MODERN) {
        refused++;
        return reply(400, { jsonrpc: '2.0', id: message.id ?? null, error: { code: -32602, message: 'Invalid params: 2026-07-28 _meta required' } });
      }
      const result = (value: Json) => reply(200, { jsonrpc: '2.0', id: message.id, result: { resultType: 'complete', ...value } });
      switch (message.method) {
        case 'server/discover':
          return result({
            supportedVersions: [MODERN],
            capabilities: { tools: { listChanged: true }, resources: { subscribe: true } },
            _meta: { 'io.modelcontextprotocol/serverInfo': { name: 'stateless-only', version: '1.0.0' } },
            ttlMs: 0,
            cacheScope: 'private',
          });
        case 'tools/list':
          return result({ tools: [{ name: 'greet', inputSchema: { type: 'object' } }], ttlMs: 0, cacheScope: 'private' });
        case 'tools/call': {
          if (params.name === 'change') {
            // Tells every listen stream that asked for it that the tool list changed.
            for (const { stream, id } of listening) {
              stream.write(`data: ${JSON.stringify({ jsonrpc: '2.0', method: 'notifications/tools/list_changed', params: { _meta: id } })}\n\n`);
            }
            return result({ content: [] });
          }
          const answer = params.inputResponses?.who;
          if (answer && params.requestState === 'asked-for-name') {
            return result({ content: [{ type: 'text', text: `hello ${answer.content?.name}` }] });
          }
          return reply(200, {
            jsonrpc: '2.0',
            id: message.id,
            result: {
              resultType: 'input_required',
              inputRequests: { who: { method: 'elicitation/create', params: { message: 'Your name?', requestedSchema: NAME_SCHEMA } } },
              requestState: 'asked-for-name',
            },
          });
        }
        case 'subscriptions/listen': {
          // The listen stream: acknowledged, then one update for each resource subscribed (as if each changed).
          const id = { 'io.modelcontextprotocol/subscriptionId': String(message.id) };
          const uris = (params.notifications?.resourceSubscriptions ?? []) as string[];
          res.writeHead(200, { 'content-type': 'text/event-stream' });
          if (params.notifications?.toolsListChanged === true) {
            const entry = { stream: res, id };
            listening.add(entry);
            res.on('close', () => listening.delete(entry));
          }
          res.write(`data: ${JSON.stringify({ jsonrpc: '2.0', method: 'notifications/subscriptions/acknowledged', params: { _meta: id } })}\n\n`);
          for (const uri of uris) {
            res.write(`data: ${JSON.stringify({ jsonrpc: '2.0', method: 'notifications/resources/updated', params: { uri, _meta: id } })}\n\n`);
          }
          return;
        }
        default:
          return reply(404, { jsonrpc: '2.0', id: message.id, error: { code: -32601, message: `Method not found: ${message.method}` } });
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/mcp`,
    refused: () => refused,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

describe('bridging between 2026-07-28 and the session-era revisions', () => {
  let sessionEra: TestUpstream;
  let stateless: Awaited<ReturnType<typeof startStatelessServer>>;
  let gateway: GatewayProcess;
  let up: string;
  let down: string;

  beforeAll(async () => {
    [sessionEra, stateless] = await Promise.all([startStreamableServer('http'), startStatelessServer()]);
    const file = writeConfigFile(
      'gw-bridging-',
      `binds:
- port: 0
  listeners:
  - routes:
    - name: up
      matches: [{ path: { exact: /up } }]
      backends:
      - mcp:
          targets:
          - { name: http, mcp: { host: "${sessionEra.url}" } }
          - { name: everything, stdio: { cmd: "${process.execPath}", args: ["${EVERYTHING}", stdio] } }
    - name: down
      matches: [{ path: { exact: /down } }]
      backends:
      - mcp:
          targets:
          - { name: stateless, mcp: { host: "${stateless.url}" } }
`,
    );
    gateway = await GatewayProcess.serving(file);
    up = `${gateway.url}/up`;
    down = `${gateway.url}/down`;
  });

  afterAll(async () => {
    await gateway?.stop();
    await Promise.all([sessionEra?.close(), stateless?.close()]);
  });

  test('2026-07-28 client, session-era HTTP target: two input rounds (sampling, then elicitation), then the answer', async () => {
    const first = await send(up, 1, 'tools/call', { name: 'http_ask', arguments: {} });
    expect(first.status).toBe(200);
    expect(first.body.result.resultType).toBe('input_required');
    const [samplingKey, sampling] = Object.entries(first.body.result.inputRequests as Json)[0];
    expect(sampling.method).toBe('sampling/createMessage');
    const sampled = { role: 'assistant', model: 'm', content: { type: 'text', text: 'model-of-carol' } };
    const second = await send(up, 2, 'tools/call', {
      name: 'http_ask',
      arguments: {},
      inputResponses: { [samplingKey]: sampled },
      requestState: first.body.result.requestState,
    });
    expect(second.body.result.resultType).toBe('input_required');
    const [elicitKey, elicit] = Object.entries(second.body.result.inputRequests as Json)[0];
    expect(elicit.method).toBe('elicitation/create');
    const done = await send(up, 3, 'tools/call', {
      name: 'http_ask',
      arguments: {},
      inputResponses: { [elicitKey]: { action: 'accept', content: { name: 'carol' } } },
      requestState: second.body.result.requestState,
    });
    const content = [{ type: 'text', text: 'sampled=model-of-carol elicited=carol' }];
    expect(done.body).toEqual({ jsonrpc: '2.0', id: 3, result: { content, resultType: 'complete' } });
  });

  test('2026-07-28 client, session-era stdio target (server-everything): sampling through input_required', async () => {
    const args = { prompt: 'hi', maxTokens: 5 };
    const first = await send(up, 1, 'tools/call', { name: 'everything_trigger-sampling-request', arguments: args });
    expect(first.body.result?.resultType).toBe('input_required');
    const [key, asked] = Object.entries(first.body.result.inputRequests as Json)[0];
    expect(asked.method).toBe('sampling/createMessage');
    const sampled = { role: 'assistant', model: 'm', content: { type: 'text', text: 'stdio-sampled-answer' } };
    const done = await send(up, 2, 'tools/call', {
      name: 'everything_trigger-sampling-request',
      arguments: args,
      inputResponses: { [key]: sampled },
      requestState: first.body.result.requestState,
    });
    expect(done.body.result.resultType).toBe('complete');
    expect(JSON.stringify(done.body.result.content)).toContain('stdio-sampled-answer');
  });

  test('an altered requestState is refused (-32602, in band) and leaves the waiting request intact', async () => {
    const first = await send(up, 1, 'tools/call', { name: 'http_ask', arguments: {} });
    const state = first.body.result.requestState as string;
    const altered = state.slice(0, -2) + (state.endsWith('A') ? 'BB' : 'AA');
    const key = Object.keys(first.body.result.inputRequests as Json)[0];
    const sampled = { role: 'assistant', model: 'm', content: { type: 'text', text: 'x' } };
    const refused = await send(up, 2, 'tools/call', { name: 'http_ask', arguments: {}, inputResponses: { [key]: sampled }, requestState: altered });
    expect(refused.status).toBe(200);
    expect(refused.body).toMatchObject({ id: 2, error: { code: -32602 } });
    const onward = await send(up, 3, 'tools/call', { name: 'http_ask', arguments: {}, inputResponses: { [key]: sampled }, requestState: state });
    expect(onward.body.result.resultType).toBe('input_required');
    // The same state again: the exchange moved on, so it no longer continues anything.
    const replayed = await send(up, 4, 'tools/call', { name: 'http_ask', arguments: {}, inputResponses: { [key]: sampled }, requestState: state });
    expect(replayed.body).toMatchObject({ id: 4, error: { code: -32602 } });
  });

  test('a target asking for a capability the request did not declare: 400/-32021 naming it', async () => {
    const { status, body } = await send(up, 1, 'tools/call', { name: 'http_ask', arguments: {} }, {});
    expect(status).toBe(400);
    expect(body).toMatchObject({ id: 1, error: { code: -32021, data: { requiredCapabilities: { sampling: {} } } } });
  });

  test('discovery, lists and removed methods of a bridged route follow 2026-07-28', async () => {
    const discover = await send(up, 1, 'server/discover', {});
    expect(discover.body.result).toMatchObject({ supportedVersions: [MODERN], resultType: 'complete', cacheScope: 'private', ttlMs: 0 });
    const tools = await send(up, 2, 'tools/list', {});
    expect(tools.body.result).toMatchObject({ resultType: 'complete', cacheScope: 'private', ttlMs: 0 });
    // The HTTP target pages one tool at a time: the merged page ends at its first, the cursor goes on from there.
    expect((tools.body.result.tools as Json[]).map((tool) => tool.name)).toEqual(['http_whoami']);
    expect(typeof tools.body.result.nextCursor).toBe('string');
    const ping = await send(up, 3, 'ping', {});
    expect(ping.status).toBe(404);
    expect(ping.body).toMatchObject({ id: 3, error: { code: -32601 } });
  });

  test('subscriptions/listen over the federated session-era targets: one acknowledgement tagged with the client id', async () => {
    const controller = new AbortController();
    const response = await fetch(up, {
      method: 'POST',
      signal: controller.signal,
      headers: {
        'content-type': 'application/json',
        'accept': 'text/event-stream, application/json',
        'mcp-protocol-version': MODERN,
        'mcp-method': 'subscriptions/listen',
      },
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 'listen-1',
        method: 'subscriptions/listen',
        params: { notifications: { toolsListChanged: true }, _meta: meta() },
      }),
    });
    expect(response.status).toBe(200);
    const reader = response.body!.getReader();
    let text = '';
    while (!text.includes('\n\n')) text += new TextDecoder().decode((await reader.read()).value);
    const frame = JSON.parse(text.split('\n').find((line) => line.startsWith('data:'))!.slice(5)) as Json;
    expect(frame).toMatchObject({
      method: 'notifications/subscriptions/acknowledged',
      params: { _meta: { 'io.modelcontextprotocol/subscriptionId': 'listen-1' } },
    });
    controller.abort();
  });

  test('2025-11-25 SDK client, stateless-only target: the gateway plays the session and asks the client through elicitation', async () => {
    const client = new Client({ name: 'session-era', version: '1.0.0' }, { capabilities: { elicitation: { form: {} } } });
    const asked: string[] = [];
    client.setRequestHandler(ElicitRequestSchema, async (request) => {
      asked.push(String(request.params.message));
      return { action: 'accept' as const, content: { name: 'dana' } };
    });
    await connectClient(down, client);
    try {
      expect(client.getServerVersion()).toMatchObject({ name: 'stateless-only' });
      const refusedBefore = stateless.refused();
      expect((await client.listTools()).tools.map((tool) => tool.name)).toEqual(['greet']);
      await client.ping();
      const result = await client.callTool({ name: 'greet', arguments: {} });
      expect(result.content).toEqual([{ type: 'text', text: 'hello dana' }]);
      expect(asked).toEqual(['Your name?']);
      // After the one refused initialize, every request the gateway sent carried the 2026-07-28 _meta.
      expect(stateless.refused()).toBe(refusedBefore);
    } finally {
      await client.close();
    }
  });

  test('2025-11-25 SDK client, stateless-only target: resources/subscribe is served by a listen stream, updates reach the client', async () => {
    const client = new Client({ name: 'session-era', version: '1.0.0' }, { capabilities: {} });
    const updated = new Promise<string>((resolve) => {
      client.setNotificationHandler(ResourceUpdatedNotificationSchema, (notification) => resolve(notification.params.uri));
    });
    await connectClient(down, client);
    try {
      await client.subscribeResource({ uri: 'file:///watched.txt' });
      expect(await updated).toBe('file:///watched.txt');
      await client.unsubscribeResource({ uri: 'file:///watched.txt' });
    } finally {
      await client.close();
    }
  });

  test("2025-11-25 SDK client, stateless-only target: the target's tool list changes reach the client's session", async () => {
    const client = new Client({ name: 'session-era', version: '1.0.0' }, { capabilities: {} });
    let notified = false;
    const changed = new Promise<void>((resolve) => {
      client.setNotificationHandler(ToolListChangedNotificationSchema, () => {
        notified = true;
        resolve();
      });
    });
    await connectClient(down, client);
    try {
      // The client's GET stream and the gateway's upstream listen open on their own: a change made before both
      // are up reaches nobody, as on any server, so the change is made until one is seen (each a round trip).
      for (let attempt = 0; attempt < 50 && !notified; attempt++) await client.callTool({ name: 'change', arguments: {} });
      await changed;
    } finally {
      await client.close();
    }
  });
});
