import * as fs from 'fs';
import * as path from 'path';
import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { App, Chart, Duration, Size, Testing } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import type { Construct } from 'constructs';
import * as YAML from 'yaml';
import type {
  IMcpRoutePolicy, McpAuthPolicyProps,
  McpGatewayProps,
} from '../src';
import {
  AuthorizationRule, GatewayListenerProtocol, McpAuthMode, McpAuthPolicy, McpFailureMode, McpGateway,
  McpGatewayExposure, McpGatewayImplementation, McpPrefixMode, McpProtocol, McpServer, McpServerSource,
  McpStatefulMode, McpTarget, OidcIssuer, OidcProvider,
} from '../src';
import { expectValidManifests } from './util/manifest-validation';

const keycloak = OidcIssuer.fromUrl('https://keycloak.example.com/realms/mcp', { provider: OidcProvider.KEYCLOAK, tokenAudiences: ['mcp-gateway'] });

/** Sign-in with Keycloak plus CEL rules, as users attach it. */
function signIn(
  scope: Construct,
  id: string,
  rules: AuthorizationRule[] = [AuthorizationRule.allowTool('get_me')],
  props: Partial<McpAuthPolicyProps> = {},
) {
  return new McpAuthPolicy(scope, id, { issuer: keycloak, rules, ...props });
}

/** A policy contributing only CORS, to collide with the route's own cors option. */
class CorsPolicy implements IMcpRoutePolicy {
  public renderRoutePolicies(): { [key: string]: any } {
    return { cors: { allowOrigins: ['*'] } };
  }
}

const github = McpTarget.fromUrl('github', 'http://github.tools.svc.cluster.local:3000/mcp');
const time = McpTarget.fromUrl('time', 'http://time:3000/sse', { protocol: McpProtocol.SSE });
const docs = McpTarget.fromUrl('docs', 'https://mcp.deepwiki.com/mcp');
/** A server deployed in the chart, reached through its Service. */
function everythingServer(scope: Construct) {
  return new McpServer(scope, 'everything', {
    source: McpServerSource.npmPackage('@modelcontextprotocol/server-everything', { version: '2026.8.31' }),
  });
}

function newChart(namespace = 'mcp') {
  const app = Testing.app();
  return new Chart(app, 'test', { namespace });
}

function objectsOf(chart: Chart, kind: string): any[] {
  return Testing.synth(chart).filter((o: any) => o.kind === kind);
}

function renderedConfig(chart: Chart): any {
  const [configMap] = objectsOf(chart, 'ConfigMap');
  return YAML.parse(configMap.data['config.yaml']);
}

/** Every validation message of the app, the way `cdk8s synth` reports them. */
function validationErrors(chart: Chart): string[] {
  return chart.node.findAll().flatMap((c) => c.node.validate());
}

function gatewayWith(props: McpGatewayProps = {}, namespace = 'mcp') {
  const chart = newChart(namespace);
  const gateway = new McpGateway(chart, 'gateway', props);
  return { chart, gateway };
}

