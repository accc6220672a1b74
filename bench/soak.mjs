// `npm run bench -- --soak N` (issue #5): one gateway process under sustained load for N seconds, then
// 1,000 concurrent sessions on that same process, with its RSS sampled every second. Writes
// .bench/soak.md, .bench/soak.json, .bench/soak.svg and, when `rsvg-convert` (Debian librsvg2-bin) is
// installed, .bench/soak.png. Loopback only; the session count and durations are fixed bounds.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  connectClient,
  connectWhenReady,
  freePort,
  memoryOf,
  percentile,
  sleep,
  startProcess,
  waitForListening,
  waitForPort,
} from './lib.mjs';
import { ROOT, RUNTIME } from './sdk.mjs';

const NODE = process.execPath;
const ECHO = join(ROOT, 'bench', 'echo-server.mjs');
const GATEWAY_CLI = join(RUNTIME, 'lib', 'cli.js');
const OUT = join(ROOT, '.bench');
const log = (m) => process.stdout.write(`[soak] ${m}\n`);

const SUSTAINED_CLIENTS = 16;
const SESSIONS = 1_000;
const SESSION_ROUNDS = 5;
const OPEN_BATCH = 50;
/** Pause between the churn worker's sessions: a new chat every second or so, each taking a spare. */
const CHURN_PAUSE_MS = 1_000;

function config(port, adminPort, statsPort, echoHttpUrl) {
  // /mcp: a stdio echo server per session, for the sustained phase. /mcp-http: the echo server over
  // Streamable HTTP, for the 1,000 sessions, which must not mean 1,000 processes (stdio processes are
  // capped per backend, stdio.maxProcesses, default 64). The stdio route keeps 4 warm spares.
  return `config:
  adminAddr: 127.0.0.1:${adminPort}
  statsAddr: 127.0.0.1:${statsPort}
  # One benchmark client plays every user: the per-subject session limit (500) would stop it halfway.
  limits: { maxSessionsPerSubject: ${SESSIONS * 2} }
binds:
  - port: ${port}
    listeners:
      - routes:
          - name: soak-stdio
            matches: [{ path: { exact: /mcp } }]
            backends:
              - mcp:
                  targets:
                    - name: echo
                      stdio:
                        cmd: ${JSON.stringify(NODE)}
                        args: [${JSON.stringify(ECHO)}]
                        # Issue #11: the soak runs with the warm pool on.
                        pool: { size: 4 }
          - name: soak-http
            matches: [{ path: { exact: /mcp-http } }]
            backends:
              - mcp:
                  targets:
                    - name: echo
                      mcp:
                        host: ${echoHttpUrl}
`;
}

/** Per-second buckets of latency and call counts, plus the gateway's RSS at each second. */
class Timeline {
  constructor(pid) {
    this.pid = pid;
    this.t0 = performance.now();
    this.points = [];
    this.current = [];
    this.phase = 'start';
    this.sessions = 0;
    this.timer = setInterval(() => this.flush(), 1000);
  }
  record(ms) {
    this.current.push(ms);
  }
  flush() {
    const lat = this.current.sort((a, b) => a - b);
    this.current = [];
    const { rss } = memoryOf(this.pid);
    this.points.push({
      t: Math.round((performance.now() - this.t0) / 100) / 10,
      phase: this.phase,
      sessions: this.sessions,
      rssMB: rss / 2 ** 20,
      calls: lat.length,
      p50: percentile(lat, 50),
      p99: percentile(lat, 99),
    });
  }
  stop() {
    clearInterval(this.timer);
    this.flush();
  }
}

async function loop(conn, until, timeline, stats) {
  while (performance.now() < until) {
    const s = performance.now();
    try {
      await conn.client.callTool({ name: conn.tool, arguments: { text: 'hello' } });
      const ms = performance.now() - s;
      timeline.record(ms);
      stats.push(ms);
    } catch (err) {
      stats.errors = (stats.errors ?? 0) + 1;
      stats.lastError = err.message;
      if (stats.errors > 100) return;
    }
  }
}

/**
 * Issue #11: new sessions keep arriving while the sustained load runs, so the warm pool hands out spares,
 * refills and stops processes for the whole phase: each one connects, calls once and ends (DELETE).
 */
