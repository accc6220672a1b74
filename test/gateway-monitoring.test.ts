import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { Chart, Duration, Testing } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import type { McpGatewayMonitoringProps } from '../src';
import { McpGateway, McpGatewayMonitoring, McpTarget } from '../src';
import { expectValidManifests } from './util/manifest-validation';

// ---------------------------------------------------------------------------------------------------
// The metrics contract, read from the document the runtime and the dashboard both follow.
// ---------------------------------------------------------------------------------------------------

interface ContractMetric {
  readonly type: string;
  readonly labels: string[];
}

function readContract(): Map<string, ContractMetric> {
  const doc = fs.readFileSync(path.join(__dirname, '..', 'docs', 'ARCHITECTURE.md'), 'utf8');
  const section = doc.slice(doc.indexOf('## Metrics contract'));
  const contract = new Map<string, ContractMetric>();
  for (const line of section.split('\n')) {
    const cells = line.split('|').map(cell => cell.trim());
    const name = /^`([a-z_:][a-z0-9_:]*)`$/.exec(cells[1] ?? '')?.[1];
    if (!name) continue;
    // Label cells list values in parentheses, e.g. "`kind` (`tool`/`prompt`)": only the names outside count.
    const labels = [...(cells[3] ?? '').replace(/\([^)]*\)/g, '').matchAll(/`([a-zA-Z_][a-zA-Z0-9_]*)`/g)].map(m => m[1]);
    contract.set(name, { type: cells[2], labels });
  }
  return contract;
}

const CONTRACT = readContract();
/** Labels Prometheus (with the Prometheus Operator) adds to every scraped series. */
const TARGET_LABELS = ['namespace', 'job', 'pod', 'instance', 'service', 'endpoint', 'container'];
const PROMQL_WORDS = new Set([
  'sum', 'avg', 'min', 'max', 'count', 'rate', 'irate', 'increase', 'histogram_quantile', 'by', 'without',
  'label_values', 'and', 'or', 'unless', 'on', 'ignoring', 'group_left', 'group_right', 'clamp_min', 'topk',
]);

/** Series names a contract metric produces: a histogram is scraped as `_bucket`, `_sum` and `_count`. */
function seriesOf(name: string, metric: ContractMetric): Map<string, string[]> {
  if (metric.type !== 'histogram') return new Map([[name, metric.labels]]);
  return new Map([
    [`${name}_bucket`, [...metric.labels, 'le']],
    [`${name}_sum`, metric.labels],
    [`${name}_count`, metric.labels],
  ]);
}

const SERIES = new Map<string, string[]>([...CONTRACT].flatMap(([name, metric]) => [...seriesOf(name, metric)]));

/**
 * Problems of one PromQL expression against the contract: unknown metric names, and labels (in
 * selectors and in `by (...)`) that the metrics it reads do not have.
 */
function promqlProblems(expr: string): string[] {
  const problems: string[] = [];
  const used = new Set<string>();
  const selector = /([a-zA-Z_:][a-zA-Z0-9_:]*)\s*\{([^}]*)\}/g;
  for (const [, metric, matchers] of expr.matchAll(selector)) {
    used.add(metric);
    const labels = SERIES.get(metric);
    if (!labels) continue;
    for (const [, label] of matchers.matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)/g)) {
      if (!labels.includes(label) && !TARGET_LABELS.includes(label)) problems.push(`${metric} has no label "${label}"`);
    }
  }
  // What is left once selectors, strings, ranges, grouping clauses and numbers are gone: functions and metric names.
  const bare = expr
    .replace(selector, ' $1 ')
    .replace(/(label_values\([^,]*),\s*[a-zA-Z_][a-zA-Z0-9_]*\s*\)/g, '$1)')
    .replace(/"[^"]*"/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(by|without)\s*\(([^)]*)\)/g, ' ')
    .replace(/\b\d+(\.\d+)?\b/g, ' ');
  for (const [word] of bare.matchAll(/[a-zA-Z_:][a-zA-Z0-9_:]*/g)) {
    if (PROMQL_WORDS.has(word)) continue;
    if (!SERIES.has(word)) problems.push(`"${word}" is not a metric of the contract`);
    used.add(word);
  }
  const readLabels = new Set([...used].flatMap(metric => SERIES.get(metric) ?? []));
  for (const [, labels] of expr.matchAll(/\b(?:by|without)\s*\(([^)]*)\)/g)) {
    for (const label of labels.split(',').map(l => l.trim()).filter(Boolean)) {
      if (!readLabels.has(label) && !TARGET_LABELS.includes(label)) problems.push(`groups by "${label}", which ${[...used].join(', ')} do not have`);
    }
  }
  // label_values(metric{...}, label): the label is read from that metric.
  for (const [, metric, label] of expr.matchAll(/label_values\(\s*([a-zA-Z_:][a-zA-Z0-9_:]*)[^,]*,\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*\)/g)) {
    const labels = SERIES.get(metric) ?? [];
    if (!labels.includes(label) && !TARGET_LABELS.includes(label)) problems.push(`${metric} has no label "${label}"`);
  }
  if (![...used].some(metric => SERIES.has(metric))) problems.push('reads no metric of the contract');
  return problems;
}