describe('RUNTIME implementation', () => {
  test('deploys the runtime with secure defaults, probes, a mounted config and valid manifests', () => {
    const { chart } = gatewayWith({ routes: [{ path: '/github/mcp', targets: [github] }] });
    const manifests = Testing.synth(chart);
    expectValidManifests(manifests);

    const deployment = manifests.find((o: any) => o.kind === 'Deployment');
    const pod = deployment.spec.template.spec;
    const [container] = pod.containers;
    expect(container.image).toMatch(/^ghcr\.io\/cdk8s-mcp\/gateway:/);
    expect(container.args).toEqual(['--config', '/etc/mcp-gateway/config.yaml']);
    expect(container.securityContext).toMatchObject({
      runAsNonRoot: true,
      runAsUser: 65532,
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
      capabilities: { drop: ['ALL'] },
      seccompProfile: { type: 'RuntimeDefault' },
    });
    expect(container.resources.requests).toBeDefined();
    expect(container.resources.limits).toBeDefined();
    // Explicit probes sized for the runtime, not Kubernetes' 1-second defaults without a startup probe.
    expect(container.startupProbe).toMatchObject({
      httpGet: { path: '/healthz', port: 8080 },
      periodSeconds: 2,
      timeoutSeconds: 3,
      failureThreshold: 30,
    });
    expect(container.readinessProbe).toMatchObject({
      httpGet: { path: '/readyz', port: 8080 },
      periodSeconds: 5,
      timeoutSeconds: 3,
      failureThreshold: 2,
    });
    expect(container.livenessProbe).toMatchObject({
      httpGet: { path: '/healthz', port: 8080 },
      periodSeconds: 10,
      timeoutSeconds: 3,
      failureThreshold: 3,
    });
    expect(container.volumeMounts).toEqual(expect.arrayContaining([
      { mountPath: '/etc/mcp-gateway', name: 'config', readOnly: true },
      { mountPath: '/tmp', name: 'tmp' },
    ]));
    const configMap = manifests.find((o: any) => o.kind === 'ConfigMap');
    expect(pod.volumes).toEqual(
      expect.arrayContaining([
        { name: 'config', configMap: { name: configMap.metadata.name } },
        { name: 'tmp', emptyDir: {} },
      ]),
    );
    expect(pod.automountServiceAccountToken).toBe(false);
    expect(deployment.spec.template.metadata.annotations['mcp.cdk8s.io/config-hash']).toMatch(/^[0-9a-f]{16}$/);

    const service = manifests.find((o: any) => o.kind === 'Service');
    expect(service.spec.ports).toEqual([
      { name: 'http', port: 8080, targetPort: 8080 },
      { name: 'metrics', port: 15020, targetPort: 15020 },
    ]);
    expect(service.spec.selector).toEqual(deployment.spec.selector.matchLabels);
  });

  test('renders one route per path with targets, modes, serverInfo and the exact path', () => {
    const { chart } = gatewayWith({
      port: 9000,
      routes: [
        { path: '/github/mcp', targets: [github] },
        {
          path: '/tools/mcp',
          name: 'tools',
          serverName: 'Team tools',
          targets: [time, docs],
          prefixMode: McpPrefixMode.ALWAYS,
          failureMode: McpFailureMode.FAIL_OPEN,
          statefulMode: McpStatefulMode.STATELESS,
        },
      ],
    });
    const config = renderedConfig(chart);
    expect(config.binds).toHaveLength(1);
    expect(config.binds[0].port).toBe(9000);
    expect(config.binds[0].listeners).toHaveLength(1);
    const [first, second] = config.binds[0].listeners[0].routes;
    expect(first).toEqual({
      name: 'github-mcp',
      matches: [{ path: { exact: '/github/mcp' } }],
      backends: [{ mcp: { name: 'github-mcp', targets: [{ name: 'github', mcp: { host: 'http://github.tools.svc.cluster.local:3000/mcp' } }], serverInfo: { name: 'github-mcp' } } }],
    });
    expect(second.name).toBe('tools');
    expect(second.backends[0].mcp).toEqual({
      name: 'tools',
      targets: [{ name: 'time', sse: { host: 'http://time:3000/sse' } }, { name: 'docs', mcp: { host: 'https://mcp.deepwiki.com/mcp' } }],
      prefixMode: 'always',
      failureMode: 'failOpen',
      statefulMode: 'stateless',
      serverInfo: { name: 'Team tools' },
    });
  });

  test('a route with sign-in also matches the OAuth discovery paths, and policies get the route and public URL', () => {
    const { chart, gateway } = gatewayWith({ publicUrl: 'https://mcp.example.com', exposure: McpGatewayExposure.gateway({ gatewayClassName: 'istio' }) });
    const route = gateway.addRoute({ path: '/github/mcp', targets: [github] });
    route.addPolicy(signIn(chart, 'auth'));
    gateway.addRoute({ path: '/open/mcp', targets: [docs] });

    const [authenticated, open] = renderedConfig(chart).binds[0].listeners[0].routes;
    expect(authenticated.matches.map((m: any) => m.path.exact)).toEqual([
      '/github/mcp',
      '/.well-known/oauth-protected-resource/github/mcp',
      '/.well-known/oauth-authorization-server/github/mcp',
      '/.well-known/oauth-authorization-server/github/mcp/client-registration',
    ]);
    expect(authenticated.policies.mcpAuthentication.resourceMetadata.resource).toBe('https://mcp.example.com/github/mcp');
    expect(authenticated.policies.mcpAuthorization.rules).toHaveLength(1);
    expect(open.matches).toEqual([{ path: { exact: '/open/mcp' } }]);
    expect(open.policies).toBeUndefined();

    const [authRoute] = objectsOf(chart, 'HTTPRoute');
    expect(authRoute.spec.rules[0].matches.map((m: any) => m.path)).toEqual([
      { type: 'Exact', value: '/github/mcp' },
      { type: 'Exact', value: '/.well-known/oauth-protected-resource/github/mcp' },
      { type: 'Exact', value: '/.well-known/oauth-authorization-server/github/mcp' },
      { type: 'Exact', value: '/.well-known/oauth-authorization-server/github/mcp/client-registration' },
    ]);
  });

  test('the rendered config is valid against the runtime\'s JSON Schema', () => {
    const { chart, gateway } = gatewayWith({
      exposure: McpGatewayExposure.ingress({ host: 'mcp.example.com', tlsSecretName: 'mcp-tls', controllerNamespace: 'ingress-nginx' }),
    });
    gateway.addRoute({
      path: '/github/mcp',
      targets: [github, time, docs],
      policies: [
        signIn(chart, 'auth', [AuthorizationRule.allowTool('get_me'), AuthorizationRule.deny('mcp.tool.name == "delete_repository"')], {
          requiredScopes: ['mcp'],
          clockSkew: Duration.seconds(10),
        }),
      ],
      prefixMode: McpPrefixMode.ALWAYS,
      statefulMode: McpStatefulMode.STATEFUL,
      cors: { allowOrigins: ['https://inspector.example.com'], allowHeaders: ['X-Trace'], allowCredentials: true, maxAge: Duration.minutes(10) },
    });
    gateway.addRoute({ path: '/everything/mcp', targets: [everythingServer(chart)], failureMode: McpFailureMode.FAIL_CLOSED });

    const schemaPath = path.join(__dirname, '..', 'runtime', 'schema', 'config.schema.json');
    const ajv = new Ajv2020({ allErrors: true, strict: false });
    addFormats(ajv);
    const validate = ajv.compile(JSON.parse(fs.readFileSync(schemaPath, 'utf8')));
    const config = renderedConfig(chart);
    const valid = validate(config);
    expect(validate.errors ?? []).toEqual([]);
    expect(valid).toBe(true);
    expect(config.binds[0].listeners[0].routes[0].policies.cors).toEqual({
      allowOrigins: ['https://inspector.example.com'],
      allowHeaders: ['mcp-protocol-version', 'mcp-session-id', 'content-type', 'authorization', 'last-event-id', 'x-trace'],
      allowMethods: ['GET', 'POST', 'DELETE', 'OPTIONS'],
      exposeHeaders: ['mcp-session-id'],
      allowCredentials: true,
      maxAge: 600,
    });
  });

  test('a config change changes the pod annotation, so pods roll', () => {
    const hashOf = (chart: Chart) => objectsOf(chart, 'Deployment')[0].spec.template.metadata.annotations['mcp.cdk8s.io/config-hash'];
    const one = gatewayWith({ routes: [{ path: '/github/mcp', targets: [github] }] });
    const same = gatewayWith({ routes: [{ path: '/github/mcp', targets: [github] }] });
    const more = gatewayWith({ routes: [{ path: '/github/mcp', targets: [github] }] });
    more.gateway.routes[0].addTarget(docs);
    expect(hashOf(one.chart)).toBe(hashOf(same.chart));
    expect(hashOf(more.chart)).not.toBe(hashOf(one.chart));
  });

  test('image, replicas, resources and session key can be set', () => {
    const chart = newChart();
    new McpGateway(chart, 'gateway', {
      image: 'registry.example.com/mcp-gateway:1.2.3',
      replicas: 3,
      resources: { cpu: { request: kplus.Cpu.millis(250) }, memory: { limit: Size.gibibytes(1) } },
      sessionKey: kplus.EnvValue.fromSecretValue({ secret: kplus.Secret.fromSecretName(chart, 'Key', 'mcp-session'), key: 'key' }),
      routes: [{ path: '/mcp', targets: [github] }],
    });
    const manifests = Testing.synth(chart);
    expectValidManifests(manifests);
    const deployment = manifests.find((o: any) => o.kind === 'Deployment');
    expect(deployment.spec.replicas).toBe(3);
    const [container] = deployment.spec.template.spec.containers;
    expect(container.image).toBe('registry.example.com/mcp-gateway:1.2.3');
    expect(container.resources).toEqual({ requests: { cpu: '250m' }, limits: { memory: '1024Mi' } });
    expect(container.env).toEqual([{ name: 'SESSION_KEY', valueFrom: { secretKeyRef: { name: 'mcp-session', key: 'key' } } }]);
  });
});

