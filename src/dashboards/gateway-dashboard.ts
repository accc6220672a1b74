/**
 * The Grafana dashboard `McpGatewayMonitoring` ships, built in code so its PromQL can only use the metric
 * names and labels of the metrics contract (docs/ARCHITECTURE.md, "Metrics contract"); a test checks it.
 * Grafana's dashboard JSON model: https://grafana.com/docs/grafana/latest/dashboards/build-dashboards/view-dashboard-json-model/
 */

/** What the dashboard is preset to; every value can still be changed in Grafana's variable pickers. */
export interface GatewayDashboardOptions {
  /** Dashboard uid: stable across synths, unique per gateway so two gateways' dashboards do not collide. */
  readonly uid: string;
  readonly title: string;
  /** Namespace of the gateway, preselected in the `namespace` picker. */
  readonly namespace?: string;
  /** Prometheus `job` of the gateway (the Service name, with the Prometheus Operator), preselected in the `job` picker. */
  readonly job?: string;
}

/**
 * The series of one gateway: Prometheus Operator's target labels `namespace` and `job`, and the routes
 * picked in the dashboard.
 */
const GATEWAY = 'namespace="$namespace", job="$job"';
const ROUTES = `${GATEWAY}, route=~"$route"`;
const DATASOURCE = { type: 'prometheus', uid: '${datasource}' };
const RATE = '[$__rate_interval]';

interface Query {
  readonly expr: string;
  readonly legend?: string;
}

interface PanelSpec {
  readonly title: string;
  readonly description: string;
  readonly type: 'stat' | 'timeseries';
  readonly unit: string;
  readonly queries: Query[];
  /** Width in Grafana's 24-column grid. */
  readonly width: number;
  readonly height?: number;
}

