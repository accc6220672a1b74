import * as fs from 'fs';
import type { Chart } from 'cdk8s';
import { Size, Testing } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { KeycloakExposure } from '../src/keycloak-exposure';
import type { KeycloakRealmProps } from '../src/keycloak-realm';
import { KeycloakDatabase, KeycloakRealm } from '../src/keycloak-realm';
import { McpAuthPolicy } from '../src/mcp-auth-policy';
import { AuthorizationRule } from '../src/mcp-authorization-rule';
import { CRDS_DIR, expectValidManifests, validateManifests } from './util/manifest-validation';
import { synthError } from './util/synth';

const AUDIENCE = 'https://mcp.example.com/github/mcp';
const ADMIN_PASSWORD = 'admin-Pa55word-never-in-a-configmap';
const ALICE_PASSWORD = 'alice-Pa55word-never-in-a-configmap';

interface Fixture {
  readonly chart: Chart;
  readonly realm: KeycloakRealm;
}

function realmChart(props: Partial<KeycloakRealmProps> = {}, namespace = 'auth'): Fixture {
  const chart = Testing.chart();
  Object.defineProperty(chart, 'namespace', { value: namespace });
  const passwords = new kplus.Secret(chart, 'user-passwords', { stringData: { admin: ADMIN_PASSWORD, alice: ALICE_PASSWORD } });
  const realm = new KeycloakRealm(chart, 'keycloak', {
    mcpAudiences: [AUDIENCE],
    bootstrapAdmin: { secret: kplus.Secret.fromSecretName(chart, 'bootstrap', 'keycloak-bootstrap-admin') },
    database: KeycloakDatabase.devFile(),
    roles: [{ name: 'admin', description: 'May delete repositories' }, { name: 'developer' }],
    groups: [{ name: 'maintainers', realmRoles: ['developer'] }],
    users: [
      {
        username: 'admin',
        password: { secret: passwords, key: 'admin' },
        email: 'admin@example.com',
        firstName: 'Ada',
        lastName: 'Admin',
        realmRoles: ['admin'],
      },
      {
        username: 'alice',
        password: { secret: passwords, key: 'alice' },
        email: 'alice@example.com',
        firstName: 'Alice',
        lastName: 'Example',
        groups: ['maintainers'],
      },
    ],
    ...props,
  });
  return { chart, realm };
}

const byKind = (objects: any[], kind: string) => objects.filter(o => o.kind === kind);

/** Wraps a realm in the operator's import resource, whose CRD schema is Keycloak's RealmRepresentation. */
function asRealmImport(realm: any): any {
  return {
    apiVersion: 'k8s.keycloak.org/v2alpha1',
    kind: 'KeycloakRealmImport',
    metadata: { name: 'realm-check' },
    spec: { keycloakCRName: 'keycloak', realm },
  };
}

