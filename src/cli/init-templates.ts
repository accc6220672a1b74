import { packageManifest } from './package-info';

/** The server the generated app deploys: the MCP reference server, pinned like the README examples. */
const EXAMPLE_PACKAGE = '@modelcontextprotocol/server-everything';
const EXAMPLE_VERSION = '2026.8.31';

/**
 * The files of `cdk8s-mcp init`, by path. Dependency versions are the ones this copy of cdk8s-mcp
 * declares (peers for the cdk8s libraries, its own toolchain for TypeScript), so a fresh app
 * installs a combination that was tested together.
 */
export function appFiles(name: string): { [file: string]: string } {
  const manifest = packageManifest();
  const peer = (dep: string, fallback: string) => manifest.peerDependencies?.[dep] ?? fallback;
  const tool = (dep: string, fallback: string) => manifest.devDependencies?.[dep] ?? fallback;

  const packageJson = {
    name,
    version: '0.1.0',
    private: true,
    scripts: {
      synth: 'cdk8s synth',
      compile: 'tsc --noEmit',
    },
    dependencies: {
      'cdk8s': peer('cdk8s', '^2.70.0'),
      'cdk8s-mcp': `^${manifest.version}`,
      'cdk8s-plus-28': peer('cdk8s-plus-28', '^2.5.0'),
      'constructs': peer('constructs', '^10.4.0'),
    },
    devDependencies: {
      '@types/node': tool('@types/node', '^20'),
      'cdk8s-cli': '^2',
      'ts-node': tool('ts-node', '^10.9.2'),
      'typescript': tool('typescript', '~5.9.0'),
    },
  };

  const tsconfig = {
    compilerOptions: {
      target: 'ES2022',
      module: 'commonjs',
      lib: ['es2022'],
      strict: true,
      esModuleInterop: true,
      skipLibCheck: true,
      noEmit: true,
    },
    include: ['*.ts'],
  };

  return {
    'package.json': `${JSON.stringify(packageJson, undefined, 2)}\n`,
    'cdk8s.yaml': 'language: typescript\napp: npx ts-node main.ts\n',
    'tsconfig.json': `${JSON.stringify(tsconfig, undefined, 2)}\n`,
    '.gitignore': 'node_modules/\ndist/\n',
    'main.ts': mainTs(name),
  };
}

function mainTs(name: string): string {
  return `import { App, Chart, ChartProps } from 'cdk8s';
import { McpGateway, McpServer, McpServerSource } from 'cdk8s-mcp';
import { Construct } from 'constructs';

/** MCP servers and the gateway in front of them. \`npx cdk8s synth\` writes the manifests to dist/. */
export class McpChart extends Chart {
  constructor(scope: Construct, id: string, props: ChartProps = {}) {
    super(scope, id, props);

    // A stdio server from npm, bridged to Streamable HTTP inside its pod. Pin the version: an
    // unpinned package changes under you whenever the pod restarts.
    const everything = new McpServer(this, 'everything', {
      source: McpServerSource.npmPackage('${EXAMPLE_PACKAGE}', { version: '${EXAMPLE_VERSION}' }),
    });

    // One endpoint for MCP clients, port 8080 of the gateway's Service. Add servers to targets to
    // federate them, or more routes for separate endpoints.
    new McpGateway(this, 'gateway', {
      routes: [{ path: '/mcp', targets: [everything] }],
    });
  }
}

const app = new App();
new McpChart(app, '${name}');
app.synth();
`;
}