// ---------------------------------------------------------------------------------------------------
// The Prometheus Operator's ServiceMonitor schema (@kubernetes-models/prometheus-operator, ESM only, so
// it runs in a child Node process). Its compiled validator does not reject unknown fields, so the child
// records which fields the validator read, as test/util/manifest-validation.ts does for built-in kinds.
// ---------------------------------------------------------------------------------------------------

const VALIDATE_SERVICE_MONITORS = `
import { ServiceMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor';
const tracked = [];
function track(value, pointer) {
  if (Array.isArray(value)) return value.map((item, i) => track(item, pointer + '/' + i));
  if (!value || typeof value !== 'object') return value;
  const entry = { pointer, value, read: new Set(), enumerated: false };
  tracked.push(entry);
  const copy = {};
  for (const [key, child] of Object.entries(value)) copy[key] = track(child, pointer + '/' + key);
  return new Proxy(copy, {
    get(target, key, receiver) { if (typeof key === 'string') entry.read.add(key); return Reflect.get(target, key, receiver); },
    has(target, key) { if (typeof key === 'string') entry.read.add(key); return Reflect.has(target, key); },
    ownKeys(target) { entry.enumerated = true; return Reflect.ownKeys(target); },
  });
}
let input = '';
process.stdin.on('data', chunk => { input += chunk; }).on('end', () => {
  const results = JSON.parse(input).map(object => {
    const errors = [];
    tracked.length = 0;
    try {
      ServiceMonitor.prototype.validate.call(track(object, ''));
    } catch (e) {
      if (!Array.isArray(e.errors)) throw e;
      for (const error of e.errors) errors.push((error.instancePath || '/') + ': ' + error.message);
    }
    for (const entry of tracked) {
      if (entry.enumerated || entry.read.size === 0) continue;
      for (const key of Object.keys(entry.value)) if (!entry.read.has(key)) errors.push(entry.pointer + '/' + key + ': unknown field');
    }
    return errors;
  });
  process.stdout.write(JSON.stringify(results));
});
`;

/** Errors of each ServiceMonitor against the Prometheus Operator schema (an empty list when valid). */
function serviceMonitorErrors(objects: any[]): string[][] {
  const output = execFileSync(process.execPath, ['--input-type=module', '-e', VALIDATE_SERVICE_MONITORS], {
    cwd: path.join(__dirname, '..'),
    input: JSON.stringify(objects),
    encoding: 'utf8',
  });
  return JSON.parse(output);
}

// ---------------------------------------------------------------------------------------------------

function newChart(namespace: string | undefined = 'mcp'): Chart {
  return new Chart(Testing.app(), 'test', { namespace });
}

/** A Service shaped like the gateway's: an `http` and a `metrics` port. */
function gatewayLikeService(chart: Chart, name = 'gateway'): kplus.Service {
  const service = new kplus.Service(chart, `Service-${name}`, {
    metadata: { name },
    ports: [{ name: 'http', port: 8080 }, { name: 'metrics', port: 15020 }],
  });
  service.selectLabel('app', name);
  return service;
}

