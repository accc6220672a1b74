import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { CreateMessageRequestSchema, ElicitRequestSchema } from '@modelcontextprotocol/sdk/types.js';
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
    [alice, bob] = await Promise.all([connectClient(`${gateway.url}/mcp`, namedClient('alice')), connectClient(`${gateway.url}/mcp`, namedClient('bob'))]);
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
