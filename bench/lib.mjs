// Process, port and measurement helpers shared by the benchmark and the soak run.
import { execFileSync, spawn } from 'node:child_process';
import { createWriteStream, readdirSync, readFileSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { sdk } from './sdk.mjs';

const { Client } = await sdk('client/index.js');
const { StdioClientTransport } = await sdk('client/stdio.js');
const { StreamableHTTPClientTransport } = await sdk('client/streamableHttp.js');

export { sleep };

// fetch adds an abort listener per request to the SDK client's one AbortSignal and drops it only once the request
// is garbage-collected, so thousands of back-to-back calls trip Node's listener-leak warning, once per call. Not a
// leak (they go at the next collection); every other warning is still printed.
process.removeAllListeners('warning');
process.on('warning', (warning) => {
  if (warning.name !== 'MaxListenersExceededWarning') process.stderr.write(`${warning.name}: ${warning.message}\n`);
});

export async function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

export async function waitForPort(port, timeoutMs, isAlive = () => true) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!isAlive()) throw new Error('process exited before listening');
    const ok = await new Promise((resolve) => {
      const s = connect(port, '127.0.0.1');
      s.once('connect', () => { s.destroy(); resolve(true); });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    await sleep(50);
  }
  throw new Error(`nothing listened on 127.0.0.1:${port} within ${timeoutMs} ms`);
}

/**
 * Starts a program in its own process group (so it and whatever it spawns can be stopped by that id),
 * logging its output to `logFile`. The returned pid is the program itself, never a shell or npx.
 */
export function startProcess(cmd, args, { logFile, env, cwd } = {}) {
  const child = spawn(cmd, args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
    env: env ?? process.env,
    cwd,
  });
  const log = logFile ? createWriteStream(logFile) : undefined;
  let stdout = '';
  child.stdout.on('data', (d) => {
    if (stdout.length < 65536) stdout += d;
    log?.write(d);
  });
  child.stderr.on('data', (d) => log?.write(d));
  let exited = false;
  const exit = new Promise((resolve) => child.once('exit', (code, signal) => { exited = true; resolve({ code, signal }); }));
  return {
    child,
    pid: child.pid,
    exit,
    alive: () => !exited,
    stdout: () => stdout,
    async stop() {
      if (!exited) {
        try { process.kill(-child.pid, 'SIGTERM'); } catch { /* already gone */ }
        const done = await Promise.race([exit.then(() => true), sleep(3000).then(() => false)]);
        if (!done) {
          try { process.kill(-child.pid, 'SIGKILL'); } catch { /* already gone */ }
          await exit;
        }
      }
      // Children that outlived their parent stay in the group; end them too.
      try { process.kill(-child.pid, 'SIGKILL'); } catch { /* group empty */ }
      log?.end();
    },
  };
}

/** Waits for a `LISTENING <url>` line on the process's stdout. */
export async function waitForListening(proc, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const m = /LISTENING (\S+)/.exec(proc.stdout());
    if (m) return m[1];
    if (!proc.alive()) throw new Error('process exited before listening');
    await sleep(20);
  }
  throw new Error(`no LISTENING line within ${timeoutMs} ms`);
}

/** Current and peak resident memory of one process (not its children), in bytes. */
export function memoryOf(pid) {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (key) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN) * 1024;
    return { rss: kb('VmRSS'), hwm: kb('VmHWM') };
  } catch {
    return { rss: NaN, hwm: NaN };
  }
}

/** Microseconds per clock tick of /proc/<pid>/stat (USER_HZ, 100 on Linux). */
export const CLOCK_TICK_US = 1e6 / (Number(tryExec('getconf', ['CLK_TCK'])) || 100);

function tryExec(cmd, args) {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8' }).trim();
  } catch {
    return '';
  }
}

/** CPU time of one process in clock ticks, user + system, its children excluded (/proc/<pid>/stat utime + stime). */
export function cpuTicksOf(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name may contain spaces; the fields after it are fixed.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[11]) + Number(fields[12]);
  } catch {
    return NaN;
  }
}

/** Child processes of `pid` (all its threads), from /proc; empty where the kernel does not list them. */
function childrenOf(pid) {
  try {
    return readdirSync(`/proc/${pid}/task`).flatMap((task) =>
      readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8').split(' ').filter(Boolean).map(Number),
    );
  } catch {
    return [];
  }
}

/**
 * Waits until a proxy and its server processes have used no CPU for `quietMs` (at least `minMs`, at most
 * `maxMs`): the state between bursts, with warm pools full, however busy the machine is.
 */
export async function waitUntilIdle(pid, { minMs, maxMs, quietMs = 500 }) {
  const started = Date.now();
  const busy = () => [pid, ...childrenOf(pid)].reduce((sum, p) => sum + (cpuTicksOf(p) || 0), 0);
  let last = busy();
  let quietSince = Date.now();
  while (Date.now() - started < maxMs) {
    await sleep(100);
    const now = busy();
    if (now !== last) quietSince = Date.now();
    last = now;
    if (Date.now() - quietSince >= quietMs && Date.now() - started >= minMs) return;
  }
}

/** Samples a process's RSS every `everyMs` and keeps the peak (VmHWM also covers spikes between samples). */
export function rssSampler(pid, everyMs = 200, onSample) {
  let peak = 0;
  let hwm = 0;
  const t0 = Date.now();
  const tick = () => {
    const m = memoryOf(pid);
    if (Number.isFinite(m.rss)) peak = Math.max(peak, m.rss);
    if (Number.isFinite(m.hwm)) hwm = Math.max(hwm, m.hwm);
    onSample?.({ t: (Date.now() - t0) / 1000, ...m });
  };
  tick();
  const timer = setInterval(tick, everyMs);
  return {
    stop() {
      tick();
      clearInterval(timer);
      return { peakRss: Math.max(peak, hwm) };
    },
  };
}

