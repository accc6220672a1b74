import { SessionCodec } from '../src/session/token.js';

const state = {
  r: 'route',
  v: '2025-11-25',
  t: [['a', 'stdio', null, '2025-11-25']] as const,
  c: ['roots'],
  e: Math.floor(Date.now() / 1000) + 3600,
};

describe('session id sealing', () => {
  const codec = new SessionCodec(SessionCodec.randomKey());

  test('an id opens to the state it sealed, with a nonce; two ids of one state differ in IV and nonce', () => {
    const first = codec.encode(state);
    const second = codec.encode(state);
    expect(first).toMatch(/^[A-Za-z0-9_-]+$/);
    const opened = [codec.decode(first)!, codec.decode(second)!];
    const nonce = expect.stringMatching(/^[A-Za-z0-9_-]{12}$/);
    for (const one of opened) expect(one).toEqual({ ...state, t: [['a', 'stdio', null, '2025-11-25']], n: nonce });
    expect(opened[0].n).not.toBe(opened[1].n);
    expect(Buffer.from(first, 'base64url').subarray(0, 12).equals(Buffer.from(second, 'base64url').subarray(0, 12))).toBe(false);
  });

  test('a changed byte, another key or an expired id opens to nothing', () => {
    const id = codec.encode(state);
    const sealed = Buffer.from(id, 'base64url');
    sealed[sealed.length - 20] = (sealed[sealed.length - 20] + 1) % 256;
    expect(codec.decode(sealed.toString('base64url'))).toBeUndefined();
    expect(new SessionCodec(SessionCodec.randomKey()).decode(id)).toBeUndefined();
    expect(codec.decode(id, (state.e + 1) * 1000)).toBeUndefined();
  });
});
