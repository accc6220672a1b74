/** `config.credentials` and `targets[].credential` at load: every mistake names its field and the fix. */
import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '../src/config/errors.js';
import { ConfigLoader } from '../src/config/load.js';

const KEY = 'a'.repeat(64);
const AUTH = { issuer: 'https://idp.example/realms/mcp', audience: 'mcp_proxy' };
const GITHUB = {
  oauth2: {
    authorizationUrl: 'https://github.com/login/oauth/authorize',
    tokenUrl: 'https://github.com/login/oauth/access_token',
    clientId: 'Ov23li',
  },
};

interface Options {
  readonly credentials?: unknown;
  readonly target?: Record<string, unknown>;
  readonly policies?: unknown;
}

function config({ credentials, target, policies = { mcpAuthentication: AUTH } }: Options): unknown {
  const github = target ?? {
    name: 'github',
    stdio: { cmd: 'github-mcp-server', args: ['stdio'] },
    credential: { provider: 'github', inject: { env: 'GITHUB_PERSONAL_ACCESS_TOKEN' } },
  };
  return {
    config: credentials === undefined ? {} : { credentials },
    binds: [{ port: 3000, listeners: [{ routes: [{ name: 'r', backends: [{ mcp: { targets: [github] } }], policies }] }] }],
  };
}

const SIGN_IN = { clientId: 'mcp-gateway-connect' };
const CREDENTIALS = { store: { memory: {} }, encryptionKey: { value: KEY }, providers: { github: GITHUB }, browserSignIn: SIGN_IN };

async function issuesOf(value: unknown, env: NodeJS.ProcessEnv = {}): Promise<string[]> {
  try {
    await new ConfigLoader().loadObject(value, 'test', env);
    return [];
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    return error.issues.map((issue) => `${issue.path}: ${issue.message}`);
  }
}

const TARGET = 'binds[0].listeners[0].routes[0].backends[0].mcp.targets[0]';

