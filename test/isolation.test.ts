import { Chart, Testing } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import {
  KeycloakDatabase, KeycloakRealm, McpAuthPolicy, McpGateway, McpGatewayExposure, McpGatewayImplementation,
  McpServer, McpServerSource, McpServerWorkload,
} from '../src';
import { expectValidManifests } from './util/manifest-validation';
import { synthError } from './util/synth';

function chart(namespace: string | undefined = 'mcp'): Chart {
  return new Chart(Testing.app(), 'test', { namespace });
}

function everything(scope: Chart, id = 'everything', props: { isolate?: boolean; workload?: McpServerWorkload } = {}): McpServer {
  return new McpServer(scope, id, {
    source: McpServerSource.npmPackage('@modelcontextprotocol/server-everything', { version: '2026.8.31' }),
    ...props,
  });
}

function policies(objects: any[]): any[] {
  return objects.filter((o) => o.kind === 'NetworkPolicy');
}

/** The NetworkPolicy whose podSelector matches `labels`. */
function policyFor(objects: any[], labels: { [key: string]: string }): any {
  const found = policies(objects).filter((p) => Object.entries(labels).every(([k, v]) => p.spec.podSelector.matchLabels?.[k] === v));
  expect(found).toHaveLength(1);
  return found[0];
}

const serverSelector = (objects: any[], name: string) =>
  objects.find((o) => o.kind === 'Deployment' && o.metadata.name === name).spec.selector.matchLabels;
const gatewayPods = (objects: any[]) => {
  const deployment = objects.find((o) => o.kind === 'Deployment' && o.metadata.labels?.['app.kubernetes.io/component'] === 'gateway');
  const labels = deployment.spec.template.metadata.labels;
  return { 'app.kubernetes.io/instance': labels['app.kubernetes.io/instance'], 'app.kubernetes.io/component': 'gateway' };
};

