import { MCP_HEADERS, openSession, outcome, rpc, send, stillServes } from './harness.js';
import { writeConfigFile } from '../helpers/config-file.js';
import { GatewayProcess, INITIALIZE, PYTHON_SERVER } from '../helpers/gateway.js';

/**
 * Malformed JSON-RPC, huge and deeply nested bodies, tampered session ids and slow bodies, each against
 * one gateway whose limits the test sets (a small `maxBodyBytes`, a short `bodyTimeout`), so no case
 * depends on the machine's speed. Every case ends with an honest client still being served.
 */
const MAX_BODY = 20_000;
let gateway: GatewayProcess;
let url: string;
let session: string;

beforeAll(async () => {
  const file = writeConfigFile(
    'hostile-jsonrpc-',
    `config:
  limits: { maxBodyBytes: ${MAX_BODY}, bodyTimeout: 300ms }
binds:
  - port: 0
    listeners:
      - routes:
          - name: plain
            matches: [{ path: { exact: /mcp } }]
            backends:
              - mcp:
                  targets:
                    - name: py
                      stdio: { cmd: python3, args: [${JSON.stringify(PYTHON_SERVER)}] }
          - name: other
            matches: [{ path: { exact: /other/mcp } }]
            backends:
              - mcp:
                  targets:
                    - name: py
                      stdio: { cmd: python3, args: [${JSON.stringify(PYTHON_SERVER)}] }
`,
  );
  gateway = await GatewayProcess.serving(file);
  url = `${gateway.url}/mcp`;
  session = await openSession(url);
});

afterEach(async () => {
  await stillServes(url);
});

afterAll(async () => {
  await gateway.stop();
});

const inSession = (message: unknown) => rpc(url, message, { 'mcp-session-id': session });

describe('malformed JSON-RPC', () => {
  test.each([
    ['truncated JSON', 400, -32700, '{"jsonrpc":"2.0","id":1,"method":"ping"'],
    ['not UTF-8 JSON', 400, -32700, Buffer.from([0xff, 0xfe, 0x7b]).toString('latin1')],
    ['null', 400, -32600, 'null'],
    ['a string', 400, -32600, '"tools/call"'],
    ['a number method', 400, -32600, '{"jsonrpc":"2.0","id":1,"method":1}'],
    ['a boolean id', 400, -32600, '{"jsonrpc":"2.0","id":true,"method":"ping"}'],
    ['params that are a string', 400, -32600, '{"jsonrpc":"2.0","id":1,"method":"tools/list","params":"x"}'],
    ['jsonrpc 1.0', 400, -32600, '{"jsonrpc":"1.0","id":1,"method":"ping"}'],
    ['a response without result or error', 400, -32600, '{"jsonrpc":"2.0","id":1}'],
  ])('%s: HTTP %i, JSON-RPC %i', async (_what, status, code, body) => {
    expect(outcome(await inSession(body))).toEqual({ status, code });
  });

  test('prototype keys in params are plain data', async () => {
    const response = await inSession(
      '{"jsonrpc":"2.0","id":5,"method":"tools/call",'
        + '"params":{"__proto__":{"name":"crash"},"constructor":{"prototype":{"x":1}},"name":"add","arguments":{"a":1,"b":2}}}',
    );
    expect(response.json?.result).toEqual({ content: [{ type: 'text', text: '3' }] });
  });
});

describe('huge and deeply nested bodies', () => {
  test('a body above maxBodyBytes gets 413, declared or streamed without Content-Length', async () => {
    const big = JSON.stringify({
      jsonrpc: '2.0',
      id: 1,
      method: 'tools/call',
      params: { name: 'echo', arguments: { message: 'x'.repeat(MAX_BODY) } },
    });
    expect(outcome(await inSession(big))).toEqual({ status: 413, code: -32600 });
    const chunked = await send(url, {
      headers: { ...MCP_HEADERS, 'mcp-session-id': session, 'transfer-encoding': 'chunked' },
      body: (write, end) => {
        for (let i = 0; i < 30; i++) write('x'.repeat(1000));
        end();
      },
    });
    expect(outcome(chunked)).toEqual({ status: 413, code: -32600 });
  });

  test('nesting deeper than a JSON-RPC message needs is refused before it reaches anything recursive', async () => {
    const depth = 9_000;
    const nested = '{"jsonrpc":"2.0","id":6,"method":"tools/call",'
      + `"params":{"name":"echo","arguments":{"message":"hi","deep":${'['.repeat(depth)}${']'.repeat(depth)}}}}`;
    expect(nested.length).toBeLessThan(MAX_BODY);
    const response = await inSession(nested);
    expect(outcome(response)).toEqual({ status: 400, code: -32600 });
    expect(response.json?.error?.message).toMatch(/nested deeper than \d+ levels/);
  });
});

describe('tampered session ids', () => {
  test.each([
    ['one character changed', () => `${session.slice(0, 20)}${session[20] === 'A' ? 'B' : 'A'}${session.slice(21)}`],
    ['truncated', () => session.slice(0, 30)],
    ['extended', () => `${session}AAAA`],
    ['not base64url', () => `${session.slice(0, 10)}!$%${session.slice(13)}`],
    ['huge', () => 'A'.repeat(8000)],
  ])('%s: 404 Session not found', async (_what, tamper) => {
    const response = await rpc(url, { jsonrpc: '2.0', id: 7, method: 'tools/list' }, { 'mcp-session-id': tamper() });
    expect(outcome(response)).toEqual({ status: 404, code: -32600 });
  });

  test('an id from another route is not accepted', async () => {
    const response = await rpc(`${gateway.url}/other/mcp`, { jsonrpc: '2.0', id: 8, method: 'tools/list' }, { 'mcp-session-id': session });
    expect(outcome(response)).toEqual({ status: 404, code: -32600 });
  });
});

describe('slow bodies', () => {
  test('a body that stops arriving is answered 408 after bodyTimeout, and the connection is freed', async () => {
    const response = await send(url, {
      headers: { ...MCP_HEADERS, 'mcp-session-id': session, 'content-length': String(INITIALIZE.length + 10) },
      // Half the body, then nothing: the gateway, not the client, must end this.
      body: (write) => write(INITIALIZE.slice(0, 20)),
    });
    expect(outcome(response)).toEqual({ status: 408, code: -32600 });
    expect(response.json?.error?.message).toMatch(/bodyTimeout/);
  });
});
