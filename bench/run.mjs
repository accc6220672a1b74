#!/usr/bin/env node
// `npm run bench`: the same echo tool reached directly, through the SDK's own HTTP server, through
// supergateway, mcp-proxy and our gateway, measured in one run with the real SDK client. Loopback only,
// bounded in time and call count. Writes .bench/results.md and .bench/results.json.
//   npm run bench                 ~2–4 minutes
//   BENCH_QUICK=1 npm run bench   ~30 s smoke run
//   npm run bench -- --only e,c   some configurations only
//   npm run bench -- --soak 180   issue #5: sustained load and 1,000 sessions on one gateway (soak.mjs)
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { ROOT, RUNTIME, binOf } from './sdk.mjs';
import {
  connectClient,
  connectWhenReady,
  drive,
  freePort,
  percentile,
  rssSampler,
  startProcess,
  waitForListening,
  waitForPort,
} from './lib.mjs';

const argv = process.argv.slice(2);
const soakAt = argv.indexOf('--soak');
if (soakAt >= 0) {
  const { runSoak } = await import('./soak.mjs');
  try {
    await runSoak({ seconds: Number(argv[soakAt + 1] ?? 180) });
    process.exit(0);
  } catch (err) {
    process.stderr.write(`[soak] FAILED: ${err?.stack ?? err}\n`);
    process.exit(1);
  }
}

const QUICK = process.env.BENCH_QUICK === '1' || argv.includes('--quick');
const onlyAt = argv.indexOf('--only');
const ONLY = onlyAt >= 0 ? new Set(argv[onlyAt + 1].split(',')) : undefined;
const SETTINGS = QUICK
  ? { warmupMs: 500, oneMs: 2_000, manyMs: 2_000, clients: 16, rounds: 1, maxCalls: 200_000 }
  : { warmupMs: 2_000, oneMs: 10_000, manyMs: 10_000, clients: 16, rounds: 5, maxCalls: 500_000 };

const OUT = join(ROOT, '.bench');
const LOGS = join(OUT, 'logs');
mkdirSync(LOGS, { recursive: true });

const NODE = process.execPath;
const ECHO = join(ROOT, 'bench', 'echo-server.mjs');
const GATEWAY_CLI = join(RUNTIME, 'lib', 'cli.js');
const log = (m) => process.stdout.write(`[bench] ${m}\n`);

/**
 * Each configuration starts what sits between client and server (if anything) and says how a client
 * reaches the echo tool. `pid` is the process whose memory is reported: the bridge alone.
 */
const CONFIGS = [
  {
    id: 'a',
    name: 'direct stdio (SDK StdioClientTransport)',
    async start() {
      return { target: { cmd: NODE, args: [ECHO] }, stop: async () => {} };
    },
  },
  {
    id: 'b',
    name: 'SDK Streamable HTTP server (baseline)',
    async start(logFile) {
      const proc = startProcess(NODE, [ECHO, '--http', '0'], { logFile });
      const url = await stopOnFailure(proc, waitForListening(proc, 15_000));
      return { target: { url }, proc };
    },
  },
  {
    id: 'c',
    name: 'supergateway 4 (stdio→Streamable HTTP, stateful)',
    async start(logFile) {
      const port = await freePort();
      // --stateful gives every session its own server process, as the other stateful bridges do;
      // stateless mode would start a server per request.
      const proc = startProcess(
        NODE,
        [binOf('supergateway'), '--stdio', `${NODE} ${ECHO}`, '--outputTransport', 'streamableHttp', '--stateful',
          '--port', String(port), '--logLevel', 'none'],
        { logFile },
      );
      await stopOnFailure(proc, waitForPort(port, 15_000, proc.alive));
      return { target: { url: `http://127.0.0.1:${port}/mcp` }, proc };
    },
  },
  {
    id: 'd',
    name: 'mcp-proxy 6 (stdio→Streamable HTTP)',
    async start(logFile) {
      const port = await freePort();
      const proc = startProcess(
        NODE,
        [binOf('mcp-proxy'), '--port', String(port), '--host', '127.0.0.1', '--server', 'stream', '--', NODE, ECHO],
        { logFile },
      );
      await stopOnFailure(proc, waitForPort(port, 15_000, proc.alive));
      return { target: { url: `http://127.0.0.1:${port}/mcp` }, proc };
    },
  },
  {
    id: 'e',
    name: 'mcp-gateway bridge (ours, stdio→Streamable HTTP)',
    ours: true,
    async start(logFile) {
      requireGateway();
      const port = await freePort();
      const proc = startProcess(NODE, [GATEWAY_CLI, '--port', String(port), '--host', '127.0.0.1', '--', NODE, ECHO], { logFile });
      await stopOnFailure(proc, waitForPort(port, 15_000, proc.alive));
      return { target: { url: `http://127.0.0.1:${port}/mcp` }, proc };
    },
  },
  {
    id: 'f',
    name: 'mcp-gateway federating two stdio targets (ours)',
    async start(logFile) {
      requireGateway();
      const port = await freePort();
      const config = join(OUT, 'federation.yaml');
      writeFileSync(config, federationConfig(port, await freePort(), await freePort()));
      const proc = startProcess(NODE, [GATEWAY_CLI, '--config', config, '--host', '127.0.0.1'], { logFile });
      await stopOnFailure(proc, waitForPort(port, 15_000, proc.alive));
      return { target: { url: `http://127.0.0.1:${port}/mcp` }, proc };
    },
  },
];

