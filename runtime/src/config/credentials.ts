import { readFileSync } from 'node:fs';
import type { ConfigIssue } from './errors.js';
import type { ResolvedCredentialProvider, ResolvedCredentials } from './model.js';
import type { CredentialsSettings, GatewayConfig, McpTarget, Route, SecretRef } from './types.js';

const DEFAULT_TABLE = 'mcp_user_credentials';

/** Every target with the JSON path of its `credential`, and whether its route signs users in. */
function credentialTargets(config: GatewayConfig): Array<{ target: McpTarget; path: string; signedIn: boolean }> {
  const found: Array<{ target: McpTarget; path: string; signedIn: boolean }> = [];
  const visit = (targets: readonly McpTarget[], path: string, route: Pick<Route, 'policies'>) =>
    targets.forEach((target, t) => {
      if (target.credential) found.push({ target, path: `${path}[${t}]`, signedIn: route.policies?.mcpAuthentication !== undefined });
    });
  config.binds?.forEach((bind, b) =>
    bind.listeners.forEach((listener, l) =>
      listener.routes.forEach((route, r) =>
        route.backends.forEach((backend, k) =>
          visit(backend.mcp.targets, `binds[${b}].listeners[${l}].routes[${r}].backends[${k}].mcp.targets`, route),
        ),
      ),
    ),
  );
  if (config.mcp) visit(config.mcp.targets, 'mcp.targets', config.mcp);
  return found;
}

/** The checks a JSON Schema cannot make: provider names, injection by target kind, pool modes, sign-in, secrets present. */
export function checkCredentials(config: GatewayConfig, issues: ConfigIssue[], env: NodeJS.ProcessEnv): void {
  const settings = config.config?.credentials;
  const providers = settings?.providers ?? {};
  for (const { target, path, signedIn } of credentialTargets(config)) {
    const credential = target.credential!;
    const at = `${path}.credential`;
    if (!settings) {
      issues.push({ path: 'config.credentials', message: `is required: ${at} names provider "${credential.provider}"` });
    } else if (!Object.hasOwn(providers, credential.provider)) {
      const known = Object.keys(providers);
      const names = known.length ? known.join(', ') : 'none defined';
      issues.push({ path: `${at}.provider`, message: `"${credential.provider}" is not a key of config.credentials.providers (${names})` });
    }
    if (!signedIn) {
      issues.push({
        path: at,
        message: 'needs users to sign in: add policies.mcpAuthentication to the route (a credential belongs to a signed-in user)',
      });
    }
    const { env: variable, header, prefix } = credential.inject;
    if ((variable !== undefined) === (header !== undefined)) {
      issues.push({ path: `${at}.inject`, message: 'give exactly one of `env` (stdio targets) or `header` (mcp, sse targets)' });
    } else if (variable !== undefined && !target.stdio) {
      issues.push({ path: `${at}.inject.env`, message: 'only stdio targets get environment variables; use `header` for mcp and sse targets' });
    } else if (header !== undefined && target.stdio) {
      issues.push({ path: `${at}.inject.header`, message: 'stdio targets have no HTTP requests; use `env`' });
    }
    if (prefix !== undefined && header === undefined) issues.push({ path: `${at}.inject.prefix`, message: 'only applies with `header`' });
    if (target.policies?.backendAuth?.passthrough !== undefined) {
      issues.push({
        path: `${path}.policies.backendAuth.passthrough`,
        message: 'cannot be used with `credential`: the user\'s own token must not reach the target',
      });
    }
    const pool = target.stdio?.pool;
    for (const mode of ['shared', 'reuse'] as const) {
      if (pool?.[mode]) {
        issues.push({
          path: `${path}.stdio.pool.${mode}`,
          message: 'cannot be used with `credential`: a process started with one user\'s credential must serve that user\'s session only',
        });
      }
    }
  }
  if (settings) checkSettings(settings, issues, env);
}