describe('exposure', () => {
  test('gateway(): a Gateway and an HTTPRoute per route to the gateway Service, valid against the CRDs', () => {
    const { chart } = gatewayWith({
      exposure: McpGatewayExposure.gateway({
        gatewayClassName: 'agentgateway',
        listeners: [{ hostname: 'mcp.example.com', tlsSecretName: 'mcp-tls' }],
        hostnames: ['mcp.example.com'],
      }),
      routes: [{ path: '/github/mcp', targets: [github] }, { path: '/docs/mcp', targets: [docs] }],
    });
    const manifests = Testing.synth(chart);
    expectValidManifests(manifests);
    const gateway = manifests.find((o: any) => o.kind === 'Gateway');
    expect(gateway.spec).toEqual({
      gatewayClassName: 'agentgateway',
      listeners: [{
        name: 'https',
        port: 443,
        protocol: 'HTTPS',
        hostname: 'mcp.example.com',
        tls: { mode: 'Terminate', certificateRefs: [{ kind: 'Secret', name: 'mcp-tls' }] },
      }],
    });
    const service = manifests.find((o: any) => o.kind === 'Service');
    const routes = manifests.filter((o: any) => o.kind === 'HTTPRoute');
    expect(routes).toHaveLength(2);
    expect(routes[1].spec).toEqual({
      parentRefs: [{ name: gateway.metadata.name }],
      hostnames: ['mcp.example.com'],
      rules: [{
        matches: [{ path: { type: 'Exact', value: '/docs/mcp' } }],
        backendRefs: [{ name: service.metadata.name, port: 8080 }],
        timeouts: { request: '1h', backendRequest: '1h' },
      }],
    });
  });

  test('gateway(): the GatewayClass must be named with the runtime, and the message names the choices', () => {
    const { chart } = gatewayWith({ exposure: McpGatewayExposure.gateway(), routes: [{ path: '/mcp', targets: [github] }] });
    const errors = validationErrors(chart).join('\n');
    expect(errors).toMatch(
      /exposure gatewayClassName is missing.*GatewayClass .*"agentgateway", "istio", "eg" \(Envoy Gateway\), "cilium".*existingGateway.*ingress/,
    );
    // A controller-based implementation implies its class.
    const agw = gatewayWith({
      implementation: McpGatewayImplementation.AGENTGATEWAY,
      exposure: McpGatewayExposure.gateway(),
      routes: [{ path: '/mcp', targets: [docs] }],
    });
    expect(Testing.synth(agw.chart).find((o: any) => o.kind === 'Gateway').spec.gatewayClassName).toBe('agentgateway');
  });

  test('HTTPRoute timeouts suit SSE and long tool calls: one hour by default, per route, 0 disables', () => {
    const { chart } = gatewayWith({
      exposure: McpGatewayExposure.existingGateway({ parentRefs: [{ name: 'shared' }] }),
      routes: [
        { path: '/a/mcp', targets: [github] },
        { path: '/b/mcp', targets: [docs], timeout: Duration.minutes(90) },
        { path: '/c/mcp', targets: [docs], timeout: Duration.seconds(0) },
      ],
    });
    const manifests = Testing.synth(chart);
    expectValidManifests(manifests);
    expect(manifests.filter((o: any) => o.kind === 'HTTPRoute').map((r: any) => r.spec.rules[0].timeouts)).toEqual([
      { request: '1h', backendRequest: '1h' },
      { request: '1h30m', backendRequest: '1h30m' },
      { request: '0s', backendRequest: '0s' },
    ]);
  });

  test('gateway(): the public URL follows the single listener host name', () => {
    const { chart, gateway } = gatewayWith({
      exposure: McpGatewayExposure.gateway({
        gatewayClassName: 'istio',
        listeners: [{ hostname: 'mcp.example.com', port: 8443, tlsSecretName: 'mcp-tls' }],
      }),
      routes: [{ path: '/github/mcp', targets: [github] }],
    });
    gateway.addPolicy('/github/mcp', signIn(chart, 'auth'));
    expect(gateway.publicUrl).toBe('https://mcp.example.com:8443');
    const [route] = renderedConfig(chart).binds[0].listeners[0].routes;
    expect(route.policies.mcpAuthentication.resourceMetadata.resource).toBe('https://mcp.example.com:8443/github/mcp');
  });

  test('existingGateway(): parentRefs as given; routes in the Gateway namespace get a ReferenceGrant', () => {
    const { chart } = gatewayWith({
      exposure: McpGatewayExposure.existingGateway({
        parentRefs: [{ name: 'shared', namespace: 'gateways', sectionName: 'https' }],
        routeNamespace: 'gateways',
      }),
      routes: [{ path: '/github/mcp', targets: [github] }],
    });
    const manifests = Testing.synth(chart);
    expectValidManifests(manifests);
    const service = manifests.find((o: any) => o.kind === 'Service');
    const route = manifests.find((o: any) => o.kind === 'HTTPRoute');
    expect(route.metadata.namespace).toBe('gateways');
    expect(route.spec.parentRefs).toEqual([{ name: 'shared', namespace: 'gateways', sectionName: 'https' }]);
    expect(route.spec.rules[0].backendRefs).toEqual([{ name: service.metadata.name, namespace: 'mcp', port: 8080 }]);
    const grant = manifests.find((o: any) => o.kind === 'ReferenceGrant');
    expect(grant.metadata.namespace).toBe('mcp');
    expect(grant.spec).toEqual({
      from: [{ group: 'gateway.networking.k8s.io', kind: 'HTTPRoute', namespace: 'gateways' }],
      to: [{ group: '', kind: 'Service', name: service.metadata.name }],
    });
  });

  test('existingGateway(): no ReferenceGrant when routes stay in the chart namespace', () => {
    const { chart } = gatewayWith({
      exposure: McpGatewayExposure.existingGateway({ parentRefs: [{ name: 'shared', namespace: 'gateways' }] }),
      routes: [{ path: '/github/mcp', targets: [github] }],
    });
    expect(objectsOf(chart, 'ReferenceGrant')).toEqual([]);
    expect(objectsOf(chart, 'HTTPRoute')[0].metadata.namespace).toBe('mcp');
  });

  test('ingress(): Exact paths to the http port, TLS and class, valid against Kubernetes 1.28', () => {
    const { chart, gateway } = gatewayWith({
      exposure: McpGatewayExposure.ingress({
        ingressClassName: 'nginx',
        host: 'mcp.example.com',
        tlsSecretName: 'mcp-tls',
        controllerNamespace: 'ingress-nginx',
      }),
      routes: [{ path: '/github/mcp', targets: [github] }],
    });
    gateway.addPolicy('/github/mcp', signIn(chart, 'auth'));
    const manifests = Testing.synth(chart);
    expectValidManifests(manifests);
    const ingress = manifests.find((o: any) => o.kind === 'Ingress');
    const service = manifests.find((o: any) => o.kind === 'Service');
    expect(ingress.spec.ingressClassName).toBe('nginx');
    expect(ingress.spec.tls).toEqual([{ hosts: ['mcp.example.com'], secretName: 'mcp-tls' }]);
    expect(ingress.spec.rules[0].host).toBe('mcp.example.com');
    expect(ingress.spec.rules[0].http.paths.map((p: any) => p.path)).toHaveLength(4);
    expect(ingress.spec.rules[0].http.paths[0]).toEqual({
      path: '/github/mcp',
      pathType: 'Exact',
      backend: { service: { name: service.metadata.name, port: { name: 'http' } } },
    });
  });
});

