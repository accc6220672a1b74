/*
 * Several MCP servers behind one endpoint: an npm package, a Python package run with uvx, and an HTTP
 * server on the internet. Clients connect to `/mcp` and see every tool, prefixed with its server's name.
 */
import type { ChartProps } from 'cdk8s';
import { App, Chart } from 'cdk8s';
import type { Construct } from 'constructs';
import { McpGateway, McpGatewayExposure, McpPrefixMode, McpServer, McpServerSource, McpTarget } from '../../src';

export class FederationChart extends Chart {
  public readonly gateway: McpGateway;

  constructor(scope: Construct, id: string, props: ChartProps = {}) {
    super(scope, id, { namespace: 'mcp', ...props });

    const everything = new McpServer(this, 'everything', {
      source: McpServerSource.npmPackage('@modelcontextprotocol/server-everything', { version: '2026.8.31' }),
    });
    const time = new McpServer(this, 'time', {
      source: McpServerSource.pypiPackage('mcp-server-time', { version: '2026.10.19', args: ['--local-timezone', 'UTC'] }),
    });
    const deepwiki = McpTarget.fromUrl('deepwiki', 'https://mcp.deepwiki.com/mcp');

    this.gateway = new McpGateway(this, 'gateway', {
      // The article's Gateway API implementation; any installed class works (`kubectl get gatewayclass`).
      exposure: McpGatewayExposure.gateway({ gatewayClassName: 'agentgateway' }),
      routes: [{
        path: '/mcp',
        targets: [everything, time, deepwiki],
        serverName: 'Federated tools',
        // Names stay the same when a server is added or removed later.
        prefixMode: McpPrefixMode.ALWAYS,
      }],
    });
  }
}

if (require.main === module) {
  const app = new App();
  new FederationChart(app, 'federation');
  app.synth();
}
