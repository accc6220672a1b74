import { isLoopbackHost, normalHostname } from '../src/http/cors.js';

describe('Host names, answered from memory after the first time', () => {
  const loopback = ['localhost', 'LOCALHOST:8080', 'a.localhost', '127.0.0.1:3000', '127.1', '0x7f.0.0.1', '[::1]:9', '::1', '[::ffff:127.0.0.1]'];
  const other = ['example.com', 'localhost.example.com', '10.0.0.1:80', '[::2]', '128.0.0.1', 'bad host name', ''];

  test('every spelling of a loopback name is one, every other name is not, the first time and the second', () => {
    for (let pass = 0; pass < 2; pass++) {
      for (const host of loopback) expect([host, isLoopbackHost(host)]).toEqual([host, true]);
      for (const host of other) expect([host, isLoopbackHost(host)]).toEqual([host, false]);
    }
    expect(normalHostname('EXAMPLE.com:443')).toBe('example.com');
    expect(normalHostname('bad host name')).toBeUndefined();
  });

  test('a flood of new Host names empties the memory but changes no answer', () => {
    for (let i = 0; i < 1_000; i++) expect(isLoopbackHost(`h${i}.example.com`)).toBe(false);
    for (let i = 0; i < 1_000; i++) expect(normalHostname(`H${i}.Example.com:1`)).toBe(`h${i}.example.com`);
    for (const host of loopback) expect(isLoopbackHost(host)).toBe(true);
    for (const host of other) expect(isLoopbackHost(host)).toBe(false);
  });
});
