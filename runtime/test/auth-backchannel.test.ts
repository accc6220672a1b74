/**
 * The gateway in a cluster: it reaches the realm only by its back-channel address (Keycloak's in-cluster
 * Service) while tokens and clients name the public issuer, here an address where nothing listens. Then
 * what a route demands of a token beyond the signature: the audience is this resource when no fixed
 * audience is configured (RFC 8707), and a tool's own scopes, or 403 `insufficient_scope` (step-up).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { decodeJwt } from 'jose';
import { FIXTURES, GatewayProcess } from './helpers/gateway.js';
import { freePort } from './helpers/ports.js';
import { TestOpenIdProvider } from './support/oidc-provider.js';

const ROUTE_PATH = '/github/mcp';

let idp: TestOpenIdProvider;
let gateway: GatewayProcess;
let workDir: string;
let base: string;
let endpoint: string;
let otherEndpoint: string;

beforeAll(async () => {
  workDir = mkdtempSync(join(tmpdir(), 'auth-backchannel-'));
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  endpoint = `${base}${ROUTE_PATH}`;
  otherEndpoint = `${base}/gitlab/mcp`;
  // The realm listens on 127.0.0.1 only; its public name is 127.0.0.2, which the gateway cannot reach.
  idp = await TestOpenIdProvider.start({ resources: [endpoint, otherEndpoint], resourceScope: 'mcp:tools repo:delete', publicOrigin: `http://127.0.0.2:${await freePort()}` });
  const config = {
    binds: [
      {
        port,
        listeners: [
          {
            routes: [
              {
                name: 'github',
                matches: [
                  { path: { exact: ROUTE_PATH } },
                  { path: { pathPrefix: '/.well-known/' } },
                  { path: { exact: '/realms/mcp/clients-registrations/openid-connect' } },
                ],
                backends: [{ mcp: { targets: [{ name: 'github', stdio: { cmd: process.execPath, args: [join(FIXTURES, 'github-server.mjs')] } }] } }],
                policies: {
                  // As in the seed article: browser clients (the Inspector's web UI) may call from any origin.
                  cors: { allowOrigins: ['*'], allowHeaders: ['*'] },
                  mcpAuthentication: {
                    issuer: idp.issuer,
                    backchannelUrl: idp.listeningIssuer,
                    provider: { keycloak: {} },
                    // No audiences: the token must be for this resource (RFC 8707).
                    resourceMetadata: { resource: endpoint, scopesSupported: ['mcp:tools'] },
                    toolScopes: { delete_repository: ['repo:delete'] },
                  },
                },
              },
            ],
          },
        ],
      },
    ],
  };
  const configFile = join(workDir, 'config.json');
  writeFileSync(configFile, JSON.stringify(config));
  gateway = await GatewayProcess.serving(configFile);
});

afterAll(async () => {
  await gateway?.stop();
  await idp?.close();
  rmSync(workDir, { recursive: true, force: true });
});

async function connect(token: string): Promise<{ client: Client; transport: StreamableHTTPClientTransport }> {
  const transport = new StreamableHTTPClientTransport(new URL(endpoint), { requestInit: { headers: { authorization: `Bearer ${token}` } } });
  const client = new Client({ name: 'backchannel-test', version: '1.0.0' });
  await client.connect(transport);
  return { client, transport };
}

function toolsCall(sessionId: string, token: string, name: string): Promise<Response> {
  return fetch(endpoint, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'accept': 'application/json, text/event-stream',
      'mcp-session-id': sessionId,
      'mcp-protocol-version': '2025-11-25',
      'authorization': `Bearer ${token}`,
    },
    body: JSON.stringify({ jsonrpc: '2.0', id: 7, method: 'tools/call', params: { name, arguments: {} } }),
  });
}

describe('back-channel', () => {
  test('the public issuer is unreachable from here: the setup is what the test says it is', async () => {
    await expect(fetch(`${idp.issuer}/.well-known/openid-configuration`)).rejects.toThrow();
  });

  test('tokens naming the public issuer are validated with keys fetched over the back-channel', async () => {
    const before = idp.jwksRequests;
    const token = await idp.clientCredentialsToken(endpoint, 'mcp:tools');
    expect(decodeJwt(token).iss).toBe(idp.issuer);
    const { client } = await connect(token);
    try {
      expect((await client.listTools()).tools.map((tool) => tool.name).sort()).toEqual(['delete_repository', 'get_me']);
    } finally {
      await client.close();
    }
    expect(idp.jwksRequests).toBeGreaterThan(before);
  });

  test('clients are sent to the public issuer; documents fetched over the back-channel name only public URLs', async () => {
    const prm = (await (await fetch(`${base}/.well-known/oauth-protected-resource${ROUTE_PATH}`)).json()) as Record<string, unknown>;
    expect(prm.authorization_servers).toEqual([idp.issuer]);
    for (const path of [`/.well-known/oauth-authorization-server${ROUTE_PATH}`, '/.well-known/oauth-authorization-server/realms/mcp']) {
      const response = await fetch(`${base}${path}`);
      expect(response.status).toBe(200);
      const text = await response.text();
      expect(text).not.toContain(idp.listeningIssuer);
      expect(text).toContain(`${idp.issuer}/protocol/openid-connect/token`);
    }
    // Keycloak's own RFC 8414 document (served for versions before 26.4) keeps Keycloak's issuer.
    const issuerMetadata = (await (await fetch(`${base}/.well-known/oauth-authorization-server/realms/mcp`)).json()) as Record<string, unknown>;
    expect(issuerMetadata).toMatchObject({ issuer: idp.issuer, authorization_response_iss_parameter_supported: true });
  });

  test('client registration goes over the back-channel, answered with CORS, both on the gateway path and on Keycloak’s own', async () => {
    for (const path of [
      `/.well-known/oauth-authorization-server${ROUTE_PATH}/client-registration`,
      '/realms/mcp/clients-registrations/openid-connect',
    ]) {
      const response = await fetch(`${base}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'origin': 'http://inspector.test' },
        body: JSON.stringify({
          client_name: 'backchannel',
          redirect_uris: ['http://127.0.0.1:33418/callback'],
          token_endpoint_auth_method: 'none',
          grant_types: ['authorization_code'],
          response_types: ['code'],
        }),
      });
      expect(response.status).toBe(201);
      expect(response.headers.get('access-control-allow-origin')).toBe('*');
      const text = await response.text();
      expect(JSON.parse(text)).toMatchObject({ client_name: 'backchannel' });
      expect(text).not.toContain(idp.listeningIssuer);
    }
  });
});

describe('what a token must carry', () => {
  test('RFC 8707: without a fixed audience, a token for another resource of the same realm is refused', async () => {
    const foreign = await idp.clientCredentialsToken(otherEndpoint, 'mcp:tools');
    const response = await fetch(endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'accept': 'application/json, text/event-stream', 'authorization': `Bearer ${foreign}` },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' }),
    });
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toContain('error="invalid_token"');
    expect(((await response.json()) as { error_description: string }).error_description).toBe('token aud claim rejected: unexpected value');
  });

  test('a tool’s scopes: without them 403 insufficient_scope naming them (step-up); other tools still work', async () => {
    const token = await idp.clientCredentialsToken(endpoint, 'mcp:tools');
    const { client, transport } = await connect(token);
    try {
      expect(await client.callTool({ name: 'get_me', arguments: {} })).toMatchObject({ content: [{ text: 'octocat' }] });
      const refused = await toolsCall(transport.sessionId!, token, 'delete_repository');
      expect(refused.status).toBe(403);
      expect(refused.headers.get('www-authenticate')).toBe(
        `Bearer resource_metadata="${base}/.well-known/oauth-protected-resource${ROUTE_PATH}", scope="mcp:tools repo:delete", `
          + 'error="insufficient_scope", error_description="token lacks scope repo:delete"',
      );
      expect(await refused.json()).toEqual({ error: 'insufficient_scope', error_description: 'token lacks scope repo:delete' });
    } finally {
      await client.close();
    }
  });

  test('a token with the tool’s scope calls it', async () => {
    const token = await idp.clientCredentialsToken(endpoint, 'mcp:tools repo:delete');
    const { client } = await connect(token);
    try {
      expect(await client.callTool({ name: 'delete_repository', arguments: {} })).toMatchObject({ content: [{ text: 'deleted' }] });
    } finally {
      await client.close();
    }
  });
});