describe('credentials configuration', () => {
  test('the contract\'s example loads: secrets from env and file, key as hex or base64, defaults filled in', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'creds-config-'));
    writeFileSync(join(dir, 'secret'), 'from-a-file\n');
    const env = {
      CREDENTIALS_DATABASE_URL: 'postgres://gw:pw@db:5432/mcp',
      CREDENTIALS_ENCRYPTION_KEY: Buffer.alloc(32, 7).toString('base64'),
      GH: 's3',
    };
    const loaded = await new ConfigLoader().loadObject(
      config({
        credentials: {
          store: { postgres: { url: { env: 'CREDENTIALS_DATABASE_URL' } } },
          encryptionKey: { env: 'CREDENTIALS_ENCRYPTION_KEY' },
          publicUrl: 'https://mcp.example.com/',
          providers: {
            'github': { oauth2: { ...GITHUB.oauth2, clientSecret: { env: 'GH' }, scopes: ['read:user', 'repo'] } },
            'internal-api': { tokenExchange: { clientId: 'mcp-gateway', clientSecret: { file: join(dir, 'secret') }, audience: 'internal-api' } },
          },
          browserSignIn: { clientId: 'mcp-gateway-connect', clientSecret: { env: 'GH' } },
        },
      }),
      'test',
      env,
    );
    const credentials = loaded.settings.credentials!;
    expect(credentials.store).toEqual({ kind: 'postgres', url: env.CREDENTIALS_DATABASE_URL, table: 'mcp_user_credentials' });
    expect(credentials.encryptionKey).toEqual(Buffer.alloc(32, 7));
    expect(credentials.publicUrl).toBe('https://mcp.example.com');
    expect(credentials.providers.get('github')).toMatchObject({ kind: 'oauth2', clientSecret: 's3', scopes: ['read:user', 'repo'] });
    expect(credentials.browserSignIn).toEqual({ clientId: 'mcp-gateway-connect', clientSecret: 's3' });
    expect(credentials.providers.get('internal-api')).toMatchObject({ kind: 'tokenExchange', clientSecret: 'from-a-file', tokenUrl: undefined });
  });

  test('a provider name that is not defined', async () => {
    const target = { name: 'github', stdio: { cmd: 'x' }, credential: { provider: 'gitub', inject: { env: 'T' } } };
    expect(await issuesOf(config({ credentials: CREDENTIALS, target }))).toEqual([
      `${TARGET}.credential.provider: "gitub" is not a key of config.credentials.providers (github)`,
    ]);
  });

  test('a credential without config.credentials, and on a route without sign-in', async () => {
    expect(await issuesOf(config({}))).toEqual([`config.credentials: is required: ${TARGET}.credential names provider "github"`]);
    expect(await issuesOf(config({ credentials: CREDENTIALS, policies: {} }))).toEqual([
      `${TARGET}.credential: needs users to sign in: add policies.mcpAuthentication to the route (a credential belongs to a signed-in user)`,
    ]);
  });

  test('injection must fit the target kind', async () => {
    const http = { name: 'api', mcp: { host: 'http://api:8080/mcp' }, credential: { provider: 'github', inject: { env: 'TOKEN' } } };
    expect(await issuesOf(config({ credentials: CREDENTIALS, target: http }))).toEqual([
      `${TARGET}.credential.inject.env: only stdio targets get environment variables; use \`header\` for mcp and sse targets`,
    ]);
    const stdio = { name: 'gh', stdio: { cmd: 'x' }, credential: { provider: 'github', inject: { header: 'Authorization' } } };
    expect(await issuesOf(config({ credentials: CREDENTIALS, target: stdio }))).toEqual([
      `${TARGET}.credential.inject.header: stdio targets have no HTTP requests; use \`env\``,
    ]);
    const both = { name: 'gh', stdio: { cmd: 'x' }, credential: { provider: 'github', inject: { env: 'A', header: 'B' } } };
    expect(await issuesOf(config({ credentials: CREDENTIALS, target: both }))).toEqual([
      `${TARGET}.credential.inject: give exactly one of \`env\` (stdio targets) or \`header\` (mcp, sse targets)`,
    ]);
  });

  test('shared and reused stdio processes cannot carry a user\'s credential', async () => {
    for (const mode of ['shared', 'reuse']) {
      const target = { name: 'gh', stdio: { cmd: 'x', pool: { size: 1, [mode]: true } }, credential: { provider: 'github', inject: { env: 'T' } } };
      expect(await issuesOf(config({ credentials: CREDENTIALS, target }))).toEqual([
        `${TARGET}.stdio.pool.${mode}: cannot be used with \`credential\`: ` +
          "a process started with one user's credential must serve that user's session only",
      ]);
    }
  });

  test('store, key and secrets: missing, wrong length, unset', async () => {
    expect(await issuesOf(config({ credentials: { ...CREDENTIALS, store: {} } }))).toEqual([
      'config.credentials.store: give exactly one of `postgres` or `memory`',
    ]);
    expect(await issuesOf(config({ credentials: { ...CREDENTIALS, encryptionKey: { value: 'abcd' } } }))).toEqual([
      'config.credentials.encryptionKey: must be 32 bytes: 64 hex characters or base64 (`openssl rand -hex 32`)',
    ]);
    expect(await issuesOf(config({ credentials: { ...CREDENTIALS, encryptionKey: { env: 'NOPE' } } }))).toEqual([
      'config.credentials.encryptionKey.env: environment variable NOPE is not set',
    ]);
    expect(await issuesOf(config({ credentials: { ...CREDENTIALS, store: { postgres: { url: { value: 'mysql://x' } } } } }))).toEqual([
      'config.credentials.store.postgres.url: must be a postgres:// URL',
    ]);
    const noStore = { encryptionKey: { value: KEY }, providers: { github: GITHUB }, browserSignIn: SIGN_IN };
    expect(await issuesOf(config({ credentials: noStore }))).toEqual(['config.credentials.store: is required']);
  });

  test('an oauth2 provider needs browserSignIn (connect links are opened by their own user); token exchange alone does not', async () => {
    const { browserSignIn: _omitted, ...withoutSignIn } = CREDENTIALS;
    expect(await issuesOf(config({ credentials: withoutSignIn }))).toEqual([
      expect.stringMatching(/^config\.credentials\.browserSignIn: is required: provider "github" is oauth2, .*\/connect\/_signin\/callback\)$/),
    ]);
    const exchangeOnly = { ...withoutSignIn, providers: { github: { tokenExchange: { clientId: 'x', audience: 'y' } } } };
    expect(await issuesOf(config({ credentials: exchangeOnly }))).toEqual([]);
    const unsetSecret = { ...CREDENTIALS, browserSignIn: { ...SIGN_IN, clientSecret: { env: 'NOPE' } } };
    expect(await issuesOf(config({ credentials: unsetSecret }))).toEqual([
      'config.credentials.browserSignIn.clientSecret.env: environment variable NOPE is not set',
    ]);
  });

  test('a provider with both kinds, or a bad URL', async () => {
    const both = { ...GITHUB, tokenExchange: { clientId: 'x', audience: 'y' } };
    expect(await issuesOf(config({ credentials: { ...CREDENTIALS, providers: { github: both } } }))).toEqual([
      'config.credentials.providers.github: give exactly one of `oauth2` or `tokenExchange`',
    ]);
    const badUrl = { oauth2: { ...GITHUB.oauth2, tokenUrl: 'github.com/token' } };
    expect(await issuesOf(config({ credentials: { ...CREDENTIALS, providers: { github: badUrl } } }))).toEqual([
      'config.credentials.providers.github.oauth2.tokenUrl: must be an http(s) URL, got "github.com/token"',
    ]);
  });
});
