/*
 * cdk8s-mcp without the cdk8s CLI: build a chart in code and take its Kubernetes objects (plain
 * JSON) or YAML, then hand them to whatever deploys them (Pulumi, a Kubernetes client, a GitOps
 * commit, `kubectl apply -f -`). No cdk8s.yaml, no dist/ folder.
 *
 *   npx ts-node --project examples/tsconfig.json examples/programmatic/main.ts | kubectl apply -f -
 *
 * In an app of your own, import from 'cdk8s-mcp' instead of '../../src'.
 */
import type { ChartProps } from 'cdk8s';
import { App, Chart } from 'cdk8s';
import type { Construct } from 'constructs';
import { McpGateway, McpServer, McpServerSource } from '../../src';

/** What a caller chooses; everything else keeps the constructs' defaults. */
export interface McpStackProps extends ChartProps {
  /** npm version of the reference server. */
  readonly everythingVersion?: string;
  /** Path clients use to reach the server through the gateway. */
  readonly path?: string;
}

/** One npm server behind a gateway, the same chart the cdk8s CLI would synthesize. */
export class McpStack extends Chart {
  public readonly gateway: McpGateway;

  constructor(scope: Construct, id: string, props: McpStackProps = {}) {
    super(scope, id, { namespace: 'mcp', ...props });
    const everything = new McpServer(this, 'everything', {
      source: McpServerSource.npmPackage('@modelcontextprotocol/server-everything', { version: props.everythingVersion ?? '2026.8.31' }),
    });
    this.gateway = new McpGateway(this, 'gateway', {
      routes: [{ path: props.path ?? '/mcp', targets: [everything] }],
    });
  }
}

/**
 * The chart's objects as JSON, in apply order. `toJson()` runs the constructs' validation first, so
 * a bad prop throws here with the same message `cdk8s synth` prints.
 */
export function mcpObjects(props: McpStackProps = {}): any[] {
  // An App is still the root of the construct tree; it writes nothing until synth() is called.
  const chart = new McpStack(new App(), 'mcp', props);
  return chart.toJson();
}

/** The same objects as one multi-document YAML string. */
export function mcpYaml(props: McpStackProps = {}): string {
  const app = new App();
  new McpStack(app, 'mcp', props);
  return app.synthYaml();
}

if (require.main === module) {
  process.stdout.write(mcpYaml());
}
