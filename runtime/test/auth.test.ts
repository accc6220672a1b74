import { createPublicKey } from 'node:crypto';
import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeJwt, decodeProtectedHeader, SignJWT } from 'jose';
import { startProtectedRoute, type ProtectedRoute } from './support/oidc-provider-protected-route.js';
import { TestOpenIdProvider } from './support/oidc-provider.js';
import { RouteAuthenticator } from '../src/auth/index.js';
import { ConfigError } from '../src/config/errors.js';
import type { JwtClaim, McpAuthentication } from '../src/config/types.js';

const AUDIENCE = 'http://gateway.test/github/mcp';
const OTHER_AUDIENCE = 'http://other.test/mcp';

let idp: TestOpenIdProvider;
const routes: ProtectedRoute[] = [];
const keycloak = (extra: Partial<McpAuthentication> = {}): McpAuthentication => ({
  issuer: idp.issuer,
  audiences: [AUDIENCE],
  provider: { keycloak: {} },
  ...extra,
});
async function route(config: McpAuthentication, options: Parameters<typeof startProtectedRoute>[1] = {}): Promise<ProtectedRoute> {
  const started = await startProtectedRoute(config, options);
  routes.push(started);
  return started;
}
async function call(target: ProtectedRoute, token?: string, init: RequestInit = {}) {
  const response = await fetch(target.url, {
    ...init,
    headers: { ...(token !== undefined ? { authorization: `Bearer ${token}` } : {}), ...(init.headers as Record<string, string>) },
  });
  return {
    status: response.status,
    challenge: response.headers.get('www-authenticate'),
    headers: response.headers,
    body: (await response.json()) as Record<string, any>,
  };
}

beforeAll(async () => {
  idp = await TestOpenIdProvider.start({ resources: [AUDIENCE, OTHER_AUDIENCE] });
});
afterEach(async () => {
  await Promise.all(routes.splice(0).map((r) => r.close()));
  idp.setJwksAvailable(true);
});
afterAll(async () => {
  await idp.close();
});

describe('valid tokens', () => {
  test('a token for the configured audience is accepted and its claims become the identity', async () => {
    const gateway = await route(keycloak());
    const result = await call(gateway, await idp.userToken('alice', AUDIENCE));
    expect(result.status).toBe(200);
    expect(result.body.claims).toMatchObject({ sub: 'alice', iss: idp.issuer, aud: AUDIENCE, realm_access: { roles: ['user'] } });
  });

  test('agentgateway 0.10 spellings: singular audience and jwksUrl', async () => {
    const gateway = await route({ issuer: idp.issuer, audience: AUDIENCE, jwksUrl: idp.jwksUrl });
    expect((await call(gateway, await idp.clientCredentialsToken(AUDIENCE))).status).toBe(200);
  });

  test('generic OIDC provider: the JWKS URL comes from discovery', async () => {
    const gateway = await route({ issuer: idp.issuer, audiences: [AUDIENCE] });
    expect((await call(gateway, await idp.clientCredentialsToken(AUDIENCE))).status).toBe(200);
  });

  test('generic OIDC provider: a discovery outage fails closed and is retried, not replaced by a guessed JWKS URL', async () => {
    const gateway = await route({ issuer: idp.issuer, audiences: [AUDIENCE] });
    const token = await idp.clientCredentialsToken(AUDIENCE);
    idp.setDiscoveryAvailable(false);
    try {
      expect((await call(gateway, token)).body).toEqual({ error: 'invalid_token', error_description: 'signing keys unavailable' });
    } finally {
      idp.setDiscoveryAvailable(true);
    }
    expect((await call(gateway, token)).status).toBe(200);
  });

  test('keys given inline or in a file', async () => {
    const jwks = await (await fetch(idp.jwksUrl)).text();
    const file = join(mkdtempSync(join(tmpdir(), 'jwks-')), 'jwks.json');
    writeFileSync(file, jwks);
    const token = await idp.clientCredentialsToken(AUDIENCE);
    expect((await call(await route(keycloak({ jwks })), token)).status).toBe(200);
    expect((await call(await route(keycloak({ jwks: { file } })), token)).status).toBe(200);
  });

  test('without audiences, the configured resource is the audience', async () => {
    const gateway = await route({ issuer: idp.issuer, provider: { keycloak: {} }, resourceMetadata: { resource: AUDIENCE } });
    expect((await call(gateway, await idp.clientCredentialsToken(AUDIENCE))).status).toBe(200);
    expect((await call(gateway, await idp.clientCredentialsToken(OTHER_AUDIENCE))).status).toBe(401);
  });
});