function monitoring(props: Partial<McpGatewayMonitoringProps> = {}, namespace: string | undefined = 'mcp') {
  const chart = newChart(namespace);
  const service = props.service ?? gatewayLikeService(chart);
  const construct = new McpGatewayMonitoring(chart, 'Monitoring', { ...props, service });
  return { chart, construct, objects: () => Testing.synth(chart) };
}

function only(objects: any[], kind: string): any {
  const matches = objects.filter(o => o.kind === kind);
  expect(matches).toHaveLength(1);
  return matches[0];
}

function dashboardOf(objects: any[]): any {
  const configMap = objects.find(o => o.kind === 'ConfigMap' && o.data?.['mcp-gateway.json'] !== undefined);
  expect(configMap).toBeDefined();
  return JSON.parse(configMap.data['mcp-gateway.json']);
}

/** Every PromQL expression of a dashboard: panel targets and query variables. */
function expressionsOf(dashboard: any): string[] {
  const panelExprs = dashboard.panels.flatMap((panel: any) => (panel.targets ?? []).map((target: any) => target.expr));
  const variableExprs = dashboard.templating.list.filter((v: any) => v.type === 'query').map((v: any) => v.query.query);
  return [...panelExprs, ...variableExprs];
}

describe('the metrics contract as the test reads it', () => {
  test('has the documented metrics, types and labels', () => {
    expect([...CONTRACT.keys()]).toEqual(expect.arrayContaining([
      'mcp_gateway_mcp_requests_total', 'mcp_gateway_mcp_request_duration_seconds', 'mcp_gateway_sessions_active', 'mcp_gateway_stdio_processes',
    ]));
    expect(CONTRACT.get('mcp_gateway_mcp_request_duration_seconds')).toEqual({
      type: 'histogram',
      labels: ['route', 'target', 'method', 'kind', 'name'],
    });
    expect(CONTRACT.get('mcp_gateway_config_reloads_total')).toEqual({ type: 'counter', labels: ['outcome'] });
  });

  test('the PromQL check rejects unknown metrics and labels', () => {
    expect(promqlProblems('sum(rate(mcp_gateway_mcp_requests_total{route="a"}[5m]))')).toEqual([]);
    expect(promqlProblems('sum(rate(mcp_gateway_tool_calls_total[5m]))')).toEqual([
      '"mcp_gateway_tool_calls_total" is not a metric of the contract',
      'reads no metric of the contract',
    ]);
    expect(promqlProblems('histogram_quantile(0.9, sum by (le) (rate(mcp_gateway_mcp_request_duration_seconds[5m])))'))
      .toContain('"mcp_gateway_mcp_request_duration_seconds" is not a metric of the contract');
    expect(promqlProblems('sum(mcp_gateway_config_reloads_total{route="a"})')).toEqual(['mcp_gateway_config_reloads_total has no label "route"']);
    expect(promqlProblems('sum by (tool) (mcp_gateway_sessions_active)')).toEqual([
      'groups by "tool", which mcp_gateway_sessions_active do not have',
    ]);
    expect(promqlProblems('label_values(mcp_gateway_config_reloads_total{namespace="x"}, route)')).toEqual([
      'mcp_gateway_config_reloads_total has no label "route"',
    ]);
    expect(promqlProblems('up')).toEqual(expect.arrayContaining(['"up" is not a metric of the contract', 'reads no metric of the contract']));
  });
});