const ROWS: Array<{ title: string; panels: PanelSpec[] }> = [
  {
    title: 'Overview',
    panels: [
      {
        title: 'Active sessions',
        type: 'stat',
        unit: 'short',
        width: 6,
        description: 'MCP sessions open on the gateway now (all pods).',
        queries: [{ expr: `sum(mcp_gateway_sessions_active{${ROUTES}})` }],
      },
      {
        title: 'stdio processes',
        type: 'stat',
        unit: 'short',
        width: 6,
        description: 'stdio server processes the gateway runs now.',
        queries: [{ expr: `sum(mcp_gateway_stdio_processes{${ROUTES}})` }],
      },
      {
        title: 'MCP requests',
        type: 'stat',
        unit: 'reqps',
        width: 6,
        description: 'MCP requests per second, all methods.',
        queries: [{ expr: `sum(rate(mcp_gateway_mcp_requests_total{${ROUTES}}${RATE}))` }],
      },
      {
        title: 'Failed MCP requests',
        type: 'stat',
        unit: 'percentunit',
        width: 6,
        description: 'Share of MCP requests that ended in an error or were denied by authorization.',
        queries: [
          {
            expr: `sum(rate(mcp_gateway_mcp_requests_total{${ROUTES}, outcome!="ok"}${RATE})) / `
              + `sum(rate(mcp_gateway_mcp_requests_total{${ROUTES}}${RATE}))`,
          },
        ],
      },
    ],
  },
  {
    title: 'Tools',
    panels: [
      {
        title: 'Tool calls per tool',
        type: 'timeseries',
        unit: 'reqps',
        width: 12,
        description: 'tools/call requests per second, by target and tool.',
        queries: [
          {
            expr: `sum by (target, name) (rate(mcp_gateway_mcp_requests_total{${ROUTES}, kind="tool"}${RATE}))`,
            legend: '{{target}} / {{name}}',
          },
        ],
      },
      {
        title: 'Errors and denials',
        type: 'timeseries',
        unit: 'reqps',
        width: 12,
        description: 'MCP requests per second that failed (error) or were refused by authorization (denied).',
        queries: [
          {
            expr: `sum by (target, kind, name, outcome) (rate(mcp_gateway_mcp_requests_total{${ROUTES}, outcome!="ok"}${RATE}))`,
            legend: '{{target}} / {{name}} ({{kind}}, {{outcome}})',
          },
        ],
      },
      {
        title: 'Latency p50 / p95 / p99',
        type: 'timeseries',
        unit: 's',
        width: 12,
        description: 'Time the gateway took to answer MCP requests, all methods.',
        queries: [0.5, 0.95, 0.99].map((quantile) => ({
          expr: `histogram_quantile(${quantile}, sum by (le) (rate(mcp_gateway_mcp_request_duration_seconds_bucket{${ROUTES}}${RATE})))`,
          legend: `p${Math.round(quantile * 100)}`,
        })),
      },
      {
        title: 'p95 latency per tool',
        type: 'timeseries',
        unit: 's',
        width: 12,
        description: '95th percentile of tools/call latency, by target and tool.',
        queries: [
          {
            expr: `histogram_quantile(0.95, sum by (le, target, name) (rate(mcp_gateway_mcp_request_duration_seconds_bucket{${ROUTES}, `
              + `kind="tool"}${RATE})))`,
            legend: '{{target}} / {{name}}',
          },
        ],
      },
    ],
  },
  {
    title: 'Sessions and upstreams',
    panels: [
      {
        title: 'Active sessions by route',
        type: 'timeseries',
        unit: 'short',
        width: 12,
        description: 'Open MCP sessions, by route.',
        queries: [{ expr: `sum by (route) (mcp_gateway_sessions_active{${ROUTES}})`, legend: '{{route}}' }],
      },
      {
        title: 'stdio processes by target',
        type: 'timeseries',
        unit: 'short',
        width: 12,
        description: 'Running stdio server processes, by route and target.',
        queries: [{ expr: `sum by (route, target) (mcp_gateway_stdio_processes{${ROUTES}})`, legend: '{{route}} / {{target}}' }],
      },
      {
        title: 'stdio process events',
        type: 'timeseries',
        unit: 'short',
        width: 12,
        description: 'stdio processes started, exited and restarted per interval; restarts mean a crashing server.',
        queries: [
          {
            expr: `sum by (target, event) (increase(mcp_gateway_stdio_process_events_total{${ROUTES}}${RATE}))`,
            legend: '{{target}} {{event}}',
          },
        ],
      },
      {
        title: 'Upstream errors',
        type: 'timeseries',
        unit: 'reqps',
        width: 12,
        description: 'Failures talking to targets per second, by target and reason.',
        queries: [
          {
            expr: `sum by (target, reason) (rate(mcp_gateway_upstream_errors_total{${ROUTES}}${RATE}))`,
            legend: '{{target}}: {{reason}}',
          },
        ],
      },
    ],
  },
  {
    title: 'HTTP, sign-in and configuration',
    panels: [
      {
        title: 'HTTP requests by status',
        type: 'timeseries',
        unit: 'reqps',
        width: 8,
        description: 'HTTP requests per second, by status code.',
        queries: [{ expr: `sum by (status) (rate(mcp_gateway_http_requests_total{${ROUTES}}${RATE}))`, legend: '{{status}}' }],
      },
      {
        title: 'Authentication failures',
        type: 'timeseries',
        unit: 'reqps',
        width: 8,
        description: 'Requests refused for a missing or invalid token, by route and reason.',
        queries: [
          {
            expr: `sum by (route, reason) (rate(mcp_gateway_auth_failures_total{${ROUTES}}${RATE}))`,
            legend: '{{route}}: {{reason}}',
          },
        ],
      },
      {
        title: 'Configuration reloads',
        type: 'timeseries',
        unit: 'short',
        width: 8,
        description: 'Configuration changes applied or rejected (a rejected change keeps the previous configuration).',
        // Reloads are per process, not per route.
        queries: [{ expr: `sum by (outcome) (increase(mcp_gateway_config_reloads_total{${GATEWAY}}${RATE}))`, legend: '{{outcome}}' }],
      },
    ],
  },
];