describe('rejected tokens get 401 invalid_token with a challenge', () => {
  async function expectInvalidToken(gateway: ProtectedRoute, token: string, description: RegExp) {
    const result = await call(gateway, token);
    expect(result.status).toBe(401);
    expect(result.body).toEqual({ error: 'invalid_token', error_description: expect.stringMatching(description) });
    expect(result.challenge).toBe(
      `Bearer resource_metadata="${gateway.origin}/.well-known/oauth-protected-resource/github/mcp", error="invalid_token", `
        + `error_description="${result.body.error_description}"`,
    );
    expect(result.headers.get('access-control-expose-headers')).toBe('WWW-Authenticate, Mcp-Session-Id');
  }

  test('wrong audience', async () => {
    await expectInvalidToken(await route(keycloak()), await idp.clientCredentialsToken(OTHER_AUDIENCE), /aud claim/);
  });

  test('wrong issuer', async () => {
    const gateway = await route(keycloak({ issuer: `${idp.origin}/realms/other`, jwks: { url: idp.jwksUrl } }));
    await expectInvalidToken(gateway, await idp.clientCredentialsToken(AUDIENCE), /iss claim/);
  });

  test('expired', async () => {
    const shortLived = await TestOpenIdProvider.start({ realm: 'short', resources: [AUDIENCE], accessTokenTtlSeconds: 1 });
    try {
      const gateway = await route({ issuer: shortLived.issuer, audiences: [AUDIENCE], provider: { keycloak: {} }, clockSkew: '0s' });
      const token = await shortLived.clientCredentialsToken(AUDIENCE);
      const { exp } = decodeJwt(token);
      while (Date.now() / 1000 <= exp! + 0.1) await new Promise((resolve) => setTimeout(resolve, 100));
      await expectInvalidToken(gateway, token, /^token expired$/);
    } finally {
      await shortLived.close();
    }
  });

  test('signed by a key the issuer never published', async () => {
    const impostor = await TestOpenIdProvider.start({ resources: [AUDIENCE] });
    try {
      await expectInvalidToken(await route(keycloak()), await impostor.clientCredentialsToken(AUDIENCE), /signing key unknown/);
    } finally {
      await impostor.close();
    }
  });

  test('alg none', async () => {
    const real = await idp.clientCredentialsToken(AUDIENCE);
    const [, payload] = real.split('.');
    const unsigned = `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'at+jwt' })).toString('base64url')}.${payload}.`;
    await expectInvalidToken(await route(keycloak()), unsigned, /algorithm not allowed|malformed/);
  });

  test('HS256 signed with the public key as the secret (key confusion)', async () => {
    const real = await idp.clientCredentialsToken(AUDIENCE);
    const { kid } = decodeProtectedHeader(real);
    const { keys } = (await (await fetch(idp.jwksUrl)).json()) as { keys: Array<Record<string, string>> };
    const publicPem = createPublicKey({ key: keys.find((key) => key.kid === kid)!, format: 'jwk' }).export({ type: 'spki', format: 'pem' });
    const forged = await new SignJWT(decodeJwt(real)).setProtectedHeader({ alg: 'HS256', kid }).sign(new TextEncoder().encode(String(publicPem)));
    await expectInvalidToken(await route(keycloak()), forged, /algorithm not allowed/);
  });

  test('garbage', async () => {
    await expectInvalidToken(await route(keycloak()), 'not-a-jwt', /malformed/);
    await expectInvalidToken(await route(keycloak()), 'a.b.c', /malformed/);
  });
});

describe('missing tokens', () => {
  test('strict: 401 with the resource metadata URL and no error code', async () => {
    const gateway = await route(keycloak());
    const result = await call(gateway);
    expect(result.status).toBe(401);
    expect(result.challenge).toBe(`Bearer resource_metadata="${gateway.origin}/.well-known/oauth-protected-resource/github/mcp"`);
    expect(result.body).toEqual({ error: 'unauthorized', error_description: 'bearer token required' });
  });

  test('a token in the query string or another scheme does not count', async () => {
    const gateway = await route(keycloak());
    const token = await idp.clientCredentialsToken(AUDIENCE);
    const viaQuery = await fetch(`${gateway.url}?access_token=${token}`);
    expect(viaQuery.status).toBe(401);
    const viaBasic = await call(gateway, undefined, { headers: { authorization: `Basic ${Buffer.from('a:b').toString('base64')}` } });
    expect(viaBasic.status).toBe(401);
    expect(viaBasic.challenge).not.toContain('error=');
  });

  test('the challenge names the scopes to ask for, never offline_access', async () => {
    const gateway = await route(keycloak({ resourceMetadata: { scopesSupported: ['openid', 'offline_access', 'mcp:tools'] } }));
    expect((await call(gateway)).challenge).toBe(
      `Bearer resource_metadata="${gateway.origin}/.well-known/oauth-protected-resource/github/mcp", scope="openid mcp:tools"`,
    );
  });
});

