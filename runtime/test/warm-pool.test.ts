import { availableParallelism } from 'node:os';
import type { JsonRpcMessage } from '../src/protocol/jsonrpc.js';
import type { Logger } from '../src/telemetry/logger.js';
import type { StdioConnection } from '../src/upstream/stdio.js';
import {
  handshakeKey,
  REFILL_MAX_WAIT_MS,
  REFILL_QUIET_MS,
  WarmPool,
  type ProcessSource,
  type RefillTiming,
  type WarmPoolSettings,
} from '../src/upstream/warm-pool.js';

const quiet: Logger = { debug() {}, info() {}, warn() {}, error() {}, child: () => quiet };

/** A stdio process that answers `initialize` at once and records what it was sent. */
class FakeProcess {
  static nextPid = 1000;
  readonly pid = FakeProcess.nextPid++;
  readonly received: JsonRpcMessage[] = [];
  onmessage?: (message: JsonRpcMessage) => void;
  onclose?: (reason: Error) => void;
  closed = false;
  private exited!: () => void;
  readonly exit = new Promise<{ code: number; signal: null; expected: boolean }>(
    (resolve) => (this.exited = () => resolve({ code: 0, signal: null, expected: true })),
  );

  constructor(
    private readonly refuseInitialize = false,
    /** Leaves `initialize` unanswered, as a server still loading its modules. */
    private readonly slow = false,
  ) {}

  async send(message: JsonRpcMessage): Promise<void> {
    this.received.push(message);
    if (message.method === 'initialize' && !this.slow) {
      const answer = this.refuseInitialize
        ? { jsonrpc: '2.0' as const, id: message.id, error: { code: -32600, message: 'no' } }
        : {
          jsonrpc: '2.0' as const,
          id: message.id,
          result: { protocolVersion: message.params?.protocolVersion, capabilities: {}, serverInfo: { name: 'fake', version: '1' } },
        };
      queueMicrotask(() => this.onmessage?.(answer));
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.exited();
  }
}

/** Counts processes like StdioPool does; `limit` is the backend's maxProcesses. */
class FakeSource implements ProcessSource {
  readonly started: FakeProcess[] = [];
  refuseInitialize = false;
  slow = false;
  constructor(private readonly limit = 64) {}
  async spawn(): Promise<StdioConnection> {
    const process = new FakeProcess(this.refuseInitialize, this.slow);
    this.started.push(process);
    return process as unknown as StdioConnection;
  }
  countOf(): number {
    return this.started.filter((process) => !process.closed).length;
  }
  hasRoom(): boolean {
    return this.countOf() < this.limit;
  }
}

const settings = (overrides: Partial<WarmPoolSettings> = {}): WarmPoolSettings => ({
  size: 2,
  idleTimeoutMs: 600_000,
  maxProcesses: 64,
  reuse: false,
  shared: false,
  ...overrides,
});
const CLIENT = { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'client', version: '1' } };
const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Time that passes only when a test says so, for the pool's refill timer. */
class ManualClock {
  time = 0;
  private timers: Array<{ at: number; run: () => void }> = [];

  readonly timing: RefillTiming = {
    quietMs: REFILL_QUIET_MS,
    maxWaitMs: REFILL_MAX_WAIT_MS,
    now: () => this.time,
    schedule: (run, ms) => {
      const timer = { at: this.time + ms, run };
      this.timers.push(timer);
      return () => (this.timers = this.timers.filter((candidate) => candidate !== timer));
    },
  };

  get pending(): number {
    return this.timers.length;
  }

  advance(ms: number): void {
    this.time += ms;
    const due = this.timers.filter((timer) => timer.at <= this.time);
    this.timers = this.timers.filter((timer) => timer.at > this.time);
    for (const timer of due) timer.run();
  }
}

function poolWith(source: FakeSource, overrides: Partial<WarmPoolSettings> = {}, clock = new ManualClock()): WarmPool {
  return new WarmPool('t', { cmd: 'x' }, settings(overrides), source, quiet, { name: 'mcp-gateway', version: 'test' }, {}, clock.timing);
}