describe('KeycloakRealm as a Deployment (development database)', () => {
  test('every object is a valid Kubernetes 1.28 manifest', () => {
    const objects = Testing.synth(realmChart().chart);
    const report = expectValidManifests(objects);
    expect(report.checked).toEqual(
      expect.arrayContaining([expect.stringMatching(/^Deployment\//), expect.stringMatching(/^Service\//), expect.stringMatching(/^ConfigMap\//)]),
    );
  });

  test('runs start-dev with the realm import, health probes on the management port and a memory limit', () => {
    const objects = Testing.synth(realmChart().chart);
    const [deployment] = byKind(objects, 'Deployment');
    const pod = deployment.spec.template.spec;
    const [container] = pod.containers;

    expect(deployment.spec.replicas).toBe(1);
    expect(deployment.spec.strategy).toEqual({ type: 'Recreate' });
    expect(container.image).toBe(KeycloakRealm.IMAGE);
    expect(KeycloakRealm.IMAGE).toMatch(/^quay\.io\/keycloak\/keycloak:26\.([5-9]|\d\d)\.\d+$/);
    expect(container.args).toEqual(['start-dev', '--import-realm']);
    expect(container.startupProbe.httpGet).toEqual({ path: '/health/started', port: 9000, scheme: 'HTTP' });
    expect(container.readinessProbe.httpGet).toEqual({ path: '/health/ready', port: 9000, scheme: 'HTTP' });
    expect(container.livenessProbe.httpGet).toEqual({ path: '/health/live', port: 9000, scheme: 'HTTP' });
    expect(container.resources.limits.memory).toBe('2048Mi');
    expect(container.securityContext).toMatchObject({
      runAsNonRoot: true,
      runAsUser: 1000,
      allowPrivilegeEscalation: false,
      privileged: false,
      capabilities: { drop: ['ALL'] },
    });
    expect(pod.securityContext.runAsNonRoot).toBe(true);

    const env = Object.fromEntries(container.env.map((e: any) => [e.name, e.value ?? e.valueFrom]));
    expect(env.KC_HEALTH_ENABLED).toBe('true');
    expect(env.KC_BOOTSTRAP_ADMIN_USERNAME).toEqual({ secretKeyRef: { name: 'keycloak-bootstrap-admin', key: 'username' } });
    expect(env.KC_BOOTSTRAP_ADMIN_PASSWORD).toEqual({ secretKeyRef: { name: 'keycloak-bootstrap-admin', key: 'password' } });
    expect(env.KEYCLOAK_REALM_USER_0_PASSWORD.secretKeyRef.key).toBe('admin');
    expect(env.KEYCLOAK_REALM_USER_1_PASSWORD.secretKeyRef.key).toBe('alice');
    expect(env.KC_DB).toBeUndefined();

    const mount = container.volumeMounts.find((m: any) => m.mountPath === '/opt/keycloak/data/import');
    const volume = pod.volumes.find((v: any) => v.name === mount.name);
    const [realmFile] = byKind(objects, 'ConfigMap');
    expect(volume.configMap.name).toBe(realmFile.metadata.name);
    expect(Object.keys(realmFile.data)).toEqual(['mcp-realm.json']);
  });

  test('no password appears in any ConfigMap; the realm file holds placeholders resolved from secretKeyRef env', () => {
    const objects = Testing.synth(realmChart().chart);
    for (const configMap of byKind(objects, 'ConfigMap')) {
      const text = JSON.stringify(configMap);
      expect(text).not.toContain(ADMIN_PASSWORD);
      expect(text).not.toContain(ALICE_PASSWORD);
    }
    const realm = JSON.parse(byKind(objects, 'ConfigMap')[0].data['mcp-realm.json']);
    expect(realm.users.map((u: any) => u.credentials)).toEqual([
      [{ type: 'password', value: '${KEYCLOAK_REALM_USER_0_PASSWORD}', temporary: false }],
      [{ type: 'password', value: '${KEYCLOAK_REALM_USER_1_PASSWORD}', temporary: false }],
    ]);
  });

  test('exposes the in-cluster issuer and JWKS URLs, and McpAuthPolicy takes the realm directly', () => {
    const { chart, realm } = realmChart();
    const serviceName = realm.service!.name;
    expect(realm.issuerUrl).toBe(`http://${serviceName}.auth.svc.cluster.local:8080/realms/mcp`);
    expect(realm.jwksUrl).toBe(`http://${serviceName}.auth.svc.cluster.local:8080/realms/mcp/protocol/openid-connect/certs`);

    // Without a public hostname the issuer already is the in-cluster URL: no back-channel to render.
    expect(realm.backchannelUrl).toBe(realm.issuerUrl);
    const auth = new McpAuthPolicy(chart, 'auth', { issuer: realm, rules: [AuthorizationRule.allowTool('get_me')] });
    expect(auth.renderRoutePolicies({ routePath: '/github/mcp' }).mcpAuthentication).toEqual({
      issuer: realm.issuerUrl,
      audiences: [AUDIENCE],
      jwks: { url: realm.jwksUrl },
      provider: { keycloak: {} },
      mode: 'strict',
      resourceMetadata: { scopesSupported: ['mcp:tools'], bearerMethodsSupported: ['header'] },
    });
    expectValidManifests(Testing.synth(chart));
  });

  test('without a chart namespace the in-cluster URLs use the short Service name, not a guessed namespace', () => {
    const chart = Testing.chart();
    const realm = new KeycloakRealm(chart, 'keycloak', {
      mcpAudiences: [AUDIENCE],
      bootstrapAdmin: { secret: kplus.Secret.fromSecretName(chart, 'bootstrap', 'keycloak-bootstrap-admin') },
      database: KeycloakDatabase.devFile(),
    });
    const serviceName = realm.service!.name;
    expect(realm.internalUrl).toBe(`http://${serviceName}:8080`);
    expect(realm.jwksUrl).toBe(`http://${serviceName}:8080/realms/mcp/protocol/openid-connect/certs`);
  });
});

describe('the generated realm', () => {
  test('matches Keycloak\'s RealmRepresentation (the KeycloakRealmImport CRD schema), unknown fields rejected', () => {
    const realm = realmChart().realm.renderRealm();
    const report = validateManifests([asRealmImport(realm), asRealmImport({ ...realm, clientScopes: [{ name: 'x', mappers: [] }] })]);
    if (!fs.existsSync(CRDS_DIR)) {
      console.warn(`keycloak-realm.test: realm schema check did not run: ${CRDS_DIR} not found`);
      expect(report.notChecked).toHaveLength(2);
      return;
    }
    // The second copy has a misspelled field: proof that the schema check rejects unknown fields.
    expect(report.errors).toEqual([
      { object: 'KeycloakRealmImport/realm-check', path: 'spec.realm.clientScopes[0].mappers', message: 'unknown field "mappers"' },
    ]);
  });

  test('declares basic, the MCP audience scope and realm defaults so DCR clients get sub, aud, roles and groups', () => {
    const realm = realmChart().realm.renderRealm();
    const scopes = Object.fromEntries(realm.clientScopes.map((s: any) => [s.name, s]));
    expect(Object.keys(scopes)).toEqual([
      'basic',
      'profile',
      'email',
      'offline_access',
      'roles',
      'web-origins',
      'acr',
      'address',
      'phone',
      'microprofile-jwt',
      'mcp:tools',
    ]);
    expect(scopes.basic.protocolMappers.map((m: any) => m.protocolMapper)).toContain('oidc-sub-mapper');
    expect(realm.defaultOptionalClientScopes).toEqual(['profile', 'email', 'offline_access', 'roles', 'address', 'phone', 'microprofile-jwt']);

    const mappers = Object.fromEntries(scopes['mcp:tools'].protocolMappers.map((m: any) => [m.protocolMapper, m.config]));
    expect(mappers['oidc-sub-mapper']).toBeDefined();
    expect(mappers['oidc-audience-mapper']).toMatchObject({ 'included.custom.audience': AUDIENCE, 'access.token.claim': 'true' });
    expect(mappers['oidc-usermodel-realm-role-mapper']).toMatchObject({ 'claim.name': 'realm_access.roles', 'multivalued': 'true' });
    expect(mappers['oidc-group-membership-mapper']).toMatchObject({ 'claim.name': 'groups', 'full.path': 'false' });

    expect(realm.defaultDefaultClientScopes).toEqual(['basic', 'mcp:tools', 'acr', 'web-origins']);
    expect(realm.scopeMappings).toEqual([
      { clientScope: 'offline_access', roles: ['offline_access'] },
      { clientScope: 'mcp:tools', roles: ['admin', 'developer'] },
    ]);
    expect(realm.roles.realm).toEqual([{ name: 'admin', description: 'May delete repositories' }, { name: 'developer' }]);
    expect(realm.groups).toEqual([{ name: 'maintainers', path: '/maintainers', realmRoles: ['developer'] }]);
    expect(realm.users[0]).toMatchObject({
      username: 'admin',
      email: 'admin@example.com',
      emailVerified: true,
      realmRoles: ['default-roles-mcp', 'admin'],
      groups: [],
    });
    expect(realm.users[1]).toMatchObject({ username: 'alice', realmRoles: ['default-roles-mcp'], groups: ['/maintainers'] });
  });

  test('has a public PKCE client for loopback and configured redirect URIs', () => {
    const realm = realmChart({ redirectUris: ['https://claude.ai/api/mcp/auth_callback'] }).realm.renderRealm();
    expect(realm.clients).toHaveLength(1);
    expect(realm.clients[0]).toMatchObject({
      clientId: 'mcp-client',
      publicClient: true,
      standardFlowEnabled: true,
      directAccessGrantsEnabled: false,
      redirectUris: ['http://localhost/*', 'http://127.0.0.1/*', 'https://claude.ai/api/mcp/auth_callback'],
      attributes: { 'pkce.code.challenge.method': 'S256' },
      defaultClientScopes: ['basic', 'mcp:tools', 'acr', 'web-origins'],
    });
  });

  test('declares the full set of client registration policies for anonymous MCP clients', () => {
    const realm = realmChart({ clientRegistration: { trustedHosts: ['localhost', '127.0.0.1', 'vscode.dev'], maxClients: 50, webOrigins: ['http://localhost:6274'] } })
      .realm.renderRealm();
    const policies = realm.components['org.keycloak.services.clientregistration.policy.ClientRegistrationPolicy'];
    const anonymous = Object.fromEntries(policies.filter((p: any) => p.subType === 'anonymous').map((p: any) => [p.providerId, p.config]));
    expect(Object.keys(anonymous).sort()).toEqual([
      'allowed-client-templates', 'allowed-protocol-mappers', 'consent-required', 'max-clients', 'registration-web-origins', 'scope', 'trusted-hosts',
    ]);
    expect(anonymous['trusted-hosts']).toEqual({
      'trusted-hosts': ['localhost', '127.0.0.1', 'vscode.dev'],
      'host-sending-registration-request-must-match': ['false'],
      'client-uris-must-match': ['true'],
    });
    expect(anonymous['allowed-client-templates']).toEqual({
      'allowed-client-scopes': [
        'mcp:tools',
        'profile',
        'email',
        'offline_access',
        'roles',
        'address',
        'phone',
        'microprofile-jwt',
        'acr',
        'web-origins',
      ],
      'allow-default-scopes': ['true'],
    });
    expect(anonymous['max-clients']).toEqual({ 'max-clients': ['50'] });
    expect(anonymous['registration-web-origins']).toEqual({ 'web-origins': ['http://localhost:6274'] });
    expect(
      policies
        .filter((p: any) => p.subType === 'authenticated')
        .map((p: any) => p.providerId)
        .sort(),
    ).toEqual(['allowed-client-templates', 'allowed-protocol-mappers', 'registration-web-origins']);
  });

  test('disabling registration keeps a policy set that rejects anonymous clients', () => {
    const realm = realmChart({ disableClientRegistration: true }).realm.renderRealm();
    const policies = realm.components['org.keycloak.services.clientregistration.policy.ClientRegistrationPolicy'];
    expect(policies.find((p: any) => p.providerId === 'trusted-hosts').config['trusted-hosts']).toEqual([]);
  });
});

describe('KeycloakRealm with PostgreSQL (production mode)', () => {
  function postgresRealm(props: Partial<KeycloakRealmProps> = {}): Fixture {
    const chart = Testing.chart();
    const db = kplus.Secret.fromSecretName(chart, 'db', 'keycloak-db');
    return realmChart({
      hostname: 'https://auth.example.com',
      database: KeycloakDatabase.postgres({
        host: 'postgres.db.svc.cluster.local',
        username: { secret: db, key: 'user' },
        password: { secret: db, key: 'password' },
      }),
      ...props,
    });
  }

  test('runs start with hostname, proxy headers and the database from Secret keys', () => {
    const { chart, realm } = postgresRealm();
    const objects = Testing.synth(chart);
    expectValidManifests(objects);
    const [container] = byKind(objects, 'Deployment')[0].spec.template.spec.containers;
    const env = Object.fromEntries(container.env.map((e: any) => [e.name, e.value ?? e.valueFrom]));

    expect(container.args).toEqual(['start', '--import-realm']);
    expect(env).toMatchObject({
      KC_HOSTNAME: 'https://auth.example.com',
      KC_HTTP_ENABLED: 'true',
      KC_PROXY_HEADERS: 'xforwarded',
      KC_DB: 'postgres',
      KC_DB_URL_HOST: 'postgres.db.svc.cluster.local',
      KC_DB_URL_PORT: '5432',
      KC_DB_URL_DATABASE: 'keycloak',
      KC_DB_USERNAME: { secretKeyRef: { name: 'keycloak-db', key: 'user' } },
      KC_DB_PASSWORD: { secretKeyRef: { name: 'keycloak-db', key: 'password' } },
    });
    expect(realm.issuerUrl).toBe('https://auth.example.com/realms/mcp');
    expect(realm.jwksUrl).toMatch(/^http:\/\/.*\.auth\.svc\.cluster\.local:8080\/realms\/mcp\/protocol\/openid-connect\/certs$/);
  });

  test('production mode without a hostname fails synthesis', () => {
    const message = synthError(postgresRealm({ hostname: undefined }).chart);
    expect(message).toMatch(/KeycloakRealm test\/keycloak: hostname is required with a PostgreSQL database.*Set hostname/);
    // Named once, like every other construct's messages.
    expect(message).not.toMatch(/KeycloakRealm KeycloakRealm/);
  });

  test('emits the operator\'s Keycloak and KeycloakRealmImport instead, valid against the Keycloak 26 CRDs', () => {
    const { chart, realm } = postgresRealm({ keycloakOperator: { keycloakName: 'mcp-keycloak', createKeycloak: true }, features: ['cimd'] });
    const objects = Testing.synth(chart);
    const report = validateManifests(objects);
    expect(report.errors).toEqual([]);
    expect(byKind(objects, 'Deployment')).toHaveLength(0);
    expect(byKind(objects, 'ConfigMap')).toHaveLength(0);
    if (fs.existsSync(CRDS_DIR)) {
      expect(report.checked).toEqual(expect.arrayContaining(['Keycloak/mcp-keycloak', expect.stringMatching(/^KeycloakRealmImport\//)]));
    } else {
      console.warn(`keycloak-realm.test: Keycloak CRD check did not run: ${CRDS_DIR} not found`);
      expect(report.notChecked).toHaveLength(2);
    }

    const [keycloak] = byKind(objects, 'Keycloak');
    expect(keycloak.spec.image).toBeUndefined();
    expect(keycloak.spec).toMatchObject({
      db: { vendor: 'postgres', host: 'postgres.db.svc.cluster.local', usernameSecret: { name: 'keycloak-db', key: 'user' } },
      hostname: { hostname: 'https://auth.example.com' },
      bootstrapAdmin: { user: { secret: 'keycloak-bootstrap-admin' } },
      features: { enabled: ['cimd'] },
    });
    const [realmImport] = byKind(objects, 'KeycloakRealmImport');
    expect(realmImport.spec.keycloakCRName).toBe('mcp-keycloak');
    expect(realmImport.spec.placeholders.KEYCLOAK_REALM_USER_0_PASSWORD).toEqual({ secret: { name: expect.any(String), key: 'admin' } });
    expect(JSON.stringify(realmImport)).not.toContain(ADMIN_PASSWORD);
    expect(realm.jwksUrl).toBe('http://mcp-keycloak-service.auth.svc.cluster.local:8080/realms/mcp/protocol/openid-connect/certs');
  });
});

describe('KeycloakRealm validation', () => {
  test('reports every mistake in users, roles, groups and the realm name', () => {
    const chart = Testing.chart();
    const secret = kplus.Secret.fromSecretName(chart, 'pw', 'passwords');
    new KeycloakRealm(chart, 'keycloak', {
      realmName: 'my realm',
      mcpAudiences: ['mcp.example.com/mcp'],
      bootstrapAdmin: { secret },
      roles: [{ name: 'admin' }, { name: 'admin' }],
      groups: [{ name: 'ops', realmRoles: ['operator'] }],
      users: [
        {
          username: 'bob',
          password: { secret, key: 'bob' },
          email: 'bob@example.com',
          firstName: 'Bob',
          lastName: 'B',
          realmRoles: ['auditor'],
          groups: ['sre'],
        },
        { username: 'bob', password: { secret, key: 'bob2' }, email: 'bob@example.com', firstName: 'Bob', lastName: 'B' },
        { username: 'Carol', password: { secret, key: 'carol' }, email: 'carol@example.com', firstName: 'Carol', lastName: 'C' },
        { username: 'dave', email: 'dave@example.com', firstName: 'Dave', lastName: 'D' } as any,
        { username: 'erin', password: { secret, key: 'erin' } } as any,
      ],
      image: 'quay.io/keycloak/keycloak:25.0.6',
      resources: { cpu: { request: kplus.Cpu.millis(100) }, memory: { request: Size.gibibytes(1) } },
    });
    const message = synthError(chart);
    for (const expected of [
      'KeycloakRealm test/keycloak: realmName "my realm" is not usable',
      'mcpAudiences entry "mcp.example.com/mcp" is not an absolute http(s) URL',
      'roles declares "admin" twice',
      'groups["ops"].realmRoles references the undeclared role "operator". Add { name: "operator" } to roles.',
      'users[0].realmRoles of "bob" references the undeclared role "auditor"',
      'users[0].groups of "bob" references the undeclared group "sre"',
      'users[1].username "bob" is declared twice',
      'users[2].username "Carol" has upper-case letters',
      'users[3].password of "dave" is missing',
      'users[4] "erin" has no email, firstName, lastName: Keycloak\'s user profile requires them',
      'resources.memory.limit is missing',
      'database is missing, so Keycloak would not know where to keep its data. Pass database: KeycloakDatabase.cloudNativePg()',
      'image "quay.io/keycloak/keycloak:25.0.6" is Keycloak 25.0, older than 26.5',
    ]) {
      expect(message).toContain(expected);
    }
  });

  test('reports bad audiences, scope, redirect URIs, registration limit and operator settings', () => {
    const db = kplus.Secret.fromSecretName(Testing.chart(), 'db', 'keycloak-db');
    const { chart } = realmChart({
      mcpAudiences: [],
      mcpScope: 'mcp tools',
      redirectUris: ['claude.ai/callback'],
      clientRegistration: { maxClients: 0 },
      hostname: 'https://auth.example.com',
      database: KeycloakDatabase.postgres({ host: ' ', port: 70000, username: { secret: db, key: 'u' }, password: { secret: db, key: 'p' } }),
      keycloakOperator: { keycloakName: 'Keycloak_1' },
      bootstrapAdmin: { secret: db, usernameKey: 'user' },
    });
    const message = synthError(chart);
    for (const expected of [
      'mcpAudiences is empty, so tokens would carry no audience the gateway accepts',
      'mcpScope "mcp tools" is not a usable OAuth scope name',
      'redirectUris entry "claude.ai/callback" is not an absolute URL',
      'clientRegistration.maxClients 0 is not a positive whole number',
      'database.host is empty',
      'database.port 70000 is not a port number',
      'keycloakOperator.keycloakName "Keycloak_1" is not a DNS-1123 label',
      'bootstrapAdmin uses custom secret keys, which the Keycloak operator does not support',
    ]) {
      expect(message).toContain(expected);
    }
  });

  test('the administration realm cannot be reused and an operator-created Keycloak needs a database', () => {
    const { chart } = realmChart({ realmName: 'master', keycloakOperator: {} });
    const message = synthError(chart);
    expect(message).toContain('realmName "master" is Keycloak\'s administration realm');
    expect(message).toContain('keycloakOperator creates a Keycloak resource, which runs in production mode and needs a database');
  });
});

describe('KeycloakRealm in production', () => {
  test('with CloudNativePG: start (not start-dev), a Cluster and a Database, credentials from the operator\'s Secret', () => {
    const { chart, realm } = realmChart({ hostname: 'https://auth.example.com', database: KeycloakDatabase.cloudNativePg({ storageSize: Size.gibibytes(20) }) });
    const objects = Testing.synth(chart);
    const report = expectValidManifests(objects);
    const [cluster] = byKind(objects, 'Cluster');
    const [database] = byKind(objects, 'Database');
    if (fs.existsSync(CRDS_DIR)) {
      expect(report.checked).toEqual(expect.arrayContaining([`Cluster/${cluster.metadata.name}`, `Database/${database.metadata.name}`]));
    }
    expect(cluster.apiVersion).toBe('postgresql.cnpg.io/v1');
    expect(cluster.spec).toMatchObject({
      instances: 2,
      bootstrap: { initdb: { database: 'keycloak', owner: 'keycloak' } },
      storage: { size: '20Gi' },
    });
    expect(database.spec).toEqual({
      cluster: { name: cluster.metadata.name },
      name: 'keycloak',
      owner: 'keycloak',
      ensure: 'present',
      databaseReclaimPolicy: 'retain',
    });
    const [container] = byKind(objects, 'Deployment')[0].spec.template.spec.containers;
    expect(container.args).toEqual(['start', '--import-realm']);
    const env = Object.fromEntries(container.env.map((e: any) => [e.name, e.value ?? e.valueFrom]));
    expect(env.KC_DB).toBe('postgres');
    expect(env.KC_DB_URL_HOST).toBe(`${cluster.metadata.name}-rw.auth.svc.cluster.local`);
    expect(env.KC_DB_USERNAME).toEqual({ secretKeyRef: { name: `${cluster.metadata.name}-app`, key: 'username' } });
    expect(env.KC_DB_PASSWORD).toEqual({ secretKeyRef: { name: `${cluster.metadata.name}-app`, key: 'password' } });
    expect(realm.issuerUrl).toBe('https://auth.example.com/realms/mcp');
    // The database carries the recommended labels too.
    expect(cluster.metadata.labels).toMatchObject({
      'app.kubernetes.io/name': 'postgresql',
      'app.kubernetes.io/component': 'database',
      'app.kubernetes.io/part-of': 'cdk8s-mcp',
    });
  });

  test('an Ingress exposes only /realms/ and /resources/ on the hostname, and lets the controller through the NetworkPolicy', () => {
    const { chart, realm } = realmChart({
      hostname: 'https://auth.example.com',
      database: KeycloakDatabase.cloudNativePg(),
      exposure: KeycloakExposure.ingress({ controllerNamespace: 'ingress-nginx', tlsSecretName: 'auth-tls' }),
    });
    const objects = Testing.synth(chart);
    expectValidManifests(objects);
    const [ingress] = byKind(objects, 'Ingress');
    expect(ingress.spec.tls).toEqual([{ hosts: ['auth.example.com'], secretName: 'auth-tls' }]);
    expect(ingress.spec.rules).toEqual([{
      host: 'auth.example.com',
      http: {
        paths: ['/realms/', '/resources/'].map((path) => ({
          path, pathType: 'Prefix', backend: { service: { name: realm.serviceName, port: { number: 8080 } } },
        })),
      },
    }]);
    const [policy] = byKind(objects, 'NetworkPolicy');
    expect(policy.spec.ingress).toEqual([{
      from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'ingress-nginx' } }, podSelector: {} }],
      ports: [{ port: 8080, protocol: 'TCP' }],
    }]);
  });

  test('an HTTPRoute on an existing Gateway exposes the same paths and lets its proxies in', () => {
    const { chart, realm } = realmChart({
      hostname: 'https://auth.example.com',
      database: KeycloakDatabase.cloudNativePg(),
      exposure: KeycloakExposure.httpRoute({ parentRefs: [{ name: 'public', namespace: 'gateways' }] }),
    });
    const objects = Testing.synth(chart);
    expectValidManifests(objects);
    const [route] = byKind(objects, 'HTTPRoute');
    expect(route.spec).toEqual({
      parentRefs: [{ name: 'public', namespace: 'gateways' }],
      hostnames: ['auth.example.com'],
      rules: [
        {
          matches: [{ path: { type: 'PathPrefix', value: '/realms' } }, { path: { type: 'PathPrefix', value: '/resources' } }],
          backendRefs: [{ name: realm.serviceName, port: 8080 }],
        },
      ],
    });
    expect(byKind(objects, 'NetworkPolicy')[0].spec.ingress[0].from).toEqual([{
      namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'gateways' } },
      podSelector: { matchLabels: { 'gateway.networking.k8s.io/gateway-name': 'public' } },
    }]);
  });

  test('an exposure needs the hostname', () => {
    const { chart } = realmChart({ exposure: KeycloakExposure.ingress({ controllerNamespace: 'ingress-nginx' }) });
    expect(synthError(chart)).toContain('exposure needs hostname, whose host the Ingress or HTTPRoute answers for');
  });

  test('Keycloak\'s built-in client scopes are declared again, so clients asking for them get no invalid_scope', () => {
    const realm = realmChart().realm.renderRealm();
    const names = realm.clientScopes.map((scope: any) => scope.name);
    for (const builtIn of ['basic', 'profile', 'email', 'offline_access', 'roles', 'web-origins', 'acr', 'address', 'phone', 'microprofile-jwt']) {
      expect(names).toContain(builtIn);
    }
    expect(realm.defaultDefaultClientScopes).toEqual(['basic', 'mcp:tools', 'acr', 'web-origins']);
    expect(realm.defaultOptionalClientScopes).toEqual(expect.arrayContaining(['roles', 'address', 'phone', 'microprofile-jwt']));
    const [client] = realm.clients;
    expect([...client.defaultClientScopes, ...client.optionalClientScopes].sort()).toEqual(names.sort());
    const roles = realm.clientScopes.find((scope: any) => scope.name === 'roles');
    expect(roles.protocolMappers.map((m: any) => m.protocolMapper)).toEqual([
      'oidc-usermodel-realm-role-mapper',
      'oidc-usermodel-client-role-mapper',
      'oidc-audience-resolve-mapper',
    ]);
  });

  test('every imported user can sign in without a profile form', () => {
    const realm = realmChart().realm.renderRealm();
    for (const user of realm.users) {
      expect(user).toMatchObject({ email: expect.any(String), emailVerified: true, firstName: expect.any(String), lastName: expect.any(String) });
    }
  });
});