describe('ServiceMonitor', () => {
  test('scrapes /metrics on the metrics port of the Service it selects, and is valid for the Prometheus Operator', () => {
    const { objects } = monitoring({ serviceMonitorLabels: { release: 'kube-prometheus-stack' } });
    const all = objects();
    const serviceMonitor = only(all, 'ServiceMonitor');
    const service = only(all, 'Service');
    expect(serviceMonitor.apiVersion).toBe('monitoring.coreos.com/v1');
    expect(serviceMonitor.metadata).toMatchObject({ name: 'gateway', namespace: 'mcp', labels: { release: 'kube-prometheus-stack' } });
    expect(serviceMonitor.spec.endpoints).toEqual([{ port: 'metrics', path: '/metrics', interval: '30s' }]);
    // The selector matches the gateway Service's labels, and its port name is a port of that Service.
    for (const [key, value] of Object.entries(serviceMonitor.spec.selector.matchLabels)) expect(service.metadata.labels[key]).toBe(value);
    expect(service.spec.ports.find((p: any) => p.name === 'metrics').port).toBe(15020);
    expect(serviceMonitorErrors([serviceMonitor])).toEqual([[]]);
  });

  test('the schema check catches unknown fields and bad intervals', () => {
    const serviceMonitor = only(monitoring().objects(), 'ServiceMonitor');
    const broken = JSON.parse(JSON.stringify(serviceMonitor));
    broken.spec.endpoints[0].scrapeEvery = '30s';
    broken.spec.endpoints[0].interval = '30 seconds';
    const [errors] = serviceMonitorErrors([broken]);
    expect(errors).toEqual(expect.arrayContaining([
      '/spec/endpoints/0/scrapeEvery: unknown field',
      expect.stringMatching(/^\/spec\/endpoints\/0\/interval: must match pattern/),
    ]));
  });

  test('scrape interval', () => {
    const serviceMonitor = only(monitoring({ scrapeInterval: Duration.minutes(1) }).objects(), 'ServiceMonitor');
    expect(serviceMonitor.spec.endpoints[0].interval).toBe('60s');
    expect(serviceMonitorErrors([serviceMonitor])).toEqual([[]]);
  });

  test('a ServiceMonitor in another namespace than the gateway looks in the gateway\'s namespace', () => {
    const app = Testing.app();
    const gatewayChart = new Chart(app, 'gateway', { namespace: 'mcp' });
    const monitoringChart = new Chart(app, 'monitoring', { namespace: 'monitoring' });
    new McpGatewayMonitoring(monitoringChart, 'Monitoring', { service: gatewayLikeService(gatewayChart) });
    const serviceMonitor = only(Testing.synth(monitoringChart), 'ServiceMonitor');
    expect(serviceMonitor.metadata.namespace).toBe('monitoring');
    expect(serviceMonitor.spec.namespaceSelector).toEqual({ matchNames: ['mcp'] });
    expect(serviceMonitorErrors([serviceMonitor])).toEqual([[]]);
    // In the same namespace the default (its own namespace) is right.
    expect(only(monitoring().objects(), 'ServiceMonitor').spec.namespaceSelector).toBeUndefined();
  });

  test('serviceMonitor false: none, and the Service is left unlabelled', () => {
    const all = monitoring({ serviceMonitor: false }).objects();
    expect(all.filter(o => o.kind === 'ServiceMonitor')).toEqual([]);
    expect(only(all, 'Service').metadata.labels).toBeUndefined();
  });

  test('with the real McpGateway: selects its Service and its metrics port', () => {
    const chart = newChart();
    const gateway = new McpGateway(chart, 'gateway', { routes: [{ path: '/github/mcp', targets: [McpTarget.fromUrl('github', 'http://github:3000/mcp')] }] });
    new McpGatewayMonitoring(chart, 'Monitoring', { service: gateway.service! });
    const all = Testing.synth(chart);
    const serviceMonitor = only(all, 'ServiceMonitor');
    const service = only(all, 'Service');
    for (const [key, value] of Object.entries(serviceMonitor.spec.selector.matchLabels)) expect(service.metadata.labels[key]).toBe(value);
    expect(service.spec.ports).toEqual(expect.arrayContaining([expect.objectContaining({ name: 'metrics', port: 15020 })]));
    const deployment = only(all, 'Deployment');
    expect(deployment.spec.template.spec.containers[0].ports).toEqual(
      expect.arrayContaining([expect.objectContaining({ name: 'metrics', containerPort: 15020 })]),
    );
    expect(serviceMonitorErrors([serviceMonitor])).toEqual([[]]);
    const report = expectValidManifests(all);
    expect(report.notChecked.map(skip => skip.object)).toEqual([`ServiceMonitor/${serviceMonitor.metadata.name}`]);
  });
});

