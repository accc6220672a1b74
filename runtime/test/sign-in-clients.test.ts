/**
 * Sign-in with the MCP clients people use, through the gateway, with the seed article's configuration
 * (`provider: keycloak`, audience `mcp_proxy`, the article's CEL rules) in front of a GitHub-like stdio server.
 *
 * The realm is a real OpenID provider laid out like a Keycloak realm; it sends RFC 9207 `iss` and
 * `authorization_response_iss_parameter_supported: true`, so a client that checks `iss` against the
 * authorization server metadata fails unless that metadata is the realm's own. Two layouts:
 *
 * - direct: the realm serves everything itself (Keycloak ≥ 26.5 as far as MCP clients care).
 * - cluster: the realm's public host is a proxy (the cluster's Gateway/Ingress) that routes Keycloak's
 *   RFC 8414 metadata path and its client-registration path to the MCP gateway, as needed for Keycloak
 *   versions that lack them or send no CORS on registration; the gateway itself reaches the realm only
 *   by its back-channel address.
 *
 * Clients: `mcp-remote` driven over stdio by the SDK client (as Claude Desktop runs it), and the Inspector
 * CLI (`mcp-inspector --cli`). Each prints the authorization URL; headless Chromium signs the user in and
 * follows the redirect to the client's loopback callback (dynamic client registration, PKCE S256).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { FIXTURES, GatewayProcess, RUNTIME_DIR } from './helpers/gateway.js';
import { freePort } from './helpers/ports.js';
import { describeIf, file } from './helpers/requirements.js';
import { browserLogin, CHROMIUM } from './support/browser-login.js';
import { startFrontProxy, type FrontProxy } from './support/front-proxy.js';
import { TestOpenIdProvider } from './support/oidc-provider.js';

const ROUTE_PATH = '/github/mcp';
const AUDIENCE = 'mcp_proxy';
const MCP_REMOTE = join(RUNTIME_DIR, 'node_modules', 'mcp-remote', 'dist', 'proxy.js');
const INSPECTOR = join(RUNTIME_DIR, 'node_modules', '@modelcontextprotocol', 'inspector', 'clients', 'launcher', 'build', 'index.js');
/** Generous: on a busy machine one sign-in (Chromium start, DCR, login, code exchange) can take a minute. */
const SIGN_IN_TIMEOUT_MS = 150_000;

