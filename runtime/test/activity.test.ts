import { ActivityRecorder } from '../src/telemetry/activity.js';

const call = (n: number) => ({
  route: 'r',
  target: 't',
  method: 'tools/call',
  kind: 'tool' as const,
  name: `tool-${n}`,
  outcome: 'ok' as const,
  durationMs: 1,
});

describe('ActivityRecorder', () => {
  test('keeps the last 100 calls, newest first, however many came before', () => {
    const activity = new ActivityRecorder();
    for (let n = 1; n <= 3; n++) activity.callFinished(call(n));
    expect(activity.recentCalls().map((recent) => recent.name)).toEqual(['tool-3', 'tool-2', 'tool-1']);
    for (let n = 4; n <= 250; n++) activity.callFinished(call(n));
    const names = activity.recentCalls().map((recent) => recent.name);
    expect(names).toHaveLength(100);
    expect(names[0]).toBe('tool-250');
    expect(names[99]).toBe('tool-151');
    expect(names).toEqual(Array.from({ length: 100 }, (_, i) => `tool-${250 - i}`));
  });
});