describe('AGENTGATEWAY implementation', () => {
  test('emits AgentgatewayBackend, HTTPRoute and AgentgatewayPolicy instead of the runtime', () => {
    const { chart, gateway } = gatewayWith({ implementation: McpGatewayImplementation.AGENTGATEWAY, exposure: McpGatewayExposure.gateway(), publicUrl: 'https://mcp.example.com' });
    const everything = everythingServer(chart);
    const route = gateway.addRoute({
      path: '/tools/mcp',
      targets: [everything, McpTarget.fromUrl('github', 'http://github.tools.svc.cluster.local:3000/mcp'), docs],
      prefixMode: McpPrefixMode.ALWAYS,
      failureMode: McpFailureMode.FAIL_OPEN,
      statefulMode: McpStatefulMode.STATELESS,
      cors: { allowOrigins: ['https://inspector.example.com'] },
    });
    route.addPolicy(signIn(chart, 'auth', [AuthorizationRule.allowTool('get_me'), AuthorizationRule.allow('jwt.sub == "admin"')]));
    const manifests = Testing.synth(chart);
    expectValidManifests(manifests);
    expect(manifests.map((o: any) => o.kind).filter((kind: string) => kind !== 'Deployment' && kind !== 'Service').sort())
      .toEqual(['AgentgatewayBackend', 'AgentgatewayPolicy', 'Gateway', 'HTTPRoute', 'NetworkPolicy']);
    expect(manifests.filter((o: any) => o.kind === 'ConfigMap')).toEqual([]);
    expect(gateway.deployment).toBeUndefined();
    expect(gateway.service).toBeUndefined();
    const backend = manifests.find((o: any) => o.kind === 'AgentgatewayBackend');
    expect(backend.spec.mcp).toEqual({
      targets: [
        { name: 'everything', static: { backendRef: { name: everything.serviceName }, port: 3000, path: '/mcp', protocol: 'StreamableHTTP' } },
        { name: 'github', static: { host: 'github.tools.svc.cluster.local', port: 3000, path: '/mcp', protocol: 'StreamableHTTP' } },
        { name: 'docs', static: { host: 'mcp.deepwiki.com', port: 443, path: '/mcp', protocol: 'StreamableHTTP', policies: { tls: {} } } },
      ],
      sessionRouting: 'Stateless',
      failureMode: 'FailOpen',
      prefixMode: 'Always',
    });
    const httpRoute = manifests.find((o: any) => o.kind === 'HTTPRoute');
    expect(httpRoute.spec.rules[0].backendRefs).toEqual([{ group: 'agentgateway.dev', kind: 'AgentgatewayBackend', name: backend.metadata.name }]);
    expect(httpRoute.spec.rules[0].matches).toHaveLength(4);
    const policy = manifests.find((o: any) => o.kind === 'AgentgatewayPolicy');
    expect(policy.spec.targetRefs).toEqual([{ group: 'gateway.networking.k8s.io', kind: 'HTTPRoute', name: httpRoute.metadata.name }]);
    expect(policy.spec.traffic.jwtAuthentication).toEqual({
      mode: 'Strict',
      providers: [{ issuer: 'https://keycloak.example.com/realms/mcp', audiences: ['mcp-gateway'], jwks: { remote: { url: 'https://keycloak.example.com/realms/mcp/protocol/openid-connect/certs' } } }],
      mcp: { provider: 'Keycloak', resourceMetadata: { resource: 'https://mcp.example.com/tools/mcp', bearerMethodsSupported: ['header'] } },
    });
    expect(policy.spec.traffic.cors.allowOrigins).toEqual(['https://inspector.example.com']);
    expect(policy.spec.backend.mcp.authorization).toEqual({
      action: 'Allow',
      policy: { matchExpressions: ['mcp.tool.name == "get_me"', 'jwt.sub == "admin"'] },
    });
  });

  test('routes in the Gateway namespace reference the backend through a ReferenceGrant', () => {
    const { chart, gateway } = gatewayWith({
      implementation: McpGatewayImplementation.AGENTGATEWAY,
      exposure: McpGatewayExposure.existingGateway({ parentRefs: [{ name: 'agentgateway', namespace: 'gateways' }], routeNamespace: 'gateways' }),
    });
    gateway.addRoute({ path: '/mcp', targets: [everythingServer(chart)] });
    const manifests = Testing.synth(chart);
    expectValidManifests(manifests);
    const backend = manifests.find((o: any) => o.kind === 'AgentgatewayBackend');
    const httpRoute = manifests.find((o: any) => o.kind === 'HTTPRoute');
    expect(httpRoute.metadata.namespace).toBe('gateways');
    expect(httpRoute.spec.rules[0].backendRefs).toEqual([
      { group: 'agentgateway.dev', kind: 'AgentgatewayBackend', name: backend.metadata.name, namespace: 'mcp' },
    ]);
    const grant = manifests.find((o: any) => o.kind === 'ReferenceGrant');
    expect(grant.spec.to).toEqual([{ group: 'agentgateway.dev', kind: 'AgentgatewayBackend', name: backend.metadata.name }]);
  });

  test('the AgentgatewayPolicy of a route in the Gateway namespace lives beside its HTTPRoute', () => {
    // targetRefs are local references: a policy in another namespace than its HTTPRoute attaches to nothing.
    const { chart, gateway } = gatewayWith({
      implementation: McpGatewayImplementation.AGENTGATEWAY,
      exposure: McpGatewayExposure.existingGateway({ parentRefs: [{ name: 'agentgateway', namespace: 'gateways' }], routeNamespace: 'gateways' }),
    });
    gateway.addRoute({ path: '/mcp', targets: [everythingServer(chart)], policies: [signIn(chart, 'auth')] });
    const manifests = Testing.synth(chart);
    const httpRoute = manifests.find((o: any) => o.kind === 'HTTPRoute');
    const policy = manifests.find((o: any) => o.kind === 'AgentgatewayPolicy');
    expect(policy.metadata.namespace).toBe('gateways');
    expect(policy.spec.targetRefs).toEqual([{ group: 'gateway.networking.k8s.io', kind: 'HTTPRoute', name: httpRoute.metadata.name }]);
    expect(manifests.find((o: any) => o.kind === 'AgentgatewayBackend').metadata.namespace).toBe('mcp');
  });

  test('a route without policies gets no AgentgatewayPolicy', () => {
    const { chart } = gatewayWith({
      implementation: McpGatewayImplementation.AGENTGATEWAY,
      exposure: McpGatewayExposure.gateway(),
      routes: [{ path: '/mcp', targets: [docs] }],
    });
    expect(objectsOf(chart, 'AgentgatewayPolicy')).toEqual([]);
  });

  test('what AgentgatewayPolicy cannot express fails validation and points at RUNTIME', () => {
    const { chart, gateway } = gatewayWith({ implementation: McpGatewayImplementation.AGENTGATEWAY, exposure: McpGatewayExposure.gateway() });
    gateway.addRoute({
      path: '/a/mcp',
      targets: [docs],
      serverName: 'Docs',
      policies: [
        signIn(chart, 'auth', [AuthorizationRule.allowTool('a'), AuthorizationRule.deny('jwt.sub == "b"')], {
          mode: McpAuthMode.OPTIONAL,
          clockSkew: Duration.minutes(1),
        }),
      ],
    });
    const errors = validationErrors(chart).join('\n');
    expect(errors).toMatch(/route "\/a\/mcp" serverName cannot be set with the agentgateway implementation.*RUNTIME/);
    expect(errors).toMatch(/mcpAuthorization mixes Allow, Deny rules.*RUNTIME/);
    expect(errors).toMatch(/mode "optional" is not allowed/);
    expect(errors).toMatch(/fields clockSkew have no AgentgatewayPolicy equivalent/);
  });

  test('needs Gateway API exposure', () => {
    const ingress = gatewayWith({
      implementation: McpGatewayImplementation.AGENTGATEWAY,
      exposure: McpGatewayExposure.ingress(),
      routes: [{ path: '/mcp', targets: [docs] }],
    });
    expect(validationErrors(ingress.chart).join('\n')).toMatch(/exposure ingress works only with the RUNTIME implementation/);
    const none = gatewayWith({ implementation: McpGatewayImplementation.AGENTGATEWAY, routes: [{ path: '/mcp', targets: [docs] }] });
    expect(validationErrors(none.chart).join('\n')).toMatch(
      /exposure is none, but the agentgateway implementation is configured through Gateway API routes\. Use McpGatewayExposure.gateway\(\)/,
    );
  });
});

