import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, exportSPKI, generateKeyPair, SignJWT, type CryptoKey, type JWTPayload } from 'jose';
import { openSession, outcome, rpc, send, stillServes } from './harness.js';
import { writeConfigFile } from '../helpers/config-file.js';
import { GatewayProcess, INITIALIZE, PYTHON_SERVER } from '../helpers/gateway.js';

/**
 * Token tricks against a route with `mcpAuthentication`. The gateway trusts one key set (given inline,
 * as an IdP's JWKS would be); the attacker holds the public key and a key pair of its own. Every forged
 * token must get 401 `invalid_token` and nothing else; the honest caller keeps being served.
 */
const ISSUER = 'https://idp.test/realms/mcp';
const AUDIENCE = 'https://gateway.test/mcp';
const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
const now = () => Math.floor(Date.now() / 1000);

let gateway: GatewayProcess;
let idpKey: CryptoKey;
let idpPem: string;
let attackerKey: CryptoKey;
let attackerJwk: Record<string, unknown>;
let attackerJwks: Server;
let attackerJwksFetched = 0;

function token(claims: JWTPayload, { key = idpKey, header = {} as Record<string, unknown> } = {}): Promise<string> {
  return new SignJWT({ iss: ISSUER, aud: AUDIENCE, sub: 'alice', iat: now(), exp: now() + 300, ...claims })
    .setProtectedHeader({ alg: 'RS256', kid: 'idp-key', ...header } as never)
    .sign(key);
}

const bearer = (value: string) => ({ authorization: `Bearer ${value}` });
const url = (path = '/mcp') => `${gateway.url}${path}`;

beforeAll(async () => {
  const idp = await generateKeyPair('RS256', { extractable: true });
  idpKey = idp.privateKey;
  idpPem = await exportSPKI(idp.publicKey);
  const jwks = JSON.stringify({ keys: [{ ...(await exportJWK(idp.publicKey)), kid: 'idp-key', alg: 'RS256', use: 'sig' }] });
  const attacker = await generateKeyPair('RS256', { extractable: true });
  attackerKey = attacker.privateKey;
  attackerJwk = { ...(await exportJWK(attacker.publicKey)), kid: 'attacker', alg: 'RS256' };
  attackerJwks = createServer((_req, res) => {
    attackerJwksFetched++;
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [attackerJwk] }));
  });
  await new Promise<void>((resolve) => attackerJwks.listen(0, '127.0.0.1', resolve));
  const auth = (extra: string) => `
              mcpAuthentication:
                issuer: ${ISSUER}
                audiences: [${AUDIENCE}]
                jwks: '${jwks}'${extra}`;
  const file = writeConfigFile(
    'hostile-tokens-',
    `binds:
  - port: 0
    listeners:
      - routes:
          - name: strict
            matches: [{ path: { exact: /mcp } }]
            backends:
              - mcp:
                  targets:
                    - name: py
                      stdio: { cmd: python3, args: [${JSON.stringify(PYTHON_SERVER)}] }
            policies:${auth('')}
          - name: subless
            matches: [{ path: { exact: /subless/mcp } }]
            backends:
              - mcp:
                  targets:
                    - name: py
                      stdio: { cmd: python3, args: [${JSON.stringify(PYTHON_SERVER)}] }
            policies:${auth(`
                jwtValidationOptions: { requiredClaims: [exp] }`)}
`,
  );
  gateway = await GatewayProcess.serving(file);
});

afterAll(async () => {
  await gateway?.stop();
  attackerJwks?.close();
});

async function expectRefused(forged: string): Promise<void> {
  const response = await rpc(url(), INITIALIZE, bearer(forged));
  expect(response.status).toBe(401);
  expect(response.headers['www-authenticate']).toMatch(/^Bearer .*error="invalid_token"/);
  expect(JSON.parse(response.text)).toMatchObject({ error: 'invalid_token' });
  expect(response.headers['mcp-session-id']).toBeUndefined();
}

