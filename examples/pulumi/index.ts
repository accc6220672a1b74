/*
 * Deploying cdk8s-mcp objects with Pulumi: the chart is built in memory and its objects go to the
 * Pulumi Kubernetes provider, which owns their lifecycle (preview, diff, delete) like any other
 * Pulumi resource. No cdk8s CLI and no YAML files in between.
 *
 *   pulumi new typescript && npm install cdk8s cdk8s-plus-28 constructs cdk8s-mcp @pulumi/kubernetes
 *   # copy this file to index.ts, import from 'cdk8s-mcp' instead of '../../src', then:
 *   pulumi up
 */
import * as k8s from '@pulumi/kubernetes';
import * as pulumi from '@pulumi/pulumi';
import { App, Chart } from 'cdk8s';
import { McpGateway, McpServer, McpServerSource } from '../../src';

const config = new pulumi.Config();
const namespaceName = config.get('namespace') ?? 'mcp';

const app = new App();
const chart = new Chart(app, 'mcp', { namespace: namespaceName });
const everything = new McpServer(chart, 'everything', {
  source: McpServerSource.npmPackage('@modelcontextprotocol/server-everything', { version: config.get('everythingVersion') ?? '2026.8.31' }),
});
const gateway = new McpGateway(chart, 'gateway', {
  routes: [{ path: '/mcp', targets: [everything] }],
});

// The chart names its namespace but does not create it; Pulumi does, and applies the objects after it.
const namespace = new k8s.core.v1.Namespace('mcp', { metadata: { name: namespaceName } });

// yaml.v2.ConfigGroup takes the objects as they are, orders them with its own heuristics and waits for
// each to become ready. toJson() validates the chart first, so a bad prop fails `pulumi preview`.
const objects = new k8s.yaml.v2.ConfigGroup('mcp', { objs: chart.toJson() }, { dependsOn: [namespace] });

/** In-cluster URL of the MCP endpoint, for clients running next to the gateway. */
export const mcpUrl = `http://${gateway.service!.name}.${namespaceName}.svc.cluster.local:${gateway.port}/mcp`;
/** What Pulumi created, as `kind/name`. */
export const resources = objects.resources.apply((list) => list.map((r) => pulumi.interpolate`${r.kind}/${r.metadata.name}`));