describe('KGATEWAY_V2_1 implementation', () => {
  test('emits a Backend of type MCP with static targets and an HTTPRoute to it', () => {
    const { chart, gateway } = gatewayWith({ implementation: McpGatewayImplementation.KGATEWAY_V2_1, exposure: McpGatewayExposure.gateway() });
    const everything = everythingServer(chart);
    gateway.addRoute({ path: '/mcp', targets: [everything, time] });
    const manifests = Testing.synth(chart);
    expectValidManifests(manifests);
    const backend = manifests.find((o: any) => o.kind === 'Backend');
    expect(backend.apiVersion).toBe('gateway.kgateway.dev/v1alpha1');
    expect(backend.spec).toEqual({
      type: 'MCP',
      mcp: {
        targets: [
          {
            name: 'everything',
            static: { host: `${everything.serviceName}.mcp.svc.cluster.local`, port: 3000, path: '/mcp', protocol: 'StreamableHTTP' },
          },
          { name: 'time', static: { host: 'time', port: 3000, path: '/sse', protocol: 'SSE' } },
        ],
      },
    });
    const httpRoute = manifests.find((o: any) => o.kind === 'HTTPRoute');
    expect(httpRoute.spec.rules[0].backendRefs).toEqual([{ group: 'gateway.kgateway.dev', kind: 'Backend', name: backend.metadata.name }]);
  });

  test('modes, policies and https targets it cannot express fail validation', () => {
    const { chart, gateway } = gatewayWith({
      implementation: McpGatewayImplementation.KGATEWAY_V2_1,
      exposure: McpGatewayExposure.gateway(),
      routes: [{ path: '/mcp', targets: [docs], prefixMode: McpPrefixMode.ALWAYS, statefulMode: McpStatefulMode.STATELESS }],
    });
    gateway.addPolicy('/mcp', signIn(chart, 'auth'));
    const errors = validationErrors(chart).join('\n');
    expect(errors).toMatch(
      /prefixMode, statefulMode have no equivalent in kgateway v2.1's MCP Backend\. Remove them, or use McpGatewayImplementation.AGENTGATEWAY/,
    );
    expect(errors).toMatch(/policies mcpAuthentication, mcpAuthorization cannot be expressed by kgateway v2.1/);
    expect(errors).toMatch(/target "docs" uses https/);
  });

  test('in-cluster targets need a namespace: kgateway addresses them by their FQDN from another namespace', () => {
    const app = Testing.app();
    const chart = new Chart(app, 'test');
    new McpGateway(chart, 'gateway', {
      implementation: McpGatewayImplementation.KGATEWAY_V2_1,
      exposure: McpGatewayExposure.gateway(),
      routes: [{ path: '/mcp', targets: [everythingServer(chart), time] }],
    });
    expect(validationErrors(chart)).toEqual([
      expect.stringMatching(
        /^McpGateway test\/gateway: route "\/mcp" target "everything" is the Service "test-everything-[0-9a-f]+" in an unknown namespace/,
      ),
    ]);
  });
});