describe('isolation by default', () => {
  test('a server accepts only the gateway that routes to it, on its MCP port', () => {
    const c = chart();
    const server = everything(c);
    new McpGateway(c, 'gateway', {
      exposure: McpGatewayExposure.gateway({ gatewayClassName: 'istio' }),
      routes: [{ path: '/mcp', targets: [server] }],
    });
    const objects = Testing.synth(c);
    expectValidManifests(objects);
    const policy = policyFor(objects, serverSelector(objects, server.name));
    expect(policy.metadata.namespace).toBe('mcp');
    expect(policy.spec.policyTypes).toEqual(['Ingress']);
    expect(policy.spec.ingress).toEqual([{
      from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'mcp' } }, podSelector: { matchLabels: gatewayPods(objects) } }],
      ports: [{ port: 3000, protocol: 'TCP' }],
    }]);
    // The gateway's pods carry the labels the rule selects.
    const pods = objects.find((o) => o.kind === 'Deployment' && o.metadata.labels?.['app.kubernetes.io/component'] === 'gateway').spec.template
      .metadata.labels;
    expect(pods).toEqual(expect.objectContaining(gatewayPods(objects)));
  });

  test('a server no gateway routes to accepts nobody, and one routed by two gateways accepts both', () => {
    const c = chart();
    const lonely = everything(c, 'lonely');
    const shared = everything(c, 'shared');
    new McpGateway(c, 'a', { exposure: McpGatewayExposure.none(), routes: [{ path: '/mcp', targets: [shared] }] });
    const b = new McpGateway(c, 'b', { exposure: McpGatewayExposure.none() });
    // Targets added after the route was created are let in as well.
    b.addRoute({ path: '/mcp', targets: [] }).addTarget(shared);
    const objects = Testing.synth(c);
    const lonelyPolicy = policyFor(objects, serverSelector(objects, lonely.name));
    expect(lonelyPolicy.spec.ingress).toBeUndefined();
    expect(lonelyPolicy.spec.policyTypes).toEqual(['Ingress']);
    expect(policyFor(objects, serverSelector(objects, shared.name)).spec.ingress).toHaveLength(2);
  });

  test('a server in another namespace admits the gateway by its namespace', () => {
    const app = Testing.app();
    const tools = new Chart(app, 'tools', { namespace: 'tools' });
    const front = new Chart(app, 'front', { namespace: 'mcp' });
    const server = everything(tools);
    new McpGateway(front, 'gateway', { exposure: McpGatewayExposure.none(), routes: [{ path: '/mcp', targets: [server] }] });
    const objects = Testing.synth(tools);
    const [from] = policies(objects)[0].spec.ingress[0].from;
    expect(from.namespaceSelector).toEqual({ matchLabels: { 'kubernetes.io/metadata.name': 'mcp' } });
  });

  test('the gateway accepts the proxies of its new Gateway (GEP-1762 label) and Prometheus on the metrics port', () => {
    const c = chart();
    const gateway = new McpGateway(c, 'gateway', {
      exposure: McpGatewayExposure.gateway({ gatewayClassName: 'istio' }),
      routes: [{ path: '/mcp', targets: [everything(c)] }],
    });
    const objects = Testing.synth(c);
    const policy = policyFor(objects, gatewayPods(objects));
    expect(policy.spec.ingress).toEqual([
      {
        from: [{ podSelector: { matchLabels: { 'gateway.networking.k8s.io/gateway-name': gateway.gatewayObject!.name } } }],
        ports: [{ port: 8080, protocol: 'TCP' }],
      },
      { from: [{ namespaceSelector: {}, podSelector: {} }], ports: [{ port: 15020, protocol: 'TCP' }] },
    ]);
  });

  test('an existing Gateway in another namespace, or a proxy namespace, is admitted by namespace', () => {
    const c = chart();
    new McpGateway(c, 'gateway', {
      exposure: McpGatewayExposure.existingGateway({ parentRefs: [{ name: 'shared', namespace: 'gateways' }] }),
      routes: [{ path: '/mcp', targets: [everything(c)] }],
    });
    const objects = Testing.synth(c);
    expect(policyFor(objects, gatewayPods(objects)).spec.ingress[0].from).toEqual([{
      namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'gateways' } },
      podSelector: { matchLabels: { 'gateway.networking.k8s.io/gateway-name': 'shared' } },
    }]);

    const c2 = chart();
    new McpGateway(c2, 'gateway', {
      exposure: McpGatewayExposure.gateway({ gatewayClassName: 'eg', proxyNamespace: 'envoy-gateway-system' }),
      routes: [{ path: '/mcp', targets: [everything(c2)] }],
    });
    const objects2 = Testing.synth(c2);
    expect(policyFor(objects2, gatewayPods(objects2)).spec.ingress[0].from).toEqual([{
      namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'envoy-gateway-system' } }, podSelector: {},
    }]);
  });

  test('an isolated gateway behind an Ingress needs the controller namespace', () => {
    const c = chart();
    new McpGateway(c, 'gateway', {
      exposure: McpGatewayExposure.ingress({ host: 'mcp.example.com' }),
      routes: [{ path: '/mcp', targets: [everything(c)] }],
    });
    expect(synthError(c)).toMatch(
      /exposure ingress controllerNamespace is missing, so the isolated gateway.*Set controllerNamespace .*"ingress-nginx"/,
    );

    const ok = chart();
    new McpGateway(ok, 'gateway', {
      exposure: McpGatewayExposure.ingress({ host: 'mcp.example.com', controllerNamespace: 'ingress-nginx' }),
      routes: [{ path: '/mcp', targets: [everything(ok)] }],
    });
    const objects = Testing.synth(ok);
    expect(policyFor(objects, gatewayPods(objects)).spec.ingress[0].from).toEqual([{
      namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'ingress-nginx' } }, podSelector: {},
    }]);
  });

  test('with agentgateway the Gateway proxies, not a runtime, are let into the servers', () => {
    const c = chart();
    const server = everything(c);
    const gateway = new McpGateway(c, 'gateway', {
      implementation: McpGatewayImplementation.AGENTGATEWAY,
      exposure: McpGatewayExposure.gateway({ gatewayClassName: 'agentgateway' }),
      routes: [{ path: '/mcp', targets: [server] }],
    });
    const objects = Testing.synth(c);
    expect(policies(objects)).toHaveLength(1);
    expect(policyFor(objects, serverSelector(objects, server.name)).spec.ingress[0].from).toEqual([
      { podSelector: { matchLabels: { 'gateway.networking.k8s.io/gateway-name': gateway.gatewayObject!.name } } },
    ]);
  });

  test('kmcp servers are selected by the labels kmcp puts on its pods', () => {
    const c = chart();
    const server = everything(c, 'everything', { workload: McpServerWorkload.KMCP });
    new McpGateway(c, 'gateway', { routes: [{ path: '/mcp', targets: [server] }] });
    const objects = Testing.synth(c);
    const policy = policyFor(objects, { 'app.kubernetes.io/name': server.name, 'app.kubernetes.io/instance': server.name });
    expect(policy.spec.ingress).toHaveLength(1);
  });

  test('Keycloak accepts the gateways whose routes sign in with it', () => {
    const c = chart();
    const realm = new KeycloakRealm(c, 'keycloak', {
      mcpAudiences: ['https://mcp.example.com/mcp'],
      bootstrapAdmin: { secret: kplus.Secret.fromSecretName(c, 'Admin', 'admin') },
      database: KeycloakDatabase.devFile(),
    });
    const gateway = new McpGateway(c, 'gateway', { routes: [{ path: '/mcp', targets: [everything(c)] }] });
    gateway.addPolicy('/mcp', new McpAuthPolicy(c, 'auth', { issuer: realm }));
    const objects = Testing.synth(c);
    const keycloakPods = objects.find((o) => o.kind === 'Deployment' && o.spec.template.spec.containers[0].name === 'keycloak').spec.selector
      .matchLabels;
    const policy = policyFor(objects, keycloakPods);
    expect(policy.spec.ingress).toEqual([{
      from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'mcp' } }, podSelector: { matchLabels: gatewayPods(objects) } }],
      ports: [{ port: 8080, protocol: 'TCP' }],
    }]);
  });

  test('connections.allowFrom adds peers; isolate: false emits no policy and opens nothing', () => {
    const c = chart();
    const server = everything(c);
    server.connections.allowFrom(kplus.Pods.select(c, 'Agents', { labels: { app: 'agent' } }));
    server.connections.allowFrom(kplus.Pods.select(c, 'Agents2', { labels: { app: 'agent' } }), { ports: [kplus.NetworkPolicyPort.tcp(9090)] });
    const objects = Testing.synth(c);
    expect(policies(objects)[0].spec.ingress).toEqual([
      { from: [{ podSelector: { matchLabels: { app: 'agent' } } }], ports: [{ port: 3000, protocol: 'TCP' }] },
      { from: [{ podSelector: { matchLabels: { app: 'agent' } } }], ports: [{ port: 9090, protocol: 'TCP' }] },
    ]);

    const open = chart();
    const openServer = everything(open, 'everything', { isolate: false });
    new McpGateway(open, 'gateway', { isolate: false, routes: [{ path: '/mcp', targets: [openServer] }] });
    openServer.connections.allowFrom(kplus.Pods.select(open, 'Agents', { labels: { app: 'agent' } }));
    expect(policies(Testing.synth(open))).toEqual([]);
    expect(openServer.connections.isolated).toBe(false);
  });
});
