import { discoverAuthorizationServerMetadata, discoverOAuthProtectedResourceMetadata } from '@modelcontextprotocol/sdk/client/auth.js';
import { startProtectedRoute, type ProtectedRoute } from './support/oidc-provider-protected-route.js';
import { TestOpenIdProvider } from './support/oidc-provider.js';
import { identityProvider } from '../src/auth/provider.js';
import type { McpAuthentication } from '../src/config/types.js';

const AUDIENCE = 'http://gateway.test/github/mcp';

let idp: TestOpenIdProvider;
const routes: ProtectedRoute[] = [];
async function route(config: Partial<McpAuthentication> = {}): Promise<ProtectedRoute> {
  const started = await startProtectedRoute({ issuer: idp.issuer, audiences: [AUDIENCE], provider: { keycloak: {} }, ...config });
  routes.push(started);
  return started;
}
async function getJson(url: string, headers: Record<string, string> = {}) {
  const response = await fetch(url, { headers });
  return { status: response.status, headers: response.headers, body: (await response.json()) as Record<string, any> };
}

beforeAll(async () => {
  idp = await TestOpenIdProvider.start({ resources: [AUDIENCE] });
});
afterEach(async () => {
  await Promise.all(routes.splice(0).map((r) => r.close()));
});
afterAll(async () => {
  await idp.close();
});

describe('protected resource metadata (RFC 9728)', () => {
  test('served at the path-inserted and the root well-known URL, with open CORS', async () => {
    const gateway = await route({
      resourceMetadata: { scopesSupported: ['openid', 'mcp:tools'], bearerMethodsSupported: ['header'], resourceDocumentation: 'https://docs.test/github' },
    });
    const expected = {
      resource: gateway.url,
      // Keycloak itself is the authorization server: its `issuer` is what RFC 9207 `iss` will name.
      authorization_servers: [idp.issuer],
      scopes_supported: ['openid', 'mcp:tools'],
      bearer_methods_supported: ['header'],
      resource_documentation: 'https://docs.test/github',
    };
    for (const path of ['/.well-known/oauth-protected-resource/github/mcp', '/.well-known/oauth-protected-resource']) {
      const { status, headers, body } = await getJson(`${gateway.origin}${path}`);
      expect(status).toBe(200);
      expect(body).toEqual(expected);
      expect(headers.get('access-control-allow-origin')).toBe('*');
    }
  });

  test('the SDK client finds it from the MCP URL and accepts its resource', async () => {
    const gateway = await route();
    const metadata = await discoverOAuthProtectedResourceMetadata(gateway.url);
    expect(metadata.resource).toBe(gateway.url);
  });

  test('a configured resource is used verbatim; without a provider the issuer is the authorization server', async () => {
    const gateway = await route({ provider: undefined, resourceMetadata: { resource: 'https://mcp.example.com/github/mcp' } });
    const { body } = await getJson(`${gateway.origin}/.well-known/oauth-protected-resource/github/mcp`);
    expect(body.resource).toBe('https://mcp.example.com/github/mcp');
    expect(body.authorization_servers).toEqual([idp.issuer]);
  });

  test('CORS preflight', async () => {
    const gateway = await route();
    const response = await fetch(`${gateway.origin}/.well-known/oauth-protected-resource/github/mcp`, { method: 'OPTIONS' });
    expect(response.status).toBe(204);
    expect(response.headers.get('access-control-allow-origin')).toBe('*');
    expect(response.headers.get('access-control-allow-methods')).toContain('GET');
  });

  test('other routes’ documents are not answered', async () => {
    const gateway = await route();
    expect((await fetch(`${gateway.origin}/.well-known/oauth-protected-resource/gitlab/mcp`)).status).toBe(404);
  });
});

