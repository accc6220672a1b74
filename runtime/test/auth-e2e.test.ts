/**
 * OAuth sign-in and CEL authorization end to end: the real gateway process (`mcp-gateway --config`) in front
 * of a stdio MCP server, the in-test Keycloak-like realm, and the SDK client's own OAuth support running
 * 401 → protected resource metadata → authorization server metadata → DCR through the gateway's proxy →
 * authorization code with PKCE → token → MCP. Then the seed article's scenario: everyone may call `get_me`,
 * only `admin` may call `delete_repository`, and a denied tool looks exactly like an unknown one.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { decodeJwt } from 'jose';
import { callOutcome } from './helpers/call-outcome.js';
import { FIXTURES } from './helpers/gateway.js';
import { freePort } from './helpers/ports.js';
import { TestOpenIdProvider } from './support/oidc-provider.js';
import { SignInAs } from './support/sign-in-as.js';

// ts-jest runs this file as ESM without __dirname; jest's rootDir (the cwd) is the runtime package.
const RUNTIME = process.cwd();
const GATEWAY_CLI = join(RUNTIME, 'lib', 'cli.js');
const ROUTE_PATH = '/github/mcp';
const AUDIENCE = 'mcp_proxy';


describe('MCP OAuth through the gateway (Keycloak-style realm)', () => {
  let idp: TestOpenIdProvider;
  let gateway: ChildProcess;
  let gatewayOutput = '';
  let workDir: string;
  let endpoint: string;

  beforeAll(async () => {
    workDir = mkdtempSync(join(tmpdir(), 'auth-e2e-'));
    const [port, adminPort, statsPort] = [await freePort(), await freePort(), await freePort()];
    endpoint = `http://127.0.0.1:${port}${ROUTE_PATH}`;
    // As in the article: Keycloak's audience mapper sets `aud: mcp_proxy`, not the resource URL.
    idp = await TestOpenIdProvider.start({ resources: [endpoint], audienceMapper: AUDIENCE });
    // The upstream: a stdio MCP server with the article's two GitHub tools.
    const serverScript = join(FIXTURES, 'github-server.mjs');
    const config = {
      config: { adminAddr: `127.0.0.1:${adminPort}`, statsAddr: `127.0.0.1:${statsPort}` },
      binds: [
        {
          port,
          listeners: [
            {
              routes: [
                {
                  name: 'mcp-github',
                  // The article's matches: the MCP endpoint and exactly the OAuth documents the client needs.
                  matches: [
                    { path: { exact: ROUTE_PATH } },
                    { path: { exact: `/.well-known/oauth-protected-resource${ROUTE_PATH}` } },
                    { path: { exact: `/.well-known/oauth-authorization-server${ROUTE_PATH}` } },
                    { path: { exact: `/.well-known/oauth-authorization-server${ROUTE_PATH}/client-registration` } },
                  ],
                  backends: [
                    { mcp: { prefixMode: 'conditional', targets: [{ name: 'github', stdio: { cmd: process.execPath, args: [serverScript] } }] } },
                  ],
                  policies: {
                    cors: { allowOrigins: ['*'], allowHeaders: ['*'] },
                    mcpAuthentication: {
                      issuer: idp.issuer,
                      jwksUrl: idp.jwksUrl,
                      audience: AUDIENCE,
                      provider: { keycloak: {} },
                      resourceMetadata: { resource: endpoint, scopesSupported: ['mcp:tools'], bearerMethodsSupported: ['header'] },
                    },
                    mcpAuthorization: {
                      rules: ['mcp.tool.name == "get_me"', 'jwt.sub == "admin" && mcp.tool.name == "delete_repository"'],
                    },
                  },
                },
              ],
            },
          ],
        },
      ],
    };
    const configFile = join(workDir, 'config.yaml');
    writeFileSync(configFile, JSON.stringify(config, null, 2));
    gateway = spawn(process.execPath, [GATEWAY_CLI, '--config', configFile], { cwd: RUNTIME, stdio: ['ignore', 'pipe', 'pipe'] });
    gateway.stdout!.on('data', (chunk) => (gatewayOutput += chunk));
    gateway.stderr!.on('data', (chunk) => (gatewayOutput += chunk));
    const readyBy = Date.now() + 30_000;
    for (;;) {
      if (gateway.exitCode !== null) throw new Error(`gateway exited with ${gateway.exitCode}:\n${gatewayOutput}`);
      const ready = await fetch(`http://127.0.0.1:${port}/readyz`).then((r) => r.ok, () => false);
      if (ready) break;
      if (Date.now() > readyBy) throw new Error(`gateway not ready:\n${gatewayOutput}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  });

  afterAll(async () => {
    if (gateway && gateway.exitCode === null) {
      const exited = new Promise((resolve) => gateway.once('exit', resolve));
      gateway.kill('SIGTERM');
      await exited;
    }
    await idp?.close();
    if (workDir) rmSync(workDir, { recursive: true, force: true });
  });

  /** Signs `username` in with the SDK's OAuth flow and returns a connected client plus every URL the client fetched. */
  async function signedInClient(username: string): Promise<{ client: Client; fetched: string[]; provider: SignInAs }> {
    const provider = new SignInAs(idp, username, `e2e ${username}`);
    const fetched: string[] = [];
    const recordingFetch: typeof fetch = (input, init) => {
      fetched.push(`${init?.method ?? 'GET'} ${input instanceof Request ? input.url : String(input)}`);
      return fetch(input, init);
    };
    const firstTry = new Client({ name: 'e2e', version: '1.0.0' });
    const transport = new StreamableHTTPClientTransport(new URL(endpoint), { authProvider: provider, fetch: recordingFetch });
    await expect(firstTry.connect(transport)).rejects.toThrow(/Unauthorized/);
    expect(provider.authorizationCode).toBeDefined();
    await transport.finishAuth(provider.authorizationCode!);
    const client = new Client({ name: 'e2e', version: '1.0.0' });
    await client.connect(new StreamableHTTPClientTransport(new URL(endpoint), { authProvider: provider, fetch: recordingFetch }));
    return { client, fetched, provider };
  }

  test('the SDK client signs in: PRM from the gateway names the realm, whose own metadata, DCR, code + PKCE it uses', async () => {
    const { client, fetched, provider } = await signedInClient('alice');
    try {
      const base = new URL(endpoint).origin;
      expect(fetched).toEqual(
        expect.arrayContaining([
          `POST ${endpoint}`,
          `GET ${base}/.well-known/oauth-protected-resource${ROUTE_PATH}`,
          // The realm has no RFC 8414 path-inserted document (Keycloak < 26.4): the client falls back to OIDC discovery.
          `GET ${idp.issuer}/.well-known/openid-configuration`,
          `POST ${idp.registrationUrl}`,
          `POST ${idp.tokenUrl}`,
        ]),
      );
      const claims = decodeJwt(provider.tokens()!.access_token);
      expect(claims).toMatchObject({ sub: 'alice', aud: AUDIENCE, iss: idp.issuer });
    } finally {
      await client.close();
    }
  });

  test('a normal user lists only get_me, may call it, and gets the unknown-tool error for delete_repository', async () => {
    const { client } = await signedInClient('alice');
    try {
      const { tools } = await client.listTools();
      expect(tools.map((tool) => tool.name)).toEqual(['get_me']);
      expect(await client.callTool({ name: 'get_me', arguments: {} })).toMatchObject({ content: [{ type: 'text', text: 'octocat' }] });
      const denied = await callOutcome(client.callTool({ name: 'delete_repository', arguments: {} }), 'delete_repository');
      const unknown = await callOutcome(client.callTool({ name: 'no_such_tool', arguments: {} }), 'no_such_tool');
      // Exactly what a tool that does not exist gets (apart from the name): nothing reveals that it exists.
      expect(denied).toEqual(unknown);
      expect(denied).toHaveProperty('error');
    } finally {
      await client.close();
    }
  });

  test('the admin lists and calls delete_repository', async () => {
    const { client } = await signedInClient('admin');
    try {
      const { tools } = await client.listTools();
      expect(tools.map((tool) => tool.name).sort()).toEqual(['delete_repository', 'get_me']);
      expect(await client.callTool({ name: 'delete_repository', arguments: {} })).toMatchObject({ content: [{ type: 'text', text: 'deleted' }] });
    } finally {
      await client.close();
    }
  });

  test('without a token, or with a token from another realm, the gateway answers 401 with the challenge', async () => {
    const initialize = {
      jsonrpc: '2.0',
      id: 1,
      method: 'initialize',
      params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '1' } },
    };
    const post = (headers: Record<string, string>) =>
      fetch(endpoint, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'accept': 'application/json, text/event-stream', ...headers },
        body: JSON.stringify(initialize),
      });
    const anonymous = await post({});
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('www-authenticate')).toBe(
      `Bearer resource_metadata="${new URL(endpoint).origin}/.well-known/oauth-protected-resource${ROUTE_PATH}", scope="mcp:tools"`,
    );
    const otherRealm = await TestOpenIdProvider.start({ realm: 'other', resources: [endpoint], audienceMapper: 'other_audience' });
    let foreign: Response;
    try {
      foreign = await post({ authorization: `Bearer ${await otherRealm.clientCredentialsToken(endpoint)}` });
    } finally {
      await otherRealm.close();
    }
    expect(foreign.status).toBe(401);
    expect(foreign.headers.get('www-authenticate')).toContain('error="invalid_token"');
  });
});
