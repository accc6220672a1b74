import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { FIXTURES, GatewayProcess, RUNTIME_DIR } from './helpers/gateway.js';
import { ConfigError } from '../src/config/errors.js';
import { ConfigLoader } from '../src/config/load.js';

const loader = new ConfigLoader();

async function issuesOf(yaml: string, env: NodeJS.ProcessEnv = {}): Promise<string[]> {
  try {
    await loader.loadText(yaml, 'test.yaml', env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).issues.map((issue) => `${issue.path}: ${issue.message}`);
  }
  throw new Error('expected a ConfigError');
}

/** One bind, one route, the given targets (YAML list items, indented for the position). */
function withTargets(targets: string, route = ''): string {
  return `binds:
- port: 3000
  listeners:
  - routes:
    - name: r
${route}      backends:
      - mcp:
          targets:
${targets}`;
}

describe('configuration loader', () => {
  test('the seed article configuration loads (with its CEL typo fixed)', async () => {
    const config = await loader.loadFile(join(FIXTURES, 'seed-article.yaml'), {});
    const route = config.binds[0].listeners[0].routes[0];
    expect(route.name).toBe('mcp-github');
    expect(route.backend.targets).toEqual([{ name: 'mcp', mcp: { host: 'http://localhost:8081/mcp/' } }]);
    expect(route.authentication?.provider).toEqual({ keycloak: {} });
    expect(route.authorization?.rules).toHaveLength(2);
    expect(route.matches.map((match) => match.path?.exact)).toContain('/github/mcp');
    expect(config.settings).toMatchObject({
      sessionTtlMs: 30 * 60_000,
      maxBodyBytes: 4 * 1024 * 1024,
      upstreamTimeoutMs: 60_000,
      drainTimeoutMs: 25_000,
    });
  });

  test('the files generated from types.ts are up to date (schema.generated.ts, the published schema, the constructs\' copy)', () => {
    // The generator compares what it would write with each file; it fails naming the stale ones.
    const check = spawnSync(process.execPath, [join(RUNTIME_DIR, 'scripts', 'gen-config.mjs'), '--check'], { encoding: 'utf8' });
    expect(check.stderr).toBe('');
    expect(check.status).toBe(0);
  });

  test('the shorthand `mcp:` becomes one route on /mcp, /sse and /.well-known', async () => {
    const config = await loader.loadText(
      `mcp:
  port: 4000
  prefixMode: always
  targets:
  - name: time
    stdio: { cmd: uvx, args: [mcp-server-time] }
config:
  mcp: { sessionTtl: 1h30m }
  drainTimeout: 500ms`,
      'short.yaml',
      {},
    );
    expect(config.binds).toHaveLength(1);
    expect(config.binds[0].port).toBe(4000);
    const route = config.binds[0].listeners[0].routes[0];
    expect(route.matches.map((match) => match.path?.pathPrefix)).toEqual(['/mcp', '/sse', '/.well-known']);
    expect(route.backend).toMatchObject({ prefixMode: 'always', statefulMode: 'stateful', failureMode: 'failClosed' });
    expect(config.settings.sessionTtlMs).toBe(90 * 60_000);
    expect(config.settings.drainTimeoutMs).toBe(500);
  });

  test('unknown fields and wrong types are reported with their full path', async () => {
    const issues = await issuesOf(
      withTargets(`          - name: a
            stdio: { cmd: x, bad: 1 }
          - name: b
            mcp: { host: http://h/mcp, port: "80" }
          - name: c
            mcp: { host: http://h/mcp }
            policies: { backendAuth: { passthrough: { audience: x } } }
`),
    );
    expect(issues).toEqual(
      expect.arrayContaining([
        'binds[0].listeners[0].routes[0].backends[0].mcp.targets[0].stdio.bad: unknown field',
        'binds[0].listeners[0].routes[0].backends[0].mcp.targets[1].mcp.port: must be integer',
        // An empty object's type (Record<string, never>) is closed like every other object.
        'binds[0].listeners[0].routes[0].backends[0].mcp.targets[2].policies.backendAuth.passthrough.audience: unknown field',
      ]),
    );
  });

  test('target names: reserved delimiters, duplicates, exactly one transport, no policies on stdio', async () => {
    const issues = await issuesOf(
      withTargets(`          - name: ok
            stdio: { cmd: x }
          - name: my_server
            stdio: { cmd: x }
          - name: ok
            mcp: { host: http://h/mcp }
          - name: both
            stdio: { cmd: x }
            sse: { host: http://h/sse }
          - name: none
          - name: local
            stdio: { cmd: x }
            policies: { backendAuth: { passthrough: {} } }
`),
    );
    const at = 'binds[0].listeners[0].routes[0].backends[0].mcp.targets';
    expect(issues).toEqual(
      expect.arrayContaining([
        expect.stringMatching(new RegExp(`^${escape(at)}\\[1\\]\\.name: .*'_' and '\\+' are reserved`)),
        expect.stringMatching(new RegExp(`^${escape(at)}\\[2\\]\\.name: duplicate target name "ok"`)),
        expect.stringMatching(new RegExp(`^${escape(at)}\\[3\\]: has stdio and sse`)),
        expect.stringMatching(new RegExp(`^${escape(at)}\\[4\\]: needs exactly one of`)),
        expect.stringMatching(new RegExp(`^${escape(at)}\\[5\\]\\.policies: policies are not supported on stdio targets`)),
      ]),
    );
  });

  test('two routes with the same exact path on one bind are refused', async () => {
    const issues = await issuesOf(`binds:
- port: 3000
  listeners:
  - routes:
    - matches: [{ path: { exact: /mcp } }]
      backends: [{ mcp: { targets: [{ name: a, stdio: { cmd: x } }] } }]
    - matches: [{ path: { pathPrefix: /x } }, { path: { exact: /mcp } }]
      backends: [{ mcp: { targets: [{ name: b, stdio: { cmd: x } }] } }]
`);
    expect(issues).toEqual([
      'binds[0].listeners[0].routes[1].matches[1].path.exact: path /mcp is already matched exactly by binds[0].listeners[0].routes[0]',
    ]);
  });

  test('durations, session keys, enums and missing environment are checked', async () => {
    const issues = await issuesOf(
      `config:
  mcp: { sessionTtl: 30 minutes }
  session: { key: abc }
${withTargets(
  `          - name: a
            mcp: { host: http://h/mcp }
            policies: { backendAuth: { key: { env: NOT_SET_ANYWHERE } } }
`,
  '      policies: { mcpAuthorization: { rules: [{ allow: x, deny: y }] } }\n',
)}`,
    );
    expect(issues).toEqual(
      expect.arrayContaining([
        'config.mcp.sessionTtl: must be a duration such as 500ms, 30s, 10m or 1h30m',
        'config.session.key: must match ^[0-9a-fA-F]{64}$',
        'binds[0].listeners[0].routes[0].policies.mcpAuthorization.rules[0]: has none of the accepted shapes',
      ]),
    );
    const envIssues = await issuesOf(
      withTargets(`          - name: a
            mcp: { host: http://h/mcp }
            policies: { backendAuth: { key: { env: NOT_SET_ANYWHERE } } }
`),
    );
    expect(envIssues).toEqual([
      'binds[0].listeners[0].routes[0].backends[0].mcp.targets[0].policies.backendAuth.key.env: environment variable NOT_SET_ANYWHERE is not set',
    ]);
  });

  test('YAML syntax errors and an unreadable file are config errors too', async () => {
    expect((await issuesOf('binds: ['))[0]).toMatch(/^: not valid YAML\/JSON/);
    await expect(loader.loadFile('/nonexistent/config.yaml')).rejects.toThrow(/cannot read the file/);
  });
});

describe('command line', () => {
  test('an invalid configuration fails start-up with exit code 1 and the field path on stderr', async () => {
    const gateway = GatewayProcess.start(['--config', join(FIXTURES, 'invalid-config.yaml')]);
    expect(await gateway.exitCode()).toBe(1);
    expect(gateway.stderr).toContain('binds[0].listeners[0].routes[0].backends[0].mcp.targets[0].name');
    expect(gateway.stderr).toContain("'_' and '+' are reserved");
  });

  test('bad arguments print the usage on stderr and exit with 2', async () => {
    const gateway = GatewayProcess.start(['--port', 'eighty', '--', 'true']);
    expect(await gateway.exitCode()).toBe(2);
    expect(gateway.stderr).toContain('--port must be a number');
    expect(gateway.stderr).toContain('Usage:');
    const missing = GatewayProcess.start(['--port', '0']);
    expect(await missing.exitCode()).toBe(2);
    expect(missing.stderr).toContain('command is missing');
  });

  test('--help prints the usage and exits 0', async () => {
    const gateway = GatewayProcess.start(['--help']);
    expect(await gateway.exitCode()).toBe(0);
    expect(gateway.stdout).toContain('mcp-gateway --config FILE');
  });
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