describe('public URL behind a proxy', () => {
  const prm = (gateway: ProtectedRoute, headers: Record<string, string>) =>
    getJson(`${gateway.origin}/.well-known/oauth-protected-resource/github/mcp`, headers);

  test('X-Forwarded-Proto and X-Forwarded-Host together define the public URL, in metadata and challenges', async () => {
    const gateway = await route();
    const forwarded = { 'x-forwarded-proto': 'https', 'x-forwarded-host': 'mcp.example.com' };
    const { body } = await prm(gateway, forwarded);
    expect(body.resource).toBe('https://mcp.example.com/github/mcp');
    expect(body.authorization_servers).toEqual([idp.issuer]);
    const challenge = (await fetch(gateway.url, { headers: forwarded })).headers.get('www-authenticate');
    expect(challenge).toBe('Bearer resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource/github/mcp"');
  });

  test('one of the pair alone is ignored: never https glued to the internal host', async () => {
    const gateway = await route();
    const host = new URL(gateway.origin).host;
    expect((await prm(gateway, { 'x-forwarded-proto': 'https' })).body.resource).toBe(`http://${host}/github/mcp`);
    expect((await prm(gateway, { 'x-forwarded-host': 'mcp.example.com' })).body.resource).toBe(`http://${host}/github/mcp`);
  });

  test('the first hop of a proxy chain counts; values that are not a host are ignored', async () => {
    const gateway = await route();
    const chained = { 'x-forwarded-proto': 'https, http', 'x-forwarded-host': 'mcp.example.com, internal:8080' };
    expect((await prm(gateway, chained)).body.resource).toBe('https://mcp.example.com/github/mcp');
    const injected = { 'x-forwarded-proto': 'https', 'x-forwarded-host': 'evil.test/"x' };
    expect((await prm(gateway, injected)).body.resource).toBe(`${gateway.origin}/github/mcp`);
  });

  test('publicUrl wins over headers', async () => {
    const gateway = await route({ publicUrl: 'https://gw.example.com' });
    const { body } = await prm(gateway, { 'x-forwarded-proto': 'http', 'x-forwarded-host': 'other.test' });
    expect(body.resource).toBe('https://gw.example.com/github/mcp');
  });
});

describe('authorization server metadata (RFC 8414) for keycloak', () => {
  test('legacy facade for clients that ignore the resource metadata: fetched from the realm, DCR through the gateway', async () => {
    const gateway = await route();
    const { status, headers, body } = await getJson(`${gateway.origin}/.well-known/oauth-authorization-server/github/mcp`);
    expect(status).toBe(200);
    expect(headers.get('access-control-allow-origin')).toBe('*');
    expect(body).toMatchObject({
      issuer: gateway.url,
      authorization_endpoint: `${idp.issuer}/protocol/openid-connect/auth`,
      token_endpoint: `${idp.issuer}/protocol/openid-connect/token`,
      registration_endpoint: `${gateway.origin}/.well-known/oauth-authorization-server/github/mcp/client-registration`,
      code_challenge_methods_supported: ['S256'],
    });
  });

  test('every URL the SDK client may probe for the facade issuer answers the same document', async () => {
    const gateway = await route();
    const viaSdk = await discoverAuthorizationServerMetadata(gateway.url);
    expect(viaSdk?.issuer).toBe(gateway.url);
    const paths = [
      '/.well-known/oauth-authorization-server/github/mcp',
      '/.well-known/openid-configuration/github/mcp',
      '/github/mcp/.well-known/openid-configuration',
      '/.well-known/oauth-authorization-server',
    ];
    for (const path of paths) expect((await getJson(`${gateway.origin}${path}`)).body).toEqual(viaSdk);
  });

  test('without a provider the issuer stays the issuer; auth0 gets the audience parameter', async () => {
    const generic = await route({ provider: undefined });
    const genericBody = (await getJson(`${generic.origin}/.well-known/oauth-authorization-server/github/mcp`)).body;
    expect(genericBody.issuer).toBe(idp.issuer);
    expect(genericBody.registration_endpoint).toBe(`${generic.origin}/.well-known/oauth-authorization-server/github/mcp/client-registration`);
    const auth0 = await route({ provider: { auth0: {} } });
    const auth0Body = (await getJson(`${auth0.origin}/.well-known/oauth-authorization-server/github/mcp`)).body;
    expect(new URL(auth0Body.authorization_endpoint).searchParams.get('audience')).toBe(AUDIENCE);
  });

  test('an unreachable identity provider gives 502, not a crash', async () => {
    const gateway = await route({ issuer: 'http://127.0.0.1:9/realms/down', jwksUrl: idp.jwksUrl });
    const { status, body } = await getJson(`${gateway.origin}/.well-known/oauth-authorization-server/github/mcp`);
    expect(status).toBe(502);
    expect(body.error).toBe('temporarily_unavailable');
  });
});

