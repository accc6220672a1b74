/*
 * The smallest useful setup, with nothing to sign up for: the MCP reference server
 * (`@modelcontextprotocol/server-everything`, from npm) behind the gateway at `/mcp`.
 * Reach it with `kubectl -n mcp port-forward svc/<gateway service> 8080` and point an MCP client at
 * `http://localhost:8080/mcp`.
 */
import type { ChartProps } from 'cdk8s';
import { App, Chart } from 'cdk8s';
import type { Construct } from 'constructs';
import { McpGateway, McpServer, McpServerSource } from '../../src';

export class LocalEverythingChart extends Chart {
  public readonly gateway: McpGateway;

  constructor(scope: Construct, id: string, props: ChartProps = {}) {
    super(scope, id, { namespace: 'mcp', ...props });

    const everything = new McpServer(this, 'everything', {
      source: McpServerSource.npmPackage('@modelcontextprotocol/server-everything', { version: '2026.8.31' }),
    });

    this.gateway = new McpGateway(this, 'gateway', {
      routes: [{ path: '/mcp', targets: [everything] }],
    });
  }
}

if (require.main === module) {
  const app = new App();
  new LocalEverythingChart(app, 'local-everything');
  app.synth();
}