function checkSettings(settings: CredentialsSettings, issues: ConfigIssue[], env: NodeJS.ProcessEnv): void {
  const base = 'config.credentials';
  const store = settings.store ?? {};
  if ((store.postgres !== undefined) === (store.memory !== undefined)) {
    issues.push({ path: `${base}.store`, message: 'give exactly one of `postgres` or `memory`' });
  }
  if (store.postgres) {
    const url = readSecret(store.postgres.url, `${base}.store.postgres.url`, issues, env);
    if (url !== undefined && !/^postgres(ql)?:\/\//.test(url)) {
      issues.push({ path: `${base}.store.postgres.url`, message: 'must be a postgres:// URL' });
    }
  }
  const key = readSecret(settings.encryptionKey, `${base}.encryptionKey`, issues, env);
  if (key !== undefined && !decodeKey(key)) {
    issues.push({ path: `${base}.encryptionKey`, message: 'must be 32 bytes: 64 hex characters or base64 (`openssl rand -hex 32`)' });
  }
  for (const [name, provider] of Object.entries(settings.providers ?? {})) {
    const at = `${base}.providers.${name}`;
    const kinds = (['oauth2', 'tokenExchange'] as const).filter((kind) => provider[kind] !== undefined);
    if (kinds.length !== 1) {
      issues.push({ path: at, message: 'give exactly one of `oauth2` or `tokenExchange`' });
      continue;
    }
    const urls: Array<[string, string | undefined]> = provider.oauth2
      ? [['oauth2.authorizationUrl', provider.oauth2.authorizationUrl], ['oauth2.tokenUrl', provider.oauth2.tokenUrl]]
      : [['tokenExchange.tokenUrl', provider.tokenExchange!.tokenUrl]];
    for (const [field, value] of urls) {
      if (value === undefined) continue;
      let parsed: URL | undefined;
      try {
        parsed = new URL(value);
      } catch {
        // reported below
      }
      if (!parsed || (parsed.protocol !== 'https:' && parsed.protocol !== 'http:')) {
        issues.push({ path: `${at}.${field}`, message: `must be an http(s) URL, got "${value}"` });
      }
    }
    const secret = provider.oauth2?.clientSecret ?? provider.tokenExchange?.clientSecret;
    if (secret) readSecret(secret, `${at}.${kinds[0]}.clientSecret`, issues, env);
  }
  const oauth2 = Object.entries(settings.providers ?? {}).find(([, provider]) => provider.oauth2 !== undefined);
  if (oauth2 && !settings.browserSignIn) {
    issues.push({
      path: `${base}.browserSignIn`,
      message: `is required: provider "${oauth2[0]}" is oauth2, and its connect links must be opened by their own user `
        + '(give the clientId of the gateway\'s OIDC client at the sign-in issuer, redirect URI <publicUrl>/connect/_signin/callback)',
    });
  }
  if (settings.browserSignIn?.clientSecret) readSecret(settings.browserSignIn.clientSecret, `${base}.browserSignIn.clientSecret`, issues, env);
  if (settings.publicUrl !== undefined && !/^https?:\/\/[^/]+/.test(settings.publicUrl)) {
    issues.push({ path: `${base}.publicUrl`, message: `must be an http(s) URL such as https://mcp.example.com, got "${settings.publicUrl}"` });
  }
}

/** A secret's value, or an issue naming where it should have come from. */
function readSecret(ref: SecretRef, path: string, issues: ConfigIssue[], env: NodeJS.ProcessEnv): string | undefined {
  if ('value' in ref) return ref.value;
  if ('env' in ref) {
    const value = env[ref.env];
    if (value === undefined || value === '') issues.push({ path: `${path}.env`, message: `environment variable ${ref.env} is not set` });
    return value || undefined;
  }
  try {
    return readFileSync(ref.file, 'utf8').trim();
  } catch {
    issues.push({ path: `${path}.file`, message: `cannot read ${ref.file}` });
    return undefined;
  }
}

/** 32 bytes from 64 hex characters or base64 (standard or URL-safe); undefined for anything else. */
export function decodeKey(text: string): Buffer | undefined {
  const trimmed = text.trim();
  if (/^[0-9a-fA-F]{64}$/.test(trimmed)) return Buffer.from(trimmed, 'hex');
  if (/^[A-Za-z0-9+/_-]{43}=?$/.test(trimmed)) {
    const bytes = Buffer.from(trimmed.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
    if (bytes.length === 32) return bytes;
  }
  return undefined;
}

/** After `checkCredentials` found nothing: the settings with secrets read. Undefined when not configured. */
export function resolveCredentials(config: GatewayConfig, env: NodeJS.ProcessEnv): ResolvedCredentials | undefined {
  const settings = config.config?.credentials;
  if (!settings) return undefined;
  const issues: ConfigIssue[] = [];
  const secret = (ref: SecretRef | undefined, path: string) => (ref ? readSecret(ref, path, issues, env) : undefined);
  const providers = new Map<string, ResolvedCredentialProvider>();
  for (const [name, provider] of Object.entries(settings.providers)) {
    const at = `config.credentials.providers.${name}`;
    if (provider.oauth2) {
      const p = provider.oauth2;
      providers.set(name, {
        kind: 'oauth2',
        name,
        authorizationUrl: p.authorizationUrl,
        tokenUrl: p.tokenUrl,
        clientId: p.clientId,
        clientSecret: secret(p.clientSecret, `${at}.oauth2.clientSecret`),
        scopes: p.scopes ?? [],
      });
    } else {
      const p = provider.tokenExchange!;
      providers.set(name, {
        kind: 'tokenExchange',
        name,
        tokenUrl: p.tokenUrl,
        clientId: p.clientId,
        clientSecret: secret(p.clientSecret, `${at}.tokenExchange.clientSecret`),
        audience: p.audience,
        scopes: p.scopes ?? [],
      });
    }
  }
  const store: ResolvedCredentials['store'] = settings.store.postgres
    ? {
      kind: 'postgres',
      url: secret(settings.store.postgres.url, 'config.credentials.store.postgres.url')!,
      table: settings.store.postgres.table ?? DEFAULT_TABLE,
    }
    : { kind: 'memory' };
  return {
    store,
    encryptionKey: decodeKey(secret(settings.encryptionKey, 'config.credentials.encryptionKey')!)!,
    publicUrl: settings.publicUrl?.replace(/\/+$/, ''),
    providers,
    browserSignIn: settings.browserSignIn && {
      clientId: settings.browserSignIn.clientId,
      clientSecret: secret(settings.browserSignIn.clientSecret, 'config.credentials.browserSignIn.clientSecret'),
    },
  };
}
