/*
 * The GitHub MCP server from the kmcp/agentgateway article, run the way this library runs stdio servers:
 * the server process sits behind a stdio bridge in its own pod, and the gateway serves it at
 * `/github/mcp` behind a Gateway API Gateway and HTTPRoute.
 *
 * Before applying: `kubectl -n mcp create secret generic github-token --from-literal=token=<PAT>`.
 */
import type { ChartProps } from 'cdk8s';
import { App, Chart } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import type { Construct } from 'constructs';
import { McpGateway, McpGatewayExposure, McpServer, McpServerSource } from '../../src';

/** Release of github/github-mcp-server (a Go binary in a distroless image without Node or libstdc++). */
const GITHUB_MCP_SERVER_IMAGE = 'ghcr.io/github/github-mcp-server:v0.20.1';

export class GithubStdioChart extends Chart {
  public readonly gateway: McpGateway;

  constructor(scope: Construct, id: string, props: ChartProps = {}) {
    super(scope, id, { namespace: 'mcp', ...props });

    const token = kplus.Secret.fromSecretName(this, 'GithubToken', 'github-token');
    const github = new McpServer(this, 'github', {
      source: McpServerSource.image(GITHUB_MCP_SERVER_IMAGE, { command: ['/server/github-mcp-server'], args: ['stdio'] }),
      env: {
        GITHUB_PERSONAL_ACCESS_TOKEN: kplus.EnvValue.fromSecretValue({ secret: token, key: 'token' }),
      },
    });

    this.gateway = new McpGateway(this, 'gateway', {
      // The article's Gateway API implementation; any installed class works (`kubectl get gatewayclass`).
      exposure: McpGatewayExposure.gateway({ gatewayClassName: 'agentgateway' }),
      routes: [{ path: '/github/mcp', targets: [github], serverName: 'GitHub' }],
    });
  }
}

if (require.main === module) {
  const app = new App();
  new GithubStdioChart(app, 'github-stdio');
  app.synth();
}