async function churn(target, until, stats) {
  while (performance.now() < until) {
    let conn;
    try {
      conn = await connectClient(target);
      await conn.client.callTool({ name: conn.tool, arguments: { text: 'hello' } });
      await conn.client.transport.terminateSession();
      stats.sessions++;
    } catch (err) {
      stats.errors++;
      stats.lastError = err.message;
      if (stats.errors > 20) return;
    } finally {
      await conn?.close();
    }
    await sleep(CHURN_PAUSE_MS);
  }
}

function summarize(phase, sessions, lat, seconds, peakRssMB) {
  const sorted = [...lat].sort((a, b) => a - b);
  return {
    phase,
    sessions,
    calls: sorted.length,
    errors: lat.errors ?? 0,
    callsPerSec: sorted.length / seconds,
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    peakRssMB,
  };
}

export async function runSoak({ seconds }) {
  if (!existsSync(GATEWAY_CLI)) throw new Error(`${GATEWAY_CLI} missing: run \`cd runtime && npx tsc --build\``);
  if (!(seconds > 0 && seconds <= 3600)) throw new Error('--soak takes a duration in seconds (1–3600)');
  mkdirSync(join(OUT, 'logs'), { recursive: true });
  const echoHttp = startProcess(NODE, [ECHO, '--http', '0'], { logFile: join(OUT, 'logs', 'soak-echo-http.log') });
  const echoHttpUrl = await waitForListening(echoHttp, 15_000).catch(async (err) => {
    await echoHttp.stop();
    throw err;
  });
  const port = await freePort();
  const configFile = join(OUT, 'soak.yaml');
  writeFileSync(configFile, config(port, await freePort(), await freePort(), echoHttpUrl));
  const gw = startProcess(NODE, [GATEWAY_CLI, '--config', configFile, '--host', '127.0.0.1'], { logFile: join(OUT, 'logs', 'soak.log') });
  const opened = [];
  const rows = [];
  let timeline;
  try {
    await waitForPort(port, 15_000, gw.alive);
    const target = { url: `http://127.0.0.1:${port}/mcp` };
    timeline = new Timeline(gw.pid);

    // Phase 1: sustained calls from a fixed set of sessions.
    timeline.phase = 'connect';
    log(`sustained: ${SUSTAINED_CLIENTS} sessions calling echo back-to-back for ${seconds} s, and one new session a second taking a pool spare`);
    for (let i = 0; i < SUSTAINED_CLIENTS; i++) opened.push(await connectWhenReady(target, 15_000, gw.alive));
    timeline.sessions = opened.length;
    timeline.phase = 'sustained';
    const rssStart = memoryOf(gw.pid).rss / 2 ** 20;
    const sustained = [];
    const t1 = performance.now();
    const progress = setInterval(() => {
      const p = timeline.points[timeline.points.length - 1];
      if (p) log(`  t=${p.t}s ${p.calls} calls/s p50 ${p.p50?.toFixed(2)} ms p99 ${p.p99?.toFixed(2)} ms RSS ${p.rssMB.toFixed(1)} MB`);
    }, 10_000);
    const churned = { sessions: 0, errors: 0 };
    await Promise.all([...opened.map((c) => loop(c, t1 + seconds * 1000, timeline, sustained)), churn(target, t1 + seconds * 1000, churned)]);
    clearInterval(progress);
    const sustainedSecs = (performance.now() - t1) / 1000;
    const rssEnd = memoryOf(gw.pid).rss / 2 ** 20;
    rows.push({
      ...summarize('sustained', SUSTAINED_CLIENTS, sustained, sustainedSecs, memoryOf(gw.pid).hwm / 2 ** 20),
      rssStartMB: rssStart,
      rssEndMB: rssEnd,
      churnedSessions: churned.sessions,
      churnErrors: churned.errors,
      churnLastError: churned.lastError,
    });
    await Promise.all(opened.splice(0).map((c) => c.close()));
    timeline.sessions = 0;

    // Phase 2: 1,000 sessions open at once on the same process, each calling echo.
    timeline.phase = 'opening';
    log(`sessions: opening ${SESSIONS} concurrent sessions on /mcp-http`);
    const httpTarget = { url: `http://127.0.0.1:${port}/mcp-http` };
    const tOpen = performance.now();
    let openFailures = 0;
    let lastOpenError;
    while (opened.length < SESSIONS) {
      const batch = await Promise.allSettled(
        Array.from({ length: Math.min(OPEN_BATCH, SESSIONS - opened.length) }, () => connectClient(httpTarget)),
      );
      for (const r of batch) {
        if (r.status === 'fulfilled') {
          opened.push(r.value);
        } else {
          openFailures++;
          lastOpenError = r.reason?.message;
        }
      }
      if (openFailures > SESSIONS / 20) throw new Error(`${openFailures} sessions failed to open (last: ${lastOpenError})`);
      timeline.sessions = opened.length;
      if (opened.length % 200 === 0) log(`  ${opened.length} sessions open, RSS ${(memoryOf(gw.pid).rss / 2 ** 20).toFixed(1)} MB`);
    }
    const openSecs = (performance.now() - tOpen) / 1000;
    log(`  ${SESSIONS} sessions open in ${openSecs.toFixed(1)} s; ${SESSION_ROUNDS} rounds of one call per session, all at once`);
    timeline.phase = 'sessions';
    const burst = [];
    const t2 = performance.now();
    for (let r = 0; r < SESSION_ROUNDS; r++) {
      await Promise.all(
        opened.map(async (c) => {
          const s = performance.now();
          try {
            await c.client.callTool({ name: c.tool, arguments: { text: 'hello' } });
            const ms = performance.now() - s;
            timeline.record(ms);
            burst.push(ms);
          } catch (err) {
            burst.errors = (burst.errors ?? 0) + 1;
            burst.lastError = err.message;
          }
        }),
      );
    }
    const burstSecs = (performance.now() - t2) / 1000;
    rows.push({
      ...summarize(`${SESSIONS} sessions`, opened.length, burst, burstSecs, memoryOf(gw.pid).hwm / 2 ** 20),
      openSeconds: openSecs,
      openFailures,
    });
    await Promise.all(opened.splice(0).map((c) => c.close()));
    timeline.sessions = 0;
    timeline.phase = 'closed';
    await sleep(3000);
  } finally {
    timeline?.stop();
    await Promise.all(opened.map((c) => c.close()));
    await gw.stop();
    await echoHttp.stop();
  }

  const points = timeline.points;
  const md = renderMarkdown(rows, points, seconds);
  const svg = renderSvg(points);
  writeFileSync(join(OUT, 'soak.md'), md);
  writeFileSync(
    join(OUT, 'soak.json'),
    `${JSON.stringify({ date: new Date().toISOString(), node: process.version, seconds, rows, points }, null, 2)}\n`,
  );
  writeFileSync(join(OUT, 'soak.svg'), svg);
  let png = 'not rendered (install Debian librsvg2-bin for rsvg-convert)';
  try {
    execFileSync('rsvg-convert', ['-o', join(OUT, 'soak.png'), join(OUT, 'soak.svg')], { stdio: 'ignore' });
    png = join(OUT, 'soak.png');
  } catch {
    /* chart stays SVG only */
  }
  process.stdout.write(`\n${md}\n`);
  log(`written .bench/soak.md, soak.json, soak.svg; PNG: ${png}`);
}