export function newClient() {
  return new Client({ name: 'cdk8s-mcp-bench', version: '1.0.0' }, { capabilities: {} });
}

const MODERN = '2026-07-28';

/**
 * A 2026-07-28 client: no session, every request a POST of its own carrying the protocol revision, client
 * info and capabilities in `_meta` (the SDK client does not speak this revision yet). `callTool` has the
 * SDK client's shape so `drive` measures it the same way; connecting is the first `tools/list`.
 */
class StatelessClient {
  nextId = 1;
  constructor(url) {
    this.url = url;
  }

  async request(method, params = {}) {
    const meta = {
      'io.modelcontextprotocol/protocolVersion': MODERN,
      'io.modelcontextprotocol/clientInfo': { name: 'cdk8s-mcp-bench', version: '1.0.0' },
      'io.modelcontextprotocol/clientCapabilities': {},
    };
    const response = await fetch(this.url, {
      method: 'POST',
      // 2026-07-28 mirrors the method and name in headers (SEP-2243); the gateway refuses a request without them.
      headers: {
        'content-type': 'application/json',
        'accept': 'application/json, text/event-stream',
        'mcp-protocol-version': MODERN,
        'mcp-method': method,
        ...(typeof (params.name ?? params.uri) === 'string' ? { 'mcp-name': params.name ?? params.uri } : {}),
      },
      body: JSON.stringify({ jsonrpc: '2.0', id: this.nextId++, method, params: { ...params, _meta: meta } }),
    });
    const text = await response.text();
    // An SSE answer carries the JSON-RPC response on its last data line.
    const sse = response.headers.get('content-type')?.startsWith('text/event-stream');
    const json = sse ? text.trim().split('\n').filter((line) => line.startsWith('data:')).pop()?.slice(5) : text;
    const message = JSON.parse(json ?? 'null');
    if (!response.ok || message?.error) throw new Error(`${method}: HTTP ${response.status} ${message?.error?.message ?? text.slice(0, 200)}`);
    return message.result;
  }

  callTool({ name, arguments: args }) {
    return this.request('tools/call', { name, arguments: args });
  }

  async close() {}
}

/**
 * Connects a client over stdio to `cmd args`, over Streamable HTTP to `url`, or (`modern`) as a stateless
 * 2026-07-28 client, and finds the echo tool.
 */
export async function connectClient(target) {
  if (target.modern) {
    const client = new StatelessClient(target.url);
    const { tools } = await client.request('tools/list');
    const tool = tools.find((t) => t.name === 'echo') ?? tools.find((t) => t.name.endsWith('echo'));
    if (!tool) throw new Error(`no echo tool among ${tools.map((t) => t.name).join(', ') || 'no tools'}`);
    return { client, tool: tool.name, close: () => client.close() };
  }
  const client = newClient();
  const transport = target.url
    ? new StreamableHTTPClientTransport(new URL(target.url))
    : new StdioClientTransport({ command: target.cmd, args: target.args, stderr: 'ignore' });
  await client.connect(transport);
  const { tools } = await client.listTools();
  // Federated targets are prefixed (`a_echo`); any tool ending in `echo` is the same server's tool.
  const tool = tools.find((t) => t.name === 'echo') ?? tools.find((t) => t.name.endsWith('echo'));
  if (!tool) throw new Error(`no echo tool among ${tools.map((t) => t.name).join(', ') || 'no tools'}`);
  return { client, tool: tool.name, close: () => client.close().catch(() => {}) };
}

/** Retries `connectClient` until the server answers, for bridges that listen before they can serve. */
export async function connectWhenReady(target, timeoutMs, isAlive = () => true) {
  const deadline = Date.now() + timeoutMs;
  let last;
  while (Date.now() < deadline) {
    if (!isAlive()) throw new Error(`process exited before serving (${last?.message ?? 'no attempt'})`);
    try {
      return await connectClient(target);
    } catch (err) {
      last = err;
      await sleep(100);
    }
  }
  throw new Error(`not ready within ${timeoutMs} ms: ${last?.message}`);
}

export function percentile(sorted, p) {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i];
}

/**
 * Every connection calls echo back-to-back until `durationMs` passes or `maxCalls` calls were made in
 * all. Returns throughput and latency (ms) over the calls that finished inside the window.
 */
export async function drive(connections, { durationMs, maxCalls, onCall, keep = false }) {
  const latencies = [];
  let errors = 0;
  let lastError;
  let issued = 0;
  const t0 = performance.now();
  const deadline = t0 + durationMs;
  await Promise.all(
    connections.map(async ({ client, tool }) => {
      while (performance.now() < deadline && issued < maxCalls && errors < 50) {
        issued++;
        const s = performance.now();
        try {
          await client.callTool({ name: tool, arguments: { text: 'hello' } });
          const ms = performance.now() - s;
          latencies.push(ms);
          onCall?.(ms);
        } catch (err) {
          errors++;
          lastError = err;
        }
      }
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  if (latencies.length === 0) throw new Error(`no call succeeded (${errors} errors: ${lastError?.message})`);
  const raw = keep ? [...latencies] : undefined;
  latencies.sort((a, b) => a - b);
  return {
    latencies: raw,
    calls: latencies.length,
    errors,
    lastError: lastError?.message,
    seconds,
    callsPerSec: latencies.length / seconds,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
  };
}
