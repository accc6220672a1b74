import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { CreateMessageRequestSchema, ElicitRequestSchema, ListRootsRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { writeConfigFile } from './helpers/config-file.js';
import { connectClient, EVERYTHING, GatewayProcess } from './helpers/gateway.js';
import { allToolNames } from './helpers/lists.js';
import { startSseServer, startStreamableServer, type TestUpstream } from './helpers/upstreams.js';

/** A client that answers sampling and elicitation with its own name, so answers cannot be mixed up unnoticed. */
function namedClient(name: string): Client {
  const client = new Client({ name, version: '1.0.0' }, { capabilities: { sampling: {}, elicitation: { form: {} } } });
  client.setRequestHandler(CreateMessageRequestSchema, async () => ({
    role: 'assistant' as const,
    model: 'test-model',
    content: { type: 'text' as const, text: `model-of-${name}` },
  }));
  client.setRequestHandler(ElicitRequestSchema, async () => ({ action: 'accept' as const, content: { name } }));
  return client;
}

describe('server-to-client requests are relayed to the session that caused them', () => {
  let http: TestUpstream;
  let sse: TestUpstream;
  let gateway: GatewayProcess;
  let alice: Client;
  let bob: Client;

  beforeAll(async () => {
    [http, sse] = await Promise.all([startStreamableServer('http'), startSseServer('sse')]);
    const file = writeConfigFile(
      'gw-relay-',
      `binds:
- port: 0
  listeners:
  - routes:
    - name: relay
      matches: [{ path: { pathPrefix: /mcp } }]
      backends:
      - mcp:
          targets:
          - { name: http, mcp: { host: "${http.url}" } }
          - { name: sse, sse: { host: "${sse.url}" } }
          - { name: everything, stdio: { cmd: "${process.execPath}", args: ["${EVERYTHING}", stdio] } }
`,
    );
    gateway = await GatewayProcess.serving(file);
    [alice, bob] = await Promise.all([
      connectClient(`${gateway.url}/mcp`, namedClient('alice')),
      connectClient(`${gateway.url}/mcp`, namedClient('bob')),
    ]);
  });

  afterAll(async () => {
    await Promise.all([alice?.close(), bob?.close()]);
    await gateway?.stop();
    await Promise.all([http?.close(), sse?.close()]);
  });

  test.each(['http', 'sse'])('sampling and elicitation from the %s target reach the right one of two concurrent clients', async (target) => {
    const [forAlice, forBob] = await Promise.all([
      alice.callTool({ name: `${target}_ask`, arguments: {} }),
      bob.callTool({ name: `${target}_ask`, arguments: {} }),
    ]);
    expect(forAlice.content).toEqual([{ type: 'text', text: 'sampled=model-of-alice elicited=alice' }]);
    expect(forBob.content).toEqual([{ type: 'text', text: 'sampled=model-of-bob elicited=bob' }]);
  });

  test('sampling from a stdio target (server-everything) is answered by the calling client', async () => {
    const names = await allToolNames(alice);
    // server-everything offers the tool only to clients that declared the sampling capability: it got ours.
    expect(names).toContain('everything_trigger-sampling-request');
    const [forAlice, forBob] = await Promise.all([
      alice.callTool({ name: 'everything_trigger-sampling-request', arguments: { prompt: 'hi', maxTokens: 5 } }),
      bob.callTool({ name: 'everything_trigger-sampling-request', arguments: { prompt: 'hi', maxTokens: 5 } }),
    ]);
    expect(JSON.stringify(forAlice.content)).toContain('model-of-alice');
    expect(JSON.stringify(forBob.content)).toContain('model-of-bob');
    expect(JSON.stringify(forAlice.content)).not.toContain('model-of-bob');
  });
});

describe('a relay that never drops a server-to-client request', () => {
  let upstream: TestUpstream;
  let gateway: GatewayProcess;

  beforeAll(async () => {
    upstream = await startStreamableServer('http');
    const file = writeConfigFile(
      'gw-relay-load-',
      `binds:
- port: 0
  listeners:
  - routes:
    - name: relay
      matches: [{ path: { exact: /mcp } }]
      backends:
      - mcp:
          targets:
          - { name: http, mcp: { host: "${upstream.url}" } }
`,
    );
    gateway = await GatewayProcess.serving(file);
  });

  afterAll(async () => {
    await gateway?.stop();
    await upstream?.close();
  });

  /** One session: connect, have the server sample and elicit through the gateway, check the answers are this client's. */
  async function askOnce(name: string): Promise<string> {
    const client = await connectClient(`${gateway.url}/mcp`, namedClient(name));
    try {
      const result = await client.callTool({ name: 'ask', arguments: {} });
      return JSON.stringify(result.content);
    } finally {
      await client.close();
    }
  }

  test('a request the server sends the moment the client is initialized reaches the client', async () => {
    // The server asks for roots while handling notifications/initialized, on its standalone stream: the
    // gateway must have that stream open by then (it used to open it only after, and the server dropped it).
    const client = new Client({ name: 'rooted', version: '1.0.0' }, { capabilities: { roots: { listChanged: false } } });
    client.setRequestHandler(ListRootsRequestSchema, async () => ({ roots: [{ uri: 'file:///workspace', name: 'workspace' }] }));
    await connectClient(`${gateway.url}/mcp`, client);
    try {
      const result = await client.callTool({ name: 'roots', arguments: {} });
      expect(result.content).toEqual([{ type: 'text', text: 'file:///workspace' }]);
    } finally {
      await client.close();
    }
  });

  test('sampling and elicitation in 50 sessions in a row: every request answered by its own client', async () => {
    const outcomes: string[] = [];
    for (let i = 0; i < 50; i++) outcomes.push(await askOnce(`client-${i}`));
    expect(outcomes).toEqual(
      Array.from({ length: 50 }, (_, i) => JSON.stringify([{ type: 'text', text: `sampled=model-of-client-${i} elicited=client-${i}` }])),
    );
  }, 120_000);

  test('sampling and elicitation under concurrent load: 8 clients at once, 6 sessions each', async () => {
    const outcomes = await Promise.all(
      Array.from({ length: 8 }, async (_, lane) => {
        const mine: string[] = [];
        for (let i = 0; i < 6; i++) mine.push(await askOnce(`lane-${lane}-${i}`));
        return mine;
      }),
    );
    expect(outcomes.flat()).toEqual(
      Array.from({ length: 8 }, (_, lane) =>
        Array.from({ length: 6 }, (__, i) =>
          JSON.stringify([{ type: 'text', text: `sampled=model-of-lane-${lane}-${i} elicited=lane-${lane}-${i}` }]),
        ),
      ).flat(),
    );
  }, 120_000);

  test('concurrent calls in one session: each server-to-client request is answered', async () => {
    const client = await connectClient(`${gateway.url}/mcp`, namedClient('busy'));
    try {
      const results = await Promise.all(Array.from({ length: 10 }, () => client.callTool({ name: 'ask', arguments: {} })));
      for (const result of results) expect(result.content).toEqual([{ type: 'text', text: 'sampled=model-of-busy elicited=busy' }]);
    } finally {
      await client.close();
    }
  }, 120_000);
});