/** A bridge that never came up is stopped before the error propagates, so no process outlives the run. */
async function stopOnFailure(proc, promise) {
  try {
    return await promise;
  } catch (err) {
    await proc.stop();
    throw err;
  }
}

function requireGateway() {
  if (!existsSync(GATEWAY_CLI)) throw new Error(`${GATEWAY_CLI} missing: run \`cd runtime && npx tsc --build\``);
}

function federationConfig(port, adminPort, statsPort) {
  const target = (name) =>
    `            - name: ${name}\n              stdio:\n                cmd: ${JSON.stringify(NODE)}\n                args: [${JSON.stringify(ECHO)}]\n`;
  return [
    'config:',
    `  adminAddr: 127.0.0.1:${adminPort}`,
    `  statsAddr: 127.0.0.1:${statsPort}`,
    'binds:',
    `  - port: ${port}`,
    '    listeners:',
    '      - routes:',
    '          - name: bench',
    '            matches: [{ path: { exact: /mcp } }]',
    '            backends:',
    '              - mcp:',
    '                  targets:',
    target('a').replace(/^ {12}/gm, '                    '),
    target('b').replace(/^ {12}/gm, '                    '),
  ].join('\n');
}

/**
 * Starts every configuration first, then measures them interleaved: each round gives every
 * configuration a slice of the 1-client window, then a slice of the 16-client window. Whatever else
 * the machine is doing is thus spread over all configurations instead of landing on one of them.
 */