describe('McpGateway monitoring prop', () => {
  const routes = [{ path: '/github/mcp', targets: [McpTarget.fromUrl('github', 'http://github:3000/mcp')] }];

  test('off by default: the metrics port only', () => {
    const chart = newChart();
    const gateway = new McpGateway(chart, 'gateway', { routes });
    expect(gateway.monitoring).toBeUndefined();
    const all = Testing.synth(chart);
    expect(all.filter(o => o.kind === 'ServiceMonitor')).toEqual([]);
    expect(all.filter(o => o.kind === 'ConfigMap')).toHaveLength(1);
  });

  test('monitoring: ServiceMonitor and dashboard for the gateway Service, all valid', () => {
    const chart = newChart();
    const gateway = new McpGateway(chart, 'gateway', {
      routes,
      monitoring: { serviceMonitorLabels: { release: 'kube-prometheus-stack' }, dashboardFolder: 'MCP' },
    });
    const all = Testing.synth(chart);
    const serviceMonitor = only(all, 'ServiceMonitor');
    const service = only(all, 'Service');
    expect(serviceMonitor.metadata.labels).toEqual(
      expect.objectContaining({ 'release': 'kube-prometheus-stack', 'app.kubernetes.io/component': 'gateway' }),
    );
    for (const [key, value] of Object.entries(serviceMonitor.spec.selector.matchLabels)) expect(service.metadata.labels[key]).toBe(value);
    expect(serviceMonitorErrors([serviceMonitor])).toEqual([[]]);
    const dashboard = dashboardOf(all);
    expect(dashboard.uid).toBe(gateway.monitoring!.dashboardUid);
    expect(dashboard.templating.list.find((v: any) => v.name === 'job').current.value).toBe(service.metadata.name);
    expectValidManifests(all);
  });
});