/** The dashboard as Grafana's JSON model (an object; the ConfigMap holds it serialized). */
export function gatewayDashboard(options: GatewayDashboardOptions): any {
  const panels: any[] = [];
  let id = 1;
  let y = 0;
  for (const row of ROWS) {
    panels.push({ id: id++, type: 'row', title: row.title, collapsed: false, gridPos: { h: 1, w: 24, x: 0, y }, panels: [] });
    y += 1;
    let x = 0;
    let rowHeight = 0;
    for (const spec of row.panels) {
      const height = spec.height ?? (spec.type === 'stat' ? 4 : 8);
      if (x + spec.width > 24) {
        x = 0;
        y += rowHeight;
        rowHeight = 0;
      }
      panels.push(panel(id++, spec, { h: height, w: spec.width, x, y }));
      x += spec.width;
      rowHeight = Math.max(rowHeight, height);
    }
    y += rowHeight;
  }

  return {
    uid: options.uid,
    title: options.title,
    description: 'MCP gateway (cdk8s-mcp): tool calls, errors, latency, sessions and stdio processes.',
    tags: ['mcp', 'cdk8s-mcp'],
    editable: true,
    graphTooltip: 1,
    schemaVersion: 39,
    version: 1,
    time: { from: 'now-1h', to: 'now' },
    refresh: '30s',
    timezone: 'browser',
    annotations: { list: [] },
    links: [],
    templating: {
      list: [
        { name: 'datasource', label: 'Data source', type: 'datasource', query: 'prometheus', hide: 0, current: {} },
        queryVariable('namespace', 'Namespace', 'label_values(mcp_gateway_http_requests_total, namespace)', options.namespace),
        queryVariable('job', 'Gateway', 'label_values(mcp_gateway_http_requests_total{namespace="$namespace"}, job)', options.job),
        {
          ...queryVariable('route', 'Route', `label_values(mcp_gateway_http_requests_total{${GATEWAY}}, route)`, undefined),
          multi: true,
          includeAll: true,
          allValue: '.*',
          current: { selected: true, text: ['All'], value: ['$__all'] },
        },
      ],
    },
    panels,
  };
}

function queryVariable(name: string, label: string, query: string, preset: string | undefined): any {
  return {
    name,
    label,
    type: 'query',
    datasource: DATASOURCE,
    definition: query,
    query: { query, refId: `${name}-variable` },
    refresh: 2,
    sort: 1,
    hide: 0,
    current: preset === undefined ? {} : { selected: true, text: preset, value: preset },
  };
}

function panel(id: number, spec: PanelSpec, gridPos: { h: number; w: number; x: number; y: number }): any {
  const common = {
    id,
    type: spec.type,
    title: spec.title,
    description: spec.description,
    datasource: DATASOURCE,
    gridPos,
    targets: spec.queries.map((query, index) => ({
      refId: String.fromCharCode(65 + index),
      datasource: DATASOURCE,
      expr: query.expr,
      legendFormat: query.legend ?? '__auto',
      range: true,
    })),
  };
  if (spec.type === 'stat') {
    return {
      ...common,
      fieldConfig: { defaults: { unit: spec.unit, decimals: spec.unit === 'percentunit' ? 1 : undefined }, overrides: [] },
      options: { reduceOptions: { calcs: ['lastNotNull'], fields: '', values: false }, colorMode: 'value', graphMode: 'area', textMode: 'auto' },
    };
  }
  return {
    ...common,
    fieldConfig: { defaults: { unit: spec.unit, custom: { drawStyle: 'line', lineWidth: 1, fillOpacity: 10, showPoints: 'never' } }, overrides: [] },
    options: { legend: { displayMode: 'list', placement: 'bottom', showLegend: true }, tooltip: { mode: 'multi', sort: 'desc' } },
  };
}