const f = (n, d = 2) => (Number.isFinite(n) ? n.toFixed(d) : '—');

/** A leak grows without bound; a working set levels off. Over a soak's second half, more than this is a leak to chase. */
const FLAT_MB_PER_MIN = 1;

/** Least-squares slope (MB/min) and range of RSS over the second half of `samples`; undefined with too few. */
export function rssTrend(samples) {
  const half = samples.slice(Math.floor(samples.length / 2));
  if (half.length < 10) return undefined;
  const xs = half.map((p) => p.t / 60);
  const ys = half.map((p) => p.rssMB);
  const mx = xs.reduce((a, b) => a + b, 0) / xs.length;
  const my = ys.reduce((a, b) => a + b, 0) / ys.length;
  const sxy = xs.reduce((sum, x, i) => sum + (x - mx) * (ys[i] - my), 0);
  const sxx = xs.reduce((sum, x) => sum + (x - mx) ** 2, 0);
  return { samples: half.length, minMB: Math.min(...ys), maxMB: Math.max(...ys), slopeMBPerMin: sxx > 0 ? sxy / sxx : 0 };
}

function renderMarkdown(rows, points, seconds) {
  const lines = [
    '# mcp-gateway soak (issue #5)',
    '',
    `${new Date().toISOString()} · Node ${process.version} · one gateway process (\`--config\`; sustained phase: a stdio echo server per session; `
      + `sessions phase: the echo server over Streamable HTTP) · ${seconds} s sustained`,
    '',
    '| phase | sessions | calls | errors | calls/s | p50 ms | p99 ms | peak RSS MB |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const r of rows) {
    lines.push(
      `| ${r.phase} | ${r.sessions} | ${r.calls} | ${r.errors} | ${Math.round(r.callsPerSec)} | ${f(r.p50)} | ${f(r.p99)} | ${f(r.peakRssMB, 1)} |`,
    );
  }
  const s = rows.find((r) => r.phase === 'sustained');
  if (s) {
    lines.push('', `RSS during the sustained phase: ${f(s.rssStartMB, 1)} MB at its start, ${f(s.rssEndMB, 1)} MB at its end.`);
    const trend = rssTrend(points.filter((p) => p.phase === 'sustained'));
    if (trend) {
      lines.push(
        `Its second half (${trend.samples} samples, once the heap and the pool have reached their working size): ` +
          `${f(trend.minMB, 1)}–${f(trend.maxMB, 1)} MB, trend ${trend.slopeMBPerMin >= 0 ? '+' : ''}${f(trend.slopeMBPerMin, 2)} MB/min ` +
          `(least squares): ${Math.abs(trend.slopeMBPerMin) <= FLAT_MB_PER_MIN ? 'flat' : 'NOT flat'} (the bar: ±${FLAT_MB_PER_MIN} MB/min).`,
      );
    }
  }
  if (s?.churnedSessions !== undefined) {
    lines.push(
      `Meanwhile ${s.churnedSessions} new sessions came and went (connect, one call, DELETE), each served from the warm pool (size 4): ` +
        `${s.churnErrors} errors${s.churnLastError ? ` (last: ${s.churnLastError})` : ''}.`,
    );
  }
  const o = rows.find((r) => r.openSeconds !== undefined);
  if (o) lines.push(`Opening ${o.sessions} sessions took ${f(o.openSeconds, 1)} s (${o.openFailures} failed to open).`);
  lines.push('', `Chart: \`.bench/soak.png\` / \`.bench/soak.svg\` (${points.length} one-second samples).`);
  return `${lines.join('\n')}\n`;
}

