import { IssuerChannel } from '../src/auth/issuer-channel.js';

const PUBLIC = 'https://auth.example.com/realms/mcp';
const INTERNAL = 'http://keycloak.auth.svc:8080/realms/mcp';

describe('IssuerChannel: public issuer URLs and the back-channel', () => {
  const channel = new IssuerChannel(PUBLIC, INTERNAL);

  test('URLs below the issuer, and on its host (RFC 8414 path insertion), are fetched over the back-channel', () => {
    expect(channel.internal(`${PUBLIC}/protocol/openid-connect/certs`)).toBe(`${INTERNAL}/protocol/openid-connect/certs`);
    expect(channel.internal(`${PUBLIC}/.well-known/openid-configuration`)).toBe(`${INTERNAL}/.well-known/openid-configuration`);
    expect(channel.internal('https://auth.example.com/.well-known/oauth-authorization-server/realms/mcp')).toBe(
      'http://keycloak.auth.svc:8080/.well-known/oauth-authorization-server/realms/mcp',
    );
    // A sibling path on the issuer's host keeps its path on the back-channel host; other hosts, and look-alike
    // host names, are left alone.
    expect(channel.internal(`${PUBLIC}-other/certs`)).toBe('http://keycloak.auth.svc:8080/realms/mcp-other/certs');
    expect(channel.internal('https://other.example.com/keys')).toBe('https://other.example.com/keys');
    expect(channel.internal('https://auth.example.com.evil.test/x')).toBe('https://auth.example.com.evil.test/x');
  });

  test('documents fetched over the back-channel name only public URLs, nested values included', () => {
    expect(
      channel.publicDocument({
        issuer: PUBLIC,
        token_endpoint: `${INTERNAL}/protocol/openid-connect/token`,
        mtls_endpoint_aliases: { token_endpoint: `${INTERNAL}/protocol/openid-connect/token` },
        other: ['http://keycloak.auth.svc:8080/admin', 42, null],
      }),
    ).toEqual({
      issuer: PUBLIC,
      token_endpoint: `${PUBLIC}/protocol/openid-connect/token`,
      mtls_endpoint_aliases: { token_endpoint: `${PUBLIC}/protocol/openid-connect/token` },
      other: ['https://auth.example.com/admin', 42, null],
    });
  });

  test('without a back-channel nothing changes', () => {
    const direct = new IssuerChannel(PUBLIC);
    expect(direct.internal(`${PUBLIC}/certs`)).toBe(`${PUBLIC}/certs`);
    const document = { issuer: PUBLIC };
    expect(direct.publicDocument(document)).toBe(document);
  });
});