describe('modes', () => {
  test('optional: anonymous without a token, 401 for a bad one', async () => {
    const gateway = await route(keycloak({ mode: 'optional' }));
    expect((await call(gateway)).body.anonymous).toBe(true);
    expect((await call(gateway, 'garbage')).status).toBe(401);
    expect((await call(gateway, await idp.clientCredentialsToken(AUDIENCE))).body.claims.sub).toBe('test-service');
  });

  test('permissive: never rejects; a bad token is anonymous', async () => {
    const gateway = await route(keycloak({ mode: 'permissive', requiredScopes: ['mcp:admin'] }));
    expect((await call(gateway)).body.anonymous).toBe(true);
    expect((await call(gateway, await idp.clientCredentialsToken(OTHER_AUDIENCE))).body.anonymous).toBe(true);
    expect((await call(gateway, await idp.clientCredentialsToken(AUDIENCE))).body.claims.sub).toBe('test-service');
  });
});

describe('required scopes', () => {
  test('a valid token without them gets 403 insufficient_scope naming all required scopes (step-up)', async () => {
    const gateway = await route(keycloak({ requiredScopes: ['mcp:tools', 'mcp:admin'] }));
    const result = await call(gateway, await idp.clientCredentialsToken(AUDIENCE));
    expect(result.status).toBe(403);
    expect(result.body).toEqual({ error: 'insufficient_scope', error_description: 'token lacks scope mcp:admin' });
    expect(result.challenge).toBe(
      `Bearer resource_metadata="${gateway.origin}/.well-known/oauth-protected-resource/github/mcp", scope="mcp:tools mcp:admin", `
        + 'error="insufficient_scope", error_description="token lacks scope mcp:admin"',
    );
    expect(result.headers.get('access-control-expose-headers')).toContain('WWW-Authenticate');
  });

  test('a token with them passes', async () => {
    const gateway = await route(keycloak({ requiredScopes: ['mcp:tools'] }));
    expect((await call(gateway, await idp.clientCredentialsToken(AUDIENCE))).status).toBe(200);
  });
});

describe('per-tool scopes (toolScopes)', () => {
  const config = () =>
    keycloak({
      mode: 'optional',
      toolScopes: { get_me: ['mcp:tools'], delete_repository: ['repo:delete'] },
      resourceMetadata: { scopesSupported: ['mcp:tools'] },
    });
  const toolUrl = (target: ProtectedRoute, tool: string) => ({ ...target, url: `${target.url}?tool=${tool}` });

  test('a token without the tool’s scope gets 403 insufficient_scope naming it; with it, the call passes', async () => {
    const target = await route(config());
    const token = await idp.clientCredentialsToken(AUDIENCE);
    expect((await call(toolUrl(target, 'get_me'), token)).status).toBe(200);
    const refused = await call(toolUrl(target, 'delete_repository'), token);
    expect(refused.status).toBe(403);
    expect(refused.challenge).toBe(
      `Bearer resource_metadata="${target.origin}/.well-known/oauth-protected-resource/github/mcp", scope="mcp:tools repo:delete", `
        + 'error="insufficient_scope", error_description="token lacks scope repo:delete"',
    );
  });

  test('an anonymous caller (optional mode) is told to sign in with the tool’s scopes: 401, not 403', async () => {
    const target = await route(config());
    const anonymous = await call(toolUrl(target, 'get_me'));
    expect(anonymous.status).toBe(401);
    expect(anonymous.challenge).toBe(
      `Bearer resource_metadata="${target.origin}/.well-known/oauth-protected-resource/github/mcp", scope="mcp:tools"`,
    );
    // Tools without scopes stay open to anonymous callers in optional mode.
    expect((await call(toolUrl(target, 'list_repos'))).status).toBe(200);
  });
});