describe('validation', () => {
  const errorsOf = (props: McpGatewayProps) => validationErrors(gatewayWith(props).chart);

  test('a valid gateway has no errors', () => {
    expect(errorsOf({ routes: [{ path: '/mcp', targets: [github] }] })).toEqual([]);
  });

  test('no routes', () => {
    expect(errorsOf({})).toEqual([
      expect.stringMatching(/^McpGateway test\/gateway: routes is empty, so the gateway serves nothing\. Pass routes or call addRoute/),
    ]);
  });

  test('two routes on one path', () => {
    expect(errorsOf({ routes: [{ path: '/mcp', targets: [github] }, { path: '/mcp', targets: [docs] }] })).toEqual([
      expect.stringMatching(/routes\[0\] and routes\[1\] both use path "\/mcp"\. Give each route its own path/),
    ]);
  });

  test('two routes with one name', () => {
    expect(errorsOf({ routes: [{ path: '/a/mcp', name: 'tools', targets: [github] }, { path: '/b/mcp', name: 'tools', targets: [docs] }] })).toEqual([
      expect.stringMatching(/routes "\/a\/mcp" and "\/b\/mcp" are both named "tools"\. Set a distinct name/),
    ]);
  });

  test('a path not starting with /', () => {
    expect(errorsOf({ routes: [{ path: 'github/mcp', targets: [github] }] })).toEqual([
      expect.stringMatching(/route "github\/mcp" path must start with "\/"\. Use e.g. "\/github\/mcp"/),
    ]);
  });

  test('reserved paths', () => {
    expect(errorsOf({ routes: [{ path: '/healthz', targets: [github] }] }).join()).toMatch(/\/healthz is the runtime's health endpoint/);
    expect(errorsOf({ routes: [{ path: '/.well-known/x', targets: [github] }] }).join()).toMatch(/reserved for OAuth discovery/);
  });

  test('a route with no targets', () => {
    expect(errorsOf({ routes: [{ path: '/mcp', targets: [] }] })).toEqual([
      expect.stringMatching(/route "\/mcp" targets is empty, so the route serves nothing\. Pass targets: \[server\] or call route.addTarget/),
    ]);
  });

  test('duplicate target names within a route', () => {
    expect(errorsOf({ routes: [{ path: '/mcp', targets: [github, McpTarget.fromUrl('github', 'http://other:3000/mcp')] }] })).toEqual([
      expect.stringMatching(/target name "github" is used by two targets\. Rename one: target names must be unique within a route/),
    ]);
  });

  test('target names with reserved delimiters or invalid characters', () => {
    const errors = errorsOf({ routes: [{ path: '/mcp', targets: [McpTarget.fromUrl('git_hub', 'http://a/mcp'), McpTarget.fromUrl('a+b', 'http://b/mcp'), McpTarget.fromUrl('Upper', 'http://c/mcp')] }] });
    expect(errors).toEqual([
      expect.stringMatching(/target name "git_hub" contains "_" or "\+", which are reserved as delimiters.*Use "-" instead/),
      expect.stringMatching(/target name "a\+b" contains "_" or "\+"/),
      expect.stringMatching(/target name "Upper" is not a DNS-1123 label.*Rename the target/),
    ]);
  });

  test('invalid ports', () => {
    expect(errorsOf({ port: 70000, routes: [{ path: '/mcp', targets: [github] }] })).toEqual([
      expect.stringMatching(/^McpGateway test\/gateway: port 70000 is not a port number between 1 and 65535\. Omit it for the default 8080/),
    ]);
    expect(errorsOf({ port: 15020, routes: [{ path: '/mcp', targets: [github] }] })).toEqual([
      expect.stringMatching(/port 15020 is taken by the runtime's metrics endpoint/),
    ]);
  });

  test('invalid names', () => {
    expect(errorsOf({ routes: [{ path: '/mcp', name: 'Not_A_Label', targets: [github] }] })).toEqual([
      expect.stringMatching(/name "Not_A_Label" is not a DNS-1123 label/),
    ]);
    expect(
      errorsOf({ exposure: McpGatewayExposure.gateway({ gatewayClassName: 'Bad Class' }), routes: [{ path: '/mcp', targets: [github] }] }),
    ).toEqual([expect.stringMatching(/gatewayClassName "Bad Class" is not a DNS-1123 subdomain/)]);
  });

  test('two policies setting the same key name both', () => {
    const { chart, gateway } = gatewayWith({ routes: [{ path: '/mcp', targets: [github], cors: { allowOrigins: ['*'] } }] });
    gateway.addPolicy('/mcp', new CorsPolicy());
    gateway.addPolicy('/mcp', signIn(chart, 'first'));
    gateway.addPolicy('/mcp', signIn(chart, 'second'));
    expect(validationErrors(chart)).toEqual([
      expect.stringMatching(/both the route's cors option and policies\[0\] \(CorsPolicy\) set the route policy "cors"/),
      expect.stringMatching(/both policy test\/first and policy test\/second set the route policy "mcpAuthentication"/),
      expect.stringMatching(/both policy test\/first and policy test\/second set the route policy "mcpAuthorization"/),
    ]);
  });

  test('a policy contributing a key the gateway configuration lacks is reported, not rendered', () => {
    class TypoPolicy implements IMcpRoutePolicy {
      public renderRoutePolicies(): { [key: string]: any } {
        return { cors: { allowOrigins: ['*'] }, rateLimit: [{ maxTokens: 1 }] };
      }
    }
    const { chart, gateway } = gatewayWith({ routes: [{ path: '/mcp', targets: [github] }] });
    gateway.addPolicy('/mcp', new TypoPolicy());
    expect(validationErrors(chart)).toEqual([
      expect.stringMatching(/policies unknown key: policies\[0\] \(TypoPolicy\) contributes the route policy "rateLimit", .*no place for/),
    ]);
    expect(validationErrors(chart)[0]).toContain('Contribute only cors, mcpAuthentication, mcpAuthorization, localRateLimit.');
    expect(gateway.renderConfig().binds[0].listeners[0].routes[0].policies).toEqual({ cors: { allowOrigins: ['*'] } });
  });

  test('a policy that cannot render is reported with the route, not thrown', () => {
    const { chart, gateway } = gatewayWith({ routes: [{ path: '/mcp', targets: [github] }] });
    gateway.addPolicy('/mcp', new McpAuthPolicy(chart, 'auth', { issuer: OidcIssuer.fromUrl('https://auth.example.com') }));
    expect(validationErrors(chart)).toEqual([
      expect.stringMatching(/route "\/mcp" policies failed: policy test\/auth could not be rendered: .*cannot tell which token audience/),
    ]);
  });

  test('addPolicy on an unknown path throws naming the routes', () => {
    const { gateway } = gatewayWith({ routes: [{ path: '/mcp', targets: [github] }] });
    expect(() => gateway.addPolicy('/other', new CorsPolicy())).toThrow(/no route has path "\/other"; routes: \/mcp/);
  });

  test('listener mistakes', () => {
    const errors = errorsOf({
      exposure: McpGatewayExposure.gateway({
        gatewayClassName: 'istio',
        listeners: [{ protocol: GatewayListenerProtocol.HTTPS }, { protocol: GatewayListenerProtocol.HTTP, tlsSecretName: 'x', name: 'https' }],
      }),
      routes: [{ path: '/mcp', targets: [github] }],
    });
    expect(errors).toEqual([
      expect.stringMatching(/listeners\[0\] uses HTTPS but has no tlsSecretName/),
      expect.stringMatching(/listeners\[1\] has tlsSecretName but protocol HTTP/),
      expect.stringMatching(/listeners\[1\].name "https" is used by another listener/),
    ]);
  });

  test('routes in another namespace need a chart namespace', () => {
    const app = new App();
    const chart = new Chart(app, 'test');
    new McpGateway(chart, 'gateway', {
      exposure: McpGatewayExposure.existingGateway({ parentRefs: [{ name: 'shared', namespace: 'gateways' }], routeNamespace: 'gateways' }),
      routes: [{ path: '/mcp', targets: [github] }],
    });
    expect(validationErrors(chart)).toEqual([
      expect.stringMatching(/routeNamespace "gateways" needs the backends' namespace.*Give the chart a namespace/),
    ]);
  });

  test('McpTarget.fromUrl rejects URLs a gateway cannot reach, naming the fix', () => {
    expect(() => McpTarget.fromUrl('docs', 'mcp.deepwiki.com/mcp')).toThrow(
      /^McpTarget\.fromUrl\("docs"\): url "mcp\.deepwiki\.com\/mcp" is not an absolute URL\. Pass e\.g\./,
    );
    expect(() => McpTarget.fromUrl('docs', 'ftp://mcp.deepwiki.com/mcp')).toThrow(/uses ftp:, not http: or https:\. Pass/);
  });

  test('synthesis fails with the message', () => {
    const { chart } = gatewayWith({ routes: [{ path: 'mcp', targets: [github] }] });
    expect(() => Testing.synth(chart)).toThrow(/path must start with "\/"/);
  });
});
