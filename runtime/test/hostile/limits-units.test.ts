import { Admission, RateLimiter } from '../../src/session/limits.js';
import { EventStream, ReplayBudget } from '../../src/session/streams.js';
import { redactLogFields, redactText } from '../../src/telemetry/redact.js';
import { BoundedLineSplitter } from '../../src/upstream/lines.js';

/** The limit and redaction cores through small fakes: counts and clocks are the test's own. */
describe('hostile: limit and redaction cores', () => {
  test('RateLimiter: buckets per subject and per tool refill in whole fills on the injected clock', () => {
    let now = 0;
    const limiter = new RateLimiter(
      [
        { maxTokens: 2, tokensPerFill: 1, fillIntervalMs: 1000, per: 'subject' },
        { maxTokens: 1, tokensPerFill: 1, fillIntervalMs: 1000, per: 'tool' },
      ],
      () => now,
    );
    limiter.take('alice', 'get_me');
    expect(() => limiter.take('alice', 'get_me')).toThrow(/tool "get_me"/);
    limiter.take('alice');
    expect(() => limiter.take('alice')).toThrow(/Rate limit exceeded for this client/);
    limiter.take('bob', 'get_me');
    now = 999;
    expect(() => limiter.take('alice')).toThrow(/retry in 1s/);
    now = 1000;
    limiter.take('alice', 'get_me');
    expect(() => limiter.take('alice')).toThrow(/429|Rate limit/);
  });

  test('Admission: refusals name the setting; release gives the place back once', () => {
    const admission = new Admission({ maxSessions: 3, maxSessionsPerSubject: 2 });
    const stdio = { backend: 'b', name: 'github', processes: 1, maxPerSubject: 5, poolHasRoom: true };
    const first = admission.admit('alice', stdio);
    admission.admit('alice', stdio);
    expect(() => admission.admit('alice', stdio)).toThrow(/maxSessionsPerSubject = 2/);
    admission.admit('bob', stdio);
    expect(() => admission.admit('carol', stdio)).toThrow(/maxSessions = 3/);
    first.release();
    first.release();
    expect(admission.activeSessions).toBe(2);
    expect(() => admission.admit('dave', { ...stdio, processes: 6 })).toThrow(/stdio\.maxProcessesPerSubject = 5/);
    // A full pool reports itself; the per-subject share is not what refused.
    admission.admit('dave', { ...stdio, processes: 6, poolHasRoom: false });
  });

  test('ReplayBudget: old events go first, a response turns into a short error, live delivery is untouched', () => {
    const dropped: number[] = [];
    const budget = new ReplayBudget(1000, (bytes) => dropped.push(bytes));
    const stream = new EventStream('p1', budget);
    stream.append({ jsonrpc: '2.0', method: 'notifications/progress', params: { pad: 'x'.repeat(400) } });
    stream.append({ jsonrpc: '2.0', id: 7, result: { pad: 'y'.repeat(1200) } });
    expect(budget.usedBytes).toBeLessThanOrEqual(1000);
    expect(dropped.reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
    const written: string[] = [];
    const writer = { closed: false, event: (data: string) => written.push(data), end: () => undefined } as never;
    stream.attach(writer, 0);
    expect(written.every((data) => data.length < 1000)).toBe(true);
    expect(JSON.parse(written[written.length - 1])).toMatchObject({ id: 7, error: { code: -32603 } });
  });

  test('BoundedLineSplitter: an oversized line is reported once, with its first bytes, and skipped to its newline', () => {
    const lines: string[] = [];
    const heads: string[] = [];
    const dropped: number[] = [];
    const splitter = new BoundedLineSplitter(10, (line) => lines.push(line), (head) => heads.push(head), (bytes) => dropped.push(bytes));
    splitter.push(Buffer.from('short\r\n{"id":1,"res'));
    splitter.push(Buffer.from('ult":"0123456789"}\nnext'));
    splitter.end();
    expect(lines).toEqual(['short', 'next']);
    // The whole skipped line is shorter than the head kept: all of it is reported, once.
    expect(heads).toEqual(['{"id":1,"result":"0123456789"}']);
    expect(dropped).toEqual([30]);
  });

  test('redaction: URL credentials, token-shaped values and session ids in log fields', () => {
    expect(redactText('GET https://u:p@h/x?access_token=abc failed')).toBe('GET https://u:redacted@h/x?access_token=redacted failed');
    expect(redactText('token ghp_abcdefghijklmnopqrstuvwxyz0123 and Bearer eyJhbGciOi.x.y')).toBe('token [redacted] and Bearer [redacted]');
    expect(redactLogFields({ session: 'abcdefghijklmnop', error: new Error('to https://a:b@c/') })).toEqual({ session: 'abcdefgh…', error: 'to https://a:redacted@c/' });
  });
});
