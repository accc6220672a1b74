import { execFileSync } from 'child_process';
import * as path from 'path';
import type { Chart } from 'cdk8s';
import { Duration, Testing } from 'cdk8s';
import { McpServer, McpServerSource, McpServerTransport, McpServerWorkload, StdioProcessPool } from '../src';
import { synthError } from './util/synth';

const GATEWAY_CLI = path.join(__dirname, '..', 'runtime', 'lib', 'cli.js');

function bridgeArgs(stdioPool?: StdioProcessPool): string[] {
  const chart = Testing.chart();
  new McpServer(chart, 'everything', {
    source: McpServerSource.npmPackage('@modelcontextprotocol/server-everything', { version: '2026.8.31' }),
    stdioPool,
  });
  const deployment = Testing.synth(chart).find((o: any) => o.kind === 'Deployment');
  return deployment.spec.template.spec.containers.find((c: any) => c.name === 'mcp-server').args;
}

describe('StdioProcessPool', () => {
  test('the bridge gets the pool options before the server command', () => {
    expect(bridgeArgs(StdioProcessPool.warm({ size: 4, idleTimeout: Duration.minutes(5), maxProcesses: 32, reuse: true }))).toEqual([
      '--host', '0.0.0.0', '--port', '3000',
      '--pool', '4', '--pool-idle-timeout', '300000ms', '--pool-max', '32', '--pool-reuse',
      '--', 'npx', '--yes', '@modelcontextprotocol/server-everything@2026.8.31',
    ]);
    expect(bridgeArgs(StdioProcessPool.shared())).toContain('--shared');
    expect(bridgeArgs(StdioProcessPool.none())).toEqual(expect.arrayContaining(['--pool', '0']));
    // Without the prop the bridge's own default (one spare) applies.
    expect(bridgeArgs()).toEqual(['--host', '0.0.0.0', '--port', '3000', '--', 'npx', '--yes', '@modelcontextprotocol/server-everything@2026.8.31']);
  });

  test('the runtime accepts what the construct renders', () => {
    const args = bridgeArgs(StdioProcessPool.warm({ size: 2, idleTimeout: Duration.seconds(90), maxProcesses: 8, reuse: true }));
    const own = args.slice(0, args.indexOf('--')).map((arg) => (arg === '0.0.0.0' ? '127.0.0.1' : arg === '3000' ? 'not-a-port' : arg));
    // An invalid port makes the CLI stop right after parsing every other option: a pool option it rejected would be named instead.
    let stderr = '';
    try {
      execFileSync(process.execPath, [GATEWAY_CLI, ...own, '--', 'true'], { encoding: 'utf8', stdio: 'pipe' });
    } catch (error: any) {
      stderr = String(error.stderr);
    }
    expect(stderr).toMatch(/--port must be a number/);
  });

  test('invalid pool options fail synthesis naming the prop and the fix', () => {
    const chart = Testing.chart();
    new McpServer(chart, 'everything', {
      source: McpServerSource.npmPackage('x', { version: '1' }),
      stdioPool: StdioProcessPool.warm({ size: 10, maxProcesses: 4 }),
    });
    expect(synthError(chart)).toMatch(/stdioPool.*size 10 does not fit under maxProcesses 4/);
  });

  test('a server that speaks HTTP, or the kmcp workload, refuses a stdio pool', () => {
    const http = Testing.chart();
    new McpServer(http, 'web', {
      source: McpServerSource.image('example/web:1'),
      transport: McpServerTransport.streamableHttp(),
      stdioPool: StdioProcessPool.warm(),
    });
    expect(synthError(http)).toMatch(/stdioPool.*speaks HTTP itself/);
    const kmcp: Chart = Testing.chart();
    new McpServer(kmcp, 'everything', {
      source: McpServerSource.npmPackage('x', { version: '1' }),
      workload: McpServerWorkload.KMCP,
      stdioPool: StdioProcessPool.shared(),
    });
    expect(synthError(kmcp)).toMatch(/stdioPool/);
  });
});
