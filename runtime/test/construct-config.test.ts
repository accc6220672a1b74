/**
 * Issue #4: "A newcomer can synthesize `secure-github`, and the same gateway config, run locally, enforces the
 * rules above." The constructs' rendered config is schema-checked at the root (test/mcp-auth-policy.test.ts) and
 * the runtime's enforcement is tested with hand-written configs (auth-e2e.test.ts); this test joins the two.
 *
 * It synthesizes the secure-github policy with the compiled construct library (`/work/main/lib`, built by
 * `npx projen compile` at the repository root), takes the gateway ConfigMap's `config.yaml`, runs the real
 * gateway process on it, and checks the article's rules against a real OpenID provider laid out like the
 * Keycloak realm (`TestOpenIdProvider`, realm `mcp`) with the SDK client's own OAuth sign-in:
 *   - `alice` lists only `get_me`, may call it, and gets exactly the unknown-tool error for `delete_repository`;
 *   - `admin` (realm role `admin`) lists and calls both;
 *   - without a token the route answers 401 with a challenge naming its protected-resource metadata.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server as HttpServer } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { decodeJwt } from 'jose';
import { parse as parseYaml, parseDocument } from 'yaml';
import { callOutcome } from './helpers/call-outcome.js';
import { GatewayProcess, INITIALIZE, RUNTIME_DIR, post } from './helpers/gateway.js';
import { freePort } from './helpers/ports.js';
import { TestOpenIdProvider } from './support/oidc-provider.js';
import { SignInAs } from './support/sign-in-as.js';

const ROOT = join(RUNTIME_DIR, '..');
const CONSTRUCT_LIBRARY = join(ROOT, 'lib', 'index.js');
const EXAMPLE = join(ROOT, 'examples', 'secure-github', 'main.ts');
const ROUTE_PATH = '/github/mcp';

/**
 * The upstream: a stateless Streamable HTTP MCP server (SDK `McpServer`) with the article's two GitHub tools,
 * standing in for github-mcp-server.
 */
