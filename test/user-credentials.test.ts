import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { Chart, Testing } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import * as YAML from 'yaml';
import type { McpGatewayProps, McpServerProps } from '../src';
import {
  CredentialInjection, CredentialStore, KeycloakDatabase, KeycloakRealm, McpAuthPolicy, McpGateway, McpGatewayExposure, McpGatewayImplementation,
  McpServer, McpServerSource, McpServerTransport, McpServerWorkload, McpTarget, OAuthProvider, OidcIssuer,
  StdioProcessPool, UserCredential,
} from '../src';
import { CRDS_DIR, expectValidManifests } from './util/manifest-validation';

const RUNTIME_SCHEMA = path.join(__dirname, '..', 'runtime', 'schema', 'config.schema.json');

function newChart(namespace = 'mcp'): Chart {
  return new Chart(Testing.app(), 'test', { namespace });
}

function secretValue(chart: Chart, id: string, name: string, key: string): kplus.SecretValue {
  return { secret: kplus.Secret.fromSecretName(chart, id, name), key };
}

function github(chart: Chart): OAuthProvider {
  return OAuthProvider.github({ clientId: 'Ov23liExample', clientSecret: secretValue(chart, 'GithubApp', 'github-oauth-app', 'clientSecret') });
}

/** The article's GitHub server in its HTTP mode, which reads each request's `Authorization: Bearer <token>`. */
function githubServer(chart: Chart, credential?: UserCredential, transport = McpServerTransport.streamableHttp({ path: '/' })): McpServer {
  return new McpServer(chart, 'github', {
    source: McpServerSource.image('ghcr.io/github/github-mcp-server:v1.10.1', {
      command: ['/server/github-mcp-server'],
      args: ['http', '--port', '3000'],
    }),
    transport,
    userCredential: credential ?? UserCredential.oauth2({ provider: github(chart) }),
  });
}

/** The article's GitHub server over stdio: the bridge starts each session's process with its user's token. */
function stdioGithubServer(chart: Chart, id = 'github', props: Partial<McpServerProps> = {}, env = 'GITHUB_PERSONAL_ACCESS_TOKEN'): McpServer {
  return new McpServer(chart, id, {
    source: McpServerSource.image('ghcr.io/github/github-mcp-server:v1.10.1', { command: ['/server/github-mcp-server'], args: ['stdio'] }),
    userCredential: UserCredential.oauth2({ provider: github(chart), inject: CredentialInjection.env(env) }),
    ...props,
  });
}

function encryptionKey(chart: Chart): kplus.SecretValue {
  return secretValue(chart, 'CredentialsKey', 'mcp-credentials-key', 'key');
}

/** The realm users sign in with, declaring the gateway's client for the browser sign-in of connect links. */
function signInRealm(chart: Chart, connectSignIn = true): KeycloakRealm {
  return new KeycloakRealm(chart, 'keycloak', {
    hostname: 'https://auth.example.com',
    mcpAudiences: ['http://mcp.example.com/github/mcp'],
    bootstrapAdmin: { secret: kplus.Secret.fromSecretName(chart, 'Admin', 'keycloak-admin') },
    database: KeycloakDatabase.devFile(),
    connectSignIn: connectSignIn ? { clientSecret: secretValue(chart, 'ConnectSignIn', 'mcp-connect-sign-in', 'secret') } : undefined,
  });
}

function gatewayChart(props: Partial<McpGatewayProps> = {}, namespace = 'mcp') {
  const chart = newChart(namespace);
  const server = githubServer(chart);
  const auth = new McpAuthPolicy(chart, 'auth', { issuer: signInRealm(chart) });
  const gateway = new McpGateway(chart, 'gateway', {
    exposure: McpGatewayExposure.ingress({ host: 'mcp.example.com', controllerNamespace: 'ingress-nginx' }),
    credentialStore: CredentialStore.cloudNativePg({ encryptionKey: encryptionKey(chart), instances: 2 }),
    routes: [{ path: '/github/mcp', targets: [server], policies: [auth] }],
    ...props,
  });
  return { chart, gateway, server };
}

function objectsOf(objects: any[], kind: string): any[] {
  return objects.filter((o) => o.kind === kind);
}

function gatewayConfig(objects: any[]): any {
  const configMap = objectsOf(objects, 'ConfigMap').find((o) => o.data?.['config.yaml']);
  return YAML.parse(configMap.data['config.yaml']);
}

function gatewayEnv(objects: any[]): { [name: string]: any } {
  const deployment = objectsOf(objects, 'Deployment').find((o) => o.spec.template.spec.containers[0].name === 'gateway');
  return Object.fromEntries((deployment.spec.template.spec.containers[0].env ?? []).map((e: any) => [e.name, e.valueFrom ?? e.value]));
}

function validationErrors(chart: Chart): string[] {
  return chart.node.findAll().flatMap((c) => c.node.validate());
}