describe('signing keys', () => {
  test('a rotated key is picked up without restart; tokens of the previous key keep working', async () => {
    const gateway = await route(keycloak(), { jwksCooldownMs: 0 });
    const before = await idp.clientCredentialsToken(AUDIENCE);
    expect((await call(gateway, before)).status).toBe(200);
    const fetchesBefore = idp.jwksRequests;
    const newKid = await idp.rotateSigningKey();
    const after = await idp.clientCredentialsToken(AUDIENCE);
    expect(decodeProtectedHeader(after).kid).toBe(newKid);
    expect((await call(gateway, after)).status).toBe(200);
    expect(idp.jwksRequests).toBe(fetchesBefore + 1);
    expect((await call(gateway, before)).status).toBe(200);
  });

  test('unknown kids do not refetch the JWKS again within the cooldown (rate limit)', async () => {
    const gateway = await route(keycloak(), { jwksCooldownMs: 60_000 });
    expect((await call(gateway, await idp.clientCredentialsToken(AUDIENCE))).status).toBe(200);
    const fetches = idp.jwksRequests;
    const impostor = await TestOpenIdProvider.start({ resources: [AUDIENCE] });
    try {
      const foreign = await impostor.clientCredentialsToken(AUDIENCE);
      for (let i = 0; i < 3; i++) expect((await call(gateway, foreign)).status).toBe(401);
      expect(idp.jwksRequests).toBe(fetches);
    } finally {
      await impostor.close();
    }
  });

  test('JWKS endpoint down: cached keys keep working, unknown keys fail closed, recovery without restart', async () => {
    const gateway = await route(keycloak(), { jwksCooldownMs: 0 });
    const known = await idp.clientCredentialsToken(AUDIENCE);
    expect((await call(gateway, known)).status).toBe(200);
    idp.setJwksAvailable(false);
    expect((await call(gateway, known)).status).toBe(200);
    await idp.rotateSigningKey();
    const unknown = await idp.clientCredentialsToken(AUDIENCE);
    const failed = await call(gateway, unknown);
    expect(failed.status).toBe(401);
    expect(failed.body).toEqual({ error: 'invalid_token', error_description: 'signing keys unavailable' });
    idp.setJwksAvailable(true);
    expect((await call(gateway, unknown)).status).toBe(200);
  });

  test('JWKS unreachable from the start: every token fails closed', async () => {
    idp.setJwksAvailable(false);
    const gateway = await route(keycloak());
    const result = await call(gateway, await idp.clientCredentialsToken(AUDIENCE));
    expect(result.status).toBe(401);
    expect(result.body.error_description).toBe('signing keys unavailable');
  });
});

describe('configuration errors name the field', () => {
  const PATH = 'binds[0].listeners[0].routes[0].policies.mcpAuthentication';
  function issues(config: Partial<McpAuthentication>): Array<{ path: string; message: string }> {
    try {
      RouteAuthenticator.create({ issuer: 'https://idp.test/realms/mcp', audiences: [AUDIENCE], ...config } as McpAuthentication, PATH);
    } catch (error) {
      if (error instanceof ConfigError) return [...error.issues];
      throw error;
    }
    return [];
  }

  test('symmetric and unsigned algorithms are refused', () => {
    expect(issues({ algorithms: ['RS256', 'HS256', 'none'] }).map((issue) => issue.path)).toEqual([`${PATH}.algorithms[1]`, `${PATH}.algorithms[2]`]);
  });

  test('issuer, clock skew, audiences, jwks, required claims, publicUrl', () => {
    expect(issues({ issuer: 'keycloak' })[0]).toEqual({ path: `${PATH}.issuer`, message: expect.stringContaining('http(s) URL') });
    expect(issues({ clockSkew: 'soon' })[0].path).toBe(`${PATH}.clockSkew`);
    expect(issues({ audiences: undefined })[0]).toEqual({ path: `${PATH}.audiences`, message: expect.stringContaining('resourceMetadata.resource') });
    expect(issues({ jwks: '{"keys": []}' })[0].path).toBe(`${PATH}.jwks`);
    expect(issues({ jwks: { file: '/nonexistent/jwks.json' } })[0].path).toBe(`${PATH}.jwks.file`);
    expect(issues({ jwtValidationOptions: { requiredClaims: ['exp', 'color'] as JwtClaim[] } })[0].path).toBe(
      `${PATH}.jwtValidationOptions.requiredClaims[1]`,
    );
    expect(issues({ publicUrl: 'https://gw.example.com/base' })[0].path).toBe(`${PATH}.publicUrl`);
    expect(issues({ jwks: { url: 'x' }, jwksUrl: 'y' } as Partial<McpAuthentication>)[0].path).toBe(`${PATH}.jwksUrl`);
    expect(issues({})).toEqual([]);
  });

  test('extensions: back-channel URL and per-tool scopes', () => {
    expect(issues({ backchannelUrl: 'keycloak:8080' })[0]).toEqual({
      path: `${PATH}.backchannelUrl`,
      message: expect.stringContaining('http(s) URL'),
    });
    expect(issues({ toolScopes: { delete_repository: [] } })[0].path).toBe(`${PATH}.toolScopes.delete_repository`);
    expect(issues({ toolScopes: { delete_repository: ['repo delete'] } })[0].path).toBe(`${PATH}.toolScopes.delete_repository`);
    expect(issues({ backchannelUrl: 'http://keycloak.auth.svc:8080/realms/mcp/', toolScopes: { delete_repository: ['repo:delete'] } })).toEqual([]);
  });
});