/** The seed article's route, with the matches a cluster adds when Keycloak's own paths are routed to the gateway. */
function seedConfig(options: { port: number; endpoint: string; issuer: string; backchannelUrl?: string; issuerHostPaths: boolean }): string {
  const matches = [
    { path: { exact: ROUTE_PATH } },
    { path: { exact: `/.well-known/oauth-protected-resource${ROUTE_PATH}` } },
    { path: { exact: `/.well-known/oauth-authorization-server${ROUTE_PATH}` } },
    { path: { exact: `/.well-known/oauth-authorization-server${ROUTE_PATH}/client-registration` } },
    ...(options.issuerHostPaths
      ? [
        { path: { exact: '/.well-known/oauth-authorization-server/realms/mcp' } },
        { path: { exact: '/realms/mcp/clients-registrations/openid-connect' } },
      ]
      : []),
  ];
  return JSON.stringify({
    config: { adminAddr: '127.0.0.1:0', statsAddr: '127.0.0.1:0' },
    binds: [
      {
        port: options.port,
        listeners: [
          {
            routes: [
              {
                name: 'mcp-github',
                matches,
                backends: [{ mcp: { targets: [{ name: 'github', stdio: { cmd: process.execPath, args: [join(FIXTURES, 'github-server.mjs')] } }] } }],
                policies: {
                  cors: { allowOrigins: ['*'], allowHeaders: ['*'] },
                  mcpAuthentication: {
                    issuer: options.issuer,
                    ...(options.backchannelUrl
                      ? { backchannelUrl: options.backchannelUrl }
                      : { jwksUrl: `${options.issuer}/protocol/openid-connect/certs` }),
                    audience: AUDIENCE,
                    provider: { keycloak: {} },
                    resourceMetadata: { resource: options.endpoint, scopesSupported: ['mcp:tools'], bearerMethodsSupported: ['header'] },
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
  });
}

interface Deployment {
  readonly endpoint: string;
  readonly idp: TestOpenIdProvider;
  readonly front?: FrontProxy;
  readonly gateway: GatewayProcess;
  readonly workDir: string;
}

async function deploy(layout: 'direct' | 'cluster'): Promise<Deployment> {
  const workDir = mkdtempSync(join(tmpdir(), `sign-in-${layout}-`));
  const port = await freePort();
  const endpoint = `http://127.0.0.1:${port}${ROUTE_PATH}`;
  let idp: TestOpenIdProvider | undefined;
  let front: FrontProxy | undefined;
  if (layout === 'cluster') {
    const gatewayOrigin = `http://127.0.0.1:${port}`;
    const toGateway = new Set(['/.well-known/oauth-authorization-server/realms/mcp', '/realms/mcp/clients-registrations/openid-connect']);
    front = await startFrontProxy((path) => (toGateway.has(path) ? gatewayOrigin : new URL(idp!.listeningIssuer).origin), () => gatewayOrigin);
  }
  idp = await TestOpenIdProvider.start({ resources: [endpoint], audienceMapper: AUDIENCE, publicOrigin: front?.origin });
  const configFile = join(workDir, 'config.json');
  writeFileSync(
    configFile,
    seedConfig({
      port,
      endpoint,
      issuer: idp.issuer,
      backchannelUrl: front ? idp.listeningIssuer : undefined,
      issuerHostPaths: layout === 'cluster',
    }),
  );
  const gateway = await GatewayProcess.serving(configFile);
  return { endpoint, idp, front, gateway, workDir };
}

async function undeploy(deployment: Deployment | undefined): Promise<void> {
  if (!deployment) return;
  await deployment.gateway.stop();
  await deployment.front?.close();
  await deployment.idp.close();
  rmSync(deployment.workDir, { recursive: true, force: true });
}

/** Watches a client's output for the authorization URL it asks the user to open, and signs `username` in there. */
function signInWhenAsked(username: string): { feed: (chunk: string) => void; done: Promise<URL>; output: () => string } {
  let output = '';
  let resolveUrl!: (url: string) => void;
  const asked = new Promise<string>((resolve) => (resolveUrl = resolve));
  let seen = false;
  return {
    feed: (chunk) => {
      output += chunk;
      const match = /(https?:\/\/\S+\/protocol\/openid-connect\/auth\?\S+)/.exec(output.replace(/\x1b\[[0-9;]*m|\x1b\]8;;[^\x07]*\x07/g, ''));
      if (match && !seen) {
        seen = true;
        resolveUrl(match[1]);
      }
    },
    done: asked.then((url) => browserLogin(url, username)),
    output: () => output,
  };
}

/** mcp-remote as Claude Desktop runs it: a stdio child the MCP client talks to, signing in on first connect. */
async function throughMcpRemote(
  deployment: Deployment,
  username: string,
): Promise<{ tools: string[]; call: (name: string) => Promise<unknown>; close: () => Promise<void> }> {
  const configDir = mkdtempSync(join(deployment.workDir, 'mcp-remote-'));
  const callbackPort = await freePort();
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [MCP_REMOTE, deployment.endpoint, String(callbackPort), '--host', '127.0.0.1', '--allow-http'],
    // BROWSER=true: mcp-remote's own attempt to open a browser does nothing; the test's Chromium does the login.
    env: { ...(process.env as Record<string, string>), MCP_REMOTE_CONFIG_DIR: configDir, BROWSER: 'true' },
    stderr: 'pipe',
  });
  const login = signInWhenAsked(username);
  transport.stderr!.on('data', (chunk: Buffer) => login.feed(chunk.toString('utf8')));
  const client = new Client({ name: 'claude-desktop-like', version: '1.0.0' });
  try {
    // initialize waits in mcp-remote until the sign-in is done: give it the sign-in's time, not the default minute.
    await Promise.all([client.connect(transport, { timeout: SIGN_IN_TIMEOUT_MS }), login.done]);
  } catch (error) {
    await transport.close();
    throw new Error(`mcp-remote sign-in failed: ${(error as Error).message}\n${login.output()}\n${deployment.gateway.stderr}`);
  }
  const { tools } = await client.listTools();
  return {
    tools: tools.map((tool) => tool.name).sort(),
    call: (name) => client.callTool({ name, arguments: {} }),
    close: () => client.close(),
  };
}

/** One Inspector CLI run (`mcp-inspector --cli <url> --method ...`); signs `username` in when it asks. */
async function inspectorCli(
  deployment: Deployment,
  home: string,
  callbackPort: number,
  username: string,
  args: string[],
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(
    process.execPath,
    [INSPECTOR, '--cli', deployment.endpoint, '--transport', 'http', '--callback-url', `http://127.0.0.1:${callbackPort}/oauth/callback`, ...args],
    // Its open-browser hook (xdg-open → $BROWSER) does nothing; the test's Chromium opens the printed URL.
    { env: { ...process.env, HOME: home, MCP_AUTO_OPEN_ENABLED: 'true', BROWSER: 'true', NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stdout = '';
  const login = signInWhenAsked(username);
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => login.feed(chunk.toString('utf8')));
  const signedIn = login.done.then(
    () => true,
    (error: Error) => {
      child.kill();
      throw error;
    },
  );
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  // A run that found stored tokens never asks; one that asked must have finished the login.
  if (/openid-connect\/auth/.test(login.output())) await signedIn;
  return { code, stdout, stderr: login.output() };
}

function succeeded(run: { code: number | null; stdout: string; stderr: string }): void {
  if (run.code !== 0) throw new Error(`inspector exited with ${run.code}:\n${run.stderr}\n${run.stdout}`);
}

function toolNames(stdout: string): string[] {
  const parsed = JSON.parse(stdout) as { tools: Array<{ name: string }> };
  return parsed.tools.map((tool) => tool.name).sort();
}

describeIf([file(CHROMIUM, 'chromium', true)])('real clients sign in through Keycloak', () => {
  describe.each(['cluster', 'direct'] as const)('%s layout', (layout) => {
    let deployment: Deployment;

    beforeAll(async () => {
      deployment = await deploy(layout);
    }, 60_000);
    afterAll(() => undeploy(deployment));

    test(
      'mcp-remote: alice lists and calls only get_me; admin also delete_repository',
      async () => {
        const alice = await throughMcpRemote(deployment, 'alice');
        try {
          expect(alice.tools).toEqual(['get_me']);
          expect(await alice.call('get_me')).toMatchObject({ content: [{ type: 'text', text: 'octocat' }] });
          // Denied looks like unknown (the gateway's rule), here as the client reports it.
          await expect(alice.call('delete_repository')).rejects.toThrow(/Unknown tool: delete_repository/);
        } finally {
          await alice.close();
        }
        const admin = await throughMcpRemote(deployment, 'admin');
        try {
          expect(admin.tools).toEqual(['delete_repository', 'get_me']);
          expect(await admin.call('delete_repository')).toMatchObject({ content: [{ type: 'text', text: 'deleted' }] });
        } finally {
          await admin.close();
        }
        if (deployment.front) {
          // The client registered and read Keycloak's RFC 8414 metadata through the gateway (old-Keycloak paths).
          expect(deployment.front.routedToGateway).toEqual(expect.arrayContaining(['POST /realms/mcp/clients-registrations/openid-connect']));
        }
      },
      SIGN_IN_TIMEOUT_MS * 2,
    );

    // The Inspector CLI (the slowest client: a process per call) runs in the layout that needs the gateway's help.
    if (layout !== 'cluster') return;
    test(
      'Inspector CLI: alice lists only get_me and may not delete; admin deletes',
      async () => {
        for (const [username, expected] of [
          ['alice', ['get_me']],
          ['admin', ['delete_repository', 'get_me']],
        ] as const) {
          const home = mkdtempSync(join(deployment.workDir, `inspector-${username}-`));
          const callbackPort = await freePort();
          const listed = await inspectorCli(deployment, home, callbackPort, username, ['--method', 'tools/list']);
          succeeded(listed);
          expect(toolNames(listed.stdout)).toEqual(expected);
          const deleted = await inspectorCli(deployment, home, callbackPort, username, [
            '--method',
            'tools/call',
            '--tool-name',
            'delete_repository',
          ]);
          if (username === 'admin') {
            succeeded(deleted);
            expect(deleted.stdout).toContain('deleted');
          } else {
            expect(deleted.stdout).not.toContain('deleted');
          }
        }
      },
      SIGN_IN_TIMEOUT_MS * 4,
    );
  });
});