describe('dynamic client registration proxy', () => {
  const registrationRequest = { client_name: 'test client', redirect_uris: ['http://127.0.0.1:33418/callback'], token_endpoint_auth_method: 'none', grant_types: ['authorization_code'], response_types: ['code'] };

  test('registers the client at the realm and answers with CORS', async () => {
    const gateway = await route();
    const registrationUrl = `${gateway.origin}/.well-known/oauth-authorization-server/github/mcp/client-registration`;
    const response = await fetch(registrationUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'origin': 'http://inspector.test' },
      body: JSON.stringify(registrationRequest),
    });
    expect(response.status).toBe(201);
    expect(response.headers.get('access-control-allow-origin')).toBe('*');
    const client = (await response.json()) as Record<string, unknown>;
    expect(client).toMatchObject({ client_name: 'test client', redirect_uris: registrationRequest.redirect_uris });
    // The client exists at the realm: the authorization endpoint accepts it and shows the login page.
    const authorize = new URL(`${idp.issuer}/protocol/openid-connect/auth`);
    authorize.search = new URLSearchParams({
      client_id: String(client.client_id),
      response_type: 'code',
      redirect_uri: registrationRequest.redirect_uris[0],
      scope: 'mcp:tools',
      code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
      code_challenge_method: 'S256',
    }).toString();
    const redirect = await idp.login(authorize, 'alice');
    expect(redirect.origin).toBe('http://127.0.0.1:33418');
    expect(redirect.searchParams.get('code')).toBeTruthy();
  });

  test('the provider’s errors are passed through', async () => {
    const gateway = await route();
    const response = await fetch(`${gateway.origin}/.well-known/oauth-authorization-server/github/mcp/client-registration`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ redirect_uris: ['not a url'] }),
    });
    expect(response.status).toBe(400);
    expect(((await response.json()) as Record<string, unknown>).error).toBe('invalid_redirect_uri');
    expect(response.headers.get('access-control-allow-origin')).toBe('*');
  });

  test('preflight and wrong methods', async () => {
    const gateway = await route();
    const url = `${gateway.origin}/.well-known/oauth-authorization-server/github/mcp/client-registration`;
    const preflight = await fetch(url, { method: 'OPTIONS', headers: { 'origin': 'http://inspector.test', 'access-control-request-method': 'POST' } });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-methods')).toContain('POST');
    expect((await fetch(url)).status).toBe(405);
  });

  test('with clientId, registration is answered by the gateway with that client', async () => {
    const gateway = await route({ clientId: 'mcp-public-client' });
    const response = await fetch(`${gateway.origin}/.well-known/oauth-authorization-server/github/mcp/client-registration`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(registrationRequest),
    });
    expect(response.status).toBe(201);
    expect(await response.json()).toMatchObject({
      client_id: 'mcp-public-client',
      token_endpoint_auth_method: 'none',
      redirect_uris: registrationRequest.redirect_uris,
    });
  });
});

describe('provider differences', () => {
  const rewrite = { facadeIssuer: 'https://gw.test/okta/mcp', registrationProxyUrl: 'https://gw.test/.well-known/oauth-authorization-server/okta/mcp/client-registration', audiences: ['api://mcp'] };
  const upstream = { issuer: 'https://org.okta.test/oauth2/default', authorization_endpoint: 'https://org.okta.test/oauth2/default/v1/authorize' };

  test('okta: DCR at the org, audience on the authorization endpoint, gateway facade', async () => {
    const okta = identityProvider('okta');
    expect(await okta.registrationUrl(upstream.issuer, async () => upstream)).toBe('https://org.okta.test/oauth2/v1/clients');
    expect(okta.rewriteMetadata(upstream, rewrite)).toEqual({
      issuer: rewrite.facadeIssuer,
      authorization_endpoint: 'https://org.okta.test/oauth2/default/v1/authorize?audience=api%3A%2F%2Fmcp',
      registration_endpoint: rewrite.registrationProxyUrl,
      code_challenge_methods_supported: ['S256'],
    });
  });

  test('JWKS conventions: keycloak and auth0 by path, generic and okta from discovery', () => {
    expect(identityProvider('keycloak').conventionalJwksUrl('https://kc.test/realms/mcp/')).toBe('https://kc.test/realms/mcp/protocol/openid-connect/certs');
    expect(identityProvider('auth0').conventionalJwksUrl('https://tenant.auth0.test/')).toBe('https://tenant.auth0.test/.well-known/jwks.json');
    expect(identityProvider('generic').conventionalJwksUrl('https://idp.test')).toBeUndefined();
    expect(identityProvider('okta').conventionalJwksUrl(upstream.issuer)).toBeUndefined();
  });

  test('metadata is looked up by OIDC discovery first, then RFC 8414 path insertion', () => {
    expect(identityProvider('keycloak').metadataUrls('https://kc.test/realms/mcp')).toEqual([
      'https://kc.test/realms/mcp/.well-known/openid-configuration',
      'https://kc.test/.well-known/oauth-authorization-server/realms/mcp',
    ]);
  });
});
