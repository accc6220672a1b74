/**
 * Per-user credentials for HTTP targets: RFC 8693 token exchange at the sign-in realm (answering the way
 * Keycloak 26's standard token exchange does), injected as a header on every upstream request; the user's
 * own token never reaches the upstream. Also CEL's `connections`, which hides a target's tools from users
 * who have not connected its provider. Memory store: the database is covered by credentials.test.ts.
 */
import { randomBytes } from 'node:crypto';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { decodeJwt } from 'jose';
import { writeConfigFile } from './helpers/config-file.js';
import { connectClient, GatewayProcess, post } from './helpers/gateway.js';
import { freePort } from './helpers/ports.js';
import { startStreamableServer, type TestUpstream } from './helpers/upstreams.js';
import { TestOpenIdProvider } from './support/oidc-provider.js';

const AUDIENCE = 'mcp_proxy';
const EXCHANGE = { clientId: AUDIENCE, clientSecret: 'exchange-secret', audiences: ['internal-api'] };

describe('token exchange and header injection for HTTP targets', () => {
  let idp: TestOpenIdProvider;
  let internal: TestUpstream;
  let named: TestUpstream;
  let github: TestUpstream;
  let gateway: GatewayProcess;
  let endpoint: string;
  const clients: Client[] = [];

  beforeAll(async () => {
    const port = await freePort();
    endpoint = `http://127.0.0.1:${port}/mcp`;
    idp = await TestOpenIdProvider.start({
      resources: [endpoint],
      audienceMapper: AUDIENCE,
      users: { alice: { password: 'alice', realmRoles: ['user'] } },
      tokenExchange: EXCHANGE,
    });
    [internal, named, github] = await Promise.all(['internal', 'named', 'github'].map((label) => startStreamableServer(label)));
    const config = {
      config: {
        adminAddr: '127.0.0.1:0',
        statsAddr: '127.0.0.1:0',
        credentials: {
          store: { memory: {} },
          encryptionKey: { value: randomBytes(32).toString('base64') },
          providers: {
            // No tokenUrl: found through the realm's discovery document.
            internal: { tokenExchange: { clientId: EXCHANGE.clientId, clientSecret: { env: 'EXCHANGE_SECRET' }, audience: 'internal-api' } },
            github: {
              oauth2: { authorizationUrl: 'https://github.invalid/login/oauth/authorize', tokenUrl: 'https://github.invalid/token', clientId: 'x' },
            },
          },
          browserSignIn: { clientId: 'mcp-gateway-connect' },
        },
      },
      binds: [
        {
          port,
          listeners: [
            {
              routes: [
                {
                  name: 'internal',
                  matches: [{ path: { pathPrefix: '/mcp' } }],
                  backends: [
                    {
                      mcp: {
                        targets: [
                          {
                            name: 'internal',
                            mcp: { host: internal.url },
                            credential: { provider: 'internal', inject: { header: 'Authorization' } },
                          },
                          {
                            name: 'named',
                            mcp: { host: named.url },
                            credential: { provider: 'internal', inject: { header: 'X-Api-Token', prefix: 'token ' } },
                          },
                          { name: 'gh', mcp: { host: github.url }, credential: { provider: 'github', inject: { header: 'Authorization' } } },
                        ],
                      },
                    },
                  ],
                  policies: {
                    mcpAuthentication: { issuer: idp.issuer, jwksUrl: idp.jwksUrl, audience: AUDIENCE, provider: { keycloak: {} } },
                    // Tools of a provider the caller has not connected are hidden, so the model does not pick them.
                    mcpAuthorization: { rules: [{ deny: 'mcp.tool.target == "gh" && !connections.github' }] },
                  },
                },
              ],
            },
          ],
        },
      ],
    };
    const file = writeConfigFile('credentials-exchange-', JSON.stringify(config));
    gateway = await GatewayProcess.serving(file, { EXCHANGE_SECRET: EXCHANGE.clientSecret });
  });

  afterAll(async () => {
    await Promise.all(clients.map((client) => client.close().catch(() => undefined)));
    await gateway?.stop();
    await Promise.all([idp?.close(), internal?.close(), named?.close(), github?.close()]);
  });

  async function signedIn(): Promise<{ client: Client; token: string }> {
    const token = await idp.userToken('alice', endpoint);
    const client = await connectClient(endpoint, new Client({ name: 'exchange-test', version: '1.0.0' }), { authorization: `Bearer ${token}` });
    clients.push(client);
    return { client, token };
  }

  test('each upstream request carries an exchanged token for the upstream\'s audience, never the user\'s own', async () => {
    const before = idp.tokenExchanges;
    const { client, token } = await signedIn();
    const first = (await client.callTool({ name: 'internal_whoami', arguments: {} })) as { content: Array<{ text: string }> };
    expect(first.content[0].text).toBe('internal');
    await client.callTool({ name: 'named_whoami', arguments: {} });
    await client.callTool({ name: 'internal_whoami', arguments: {} });
    // One exchange (at initialize, for both targets) serves the user until shortly before it expires.
    expect(idp.tokenExchanges - before).toBe(1);
    const sent = internal.authorizations.filter((value): value is string => value !== undefined);
    expect(sent.length).toBeGreaterThan(0);
    for (const header of sent) {
      expect(header).not.toContain(token);
      const claims = decodeJwt(header.replace(/^Bearer /, ''));
      expect(claims).toMatchObject({ sub: 'alice', aud: 'internal-api', azp: EXCHANGE.clientId, iss: idp.issuer });
    }
    const namedHeaders = named.headers.map((headers) => headers['x-api-token']).filter((value): value is string => typeof value === 'string');
    expect(namedHeaders.length).toBeGreaterThan(0);
    for (const value of namedHeaders) expect(value).toMatch(/^token ey/);
    for (const headers of [...internal.headers, ...named.headers, ...github.headers]) {
      expect(JSON.stringify(headers)).not.toContain(token);
    }
  });

  test('a 2026-07-28 client\'s call, bridged to the session-era upstream, carries the exchanged token too (discovery probe included)', async () => {
    const token = await idp.userToken('alice', endpoint);
    const before = internal.authorizations.length;
    const _meta = {
      'io.modelcontextprotocol/protocolVersion': '2026-07-28',
      'io.modelcontextprotocol/clientCapabilities': {},
      'io.modelcontextprotocol/clientInfo': { name: 'modern-raw', version: '1' },
    };
    const body = { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'internal_whoami', arguments: {}, _meta } };
    const response = await post(endpoint, JSON.stringify(body), {
      'authorization': `Bearer ${token}`,
      'mcp-protocol-version': '2026-07-28',
      'mcp-method': 'tools/call',
      'mcp-name': 'internal_whoami',
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ id: 1, result: { content: [{ text: 'internal' }] } });
    const sent = internal.authorizations.slice(before);
    expect(sent.length).toBeGreaterThan(0);
    for (const header of sent) {
      expect(header).toBeDefined();
      expect(header).not.toContain(token);
      expect(decodeJwt(header!.replace(/^Bearer /, ''))).toMatchObject({ sub: 'alice', aud: 'internal-api' });
    }
  });

  test('CEL `connections`: the tools of a provider alice has not connected are hidden, a call to them is refused as unknown', async () => {
    const { client } = await signedIn();
    const names = (await client.listTools()).tools.map((tool) => tool.name);
    expect(names).toContain('internal_whoami');
    expect(names.some((name) => name.startsWith('gh_'))).toBe(false);
    await expect(client.callTool({ name: 'gh_whoami', arguments: {} })).rejects.toThrow(/Unknown tool|not found/i);
  });
});
