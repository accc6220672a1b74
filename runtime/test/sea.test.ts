/**
 * The single executable (`scripts/build-sea.mjs`) is what the stdio init container copies into a shared
 * emptyDir and what the server container then runs in front of a server image that has no Node. So: build
 * it, let it copy itself with its loader and libraries (`--copy-self DIR`), and run the copy through the
 * copied loader, with no Node on PATH, as the bridge in front of a Python MCP server that uses nothing but
 * the standard library, driven by the real SDK client. bridge-portability.test.ts runs the same copy in a
 * root filesystem that holds nothing else.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { freePort } from './helpers/ports.js';
import { command, describeIf } from './helpers/requirements.js';
import { seaExecutable } from './helpers/sea-build.js';

/** A stdio MCP server in plain Python 3: newline-delimited JSON-RPC, one `add` tool. */
const PYTHON_SERVER = String.raw`
import json, sys

TOOLS = [{
    "name": "add",
    "description": "Adds two integers",
    "inputSchema": {"type": "object", "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}}, "required": ["a", "b"]},
}]

def reply(msg_id, result=None, error=None):
    msg = {"jsonrpc": "2.0", "id": msg_id}
    if error is not None:
        msg["error"] = error
    else:
        msg["result"] = result
    sys.stdout.write(json.dumps(msg) + "\n")
    sys.stdout.flush()

for line in sys.stdin:
    line = line.strip()
    if not line:
        continue
    req = json.loads(line)
    method, msg_id = req.get("method"), req.get("id")
    if msg_id is None:
        continue  # notifications need no answer
    if method == "initialize":
        reply(msg_id, {
            "protocolVersion": req["params"]["protocolVersion"],
            "capabilities": {"tools": {}},
            "serverInfo": {"name": "python-stdlib-adder", "version": "1.0.0"},
        })
    elif method == "ping":
        reply(msg_id, {})
    elif method == "tools/list":
        reply(msg_id, {"tools": TOOLS})
    elif method == "tools/call" and req["params"]["name"] == "add":
        args = req["params"].get("arguments", {})
        reply(msg_id, {"content": [{"type": "text", "text": "python says %d" % (int(args["a"]) + int(args["b"]))}]})
    else:
        reply(msg_id, error={"code": -32601, "message": "Method not found: %s" % method})
`;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describeIf([command('python3', 'python3')])('single executable (SEA) bridge', () => {
  const work = mkdtempSync(join(tmpdir(), 'mcp-sea-'));
  let bridge: ChildProcess | undefined;
  let bridgeOutput = '';

  afterAll(async () => {
    if (bridge && bridge.exitCode === null && bridge.signalCode === null) {
      const exited = new Promise((r) => bridge!.once('exit', r));
      process.kill(-bridge.pid!, 'SIGTERM');
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([exited, new Promise((r) => (timer = setTimeout(r, 5000)))]);
      clearTimeout(timer);
      try {
        process.kill(-bridge.pid!, 'SIGKILL');
      } catch {
        /* the group is gone */
      }
    }
    rmSync(work, { recursive: true, force: true });
  });

  test('builds, copies itself with its libraries, and bridges a stdlib-only Python server with no Node on PATH', async () => {
    // The build script the Dockerfile runs, built once for this test and bridge-portability.test.ts.
    const sea = await seaExecutable();
    accessSync(sea, constants.X_OK);

    // What the init container does: the binary places a copy of itself, its loader and its libraries in
    // the shared volume (an existing, empty folder there).
    const shared = join(work, 'shared');
    mkdirSync(shared);
    const copied = execFileSync(sea, ['--copy-self', shared], { env: {}, timeout: 30_000, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    expect(copied).toBe('');
    const copy = join(shared, 'mcp-gateway');
    accessSync(copy, constants.X_OK);
    expect(statSync(copy).size).toBe(statSync(sea).size);
    const libs = readdirSync(join(shared, 'lib')).sort();
    expect(libs).toEqual(expect.arrayContaining(['ld.so', 'libc.so.6', 'libm.so.6', 'libstdc++.so.6', 'libgcc_s.so.1']));
    accessSync(join(shared, 'lib', 'ld.so'), constants.X_OK);
    // The server container's command: the copied loader runs the copied executable with the copied libraries.
    const bridgeCommand = [join(shared, 'lib', 'ld.so'), '--library-path', join(shared, 'lib'), copy];

    // Run through the loader, process.execPath names ld.so; --copy-self must still find the executable.
    const again = join(work, 'again');
    execFileSync(bridgeCommand[0], [...bridgeCommand.slice(1), '--copy-self', again], { env: {}, timeout: 30_000, stdio: 'pipe' });
    expect(readdirSync(join(again, 'lib')).sort()).toEqual(libs);
    expect(readFileSync(join(again, 'mcp-gateway')).equals(readFileSync(copy))).toBe(true);
    for (const lib of libs) expect(readFileSync(join(again, 'lib', lib)).equals(readFileSync(join(shared, 'lib', lib)))).toBe(true);
    rmSync(again, { recursive: true, force: true });

    // An existing file where the folder should go is a clear error, not a half-written copy.
    const notADir = join(work, 'not-a-dir');
    writeFileSync(notADir, '');
    let failure: { status?: number; stderr?: Buffer } = {};
    try {
      execFileSync(sea, ['--copy-self', notADir], { env: {}, timeout: 30_000, stdio: 'pipe' });
    } catch (error) {
      failure = error as typeof failure;
    }
    expect(failure.status).toBe(1);
    expect(String(failure.stderr)).toMatch(/--copy-self .*not-a-dir/);

    // The Python interpreter by absolute path: the server container's PATH has neither Node nor a shim.
    const python = execFileSync('python3', ['-c', 'import sys; print(sys.executable)'], { encoding: 'utf8' }).trim();
    const server = join(work, 'server.py');
    writeFileSync(server, PYTHON_SERVER);
    const emptyBin = join(work, 'empty-bin');
    mkdirSync(emptyBin);
    expect(readdirSync(emptyBin)).toEqual([]);

    const port = await freePort();
    bridge = spawn(bridgeCommand[0], [...bridgeCommand.slice(1), '--port', String(port), '--host', '127.0.0.1', '--', python, '-u', server], {
      env: { PATH: emptyBin, HOME: work },
      cwd: work,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    bridge.stdout!.on('data', (d) => (bridgeOutput += d));
    bridge.stderr!.on('data', (d) => (bridgeOutput += d));

    const deadline = Date.now() + 30_000;
    let ready = false;
    while (!ready && Date.now() < deadline) {
      if (bridge.exitCode !== null) throw new Error(`the SEA bridge exited with ${bridge.exitCode}:\n${bridgeOutput}`);
      ready = await fetch(`http://127.0.0.1:${port}/readyz`).then((r) => r.ok, () => false);
      if (!ready) await sleep(100);
    }
    if (!ready) throw new Error(`the SEA bridge was not ready within 30 s:\n${bridgeOutput}`);

    const client = new Client({ name: 'sea-test', version: '1.0.0' });
    await client.connect(new StreamableHTTPClientTransport(new URL(`http://127.0.0.1:${port}/mcp`)));
    try {
      expect(client.getServerVersion()?.name).toBe('python-stdlib-adder');
      const { tools } = await client.listTools();
      expect(tools.map((t) => t.name)).toEqual(['add']);
      const result = await client.callTool({ name: 'add', arguments: { a: 2, b: 40 } });
      expect(result.content).toEqual([{ type: 'text', text: 'python says 42' }]);
    } finally {
      await client.close();
    }
  }, 240_000);
});