describe('forged and misdirected tokens get 401 invalid_token', () => {
  test('alg none', async () => {
    const unsigned = `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ iss: ISSUER, aud: AUDIENCE, sub: 'admin', exp: now() + 300 })}.`;
    await expectRefused(unsigned);
  });

  test('HS256 signed with the public key as the shared secret', async () => {
    const confused = await new SignJWT({ iss: ISSUER, aud: AUDIENCE, sub: 'admin', exp: now() + 300 })
      .setProtectedHeader({ alg: 'HS256', kid: 'idp-key' })
      .sign(new TextEncoder().encode(idpPem));
    await expectRefused(confused);
  });

  test('jku and jwk headers naming the attacker key are not followed', async () => {
    const jku = `http://127.0.0.1:${(attackerJwks.address() as AddressInfo).port}/jwks.json`;
    await expectRefused(await token({ sub: 'admin' }, { key: attackerKey, header: { kid: 'attacker', jku } }));
    await expectRefused(await token({ sub: 'admin' }, { key: attackerKey, header: { kid: 'attacker', jwk: attackerJwk } }));
    await expectRefused(await token({ sub: 'admin' }, { key: attackerKey, header: { kid: 'idp-key', jwk: attackerJwk } }));
    expect(attackerJwksFetched).toBe(0);
  });

  test('wrong audience, wrong issuer, expired, not yet valid', async () => {
    await expectRefused(await token({ aud: 'https://other.test/mcp' }));
    await expectRefused(await token({ iss: 'https://evil.test/realms/mcp' }));
    await expectRefused(await token({ exp: now() - 3600, iat: now() - 7200 }));
    await expectRefused(await token({ nbf: now() + 3600 }));
  });

  test('a truncated or garbage token', async () => {
    const good = await token({});
    await expectRefused(good.slice(0, -10));
    await expectRefused('not.a.jwt');
    await expectRefused(`${good}.extra`);
  });

  afterAll(async () => {
    await stillServes(url(), bearer(await token({})));
  });
});

describe('session binding', () => {
  test('a token without sub is refused by default', async () => {
    const subless = await token({ sub: undefined });
    const response = await rpc(url(), INITIALIZE, bearer(subless));
    expect(response.status).toBe(401);
    expect(JSON.parse(response.text)).toEqual({ error: 'invalid_token', error_description: 'token sub claim rejected: missing' });
  });

  test('where sub-less tokens are allowed, two such callers do not share a session', async () => {
    const first = await token({ sub: undefined, client_id: 'one' });
    const second = await token({ sub: undefined, client_id: 'two' });
    const session = await openSession(url('/subless/mcp'), bearer(first));
    const own = await rpc(url('/subless/mcp'), { jsonrpc: '2.0', id: 1, method: 'tools/list' }, { ...bearer(first), 'mcp-session-id': session });
    expect(own.status).toBe(200);
    const stolen = await rpc(url('/subless/mcp'), { jsonrpc: '2.0', id: 2, method: 'tools/list' }, { ...bearer(second), 'mcp-session-id': session });
    expect(outcome(stolen)).toEqual({ status: 404, code: -32600 });
  });

  test('another subject holding the session id gets 404', async () => {
    const session = await openSession(url(), bearer(await token({ sub: 'alice' })));
    const stolen = await send(url(), {
      method: 'DELETE',
      headers: { ...bearer(await token({ sub: 'mallory' })), 'mcp-session-id': session, 'mcp-protocol-version': '2025-06-18' },
    });
    expect(outcome(stolen)).toEqual({ status: 404, code: -32600 });
    const own = await rpc(
      url(),
      { jsonrpc: '2.0', id: 3, method: 'tools/list' },
      { ...bearer(await token({ sub: 'alice' })), 'mcp-session-id': session },
    );
    expect(own.status).toBe(200);
  });
});