/** Two stacked panels, RSS (MB) and latency (p50/p99 ms, log scale), against time; phases shaded. */
export function renderSvg(points) {
  const W = 900;
  const H = 570;
  const L = 70;
  const R = 20;
  const panelH = 200;
  const top1 = 70;
  const top2 = 320;
  const tMax = Math.max(1, ...points.map((p) => p.t));
  const x = (t) => L + ((W - L - R) * t) / tMax;
  const rssMax = Math.max(1, ...points.map((p) => p.rssMB || 0)) * 1.1;
  const y1 = (v) => top1 + panelH - (panelH * v) / rssMax;
  const lat = points.flatMap((p) => [p.p50, p.p99]).filter((v) => Number.isFinite(v) && v > 0);
  const lMin = Math.max(0.01, Math.min(...lat, 1) / 1.5);
  const lMax = Math.max(...lat, 10) * 1.5;
  const y2 = (v) => top2 + panelH - (panelH * (Math.log10(v) - Math.log10(lMin))) / (Math.log10(lMax) - Math.log10(lMin));
  // A second without calls has no latency: the line breaks there instead of bridging the gap.
  const path = (pts, y, key) => {
    let pen = 'M';
    const out = [];
    for (const p of pts) {
      if (!(Number.isFinite(p[key]) && p[key] > 0)) {
        pen = 'M';
        continue;
      }
      out.push(`${pen}${x(p.t).toFixed(1)},${y(p[key]).toFixed(1)}`);
      pen = 'L';
    }
    return out.join(' ');
  };
  const shades = [];
  const colors = { start: '#ffffff', connect: '#ffffff', sustained: '#eef5ff', opening: '#fffaf2', sessions: '#ffe8cc', closed: '#f3f3f3' };
  let start = 0;
  for (let i = 1; i <= points.length; i++) {
    if (i === points.length || points[i].phase !== points[start].phase) {
      const a = start === 0 ? 0 : points[start - 1].t;
      const b = points[i - 1].t;
      for (const top of [top1, top2]) {
        shades.push(
          `<rect x="${x(a).toFixed(1)}" y="${top}" width="${Math.max(0, x(b) - x(a)).toFixed(1)}" height="${panelH}" `
            + `fill="${colors[points[start].phase] ?? '#fff'}"/>`,
        );
      }
      // Short phases are named in the legend only, so labels never overlap.
      if (x(b) - x(a) > 70) {
        shades.push(
          `<text x="${((x(a) + x(b)) / 2).toFixed(1)}" y="${top1 - 6}" font-size="11" text-anchor="middle" fill="#555">${points[start].phase}</text>`,
        );
      }
      start = i;
    }
  }
  const ticks = [];
  for (let i = 0; i <= 4; i++) {
    const v = (rssMax * i) / 4;
    ticks.push(`<text x="${L - 6}" y="${y1(v) + 4}" font-size="11" text-anchor="end">${v.toFixed(0)}</text>`);
  }
  for (let e = Math.ceil(Math.log10(lMin)); e <= Math.floor(Math.log10(lMax)); e++) {
    ticks.push(`<text x="${L - 6}" y="${y2(10 ** e) + 4}" font-size="11" text-anchor="end">${10 ** e >= 1 ? 10 ** e : (10 ** e).toFixed(-e)}</text>`);
    ticks.push(`<line x1="${L}" x2="${W - R}" y1="${y2(10 ** e)}" y2="${y2(10 ** e)}" stroke="#ddd"/>`);
  }
  for (let i = 0; i <= 5; i++) {
    const t = (tMax * i) / 5;
    ticks.push(`<text x="${x(t)}" y="${top2 + panelH + 16}" font-size="11" text-anchor="middle">${t.toFixed(0)} s</text>`);
  }
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif">
<rect width="${W}" height="${H}" fill="#fff"/>
<text x="${L}" y="22" font-size="15" font-weight="bold">mcp-gateway soak: RSS and call latency over time</text>
${Object.entries(colors)
  .filter(([phase]) => points.some((p) => p.phase === phase))
  .map(
    ([phase, color], i) =>
      `<rect x="${L + i * 90}" y="30" width="12" height="12" fill="${color}" stroke="#999"/><text x="${L + 16 + i * 90}" y="41" `
        + `font-size="11">${phase}</text>`,
  )
  .join('')}
${shades.join('\n')}
<rect x="${L}" y="${top1}" width="${W - L - R}" height="${panelH}" fill="none" stroke="#999"/>
<rect x="${L}" y="${top2}" width="${W - L - R}" height="${panelH}" fill="none" stroke="#999"/>
${ticks.join('\n')}
<text x="16" y="${top1 + panelH / 2}" font-size="12" transform="rotate(-90 16 ${top1 + panelH / 2})" text-anchor="middle">RSS (MB)</text>
<text x="16" y="${top2 + panelH / 2}" font-size="12" transform="rotate(-90 16 ${top2 + panelH / 2})" text-anchor="middle">latency (ms, log)</text>
<path d="${path(points, y1, 'rssMB')}" fill="none" stroke="#1f77b4" stroke-width="2"/>
<path d="${path(points, y2, 'p50')}" fill="none" stroke="#2ca02c" stroke-width="1.5"/>
<path d="${path(points, y2, 'p99')}" fill="none" stroke="#d62728" stroke-width="1.5"/>
<text x="${W - R - 260}" y="${top2 - 8}" font-size="12" fill="#2ca02c">— p50 per second</text>
<text x="${W - R - 130}" y="${top2 - 8}" font-size="12" fill="#d62728">— p99 per second</text>
</svg>
`;
}
