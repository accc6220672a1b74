import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { writeConfigFile } from './helpers/config-file.js';
import { connectClient, GatewayProcess, post } from './helpers/gateway.js';
import { startStreamableServer, type TestUpstream } from './helpers/upstreams.js';
import { TestOpenIdProvider } from './support/oidc-provider.js';

const RESOURCE = 'http://gateway.test/mcp';
const AUDIENCE = 'mcp_gateway';

describe('authenticated sessions and what upstreams get to see', () => {
  let idp: TestOpenIdProvider;
  let passthrough: TestUpstream;
  let keyed: TestUpstream;
  let gateway: GatewayProcess;
  let url: string;
  let aliceToken: string;
  let adminToken: string;

  beforeAll(async () => {
    [idp, passthrough, keyed] = await Promise.all([
      TestOpenIdProvider.start({ resources: [RESOURCE], audienceMapper: AUDIENCE }),
      startStreamableServer('pass'),
      startStreamableServer('keyed'),
    ]);
    const file = writeConfigFile(
      'gw-identity-',
      JSON.stringify({
        binds: [
          {
            port: 0,
            listeners: [
              {
                routes: [
                  {
                    name: 'secured',
                    matches: [{ path: { exact: '/mcp' } }, { path: { pathPrefix: '/.well-known' } }],
                    policies: {
                      mcpAuthentication: {
                        issuer: idp.issuer,
                        jwks: { url: idp.jwksUrl },
                        audiences: [AUDIENCE],
                        resourceMetadata: { resource: RESOURCE },
                      },
                    },
                    backends: [
                      {
                        mcp: {
                          targets: [
                            { name: 'pass', mcp: { host: passthrough.url }, policies: { backendAuth: { passthrough: {} } } },
                            {
                              name: 'keyed',
                              mcp: { host: keyed.url },
                              policies: {
                                backendAuth: { key: { value: 'static-secret' } },
                                requestHeaderModifier: { set: [{ name: 'x-tenant', value: 'acme' }] },
                              },
                            },
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
    url = `${gateway.url}/mcp`;
    [aliceToken, adminToken] = await Promise.all([idp.userToken('alice', RESOURCE), idp.userToken('admin', RESOURCE)]);
  });

  afterAll(async () => {
    await gateway?.stop();
    await Promise.all([idp?.close(), passthrough?.close(), keyed?.close()]);
  });

  async function clientAs(token: string): Promise<Client> {
    return connectClient(url, new Client({ name: 'identity-test', version: '1.0.0' }), { authorization: `Bearer ${token}` });
  }

  test('passthrough forwards the caller’s token; other targets get their own credential, never the caller’s', async () => {
    const client = await clientAs(aliceToken);
    expect((await client.callTool({ name: 'pass_whoami', arguments: {} })).content).toEqual([{ type: 'text', text: 'pass' }]);
    expect((await client.callTool({ name: 'keyed_whoami', arguments: {} })).content).toEqual([{ type: 'text', text: 'keyed' }]);
    await client.close();
    expect(passthrough.authorizations.length).toBeGreaterThan(0);
    expect(new Set(passthrough.authorizations)).toEqual(new Set([`Bearer ${aliceToken}`]));
    expect(new Set(keyed.authorizations)).toEqual(new Set(['Bearer static-secret']));
    expect(keyed.headers.every((headers) => headers['x-tenant'] === 'acme')).toBe(true);
  });

  test('a session belongs to the subject that opened it: another user holding its id gets 404', async () => {
    const alice = await clientAs(aliceToken);
    const sessionId = (alice.transport as StreamableHTTPClientTransport).sessionId!;
    const body = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' });
    const headers = { 'mcp-session-id': sessionId, 'mcp-protocol-version': '2025-11-25' };
    expect((await post(url, body, { ...headers, authorization: `Bearer ${adminToken}` })).status).toBe(404);
    expect((await post(url, body, { ...headers, authorization: `Bearer ${aliceToken}` })).status).toBe(200);
    expect((await post(url, body, headers)).status).toBe(401);
    await alice.close();
  });
});