describe('WarmPool', () => {
  test('the handshake key ignores clientInfo and key order, not capabilities or revision', () => {
    expect(handshakeKey({ protocolVersion: 'a', capabilities: { x: 1, y: 2 }, clientInfo: { name: 'one' } })).toBe(
      handshakeKey({ protocolVersion: 'a', capabilities: { y: 2, x: 1 }, clientInfo: { name: 'two' } }),
    );
    expect(handshakeKey({ protocolVersion: 'a', capabilities: {} })).not.toBe(handshakeKey({ protocolVersion: 'a', capabilities: { roots: {} } }));
    expect(handshakeKey({ protocolVersion: 'a', capabilities: {} })).not.toBe(handshakeKey({ protocolVersion: 'b', capabilities: {} }));
  });

  test('spares are pre-initialized with the gateway clientInfo; a take hands one over and starts a replacement', async () => {
    const source = new FakeSource();
    const clock = new ManualClock();
    const pool = poolWith(source, {}, clock);
    pool.start();
    await settle();
    expect(source.started).toHaveLength(2);
    expect(pool.readySpares).toBe(2);
    expect(source.started[0].received[0]).toMatchObject({ method: 'initialize', params: { clientInfo: { name: 'mcp-gateway' } } });
    const lease = await pool.take(CLIENT);
    expect(lease?.initialized).toMatchObject({ serverInfo: { name: 'fake' } });
    clock.advance(REFILL_QUIET_MS);
    await settle();
    expect(source.started).toHaveLength(3);
    // Not `notifications/initialized`: that is the real client's to send.
    expect(source.started.flatMap((process) => process.received.map((message) => message.method))).toEqual([
      'initialize',
      'initialize',
      'initialize',
    ]);
  });

  test('a client with another handshake gets nothing (the caller starts a process) and the spares follow it', async () => {
    const source = new FakeSource();
    const clock = new ManualClock();
    const pool = poolWith(source, {}, clock);
    pool.start();
    await settle();
    const other = { ...CLIENT, capabilities: { sampling: {} } };
    expect(await pool.take(other)).toBeUndefined();
    clock.advance(REFILL_QUIET_MS);
    await settle();
    expect(source.started.slice(0, 2).every((process) => process.closed)).toBe(true);
    const lease = await pool.take(other);
    expect(lease?.initialized).toBeDefined();
    expect(source.started[2].received[0].params?.capabilities).toEqual({ sampling: {} });
  });

  test('spares never exceed the per-target ceiling', async () => {
    const source = new FakeSource();
    const pool = poolWith(source, { size: 4, maxProcesses: 3 });
    pool.start();
    await settle();
    expect(source.started).toHaveLength(3);
  });

  test('only a few spares start at once, so the first ones are ready early', async () => {
    const source = new FakeSource();
    source.slow = true;
    const pool = poolWith(source, { size: 16 });
    pool.start();
    await settle();
    expect(source.started).toHaveLength(Math.max(2, availableParallelism()));
    await pool.drain();
  });

  test('a server that refuses initialize pauses refilling until the next session', async () => {
    const source = new FakeSource();
    source.refuseInitialize = true;
    const clock = new ManualClock();
    const pool = poolWith(source, {}, clock);
    pool.start();
    await settle();
    await settle();
    expect(pool.readySpares).toBe(0);
    expect(source.started).toHaveLength(2);
    // The next session finds no spare and sets the pool going again, once.
    expect(await pool.take(CLIENT)).toBeUndefined();
    clock.advance(REFILL_QUIET_MS);
    await settle();
    await settle();
    expect(source.started).toHaveLength(4);
  });

  test('reuse: a clean lease goes back; a tainted one (setLevel, server request, unanswered request) is stopped', async () => {
    const source = new FakeSource();
    const clock = new ManualClock();
    const pool = poolWith(source, { size: 1, reuse: true }, clock);
    pool.start();
    await settle();
    const clean = (await pool.take(CLIENT))!;
    await clean.send({ jsonrpc: '2.0', method: 'notifications/initialized' });
    await clean.close();
    await settle();
    const again = (await pool.take(CLIENT))!;
    expect(again.pid).toBe(clean.pid);
    // The process had its `initialized` already; the next client's is not sent twice.
    await again.send({ jsonrpc: '2.0', method: 'notifications/initialized' });
    const process = source.started.find((candidate) => candidate.pid === clean.pid)!;
    expect(process.received.filter((message) => message.method === 'notifications/initialized')).toHaveLength(1);

    await again.send({ jsonrpc: '2.0', id: 5, method: 'logging/setLevel', params: { level: 'debug' } });
    process.onmessage?.({ jsonrpc: '2.0', id: 5, result: {} });
    await again.close();
    expect(process.closed).toBe(true);
    clock.advance(REFILL_QUIET_MS);
    await settle();

    const third = (await pool.take(CLIENT))!;
    const thirdProcess = source.started.find((candidate) => candidate.pid === third.pid)!;
    thirdProcess.onmessage?.({ jsonrpc: '2.0', id: 'srv-1', method: 'sampling/createMessage', params: {} });
    await third.close();
    expect(thirdProcess.closed).toBe(true);
    clock.advance(REFILL_QUIET_MS);
    await settle();

    const fourth = (await pool.take(CLIENT))!;
    await fourth.send({ jsonrpc: '2.0', id: 9, method: 'tools/call', params: { name: 'slow' } });
    await fourth.close();
    expect(source.started.find((candidate) => candidate.pid === fourth.pid)!.closed).toBe(true);
  });

  test('without reuse every lease is stopped when its session ends', async () => {
    const source = new FakeSource();
    const pool = poolWith(source, { size: 1 });
    pool.start();
    await settle();
    const lease = (await pool.take(CLIENT))!;
    await lease.close();
    expect(source.started.find((process) => process.pid === lease.pid)!.closed).toBe(true);
  });

  test('a burst of takes starts no replacement until the new sessions go quiet (REFILL_QUIET_MS), then refills', async () => {
    const source = new FakeSource();
    const clock = new ManualClock();
    const pool = poolWith(source, { size: 4 }, clock);
    pool.start();
    await settle();
    await settle();
    expect(pool.readySpares).toBe(4);
    let lease: Awaited<ReturnType<WarmPool['take']>>;
    for (let i = 0; i < 3; i++) {
      lease = await pool.take(CLIENT);
      expect(lease).toBeDefined();
      clock.advance(REFILL_QUIET_MS - 1);
      await settle();
    }
    // Each take put the refill off again: the sessions' handshakes had the CPUs to themselves.
    expect(source.started).toHaveLength(4);
    expect(clock.pending).toBe(1);
    // So does what the new sessions send (their notifications/initialized, tools/list…).
    await lease!.send({ jsonrpc: '2.0', method: 'notifications/initialized' });
    clock.advance(REFILL_QUIET_MS - 1);
    await settle();
    expect(source.started).toHaveLength(4);
    clock.advance(1);
    await settle();
    await settle();
    expect(source.started.length).toBeGreaterThan(4);
    for (let i = 0; i < 4; i++) await settle();
    expect(pool.readySpares).toBe(4);
  });

  test('a steady stream of takes cannot put the refill off beyond REFILL_MAX_WAIT_MS', async () => {
    const source = new FakeSource();
    const clock = new ManualClock();
    const pool = poolWith(source, { size: 32 }, clock);
    pool.start();
    for (let i = 0; i < 40; i++) await settle();
    const before = source.started.length;
    let waited = 0;
    while (source.started.length === before && waited <= REFILL_MAX_WAIT_MS) {
      expect(await pool.take(CLIENT)).toBeDefined();
      clock.advance(REFILL_QUIET_MS / 2);
      waited += REFILL_QUIET_MS / 2;
      await settle();
    }
    expect(source.started.length).toBeGreaterThan(before);
    expect(waited).toBeLessThanOrEqual(REFILL_MAX_WAIT_MS);
    expect(waited).toBeGreaterThanOrEqual(REFILL_MAX_WAIT_MS - REFILL_QUIET_MS);
    await pool.drain();
  });

  test('drain stops every spare and starts no more, not even a refill that was due', async () => {
    const source = new FakeSource();
    const clock = new ManualClock();
    const pool = poolWith(source, {}, clock);
    pool.start();
    await settle();
    const lease = (await pool.take(CLIENT))!;
    expect(clock.pending).toBe(1);
    await pool.drain();
    expect(clock.pending).toBe(0);
    expect(source.started.filter((process) => process.pid !== lease.pid).every((process) => process.closed)).toBe(true);
    expect(await pool.take(CLIENT)).toBeUndefined();
    clock.advance(REFILL_MAX_WAIT_MS);
    await settle();
    expect(source.started).toHaveLength(2);
    await lease.close();
    expect(source.started.every((process) => process.closed)).toBe(true);
  });
});