async function measureAll(configs) {
  const live = [];
  try {
    for (const config of configs) {
      const logFile = join(LOGS, `${config.id}.log`);
      const entry = { config, logFile, opened: [], one: [], many: [], oneSecs: 0, manySecs: 0 };
      const t0 = Date.now();
      try {
        log(`(${config.id}) starting ${config.name}`);
        entry.started = await config.start(logFile);
        const pid = entry.started.proc?.pid;
        entry.sampler = pid ? rssSampler(pid) : undefined;
        const alive = entry.started.proc ? entry.started.proc.alive : () => true;
        const first = await connectWhenReady(entry.started.target, 20_000, alive);
        entry.opened.push(first);
        // Every concurrent client gets its own session (and, behind stateful bridges, its own server).
        entry.opened.push(...(await Promise.all(Array.from({ length: SETTINGS.clients - 1 }, () => connectClient(entry.started.target)))));
        await drive([first], { durationMs: SETTINGS.warmupMs, maxCalls: SETTINGS.maxCalls });
        await drive(entry.opened, { durationMs: SETTINGS.warmupMs / 2, maxCalls: SETTINGS.maxCalls });
        log(`  (${config.id}) ready with ${entry.opened.length} sessions in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
        live.push(entry);
      } catch (err) {
        entry.error = err.message;
        log(`  (${config.id}) FAILED to start: ${err.message} (log: ${logFile})`);
        live.push(entry);
      }
    }
    const ready = () => live.filter((e) => !e.error);
    for (let round = 0; round < SETTINGS.rounds; round++) {
      // Rotate the order so no configuration always follows the same neighbour.
      const order = ready().map((_, i, a) => a[(i + round) % a.length]);
      for (const [phase, clients, ms] of [['one', 1, SETTINGS.oneMs], ['many', SETTINGS.clients, SETTINGS.manyMs]]) {
        for (const e of order) {
          if (e.error) continue;
          try {
            const r = await drive(e.opened.slice(0, clients), { durationMs: ms / SETTINGS.rounds, maxCalls: SETTINGS.maxCalls, keep: true });
            e[phase].push(...r.latencies);
            e[`${phase}Secs`] += r.seconds;
            e[`${phase}Errors`] = (e[`${phase}Errors`] ?? 0) + r.errors;
          } catch (err) {
            e.error = `${phase === 'one' ? '1 client' : `${clients} clients`}: ${err.message}`;
            log(`  (${e.config.id}) FAILED: ${e.error} (log: ${e.logFile})`);
          }
        }
      }
      log(`round ${round + 1}/${SETTINGS.rounds} done`);
    }
    return live.map((e) => {
      const base = { id: e.config.id, name: e.config.name, ours: !!e.config.ours };
      if (e.error) return { ...base, ok: false, error: e.error };
      const mem = e.sampler?.stop();
      e.sampler = undefined;
      const one = stats(e.one, e.oneSecs, e.oneErrors);
      const many = stats(e.many, e.manySecs, e.manyErrors);
      log(`  (${e.config.id}) 1 client: ${fmtRate(one.callsPerSec)} calls/s p50 ${fmtMs(one.p50)} ms · ${SETTINGS.clients} clients: ${fmtRate(many.callsPerSec)} calls/s p99 ${fmtMs(many.p99)} ms · RSS ${mem ? fmtMB(mem.peakRss / 2 ** 20) : 'n/a'} MB`);
      return { ...base, ok: true, one, many, peakRssMB: mem ? mem.peakRss / 2 ** 20 : null };
    });
  } finally {
    for (const e of live) {
      e.sampler?.stop();
      await Promise.all(e.opened.map((c) => c.close()));
      await e.started?.proc?.stop();
    }
  }
}

function stats(latencies, seconds, errors = 0) {
  const sorted = [...latencies].sort((a, b) => a - b);
  return {
    calls: sorted.length,
    errors,
    seconds,
    callsPerSec: sorted.length / seconds,
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
  };
}

const fmtRate = (n) => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : '—');
const fmtMs = (n) => (Number.isFinite(n) ? (n < 10 ? n.toFixed(2) : n.toFixed(1)) : '—');
const fmtX = (n) => (Number.isFinite(n) ? `${n.toFixed(2)}×` : '—');
const fmtMB = (n) => (Number.isFinite(n) ? n.toFixed(1) : '—');

function render(results) {
  const ours = results.find((r) => r.ours && r.ok);
  const lines = [];
  lines.push(`# mcp-gateway benchmark`, '');
  lines.push(
    `${new Date().toISOString()} · Node ${process.version} · ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'} · ` +
      `${(totalmem() / 2 ** 30).toFixed(0)} GiB · ${QUICK ? 'quick' : 'full'} run ` +
      `(warm-up ${SETTINGS.warmupMs / 1000} s; ${SETTINGS.oneMs / 1000} s at 1 client and ${SETTINGS.manyMs / 1000} s at ${SETTINGS.clients} clients per configuration, ` +
      `interleaved in ${SETTINGS.rounds} round${SETTINGS.rounds > 1 ? 's' : ''}) · load average ${loadBefore.toFixed(1)} before, ${loadAfter.toFixed(1)} after`,
    '',
  );
  lines.push(
    'Echo tool of one SDK stdio server, called back-to-back with the SDK client over loopback. ' +
      'RSS is the peak of the bridge process alone (VmHWM; its server children excluded). ' +
      'Ratios compare ours (e) with each row: throughput = ours ÷ row, p50 = row ÷ ours (above 1 means ours is better).',
    '',
  );
  lines.push(
    `| config | 1c calls/s | 1c p50 ms | 1c p99 ms | ${SETTINGS.clients}c calls/s | ${SETTINGS.clients}c p50 ms | ${SETTINGS.clients}c p99 ms | peak RSS MB | 1c thr ratio | 1c p50 ratio | ${SETTINGS.clients}c thr ratio | ${SETTINGS.clients}c p50 ratio |`,
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  );
  for (const r of results) {
    if (!r.ok) {
      lines.push(`| (${r.id}) ${r.name} | failed: ${r.error.replace(/\|/g, '/').slice(0, 120)} | | | | | | | | | | |`);
      continue;
    }
    const cmp = ours && !r.ours;
    lines.push(
      `| (${r.id}) ${r.name} | ${fmtRate(r.one.callsPerSec)} | ${fmtMs(r.one.p50)} | ${fmtMs(r.one.p99)} | ` +
        `${fmtRate(r.many.callsPerSec)} | ${fmtMs(r.many.p50)} | ${fmtMs(r.many.p99)} | ${r.peakRssMB === null ? 'n/a' : fmtMB(r.peakRssMB)} | ` +
        `${cmp ? fmtX(ours.one.callsPerSec / r.one.callsPerSec) : '—'} | ${cmp ? fmtX(r.one.p50 / ours.one.p50) : '—'} | ` +
        `${cmp ? fmtX(ours.many.callsPerSec / r.many.callsPerSec) : '—'} | ${cmp ? fmtX(r.many.p50 / ours.many.p50) : '—'} |`,
    );
  }
  const goals = evaluateGoals(results);
  lines.push('', '## Goals (issue #3)', '', '| goal | measured | result |', '| --- | --- | --- |');
  for (const g of goals) lines.push(`| ${g.goal} | ${g.measured} | ${g.pass === null ? 'n/a' : g.pass ? 'PASS' : 'FAIL'} |`);
  const failed = results.filter((r) => !r.ok);
  if (failed.length) {
    lines.push('', 'Failed configurations (logs in `.bench/logs/<id>.log`):', '');
    for (const r of failed) lines.push(`- (${r.id}) ${r.name}: ${r.error}`);
  }
  return { markdown: `${lines.join('\n')}\n`, goals };
}

function evaluateGoals(results) {
  const get = (id) => results.find((r) => r.id === id && r.ok);
  const e = get('e');
  const sg = get('c');
  const mp = get('d');
  const n = SETTINGS.clients;
  const goal = (text, deps, measured, pass) =>
    deps.every(Boolean) ? { goal: text, measured: measured(), pass: pass() } : { goal: text, measured: 'not measured', pass: null };
  return [
    goal('1 client: throughput ≥ 2× supergateway', [e, sg], () => fmtX(e.one.callsPerSec / sg.one.callsPerSec), () => e.one.callsPerSec >= 2 * sg.one.callsPerSec),
    goal('1 client: throughput ≥ 2× mcp-proxy', [e, mp], () => fmtX(e.one.callsPerSec / mp.one.callsPerSec), () => e.one.callsPerSec >= 2 * mp.one.callsPerSec),
    goal('1 client: p50 < 2 ms', [e], () => `${fmtMs(e.one.p50)} ms`, () => e.one.p50 < 2),
    goal(`${n} clients: throughput ≥ mcp-proxy`, [e, mp], () => `${fmtRate(e.many.callsPerSec)} vs ${fmtRate(mp.many.callsPerSec)} calls/s`, () => e.many.callsPerSec >= mp.many.callsPerSec),
    goal(`${n} clients: p99 < mcp-proxy`, [e, mp], () => `${fmtMs(e.many.p99)} vs ${fmtMs(mp.many.p99)} ms`, () => e.many.p99 < mp.many.p99),
    goal('gateway peak RSS < 80 MB', [e], () => `${fmtMB(e.peakRssMB)} MB`, () => e.peakRssMB < 80),
  ];
}

const selected = CONFIGS.filter((c) => !ONLY || ONLY.has(c.id));
log(`${QUICK ? 'quick' : 'full'} run: ${selected.map((c) => c.id).join(', ')} (logs in ${LOGS})`);
const loadBefore = loadavg()[0];
const results = await measureAll(selected);
const loadAfter = loadavg()[0];
const { markdown, goals } = render(results);
writeFileSync(join(OUT, 'results.md'), markdown);
writeFileSync(
  join(OUT, 'results.json'),
  `${JSON.stringify({ date: new Date().toISOString(), node: process.version, cpus: cpus().length, loadavg: [loadBefore, loadAfter], quick: QUICK, settings: SETTINGS, results, goals }, null, 2)}\n`,
);
process.stdout.write(`\n${markdown}\n`);
log(`written ${join(OUT, 'results.md')} and results.json`);
// The benchmark reports; it never fails the build on a missed goal. It does fail when nothing ran.
process.exit(results.some((r) => r.ok) ? 0 : 1);