async function startGithubServer(): Promise<{ url: string; close(): Promise<void> }> {
  const http: HttpServer = createServer(async (req: IncomingMessage, res) => {
    if (req.method !== 'POST') {
      res.writeHead(405).end();
      return;
    }
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const server = new McpServer({ name: 'github', version: '1.0.0' });
    server.registerTool('get_me', { description: 'Who am I' }, async () => ({ content: [{ type: 'text', text: 'octocat' }] }));
    server.registerTool('delete_repository', { description: 'Delete a repository' }, async () => ({ content: [{ type: 'text', text: 'deleted' }] }));
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
    res.on('close', () => {
      void transport.close();
      void server.close();
    });
    await server.connect(transport);
    await transport.handleRequest(req, res, JSON.parse(Buffer.concat(chunks).toString('utf8')));
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const { port } = http.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/mcp`,
    close: async () => {
      http.closeAllConnections();
      await new Promise((resolve) => http.close(resolve));
    },
  };
}

/**
 * The secure-github policy and gateway, built with the compiled construct library. Returns the synthesized
 * gateway ConfigMap's `config.yaml`, untouched.
 *
 * `examples/secure-github/main.ts` cannot be reused as is: it is TypeScript outside `lib/` (loading it would need
 * ts-node), its issuer is a `KeycloakRealm` deployed in the cluster (issuer `http://keycloak.<domain>/realms/mcp`
 * on port 80, JWKS at an in-cluster Service name), its target is the github-mcp-server container (a Service
 * URL), and its gateway URL comes from an Ingress host without a port. Its only parameter, `domain`, cannot
 * point any of those at 127.0.0.1 and random ports. So this mirrors its policy and route exactly: the same two
 * rules, the same route path and server name, a Keycloak issuer whose tokens carry the route URL as audience and
 * advertise `mcp:tools` (what `KeycloakRealm` with `mcpAudiences: [route URL]` tells the policy), with only the
 * issuer, target and gateway URLs local. The first test checks the example still has these rules.
 */
function synthesizeGatewayConfig(options: { issuer: string; targetUrl: string; port: number }): string {
  const requireFromRoot = createRequire(join(ROOT, 'package.json'));
  const { Chart, Testing } = requireFromRoot('cdk8s');
  const lib = requireFromRoot(CONSTRUCT_LIBRARY);
  const { AuthorizationRule, McpAuthPolicy, McpGateway, McpTarget, OidcIssuer, OidcProvider } = lib;

  const publicUrl = `http://127.0.0.1:${options.port}`;
  const routeUrl = `${publicUrl}${ROUTE_PATH}`;
  const app = Testing.app();
  const chart = new Chart(app, 'secure-github', { namespace: 'mcp' });
  const auth = new McpAuthPolicy(chart, 'github-auth', {
    // KeycloakRealm's issuer: Keycloak-style endpoints, `aud` = the route URL (its audience mapper), scope mcp:tools.
    issuer: OidcIssuer.fromUrl(options.issuer, { provider: OidcProvider.KEYCLOAK, tokenAudiences: [routeUrl], scopesSupported: ['mcp:tools'] }),
    rules: [
      AuthorizationRule.allowTool('get_me'),
      AuthorizationRule.allowToolsForRole('admin', ['delete_repository']),
    ],
  });
  const gateway = new McpGateway(chart, 'gateway', {
    // The example's Ingress host implies publicUrl `http://mcp.<domain>`; here clients use 127.0.0.1:<port>.
    publicUrl,
    port: options.port,
    routes: [{ path: ROUTE_PATH, targets: [McpTarget.fromUrl('github', options.targetUrl)], serverName: 'GitHub', policies: [auth] }],
  });
  const objects: Array<{ kind: string; metadata: { name: string }; data?: Record<string, string> }> = Testing.synth(chart);
  const configMap = objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name === gateway.configMap.name);
  if (!configMap?.data?.['config.yaml']) throw new Error(`no gateway ConfigMap with config.yaml among ${objects.map((o) => o.kind).join(', ')}`);
  return configMap.data['config.yaml'];
}

describe('the secure-github gateway config, synthesized by the constructs, run by the runtime', () => {
  let idp: TestOpenIdProvider | undefined;
  let github: { url: string; close(): Promise<void> } | undefined;
  let gateway: GatewayProcess | undefined;
  let workDir: string | undefined;
  let endpoint: string;
  let rendered: string;

  beforeAll(async () => {
    // Never skipped: without the compiled library this fails with what to run.
    if (!existsSync(CONSTRUCT_LIBRARY)) {
      throw new Error(`${CONSTRUCT_LIBRARY} does not exist: run \`npx projen compile\` at the repository root (${ROOT}) before the runtime tests.`);
    }
    const port = await freePort();
    endpoint = `http://127.0.0.1:${port}${ROUTE_PATH}`;
    // Like the example's KeycloakRealm: an audience mapper puts the route URL into every MCP token.
    idp = await TestOpenIdProvider.start({ realm: 'mcp', resources: [endpoint], audienceMapper: endpoint });
    github = await startGithubServer();
    rendered = synthesizeGatewayConfig({ issuer: idp.issuer, targetUrl: github.url, port });

    // What cannot be the same locally, and nothing else: the admin page and metrics listen on fixed ports in the
    // pod (rendered as 127.0.0.1:15000 and 0.0.0.0:15020); on a shared machine other
    // gateways (other tests, developers) may hold those, so both get a free port (0). The bind port is already
    // the free one, passed to McpGateway as `port`; every route, backend and policy is byte-for-byte as rendered.
    const document = parseDocument(rendered);
    document.setIn(['config', 'adminAddr'], '127.0.0.1:0');
    document.setIn(['config', 'statsAddr'], '127.0.0.1:0');
    const local = document.toString();
    const { config: localSettings, ...localRest } = parseYaml(local) as { config: Record<string, unknown> };
    const { config: renderedSettings, ...renderedRest } = parseYaml(rendered) as { config: Record<string, unknown> };
    expect(localRest).toEqual(renderedRest);
    expect(localSettings).toEqual({ ...renderedSettings, adminAddr: '127.0.0.1:0', statsAddr: '127.0.0.1:0' });

    workDir = mkdtempSync(join(tmpdir(), 'construct-config-'));
    const configFile = join(workDir, 'config.yaml');
    writeFileSync(configFile, local);
    gateway = await GatewayProcess.serving(configFile);
    expect(gateway.ports).toEqual([port]);
    const readyBy = Date.now() + 10_000;
    while (!(await fetch(`${gateway.url}/readyz`).then((r) => r.ok, () => false))) {
      if (Date.now() > readyBy) throw new Error(`gateway not ready; stderr: ${gateway.stderr}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }, 30_000);

  afterAll(async () => {
    await gateway?.stop();
    await github?.close();
    await idp?.close();
    if (workDir) rmSync(workDir, { recursive: true, force: true });
  });

  /** Signs `username` in with the SDK's OAuth flow through the gateway and returns a connected client. */
  async function signedInClient(username: string): Promise<{ client: Client; provider: SignInAs }> {
    const provider = new SignInAs(idp!, username, `construct-config ${username}`);
    const firstTry = new Client({ name: 'construct-config', version: '1.0.0' });
    const transport = new StreamableHTTPClientTransport(new URL(endpoint), { authProvider: provider });
    await expect(firstTry.connect(transport)).rejects.toThrow(/Unauthorized/);
    expect(provider.authorizationCode).toBeDefined();
    await transport.finishAuth(provider.authorizationCode!);
    const client = new Client({ name: 'construct-config', version: '1.0.0' });
    await client.connect(new StreamableHTTPClientTransport(new URL(endpoint), { authProvider: provider }));
    return { client, provider };
  }

  test('the mirrored policy is still the example\'s: the same route path and the same two rules', () => {
    const example = readFileSync(EXAMPLE, 'utf8').replace(/\s+/g, '');
    const hint = `examples/secure-github/main.ts changed; update synthesizeGatewayConfig in ${import.meta.url} to mirror it`;
    for (const fragment of [
      `constROUTE_PATH='${ROUTE_PATH}'`,
      "AuthorizationRule.allowTool('get_me')",
      "AuthorizationRule.allowToolsForRole('admin',['delete_repository'])",
    ]) {
      if (!example.includes(fragment)) throw new Error(`${hint}: it no longer contains ${fragment}`);
    }
    expect(parseYaml(rendered).binds[0].listeners[0].routes[0].policies.mcpAuthorization.rules).toEqual([
      'mcp.tool.name == "get_me"',
      '"admin" in jwt.realm_access.roles && mcp.tool.name == "delete_repository"',
    ]);
  });

  test('alice lists only get_me, may call it, and gets exactly the unknown-tool error for delete_repository', async () => {
    const { client, provider } = await signedInClient('alice');
    try {
      // The token is the realm's, for the route URL, and alice has no admin role.
      const claims = decodeJwt(provider.tokens()!.access_token) as { sub?: string; aud?: unknown; iss?: string; realm_access?: { roles: string[] } };
      expect(claims).toMatchObject({ sub: 'alice', aud: endpoint, iss: idp!.issuer });
      expect(claims.realm_access?.roles).not.toContain('admin');
      expect(client.getServerVersion()?.name).toBe('GitHub');

      const { tools } = await client.listTools();
      expect(tools.map((tool) => tool.name)).toEqual(['get_me']);
      expect(await client.callTool({ name: 'get_me', arguments: {} })).toMatchObject({ content: [{ type: 'text', text: 'octocat' }] });
      const denied = await callOutcome(client.callTool({ name: 'delete_repository', arguments: {} }), 'delete_repository');
      const unknown = await callOutcome(client.callTool({ name: 'no_such_tool', arguments: {} }), 'no_such_tool');
      expect(denied).toHaveProperty('error');
      expect(denied).toEqual(unknown);
    } finally {
      await client.close();
    }
  });

  test('admin (realm role admin) lists and calls both tools', async () => {
    const { client, provider } = await signedInClient('admin');
    try {
      expect(decodeJwt(provider.tokens()!.access_token)).toMatchObject({
        sub: 'admin',
        aud: endpoint,
        realm_access: { roles: expect.arrayContaining(['admin']) },
      });
      const { tools } = await client.listTools();
      expect(tools.map((tool) => tool.name).sort()).toEqual(['delete_repository', 'get_me']);
      expect(await client.callTool({ name: 'get_me', arguments: {} })).toMatchObject({ content: [{ type: 'text', text: 'octocat' }] });
      expect(await client.callTool({ name: 'delete_repository', arguments: {} })).toMatchObject({ content: [{ type: 'text', text: 'deleted' }] });
    } finally {
      await client.close();
    }
  });

  test('without a token: 401 with a challenge naming the route\'s protected-resource metadata, served for the route URL', async () => {
    const anonymous = await post(endpoint, INITIALIZE);
    expect(anonymous.status).toBe(401);
    await anonymous.text();
    const metadataUrl = `${new URL(endpoint).origin}/.well-known/oauth-protected-resource${ROUTE_PATH}`;
    expect(anonymous.headers.get('www-authenticate')).toBe(`Bearer resource_metadata="${metadataUrl}", scope="mcp:tools"`);
    const metadata = await fetch(metadataUrl);
    expect(metadata.status).toBe(200);
    expect(await metadata.json()).toMatchObject({ resource: endpoint, scopes_supported: ['mcp:tools'], bearer_methods_supported: ['header'] });
  });
});
