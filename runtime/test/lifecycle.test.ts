import { mkdirSync, mkdtempSync, renameSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectClient, GatewayProcess, post, PYTHON_SERVER, rawSession } from './helpers/gateway.js';
import { allToolNames } from './helpers/lists.js';

function config(targets: string[], extra = ''): string {
  return `config:
  drainTimeout: 10s
binds:
- port: 0
  listeners:
  - routes:
    - name: reloadable
      matches: [{ path: { exact: /mcp } }]
      backends:
      - mcp:
          targets:
${targets.map((name) => `          - { name: ${name}, stdio: { cmd: python3, args: ["${PYTHON_SERVER}"] } }`).join('\n')}
${extra}`;
}

async function toolNames(url: string): Promise<string[]> {
  const client = await connectClient(url);
  const names = await allToolNames(client);
  await client.close();
  return names;
}

describe('hot reload', () => {
  test('a valid change applies without dropping sessions; an invalid one is logged and the old config keeps serving', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gw-reload-'));
    const file = join(dir, 'config.yaml');
    writeFileSync(file, config(['py']));
    const gateway = await GatewayProcess.listening(['--config', file, '--host', '127.0.0.1']);
    try {
      const url = `${gateway.url}/mcp`;
      const existing = await connectClient(url);
      expect((await existing.callTool({ name: 'echo', arguments: { message: 'before' } })).content).toEqual([
        { type: 'text', text: 'python says: before' },
      ]);

      // Editors write a temporary file and rename it over the original.
      writeFileSync(join(dir, 'config.yaml.tmp'), config(['py', 'py2']));
      renameSync(join(dir, 'config.yaml.tmp'), file);
      await gateway.waitFor(() => gateway.logs.some((line) => line.msg === 'configuration reloaded'), 'the reload');
      expect(await toolNames(url)).toEqual(expect.arrayContaining(['py_echo', 'py2_echo']));
      // The session opened before the reload still talks to its own process, with its own names.
      expect((await existing.callTool({ name: 'echo', arguments: { message: 'after' } })).content).toEqual([
        { type: 'text', text: 'python says: after' },
      ]);

      writeFileSync(file, config(['py', 'bad_name']));
      await gateway.waitFor(() => gateway.logs.some((line) => line.msg.startsWith('configuration change rejected')), 'the rejection');
      const rejection = gateway.logs.find((line) => line.msg.startsWith('configuration change rejected'))!;
      expect(rejection.error).toContain('binds[0].listeners[0].routes[0].backends[0].mcp.targets[1].name');
      expect(await toolNames(url)).toEqual(expect.arrayContaining(['py_echo', 'py2_echo']));
      expect((await existing.callTool({ name: 'add', arguments: { a: 2, b: 2 } })).content).toEqual([{ type: 'text', text: '4' }]);
      await existing.close();
    } finally {
      await gateway.stop();
    }
  });

  test('a Kubernetes ConfigMap update (the ..data symlink swap) is picked up', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gw-configmap-'));
    const write = (version: string, text: string): void => {
      mkdirSync(join(dir, version));
      writeFileSync(join(dir, version, 'config.yaml'), text);
      symlinkSync(version, join(dir, '..data_tmp'));
      renameSync(join(dir, '..data_tmp'), join(dir, '..data'));
    };
    write('..v1', config(['py']));
    symlinkSync(join('..data', 'config.yaml'), join(dir, 'config.yaml'));
    const gateway = await GatewayProcess.listening(['--config', join(dir, 'config.yaml'), '--host', '127.0.0.1']);
    try {
      expect(await toolNames(`${gateway.url}/mcp`)).toContain('echo');
      write('..v2', config(['first', 'second']));
      await gateway.waitFor(() => gateway.logs.some((line) => line.msg === 'configuration reloaded'), 'the reload');
      expect(await toolNames(`${gateway.url}/mcp`)).toEqual(expect.arrayContaining(['first_echo', 'second_echo']));
    } finally {
      await gateway.stop();
    }
  });
});

describe('SIGTERM drain', () => {
  test('readiness turns 503, the running call finishes, stdio servers stop, exit code 0', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'gw-drain-')), 'config.yaml');
    writeFileSync(file, config(['py']));
    const gateway = await GatewayProcess.listening(['--config', file, '--host', '127.0.0.1']);
    expect((await fetch(`${gateway.url}/readyz`)).status).toBe(200);
    expect((await fetch(`${gateway.url}/healthz`)).status).toBe(200);
    const client = await connectClient(`${gateway.url}/mcp`);
    const pid = Number(((await client.callTool({ name: 'pid', arguments: {} })).content as Array<{ text: string }>)[0].text);
    const running = client.callTool({ name: 'sleep', arguments: { seconds: 1.5 } });
    await gateway.waitFor(() => gateway.logs.some((line) => line.msg === 'stdio target stderr' && line.stderr === 'sleeping'), 'the sleep call');
    gateway.child.kill('SIGTERM');
    await gateway.waitFor(() => gateway.logs.some((line) => line.msg === 'draining'), 'draining');
    const ready = await fetch(`${gateway.url}/readyz`);
    expect(ready.status).toBe(503);
    expect((await running).content).toEqual([{ type: 'text', text: 'slept' }]);
    expect(await gateway.exitCode()).toBe(0);
    expect(() => process.kill(pid, 0)).toThrow();
    await client.close().catch(() => undefined);
  });
});

describe('idle sessions', () => {
  test('are evicted after config.mcp.sessionTtl, their stdio process stopped, and their id then unknown', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'gw-ttl-')), 'config.yaml');
    writeFileSync(file, `config:\n  mcp: { sessionTtl: 1s }\n${config(['py']).replace(/^config:\n  drainTimeout: 10s\n/, '')}`);
    const gateway = await GatewayProcess.listening(['--config', file, '--host', '127.0.0.1']);
    try {
      const url = `${gateway.url}/mcp`;
      const session = await rawSession(url);
      await gateway.waitFor(
        () => gateway.logs.some((line) => line.msg === 'session evicted after idle time' && line.session === `${session.slice(0, 8)}…`),
        'the eviction',
      );
      const after = await post(url, JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' }), {
        'mcp-session-id': session,
        'mcp-protocol-version': '2025-06-18',
      });
      expect(after.status).toBe(404);
    } finally {
      await gateway.stop();
    }
  });
});
