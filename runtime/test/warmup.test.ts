import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectClient, GatewayProcess } from './helpers/gateway.js';

/** A stdio MCP server that takes `delayMs` before it reads stdin (an npx download), each start counted in `starts`. */
function slowServer(delayMs: number): { script: string; starts: string } {
  const dir = mkdtempSync(join(tmpdir(), 'gw-warmup-'));
  const starts = join(dir, 'starts');
  const script = join(dir, 'server.mjs');
  writeFileSync(
    script,
    `import { appendFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
appendFileSync(${JSON.stringify(starts)}, 'x');
setTimeout(() => {
  createInterface({ input: process.stdin }).on('line', (line) => {
    const m = JSON.parse(line);
    if (m.id === undefined) return;
    const result = m.method === 'initialize'
      ? { protocolVersion: m.params.protocolVersion, capabilities: { tools: {} }, serverInfo: { name: 'slow', version: '1' } }
      : m.method === 'tools/list' ? { tools: [{ name: 'hi', inputSchema: { type: 'object' } }] }
      : m.method === 'tools/call' ? { content: [{ type: 'text', text: 'hello' }] } : {};
    process.stdout.write(JSON.stringify({ jsonrpc: '2.0', id: m.id, result }) + '\\n');
  });
  process.stdin.on('end', () => process.exit(0));
}, ${delayMs});
`,
  );
  return { script, starts };
}

async function readyz(url: string): Promise<{ status: number; text: string }> {
  const response = await fetch(`${url}/readyz`);
  return { status: response.status, text: await response.text() };
}

describe('stdio warm-up (bridge mode, stdio.warmup)', () => {
  test('/readyz is 503 "warming up" until the server answered initialize, then 200; /healthz is 200 throughout', async () => {
    const { script } = slowServer(2000);
    const gateway = await GatewayProcess.listening(['--port', '0', '--', process.execPath, script]);
    try {
      const during = await readyz(gateway.url);
      expect(during.status).toBe(503);
      expect(during.text).toMatch(/^warming up node$/);
      expect((await fetch(`${gateway.url}/healthz`)).status).toBe(200);
      await gateway.waitFor(() => gateway.logs.some((line) => line.msg === 'stdio target warmed up'), 'the warm-up');
      const after = await readyz(gateway.url);
      expect(after).toEqual({ status: 200, text: 'ready' });
      const warmed = gateway.logs.find((line) => line.msg === 'stdio target warmed up')!;
      expect(warmed.target).toBe('node');
      expect(warmed.durationMs as number).toBeGreaterThanOrEqual(1900);
      // The warm-up process is gone; a client gets a process of its own.
      const client = await connectClient(`${gateway.url}/mcp`);
      expect(client.getServerVersion()?.name).toBe('slow');
      expect((await client.callTool({ name: 'hi', arguments: {} })).content).toEqual([{ type: 'text', text: 'hello' }]);
      await client.close();
    } finally {
      expect(await gateway.stop()).toBe(0);
    }
  });

  test('requests are served while warming up (only readiness waits)', async () => {
    const { script, starts } = slowServer(1500);
    const gateway = await GatewayProcess.listening(['--port', '0', '--pool', '0', '--', process.execPath, script]);
    try {
      expect((await readyz(gateway.url)).status).toBe(503);
      const client = await connectClient(`${gateway.url}/mcp`);
      expect(client.getServerVersion()?.name).toBe('slow');
      await client.close();
      const { readFileSync } = await import('node:fs');
      expect(readFileSync(starts, 'utf8')).toBe('xx');
    } finally {
      expect(await gateway.stop()).toBe(0);
    }
  });

  test('a server that exits at once keeps /readyz 503 and the reason is logged with its stderr', async () => {
    const gateway = await GatewayProcess.listening([
      '--port',
      '0',
      '--',
      process.execPath,
      '-e',
      'console.error("npm error 404 Not Found - @acme/missing-server"); process.exit(3)',
    ]);
    try {
      await gateway.waitFor(() => gateway.logs.some((line) => line.msg.startsWith('stdio target warm-up failed')), 'the warm-up failure');
      const failure = gateway.logs.find((line) => line.msg.startsWith('stdio target warm-up failed'))!;
      expect(failure.level).toBe('error');
      expect(failure.msg).toMatch(/stays unready/);
      expect(failure.error).toMatch(/exited with code 3/);
      expect(failure.error).toMatch(/npm error 404 Not Found - @acme\/missing-server/);
      const ready = await readyz(gateway.url);
      expect(ready.status).toBe(503);
      expect(ready.text).toMatch(/warm-up of node failed: .*exited with code 3/);
      expect((await fetch(`${gateway.url}/healthz`)).status).toBe(200);
    } finally {
      expect(await gateway.stop()).toBe(0);
    }
  });

  test('a command that does not exist keeps /readyz 503', async () => {
    const gateway = await GatewayProcess.listening(['--port', '0', '--', 'no-such-mcp-server-command']);
    try {
      await gateway.waitFor(() => gateway.logs.some((line) => line.msg.startsWith('stdio target warm-up failed')), 'the warm-up failure');
      const ready = await readyz(gateway.url);
      expect(ready.status).toBe(503);
      expect(ready.text).toMatch(/not found/);
    } finally {
      expect(await gateway.stop()).toBe(0);
    }
  });

  test('with a config file, warm-up is opt-in per backend (stdio.warmup: true)', async () => {
    const { script } = slowServer(1500);
    const dir = mkdtempSync(join(tmpdir(), 'gw-warmup-config-'));
    const plain = join(dir, 'plain.yaml');
    const warm = join(dir, 'warm.yaml');
    const yaml = (warmup: boolean) =>
      `binds:\n- port: 0\n  listeners:\n  - routes:\n    - name: r\n      matches: [{ path: { exact: /mcp } }]\n      backends:\n      - mcp:\n${
        warmup ? '          stdio: { warmup: true }\n' : ''
      }          targets:\n          - name: slow\n`
      + `            stdio: { cmd: ${JSON.stringify(process.execPath)}, args: [${JSON.stringify(script)}] }\n`;
    writeFileSync(plain, yaml(false));
    writeFileSync(warm, yaml(true));
    const withoutWarmup = await GatewayProcess.listening(['--config', plain, '--host', '127.0.0.1']);
    const withWarmup = await GatewayProcess.listening(['--config', warm, '--host', '127.0.0.1']);
    try {
      expect((await readyz(withoutWarmup.url)).status).toBe(200);
      expect(await readyz(withWarmup.url)).toEqual({ status: 503, text: 'warming up slow' });
      await withWarmup.waitFor(() => withWarmup.logs.some((line) => line.msg === 'stdio target warmed up'), 'the warm-up');
      expect((await readyz(withWarmup.url)).status).toBe(200);
    } finally {
      await withoutWarmup.stop();
      await withWarmup.stop();
    }
  });
});
