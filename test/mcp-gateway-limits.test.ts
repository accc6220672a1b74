import * as fs from 'fs';
import * as path from 'path';
import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { Chart, Duration, Size, Testing } from 'cdk8s';
import * as YAML from 'yaml';
import type { McpGatewayLimits } from '../src';
import { McpGateway, McpRateLimitScope, McpTarget } from '../src';
import { synthError } from './util/synth';

const github = McpTarget.fromUrl('github', 'http://github.tools.svc.cluster.local:3000/mcp');

function gatewayConfig(limits?: McpGatewayLimits): any {
  const chart = new Chart(Testing.app(), 'test', { namespace: 'mcp' });
  new McpGateway(chart, 'gateway', { routes: [{ path: '/github/mcp', targets: [github] }], limits });
  const configMap = Testing.synth(chart).find((o: any) => o.kind === 'ConfigMap');
  return YAML.parse(configMap.data['config.yaml']);
}

function synthErrorOf(limits: McpGatewayLimits): string {
  const chart = new Chart(Testing.app(), 'test', { namespace: 'mcp' });
  new McpGateway(chart, 'gateway', { routes: [{ path: '/github/mcp', targets: [github] }], limits });
  return synthError(chart);
}

describe('McpGateway limits', () => {
  test('render into config.limits and every route\'s localRateLimit, valid against the runtime schema', () => {
    const config = gatewayConfig({
      maxSessions: 1000,
      maxSessionsPerSubject: 20,
      maxBatchSize: 8,
      maxReplaySize: Size.mebibytes(1),
      sessionLifetime: Duration.hours(8),
      rateLimits: [
        { maxTokens: 20, tokensPerFill: 10, fillInterval: Duration.seconds(1), per: McpRateLimitScope.SUBJECT },
        { maxTokens: 100, fillInterval: Duration.minutes(1) },
      ],
    });
    expect(config.config.limits).toEqual({
      maxSessions: 1000,
      maxSessionsPerSubject: 20,
      maxBatchSize: 8,
      maxReplayBytes: 1048576,
      sessionLifetime: '28800s',
    });
    expect(config.binds[0].listeners[0].routes[0].policies.localRateLimit).toEqual([
      { maxTokens: 20, tokensPerFill: 10, fillInterval: '1000ms', type: 'requests', per: 'subject' },
      { maxTokens: 100, tokensPerFill: 1, fillInterval: '60000ms', type: 'requests' },
    ]);
    const ajv = new Ajv2020({ allErrors: true, strict: false });
    addFormats(ajv);
    const validate = ajv.compile(JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'runtime', 'schema', 'config.schema.json'), 'utf8')));
    validate(config);
    expect(validate.errors ?? []).toEqual([]);
  });

  test('nothing is rendered when no limit is set', () => {
    const config = gatewayConfig();
    expect(config.config.limits).toBeUndefined();
    expect(config.binds[0].listeners[0].routes[0].policies?.localRateLimit).toBeUndefined();
  });

  test('invalid limits fail synth naming the prop and the fix', () => {
    expect(synthErrorOf({ maxSessions: 0 })).toMatch(/limits maxSessions must be a whole number of at least 1, got 0\. Give the most sessions/);
    expect(synthErrorOf({ rateLimits: [{ maxTokens: 1.5, fillInterval: Duration.seconds(1) }] })).toMatch(
      /limits rateLimits\[0\]\.maxTokens must be a whole number/,
    );
    expect(synthErrorOf({ rateLimits: [{ maxTokens: 1, fillInterval: Duration.millis(0) }] })).toMatch(
      /limits rateLimits\[0\]\.fillInterval must be at least one millisecond/,
    );
  });
});