describe('rendering', () => {
  test('an OAuth credential renders the provider, the target credential and Secret-backed environment', () => {
    const { chart } = gatewayChart();
    const objects = Testing.synth(chart);
    const config = gatewayConfig(objects);

    expect(config.config.credentials).toEqual({
      store: { postgres: { url: { env: 'CREDENTIALS_DATABASE_URL' } } },
      encryptionKey: { env: 'CREDENTIALS_ENCRYPTION_KEY' },
      publicUrl: 'http://mcp.example.com',
      providers: {
        github: {
          oauth2: {
            authorizationUrl: 'https://github.com/login/oauth/authorize',
            tokenUrl: 'https://github.com/login/oauth/access_token',
            clientId: 'Ov23liExample',
            clientSecret: { env: 'CREDENTIALS_GITHUB_CLIENT_SECRET' },
            scopes: ['read:user', 'repo'],
          },
        },
      },
      browserSignIn: { clientId: 'mcp-gateway-connect', clientSecret: { env: 'CREDENTIALS_BROWSER_SIGN_IN_CLIENT_SECRET' } },
    });
    const target = config.binds[0].listeners[0].routes[0].backends[0].mcp.targets[0];
    expect(target).toEqual({
      name: 'github',
      mcp: { host: expect.stringMatching(/^http:\/\/[a-z0-9-]+\.mcp\.svc\.cluster\.local:3000\/$/) },
      credential: { provider: 'github', inject: { header: 'Authorization' } },
    });

    const cluster = objectsOf(objects, 'Cluster')[0];
    expect(cluster.spec.bootstrap.initdb).toEqual({ database: 'mcp_credentials', owner: 'mcp_gateway' });
    expect(gatewayEnv(objects)).toEqual(expect.objectContaining({
      CREDENTIALS_DATABASE_URL: { secretKeyRef: { name: `${cluster.metadata.name}-app`, key: 'uri' } },
      CREDENTIALS_ENCRYPTION_KEY: { secretKeyRef: { name: 'mcp-credentials-key', key: 'key' } },
      CREDENTIALS_GITHUB_CLIENT_SECRET: { secretKeyRef: { name: 'github-oauth-app', key: 'clientSecret' } },
      CREDENTIALS_BROWSER_SIGN_IN_CLIENT_SECRET: { secretKeyRef: { name: 'mcp-connect-sign-in', key: 'secret' } },
    }));
    // Nothing secret is written into the manifests: the ConfigMap names environment variables only.
    expect(JSON.stringify(objectsOf(objects, 'ConfigMap'))).not.toMatch(/clientSecret":"[^{]/);
  });

  test('every object is valid for Kubernetes 1.28 and the CloudNativePG CRDs', () => {
    const { chart } = gatewayChart();
    const report = expectValidManifests(Testing.synth(chart));
    expect(report.checked).toEqual(expect.arrayContaining([expect.stringMatching(/^Ingress\//), expect.stringMatching(/^Deployment\//)]));
    // A clone without ../shared has no CloudNativePG CRD to check against: the two custom resources are reported as not checked.
    const cnpg = [expect.stringMatching(/^Cluster\//), expect.stringMatching(/^Database\//)];
    if (fs.existsSync(CRDS_DIR)) {
      expect(report.checked).toEqual(expect.arrayContaining(cnpg));
    } else {
      console.warn(`user-credentials.test: CloudNativePG CRD check did not run: ${CRDS_DIR} not found`);
      expect(report.notChecked.map((skip) => skip.object)).toEqual(expect.arrayContaining(cnpg));
    }
  });

  test('the Ingress routes the connect flow by prefix to the gateway, besides the exact MCP paths', () => {
    const { chart } = gatewayChart();
    const [ingress] = objectsOf(Testing.synth(chart), 'Ingress');
    const paths = ingress.spec.rules[0].http.paths.map((p: any) => `${p.pathType} ${p.path} -> ${p.backend.service.name}`);
    expect(paths).toEqual(expect.arrayContaining([expect.stringMatching(/^Exact \/github\/mcp -> /),
      expect.stringMatching(/^Prefix \/connect -> .*gateway/)]));
  });

  test('a Gateway API exposure gets an HTTPRoute for the connect flow, valid for the Gateway API CRDs', () => {
    const { chart, gateway } = gatewayChart({ exposure: McpGatewayExposure.gateway({ gatewayClassName: 'istio', hostnames: ['mcp.example.com'] }) });
    const objects = Testing.synth(chart);
    const routes = objectsOf(objects, 'HTTPRoute');
    const connect = routes.find((r) => r.spec.rules[0].matches.some((m: any) => m.path.type === 'PathPrefix'));
    expect(connect.spec).toEqual({
      parentRefs: [{ name: gateway.gatewayObject!.name }],
      hostnames: ['mcp.example.com'],
      rules: [{ matches: [{ path: { type: 'PathPrefix', value: '/connect' } }], backendRefs: [{ name: gateway.service!.name, port: 8080 }] }],
    });
    expectValidManifests(objects);
  });

  test('without a credential store nothing of the connect flow is rendered', () => {
    const chart = newChart();
    new McpGateway(chart, 'gateway', {
      exposure: McpGatewayExposure.ingress({ host: 'mcp.example.com', controllerNamespace: 'ingress-nginx' }),
      routes: [{ path: '/docs/mcp', targets: [McpTarget.fromUrl('docs', 'https://mcp.deepwiki.com/mcp')] }],
    });
    const objects = Testing.synth(chart);
    expect(gatewayConfig(objects).config.credentials).toBeUndefined();
    expect(JSON.stringify(objectsOf(objects, 'Ingress'))).not.toContain('/connect');
    expect(Object.keys(gatewayEnv(objects))).not.toContain('CREDENTIALS_ENCRYPTION_KEY');
  });

  test('a stdio server: the gateway sends the token alone in the bridge\'s header, the bridge starts each session with it in the env var', () => {
    const chart = newChart();
    const server = stdioGithubServer(chart);
    new McpGateway(chart, 'gateway', {
      exposure: McpGatewayExposure.ingress({ host: 'mcp.example.com', controllerNamespace: 'ingress-nginx' }),
      credentialStore: CredentialStore.cloudNativePg({ encryptionKey: encryptionKey(chart), instances: 2 }),
      routes: [{ path: '/github/mcp', targets: [server] }],
    });
    expect(validationErrors(chart)).toEqual([]);
    const objects = Testing.synth(chart);
    const target = gatewayConfig(objects).binds[0].listeners[0].routes[0].backends[0].mcp.targets[0];
    expect(target.credential).toEqual({ provider: 'github', inject: { header: 'X-Mcp-User-Credential', prefix: '' } });
    expect(target.mcp.host).toBe(`http://${server.name}.mcp.svc.cluster.local:3000/mcp`);
    const bridge = objectsOf(objects, 'Deployment').find((d) => d.metadata.name === server.name).spec.template.spec.containers[0];
    // OAuth: a user's first session comes before they connected, so its process may start without the token.
    expect(bridge.args).toEqual(['--host', '0.0.0.0', '--port', '3000', '--credential-env', 'GITHUB_PERSONAL_ACCESS_TOKEN', '--credential-optional',
      '--', '/server/github-mcp-server', 'stdio']);
    // Only the gateway reaches the bridge, which trusts the header it is sent.
    const policy = objectsOf(objects, 'NetworkPolicy').find((p) => p.spec.podSelector.matchLabels?.['app.kubernetes.io/instance'] === server.name
      || JSON.stringify(p.spec.podSelector).includes(server.name));
    expect(policy.spec.policyTypes).toEqual(['Ingress']);
    expect(JSON.stringify(policy.spec.ingress)).toContain('gateway');
    expectValidManifests(objects);
  });

  test('a token exchange is there from the first session: the bridge refuses sessions without it', () => {
    const chart = newChart();
    const server = stdioGithubServer(chart, 'internal', {
      userCredential: UserCredential.tokenExchange({
        audience: 'internal-api',
        clientId: 'mcp-gateway',
        clientSecret: secretValue(chart, 'Exchange', 'exchange', 'secret'),
        inject: CredentialInjection.env('API_TOKEN'),
      }),
    });
    const objects = Testing.synth(chart);
    const bridge = objectsOf(objects, 'Deployment').find((d) => d.metadata.name === server.name).spec.template.spec.containers[0];
    expect(bridge.args).toEqual(['--host', '0.0.0.0', '--port', '3000', '--credential-env', 'API_TOKEN', '--', '/server/github-mcp-server', 'stdio']);
  });

  test('an existing database and a named header with a prefix', () => {
    const chart = newChart();
    const api = McpTarget.fromUrl('tickets', 'https://tickets.example.com/mcp', {
      userCredential: UserCredential.oauth2({
        provider: OAuthProvider.custom({
          name: 'tickets',
          authorizationUrl: 'https://id.example.com/authorize',
          tokenUrl: 'https://id.example.com/token',
          clientId: 'mcp',
          clientSecret: secretValue(chart, 'TicketsApp', 'tickets-oauth', 'secret'),
        }),
        inject: CredentialInjection.header('X-Api-Token', 'token '),
      }),
    });
    new McpGateway(chart, 'gateway', {
      credentialStore: CredentialStore.postgres({
        url: secretValue(chart, 'Db', 'mcp-db', 'url'),
        table: 'user_tokens',
        encryptionKey: encryptionKey(chart),
      }),
      routes: [{ path: '/tickets/mcp', targets: [api] }],
    });
    const objects = Testing.synth(chart);
    const config = gatewayConfig(objects);
    expect(config.config.credentials.store).toEqual({ postgres: { url: { env: 'CREDENTIALS_DATABASE_URL' }, table: 'user_tokens' } });
    expect(config.config.credentials.providers.tickets.oauth2).not.toHaveProperty('scopes');
    expect(config.binds[0].listeners[0].routes[0].backends[0].mcp.targets[0].credential).toEqual({
      provider: 'tickets',
      inject: { header: 'X-Api-Token', prefix: 'token ' },
    });
    expect(gatewayEnv(objects).CREDENTIALS_DATABASE_URL).toEqual({ secretKeyRef: { name: 'mcp-db', key: 'url' } });
    expect(objectsOf(objects, 'Cluster')).toEqual([]);
  });

  test('the memory store renders memory and needs no database', () => {
    const { chart } = gatewayChart({ credentialStore: CredentialStore.memory({ encryptionKey: encryptionKey(newChart()) }) });
    const objects = Testing.synth(chart);
    expect(gatewayConfig(objects).config.credentials.store).toEqual({ memory: {} });
    expect(objectsOf(objects, 'Cluster')).toEqual([]);
    expect(Object.keys(gatewayEnv(objects))).not.toContain('CREDENTIALS_DATABASE_URL');
  });

  test('targets added after the gateway add their provider and its secret', () => {
    const chart = newChart();
    const gateway = new McpGateway(chart, 'gateway', { credentialStore: CredentialStore.memory({ encryptionKey: encryptionKey(chart) }) });
    const route = gateway.addRoute({ path: '/docs/mcp', targets: [McpTarget.fromUrl('docs', 'https://mcp.deepwiki.com/mcp')] });
    route.addTarget(githubServer(chart));
    const objects = Testing.synth(chart);
    expect(Object.keys(gatewayConfig(objects).config.credentials.providers)).toEqual(['github']);
    expect(gatewayEnv(objects)).toHaveProperty('CREDENTIALS_GITHUB_CLIENT_SECRET');
  });

  test('two targets sharing one provider render it once', () => {
    const chart = newChart();
    const provider = github(chart);
    const first = McpTarget.fromUrl('first', 'https://a.example.com/mcp', { userCredential: UserCredential.oauth2({ provider }) });
    const second = McpTarget.fromUrl('second', 'https://b.example.com/mcp', { userCredential: UserCredential.oauth2({ provider }) });
    new McpGateway(chart, 'gateway', {
      credentialStore: CredentialStore.memory({ encryptionKey: encryptionKey(chart) }),
      routes: [{
        path: '/mcp',
        targets: [first, second],
      }],
    });
    expect(validationErrors(chart)).toEqual([]);
    expect(Object.keys(gatewayConfig(Testing.synth(chart)).config.credentials.providers)).toEqual(['github']);
  });
});

/** Sign-in with a KeycloakRealm that exchanges the user's token for the internal upstream's audience. */
function exchangeChart() {
  const chart = newChart();
  const realm = new KeycloakRealm(chart, 'keycloak', {
    hostname: 'https://auth.example.com',
    mcpAudiences: ['https://mcp.example.com/internal/mcp'],
    bootstrapAdmin: { secret: kplus.Secret.fromSecretName(chart, 'Admin', 'keycloak-admin') },
    database: KeycloakDatabase.cloudNativePg(),
    tokenExchange: { clientSecret: secretValue(chart, 'Exchange', 'mcp-token-exchange', 'secret'), audiences: ['internal-api'] },
  });
  const internal = McpTarget.fromUrl('internal', 'http://internal-api.tools.svc.cluster.local:8080/mcp', {
    userCredential: UserCredential.tokenExchange({ realm, audience: 'internal-api' }),
  });
  const gateway = new McpGateway(chart, 'gateway', {
    publicUrl: 'https://mcp.example.com',
    credentialStore: CredentialStore.cloudNativePg({ encryptionKey: encryptionKey(chart) }),
    routes: [{ path: '/internal/mcp', targets: [internal] }],
  });
  return { chart, realm, gateway };
}

describe('the browser sign-in of connect links', () => {
  test('the realm declares the gateway\'s confidential standard-flow client with the connect callback of each gateway origin', () => {
    const chart = newChart();
    const realm = signInRealm(chart);
    const client = realm.renderRealm().clients.find((c: any) => c.clientId === 'mcp-gateway-connect');
    expect(client).toEqual(expect.objectContaining({
      publicClient: false,
      clientAuthenticatorType: 'client-secret',
      secret: '${KEYCLOAK_REALM_CONNECT_SIGN_IN_SECRET}',
      standardFlowEnabled: true,
      implicitFlowEnabled: false,
      directAccessGrantsEnabled: false,
      serviceAccountsEnabled: false,
      redirectUris: ['http://mcp.example.com/connect/_signin/callback'],
      attributes: { 'pkce.code.challenge.method': 'S256' },
    }));
    const keycloak = Testing.synth(chart).find((o) => o.kind === 'Deployment' && o.spec.template.spec.containers[0].name === 'keycloak');
    expect(keycloak.spec.template.spec.containers[0].env).toContainEqual({
      name: 'KEYCLOAK_REALM_CONNECT_SIGN_IN_SECRET',
      valueFrom: { secretKeyRef: { name: 'mcp-connect-sign-in', key: 'secret' } },
    });
    expect(realm.connectSignInClient?.clientId).toBe('mcp-gateway-connect');
  });

  test('a realm without that client, for a gateway with an oauth2 credential, fails validation naming the fix', () => {
    const chart = newChart();
    const auth = new McpAuthPolicy(chart, 'auth', { issuer: signInRealm(chart, false) });
    const gateway = new McpGateway(chart, 'gateway', {
      publicUrl: 'http://mcp.example.com',
      credentialStore: CredentialStore.cloudNativePg({ encryptionKey: encryptionKey(chart) }),
      routes: [{ path: '/github/mcp', targets: [githubServer(chart)], policies: [auth] }],
    });
    expect(gateway.node.validate()).toEqual([expect.stringMatching(
      /credential provider "github" is oauth2, but no sign-in issuer of its routes declares a connectSignInClient.*Set connectSignIn/,
    )]);
  });

  test('an issuer this library does not deploy declares the client through OidcIssuer.fromUrl', () => {
    const chart = newChart();
    const issuer = OidcIssuer.fromUrl('https://login.example.com/realms/mcp', {
      tokenAudiences: ['mcp_proxy'],
      connectSignInClient: { clientId: 'gw-connect', clientSecret: secretValue(chart, 'Connect', 'gw-connect', 'secret') },
    });
    new McpGateway(chart, 'gateway', {
      publicUrl: 'https://mcp.example.com',
      credentialStore: CredentialStore.cloudNativePg({ encryptionKey: encryptionKey(chart) }),
      routes: [{ path: '/github/mcp', targets: [githubServer(chart)], policies: [new McpAuthPolicy(chart, 'auth', { issuer })] }],
    });
    const objects = Testing.synth(chart);
    expect(gatewayConfig(objects).config.credentials.browserSignIn).toEqual({
      clientId: 'gw-connect',
      clientSecret: { env: 'CREDENTIALS_BROWSER_SIGN_IN_CLIENT_SECRET' },
    });
    expect(gatewayEnv(objects).CREDENTIALS_BROWSER_SIGN_IN_CLIENT_SECRET).toEqual({ secretKeyRef: { name: 'gw-connect', key: 'secret' } });
  });

  test('gatewayUrls must be http(s) URLs, and some must exist', () => {
    const chart = newChart();
    const realm = new KeycloakRealm(chart, 'keycloak', {
      mcpAudiences: ['mcp_proxy'],
      bootstrapAdmin: { secret: kplus.Secret.fromSecretName(chart, 'Admin', 'keycloak-admin') },
      connectSignIn: { clientSecret: secretValue(chart, 'ConnectSignIn', 'mcp-connect-sign-in', 'secret') },
    });
    expect(validationErrors(chart).join('\n')).toMatch(/connectSignIn gatewayUrls is empty and no mcpAudiences is an http\(s\) URL/);
    expect(realm.connectSignInClient).toBeDefined();
  });
});

describe('token exchange with Keycloak', () => {
  test('the realm declares the gateway\'s confidential client with standard token exchange and the audience client', () => {
    const { realm } = exchangeChart();
    const json = realm.renderRealm();
    const gatewayClient = json.clients.find((c: any) => c.clientId === 'mcp-gateway');
    expect(gatewayClient).toEqual(expect.objectContaining({
      publicClient: false,
      clientAuthenticatorType: 'client-secret',
      secret: '${KEYCLOAK_REALM_TOKEN_EXCHANGE_SECRET}',
      standardFlowEnabled: false,
      directAccessGrantsEnabled: false,
      attributes: { 'standard.token.exchange.enabled': 'true' },
      defaultClientScopes: ['basic', 'mcp-gateway-audiences'],
    }));
    expect(json.clients.find((c: any) => c.clientId === 'internal-api')).toEqual(expect.objectContaining({ bearerOnly: true, publicClient: false }));
    const audienceScope = json.clientScopes.find((s: any) => s.name === 'mcp-gateway-audiences');
    expect(audienceScope.protocolMappers.map((m: any) => m.config['included.client.audience'])).toEqual(['internal-api']);
    // MCP tokens carry the gateway's client as audience: Keycloak exchanges only tokens addressed to the requester.
    const mcpScope = json.clientScopes.find((s: any) => s.name === 'mcp:tools');
    expect(mcpScope.protocolMappers.map((m: any) => m.config['included.client.audience']).filter(Boolean)).toEqual(['mcp-gateway']);
  });

  test('the gateway exchanges at the realm\'s in-cluster token endpoint with the realm\'s client secret, and may reach Keycloak', () => {
    const { chart, realm } = exchangeChart();
    const objects = Testing.synth(chart);
    const config = gatewayConfig(objects);
    const tokenUrl = realm.tokenExchangeClient!.tokenUrl;
    expect(tokenUrl).toMatch(/^http:\/\/[a-z0-9-]+\.mcp\.svc\.cluster\.local:8080\/realms\/mcp\/protocol\/openid-connect\/token$/);
    expect(config.config.credentials.providers['internal-api']).toEqual({
      tokenExchange: { tokenUrl, clientId: 'mcp-gateway', clientSecret: { env: 'CREDENTIALS_INTERNAL_API_CLIENT_SECRET' }, audience: 'internal-api' },
    });
    expect(gatewayEnv(objects).CREDENTIALS_INTERNAL_API_CLIENT_SECRET).toEqual({ secretKeyRef: { name: 'mcp-token-exchange', key: 'secret' } });
    const keycloakDeployment = objectsOf(objects, 'Deployment').find((o) => o.spec.template.spec.containers[0].name === 'keycloak');
    expect(keycloakDeployment.spec.template.spec.containers[0].env).toEqual(expect.arrayContaining([
      { name: 'KEYCLOAK_REALM_TOKEN_EXCHANGE_SECRET', valueFrom: { secretKeyRef: { name: 'mcp-token-exchange', key: 'secret' } } },
    ]));
    // The target is outside the chart, so only Keycloak's NetworkPolicy can name the gateway: it must.
    const keycloakPolicy = objectsOf(objects, 'NetworkPolicy').find((p) => JSON.stringify(p.spec.podSelector).includes('keycloak'));
    expect(JSON.stringify(keycloakPolicy.spec.ingress)).toContain('"app.kubernetes.io/component":"gateway"');
    expectValidManifests(objects);
  });

  test('the Keycloak operator gets the client secret as a placeholder', () => {
    const chart = newChart();
    const realm = new KeycloakRealm(chart, 'keycloak', {
      hostname: 'https://auth.example.com',
      mcpAudiences: ['https://mcp.example.com/mcp'],
      bootstrapAdmin: { secret: kplus.Secret.fromSecretName(chart, 'Admin', 'keycloak-admin') },
      database: KeycloakDatabase.postgres({
        host: 'db',
        username: secretValue(chart, 'U', 'db', 'user'),
        password: secretValue(chart, 'P', 'db',
          'pw'),
      }),
      keycloakOperator: { keycloakName: 'keycloak' },
      tokenExchange: {
        clientId: 'gateway',
        clientSecret: secretValue(chart, 'Exchange', 'mcp-token-exchange', 'secret'),
        audiences: ['internal-api'],
      },
    });
    const [realmImport] = objectsOf(Testing.synth(chart), 'KeycloakRealmImport');
    expect(realmImport.spec.placeholders.KEYCLOAK_REALM_TOKEN_EXCHANGE_SECRET).toEqual({ secret: { name: 'mcp-token-exchange', key: 'secret' } });
    expect(realm.tokenExchangeClient?.clientId).toBe('gateway');
  });
});

describe('validation', () => {
  test('a credential without a store names the targets and the choices', () => {
    const { chart } = gatewayChart({ credentialStore: undefined });
    expect(validationErrors(chart)).toEqual([
      expect.stringMatching(/gateway: credentialStore is missing, but github \(route \/github\/mcp\) needs a user credential .*cloudNativePg/),
    ]);
  });

  test('the memory store with more than one replica is refused', () => {
    const chart = newChart();
    const { gateway } = {
      gateway: new McpGateway(chart, 'gateway', {
        replicas: 2,
        sessionKey: kplus.EnvValue.fromSecretValue(secretValue(chart, 'Session', 'mcp-session', 'key')),
        credentialStore: CredentialStore.memory({ encryptionKey: encryptionKey(chart) }),
        routes: [{ path: '/github/mcp', targets: [githubServer(chart)] }],
      }),
    };
    expect(gateway.node.validate()).toEqual([
      expect.stringContaining('credentialStore is CredentialStore.memory(), but the gateway may run more than one pod'),
    ]);
  });

  test('a stdio server takes its credential as an environment variable, never a header, and never from a pool', () => {
    const header = githubServer(newChart(), undefined, McpServerTransport.stdio());
    expect(header.node.validate()).toEqual([
      expect.stringMatching(/userCredential inject is a header, which a stdio server cannot read: .*CredentialInjection\.env\("GITHUB_/),
    ]);
    const pooled = stdioGithubServer(newChart(), 'pooled', { stdioPool: StdioProcessPool.warm({ size: 2 }) });
    expect(pooled.node.validate()).toEqual([
      expect.stringMatching(/stdioPool is set with userCredential injected as env "GITHUB_PERSONAL_ACCESS_TOKEN": .*never kept warm/),
    ]);
    const kmcp = stdioGithubServer(newChart(), 'kmcp', { workload: McpServerWorkload.KMCP });
    expect(kmcp.node.validate()).toEqual([
      expect.stringContaining('userCredential inject is an environment variable, which kmcp\'s bridge cannot set'),
    ]);
    const chart = newChart();
    const env = CredentialInjection.env('GITHUB_PERSONAL_ACCESS_TOKEN');
    const http = githubServer(chart, UserCredential.oauth2({ provider: github(chart), inject: env }));
    expect(http.node.validate()).toEqual([
      expect.stringContaining('userCredential inject is CredentialInjection.env("GITHUB_PERSONAL_ACCESS_TOKEN"), which only the stdio bridge'),
    ]);
    const badName = stdioGithubServer(newChart(), 'bad', {}, '1-TOKEN');
    expect(badName.node.validate()).toEqual([expect.stringContaining('userCredential inject env "1-TOKEN" is not a variable name')]);
  });

  test('secrets must be Secret keys, names DNS labels, headers header names', () => {
    const chart = newChart();
    const noKey = { secret: kplus.Secret.fromSecretName(chart, 'NoKey', 'github-oauth-app'), key: '' };
    const server = githubServer(chart, UserCredential.oauth2({
      provider: OAuthProvider.github({ name: 'Git_Hub', clientId: '', clientSecret: noKey, scopes: ['repo read:user'] }),
      inject: CredentialInjection.header('Mcp-Session-Id'),
    }));
    const messages = server.node.validate();
    expect(messages).toEqual([
      expect.stringContaining('userCredential provider name "Git_Hub" is not a DNS-1123 label'),
      expect.stringContaining('userCredential provider clientId is empty'),
      expect.stringContaining('userCredential provider clientSecret names Secret "github-oauth-app" without a key'),
      expect.stringContaining('userCredential provider scopes has an empty scope or one with whitespace'),
      expect.stringContaining('userCredential inject header "Mcp-Session-Id" is set by the gateway or the MCP transport itself'),
    ]);
    const { chart: storeChart, gateway } = gatewayChart({
      credentialStore: CredentialStore.postgres({
        url: noKey,
        table: 'Bad-Table',
        encryptionKey: noKey,
      }),
    });
    expect(storeChart).toBeDefined();
    expect(gateway.node.validate()).toEqual([
      expect.stringMatching(/credentialStore encryptionKey names Secret "github-oauth-app" without a key\. Create the key once, `kubectl create/),
      expect.stringContaining('credentialStore url names Secret "github-oauth-app" without a key'),
      expect.stringContaining('credentialStore table "Bad-Table" is not a plain lower-case SQL identifier'),
    ]);
  });

  test('one provider name declared two ways is refused', () => {
    const chart = newChart();
    const other = OAuthProvider.github({ clientId: 'Ov23liOther', clientSecret: secretValue(chart, 'Other', 'other-app', 'clientSecret') });
    const first = McpTarget.fromUrl('first', 'https://a.example.com/mcp', { userCredential: UserCredential.oauth2({ provider: github(chart) }) });
    const second = McpTarget.fromUrl('second', 'https://b.example.com/mcp', { userCredential: UserCredential.oauth2({ provider: other }) });
    const gateway = new McpGateway(chart, 'gateway', {
      credentialStore: CredentialStore.memory({ encryptionKey: encryptionKey(chart) }),
      routes: [{ path: '/mcp', targets: [first, second] }],
    });
    expect(gateway.node.validate()).toEqual([
      expect.stringContaining('credential provider "github" is declared differently by route /mcp target first, route /mcp target second'),
    ]);
  });

  test('token exchange needs the realm\'s client and a declared audience, or a client of its own', () => {
    const chart = newChart();
    const realm = new KeycloakRealm(chart, 'keycloak', {
      mcpAudiences: ['https://mcp.example.com/mcp'],
      bootstrapAdmin: { secret: kplus.Secret.fromSecretName(chart, 'Admin', 'keycloak-admin') },
      database: KeycloakDatabase.devFile(),
    });
    const targets = [
      McpTarget.fromUrl('a', 'http://a:8080/mcp', { userCredential: UserCredential.tokenExchange({ realm, audience: 'internal-api' }) }),
      McpTarget.fromUrl('b', 'http://b:8080/mcp', { userCredential: UserCredential.tokenExchange({ audience: 'other-api' }) }),
    ];
    const gateway = new McpGateway(chart, 'gateway', {
      credentialStore: CredentialStore.memory({ encryptionKey: encryptionKey(chart) }),
      routes: [{ path: '/mcp', targets }],
    });
    expect(gateway.node.findAll().flatMap((c) => c.node.validate())).toEqual([
      expect.stringMatching(/target "a" userCredential realm test\/keycloak declares no tokenExchange client\. Set tokenExchange on the/),
      expect.stringContaining('target "b" userCredential clientId is empty'),
      expect.stringContaining('target "b" userCredential clientSecret is missing'),
    ]);

    const declared = newChart();
    const withExchange = new KeycloakRealm(declared, 'keycloak', {
      mcpAudiences: ['https://mcp.example.com/mcp'],
      bootstrapAdmin: { secret: kplus.Secret.fromSecretName(declared, 'Admin', 'keycloak-admin') },
      database: KeycloakDatabase.devFile(),
      tokenExchange: { clientSecret: secretValue(declared, 'Exchange', 'x', 'secret'), audiences: ['internal-api', 'mcp-client'] },
    });
    const server = githubServer(declared, UserCredential.tokenExchange({ realm: withExchange, audience: 'billing' }));
    expect(server.node.validate()).toEqual([
      expect.stringContaining('userCredential audience "billing" is not among the realm\'s tokenExchange audiences (internal-api, mcp-client)'),
    ]);
    expect(withExchange.node.validate()).toEqual([
      expect.stringContaining('tokenExchange audiences "mcp-client" is listed twice or is already a client of the realm'),
    ]);
  });

  test('a controller implementation cannot keep per-user credentials', () => {
    const chart = newChart();
    const gateway = new McpGateway(chart, 'gateway', {
      implementation: McpGatewayImplementation.AGENTGATEWAY,
      exposure: McpGatewayExposure.gateway(),
      credentialStore: CredentialStore.memory({ encryptionKey: encryptionKey(chart) }),
      routes: [{ path: '/github/mcp', targets: [githubServer(chart)] }],
    });
    expect(gateway.node.validate()).toEqual(expect.arrayContaining([
      expect.stringContaining('credentialStore applies to the RUNTIME implementation only'),
      expect.stringContaining('implementation is agentgateway, which cannot keep and inject per-user credentials (targets github'),
    ]));
  });
});

describe('the runtime\'s config schema', () => {
  // The schema learns `credentials` from the runtime's #14 work (branch `creds`); until both are merged this fails
  // with the reason instead of validating against a copy of the contract.
  test('accepts the rendered config.credentials and targets[].credential', () => {
    const schema = JSON.parse(fs.readFileSync(RUNTIME_SCHEMA, 'utf8'));
    const configProperties = schema.properties?.config?.properties ?? schema.$defs?.config?.properties ?? {};
    if (!('credentials' in configProperties) && !JSON.stringify(schema).includes('"credentials"')) {
      throw new Error(`${path.relative(process.cwd(), RUNTIME_SCHEMA)} has no config.credentials: merge the runtime's per-user credentials `
        + '(#14, branch creds) and regenerate the schema, then run this test again');
    }
    const ajv = new Ajv2020({ allErrors: true, strict: false });
    addFormats(ajv);
    const validate = ajv.compile(schema);
    const memory = gatewayChart({ credentialStore: CredentialStore.memory({ encryptionKey: encryptionKey(newChart()) }) });
    const stdio = newChart();
    new McpGateway(stdio, 'gateway', {
      credentialStore: CredentialStore.memory({ encryptionKey: encryptionKey(stdio) }),
      routes: [{ path: '/github/mcp', targets: [stdioGithubServer(stdio)] }],
    });
    for (const { chart } of [gatewayChart(), memory, exchangeChart(), { chart: stdio }]) {
      const config = gatewayConfig(Testing.synth(chart));
      validate(config);
      expect(validate.errors ?? []).toEqual([]);
    }
  });
});

test('routes in another namespace reach the runtime for the connect flow through one ReferenceGrant entry', () => {
  const { chart } = gatewayChart({
    exposure: McpGatewayExposure.existingGateway({ parentRefs: [{ name: 'shared', namespace: 'gateways' }], routeNamespace: 'gateways' }),
  });
  const objects = Testing.synth(chart);
  const connect = objectsOf(objects, 'HTTPRoute').find((r) => r.spec.rules[0].matches[0].path.type === 'PathPrefix');
  expect(connect.metadata.namespace).toBe('gateways');
  expect(connect.spec.rules[0].backendRefs[0].namespace).toBe('mcp');
  const [grant] = objectsOf(objects, 'ReferenceGrant');
  expect(grant.spec.to).toHaveLength(1);
  expectValidManifests(objects);
});

test('mcp-gateway dev runs a stdio server with an env credential as a local stdio target that gets the credential in that variable', () => {
  const chart = newChart();
  new McpGateway(chart, 'gateway', {
    credentialStore: CredentialStore.memory({ encryptionKey: encryptionKey(chart) }),
    routes: [{ path: '/github/mcp', targets: [stdioGithubServer(chart)] }],
  });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'credenv-dev-'));
  try {
    fs.writeFileSync(path.join(dir, 'chart.k8s.yaml'), Testing.synth(chart).map((o) => YAML.stringify(o)).join('---\n'));
    const manifests = path.resolve(__dirname, '..', 'runtime', 'lib', 'dev', 'manifests.js');
    const plan = `m.planFromManifests(${JSON.stringify(dir)}).config`;
    const script = `import(${JSON.stringify(manifests)}).then((m) => process.stdout.write(JSON.stringify(${plan})))`;
    const run = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8' });
    expect(run.stderr).toBe('');
    const target = JSON.parse(run.stdout).binds[0].listeners[0].routes[0].backends[0].mcp.targets[0];
    expect(target).toMatchObject({
      stdio: { cmd: '/server/github-mcp-server', args: ['stdio'] },
      credential: { provider: 'github', inject: { env: 'GITHUB_PERSONAL_ACCESS_TOKEN' } },
    });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
