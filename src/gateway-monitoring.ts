import { createHash } from 'crypto';
import { ApiObject, Chart, Duration } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { gatewayDashboard } from './dashboards/gateway-dashboard';
import { emptyProblem, propChecks } from './validation';

/** Name of the gateway Service's Prometheus port (docs/ARCHITECTURE.md, "Metrics contract"). */
const METRICS_PORT_NAME = 'metrics';
const METRICS_PATH = '/metrics';
/** Label `McpGatewayMonitoring` puts on the gateway Service so the ServiceMonitor selects it alone. */
const SCRAPE_LABEL = 'mcp.cdk8s.io/metrics';
const DASHBOARD_KEY = 'mcp-gateway.json';
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const QUALIFIED_NAME = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;

/**
 * Prometheus scraping and a Grafana dashboard for an MCP gateway.
 */
export interface McpGatewayMonitoringOptions {
  /**
   * Emit a Prometheus Operator `ServiceMonitor` (`monitoring.coreos.com/v1`) that scrapes `/metrics`
   * on the Service's `metrics` port. Needs the Prometheus Operator's CRDs in the cluster.
   * @default true
   */
  readonly serviceMonitor?: boolean;

  /**
   * How often Prometheus scrapes the gateway.
   * @default Duration.seconds(30)
   */
  readonly scrapeInterval?: Duration;

  /**
   * Labels of the ServiceMonitor, for the Prometheus' `serviceMonitorSelector`; kube-prometheus-stack
   * selects `release: <its Helm release name>` unless told otherwise.
   * @default - none
   */
  readonly serviceMonitorLabels?: { [key: string]: string };

  /**
   * Emit the Grafana dashboard (calls per tool, errors, latency percentiles, sessions, stdio processes)
   * in a ConfigMap that the Grafana sidecar (kiwigrid k8s-sidecar, as in the Grafana Helm chart and
   * kube-prometheus-stack) picks up.
   * @default true
   */
  readonly dashboard?: boolean;

  /**
   * Labels the Grafana sidecar selects dashboard ConfigMaps by (its `sidecar.dashboards.label` and
   * `labelValue` in the Grafana Helm chart).
   * @default { grafana_dashboard: "1" }
   */
  readonly dashboardLabels?: { [key: string]: string };

  /**
   * Grafana folder of the dashboard, set as the `dashboardFolderAnnotation` annotation. The sidecar
   * must be told which annotation to read (`sidecar.dashboards.folderAnnotation`).
   * @default - no annotation: the sidecar's default folder
   */
  readonly dashboardFolder?: string;

  /**
   * Annotation that carries `dashboardFolder`: the Grafana Helm chart's `sidecar.dashboards.folderAnnotation`.
   * @default "grafana_folder"
   */
  readonly dashboardFolderAnnotation?: string;

  /**
   * Title of the dashboard.
   * @default - "MCP gateway / " and the Service name
   */
  readonly dashboardTitle?: string;
}

/** Props of `McpGatewayMonitoring`. */
export interface McpGatewayMonitoringProps extends McpGatewayMonitoringOptions {
  /**
   * The gateway's Service (`McpGateway.service`): it must have a port named `metrics` (the runtime's
   * `config.statsAddr`, 15020). A label is added to it, so the ServiceMonitor selects it and nothing else.
   */
  readonly service: kplus.Service;
}

/**
 * Monitoring of an MCP gateway: a Prometheus Operator ServiceMonitor and a Grafana dashboard whose
 * queries use the gateway's metrics contract (docs/ARCHITECTURE.md).
 *
 * @example
 * new McpGatewayMonitoring(chart, 'Monitoring', {
 *   service: gateway.service!,
 *   serviceMonitorLabels: { release: 'kube-prometheus-stack' },
 *   dashboardFolder: 'MCP',
 * });
 */
export class McpGatewayMonitoring extends Construct {
  /**
   * The ServiceMonitor.
   * @default - none when `serviceMonitor` is false
   */
  public readonly serviceMonitor?: ApiObject;
  /**
   * The ConfigMap with the Grafana dashboard.
   * @default - none when `dashboard` is false
   */
  public readonly dashboard?: kplus.ConfigMap;
  /** uid of the Grafana dashboard: stable for a Service name and namespace. */
  public readonly dashboardUid: string;