describe('Grafana dashboard', () => {
  test('a ConfigMap the Grafana sidecar picks up, valid against Kubernetes 1.28', () => {
    const all = monitoring({ dashboardFolder: 'MCP' }).objects();
    const configMap = only(all, 'ConfigMap');
    expect(configMap.metadata.labels).toEqual({ grafana_dashboard: '1' });
    expect(configMap.metadata.annotations).toEqual({ grafana_folder: 'MCP' });
    expect(Object.keys(configMap.data)).toEqual(['mcp-gateway.json']);
    const report = expectValidManifests(all);
    expect(report.checked).toContain(`ConfigMap/${configMap.metadata.name}`);
  });

  test('custom sidecar label and folder annotation', () => {
    const configMap = only(
      monitoring({
        dashboardLabels: { dashboards: 'mcp' },
        dashboardFolder: 'Platform',
        dashboardFolderAnnotation: 'k8s-sidecar-target-directory',
      }).objects(),
      'ConfigMap',
    );
    expect(configMap.metadata.labels).toEqual({ dashboards: 'mcp' });
    expect(configMap.metadata.annotations).toEqual({ 'k8s-sidecar-target-directory': 'Platform' });
  });

  test('the JSON parses into a dashboard model with the expected panels', () => {
    const dashboard = dashboardOf(monitoring().objects());
    expect(dashboard.schemaVersion).toBeGreaterThanOrEqual(36);
    expect(dashboard.title).toBe('MCP gateway / gateway');
    expect(dashboard.uid.length).toBeLessThanOrEqual(40);
    const titles = dashboard.panels.map((p: any) => p.title);
    expect(titles).toEqual(expect.arrayContaining([
      'Tool calls per tool', 'Errors and denials', 'Latency p50 / p95 / p99', 'Active sessions', 'stdio processes',
      'Active sessions by route', 'stdio processes by target',
    ]));
    const ids = dashboard.panels.map((p: any) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const panel of dashboard.panels) {
      expect(panel.gridPos.x + panel.gridPos.w).toBeLessThanOrEqual(24);
      if (panel.type !== 'row') {
        expect(panel.datasource).toEqual({ type: 'prometheus', uid: '${datasource}' });
        expect(panel.targets.length).toBeGreaterThan(0);
      }
    }
    const latency = dashboard.panels.find((p: any) => p.title === 'Latency p50 / p95 / p99');
    expect(latency.targets.map((t: any) => t.expr)).toEqual(
      [0.5, 0.95, 0.99].map((q) =>
        expect.stringContaining(`histogram_quantile(${q}, sum by (le) (rate(mcp_gateway_mcp_request_duration_seconds_bucket{`),
      ),
    );
    expect(dashboard.templating.list.map((v: any) => v.name)).toEqual(['datasource', 'namespace', 'job', 'route']);
    // Preset to this gateway: the chart's namespace and the Service name (the Prometheus Operator's job).
    expect(dashboard.templating.list[1].current.value).toBe('mcp');
    expect(dashboard.templating.list[2].current.value).toBe('gateway');
  });

  test('every PromQL expression reads only metrics and labels of the metrics contract', () => {
    const dashboard = dashboardOf(monitoring().objects());
    const exprs = expressionsOf(dashboard);
    expect(exprs.length).toBeGreaterThan(10);
    const problems = exprs.flatMap(expr => promqlProblems(expr).map(problem => `${expr}: ${problem}`));
    expect(problems).toEqual([]);
    // The panels the issue asks for read the metrics that carry them.
    const all = exprs.join('\n');
    for (const metric of [
      'mcp_gateway_mcp_requests_total',
      'mcp_gateway_mcp_request_duration_seconds_bucket',
      'mcp_gateway_sessions_active',
      'mcp_gateway_stdio_processes',
    ]) {
      expect(all).toContain(metric);
    }
  });

  test('uid: stable across synths, different per gateway', () => {
    const first = dashboardOf(monitoring().objects()).uid;
    expect(dashboardOf(monitoring().objects()).uid).toBe(first);
    expect(dashboardOf(monitoring({}, 'other').objects()).uid).not.toBe(first);
  });

  test('dashboard false: no ConfigMap', () => {
    expect(monitoring({ dashboard: false }).objects().filter(o => o.kind === 'ConfigMap')).toEqual([]);
  });
});

describe('validation', () => {
  function errorsOf(props: Partial<McpGatewayMonitoringProps>, service?: (chart: Chart) => kplus.Service): string {
    const chart = newChart();
    new McpGatewayMonitoring(chart, 'Monitoring', { ...props, service: service ? service(chart) : gatewayLikeService(chart) });
    try {
      Testing.synth(chart);
    } catch (e: any) {
      return e.message;
    }
    throw new Error('synthesis did not fail');
  }

  test('a Service without a metrics port', () => {
    const message = errorsOf({}, chart => new kplus.Service(chart, 'Plain', { ports: [{ name: 'http', port: 80 }] }));
    expect(message).toMatch(
      /McpGatewayMonitoring test\/Monitoring: service "test-plain-c8[0-9a-f]*" has no port named "metrics".*Pass the gateway\'s Service/,
    );
  });

  test('scrape interval, labels, folder annotation', () => {
    expect(errorsOf({ scrapeInterval: Duration.millis(500) })).toMatch(
      /scrapeInterval 0\.5s is not a whole number of seconds of at least 1\. Set scrapeInterval to whole seconds/,
    );
    expect(errorsOf({ serviceMonitorLabels: { release: 'kube prometheus' } })).toMatch(
      /serviceMonitorLabels "release" has the value "kube prometheus", which is not a valid label value/,
    );
    expect(errorsOf({ dashboardLabels: {} })).toMatch(/dashboardLabels is empty, so no Grafana sidecar would find the dashboard/);
    expect(errorsOf({ dashboardFolderAnnotation: 'grafana folder' })).toMatch(
      /dashboardFolderAnnotation "grafana folder" is not a valid annotation key/,
    );
    expect(errorsOf({ dashboardFolder: ' ' })).toMatch(/dashboardFolder is empty\. Set dashboardFolder to a folder name/);
  });
});