  public constructor(scope: Construct, id: string, props: McpGatewayMonitoringProps) {
    super(scope, id);
    const service = props.service;
    const namespace = Chart.of(service).namespace;
    // Grafana uids are at most 40 characters; a hash keeps them unique per gateway and stable across synths.
    this.dashboardUid = `mcp-gateway-${createHash('sha256').update(`${namespace ?? ''}/${service.name}`).digest('hex').slice(0, 20)}`;
    this.node.addValidation({ validate: () => this.validateProps(props) });

    if (props.serviceMonitor ?? true) {
      // Service names may be longer than a label value may be.
      const scrapeValue = service.name.length <= 63 ? service.name : this.dashboardUid;
      service.metadata.addLabel(SCRAPE_LABEL, scrapeValue);
      const interval = props.scrapeInterval ?? Duration.seconds(30);
      this.serviceMonitor = new ApiObject(this, 'ServiceMonitor', {
        apiVersion: 'monitoring.coreos.com/v1',
        kind: 'ServiceMonitor',
        metadata: { name: service.name, labels: props.serviceMonitorLabels },
        spec: {
          selector: { matchLabels: { [SCRAPE_LABEL]: scrapeValue } },
          // A ServiceMonitor looks only in its own namespace unless told otherwise.
          ...(namespace !== undefined && namespace !== Chart.of(this).namespace ? { namespaceSelector: { matchNames: [namespace] } } : {}),
          endpoints: [{
            port: METRICS_PORT_NAME,
            path: METRICS_PATH,
            interval: `${Math.max(1, Math.ceil(interval.toSeconds({ integral: false })))}s`,
          }],
        },
      });
    }

    if (props.dashboard ?? true) {
      const folderAnnotation = props.dashboardFolderAnnotation ?? 'grafana_folder';
      const dashboard = gatewayDashboard({
        uid: this.dashboardUid,
        title: props.dashboardTitle ?? `MCP gateway / ${service.name}`,
        namespace,
        // The Prometheus Operator names a ServiceMonitor's job after the Service.
        job: service.name,
      });
      this.dashboard = new kplus.ConfigMap(this, 'Dashboard', {
        metadata: {
          name: `${service.name.slice(0, 253 - '-dashboard'.length)}-dashboard`,
          labels: props.dashboardLabels ?? { grafana_dashboard: '1' },
          annotations: props.dashboardFolder === undefined ? undefined : { [folderAnnotation]: props.dashboardFolder },
        },
        data: { [DASHBOARD_KEY]: JSON.stringify(dashboard, undefined, 2) },
      });
    }
  }

  private validateProps(props: McpGatewayMonitoringProps): string[] {
    const { errors, check } = propChecks(this);
    if ((props.serviceMonitor ?? true) && !props.service.ports.some(port => port.name === METRICS_PORT_NAME)) {
      check(
        'service',
        `"${props.service.name}" has no port named "${METRICS_PORT_NAME}" for the ServiceMonitor to scrape`,
        `Pass the gateway's Service (McpGateway.service), whose "${METRICS_PORT_NAME}" port serves the runtime's /metrics, or set serviceMonitor `
          + 'to false.',
      );
    }
    if (props.scrapeInterval !== undefined) {
      const seconds = props.scrapeInterval.toSeconds({ integral: false });
      check('scrapeInterval', Number.isInteger(seconds) && seconds >= 1 ? undefined : `${seconds}s is not a whole number of seconds of at least 1`,
        'Set scrapeInterval to whole seconds, e.g. Duration.seconds(30).');
    }
    const checkLabels = (prop: string, labels: { [key: string]: string } | undefined) => {
      for (const [key, value] of Object.entries(labels ?? {})) {
        check(
          `${prop} "${key}"`,
          QUALIFIED_NAME.test(key) && key.length <= 317 ? undefined : 'is not a valid label key',
          'Use a label key such as "release" or "example.com/team".',
        );
        check(
          `${prop} "${key}"`,
          LABEL_VALUE.test(value) && value.length <= 63 ? undefined : `has the value "${value}", which is not a valid label value`,
          'Label values are at most 63 letters, digits, "-", "_" and ".", starting and ending with a letter or digit.',
        );
      }
    };
    checkLabels('serviceMonitorLabels', props.serviceMonitorLabels);
    checkLabels('dashboardLabels', props.dashboardLabels);
    if (props.dashboardLabels !== undefined && Object.keys(props.dashboardLabels).length === 0) {
      check(
        'dashboardLabels',
        'is empty, so no Grafana sidecar would find the dashboard',
        'Leave dashboardLabels out for { grafana_dashboard: "1" }, or set the label your sidecar selects.',
      );
    }
    if (props.dashboardFolderAnnotation !== undefined) {
      check(
        'dashboardFolderAnnotation',
        emptyProblem(props.dashboardFolderAnnotation) ??
          (QUALIFIED_NAME.test(props.dashboardFolderAnnotation) ? undefined : `"${props.dashboardFolderAnnotation}" is not a valid annotation key`),
        'Set it to your Grafana sidecar\'s sidecar.dashboards.folderAnnotation, e.g. "grafana_folder".',
      );
    }
    if (props.dashboardFolder !== undefined) {
      check('dashboardFolder', emptyProblem(props.dashboardFolder), 'Set dashboardFolder to a folder name such as "MCP", or leave it out.');
    }
    return errors;
  }
}
