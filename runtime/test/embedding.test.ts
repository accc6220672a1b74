import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ConfigLoader, Gateway, StructuredLogger, type McpRequestRecord, type Telemetry } from '../src/index.js';
import { PYTHON_SERVER } from './helpers/gateway.js';

/** Records what the gateway reports, as a metrics exporter would. */
class RecordingTelemetry implements Telemetry {
  readonly requests: McpRequestRecord[] = [];
  opened = 0;
  closed = 0;
  exits: Array<{ target: string; code: number | null }> = [];
  requestFinished(record: McpRequestRecord): void {
    this.requests.push(record);
  }
  sessionOpened(): void {
    this.opened++;
  }
  sessionClosed(): void {
    this.closed++;
  }
  upstreamProcessExited(target: string, code: number | null): void {
    this.exits.push({ target, code });
  }
}

describe('the gateway as a library', () => {
  test('reports every request, session and process exit to the Telemetry it is given, and its status', async () => {
    const lines: string[] = [];
    const logger = new StructuredLogger('info', 'json', { write: (line: string) => lines.push(line) });
    const telemetry = new RecordingTelemetry();
    const config = await new ConfigLoader().loadObject(
      {
        binds: [
          {
            port: 0,
            listeners: [
              {
                routes: [
                  {
                    name: 'embedded',
                    matches: [{ path: { exact: '/mcp' } }],
                    backends: [{ mcp: { targets: [{ name: 'py', stdio: { cmd: 'python3', args: [PYTHON_SERVER] } }] } }],
                  },
                ],
              },
            ],
          },
        ],
      },
      'test',
      {},
    );
    const gateway = await Gateway.create(config, { logger, telemetry, host: '127.0.0.1' });
    await gateway.start();
    const [port] = gateway.status().ports;
    const client = new Client({ name: 'embedded-test', version: '1.0.0' });
    await client.connect(new StreamableHTTPClientTransport(new URL(`http://127.0.0.1:${port}/mcp`)));
    await client.callTool({ name: 'echo', arguments: { message: 'x' } });
    await expect(client.callTool({ name: 'missing', arguments: {} })).rejects.toThrow(/Unknown tool/);

    expect(gateway.status()).toMatchObject({ ready: true, sessions: 1, routes: [{ name: 'embedded', targets: ['py'], stdioProcesses: 1 }] });
    await client.close();
    await gateway.drain();
    expect(gateway.status().ready).toBe(false);

    const calls = telemetry.requests.filter((record) => record.mcpMethod === 'tools/call');
    expect(calls.map((record) => [record.resource, record.target, record.httpStatus, record.errorCode])).toEqual([
      ['echo', 'py', 200, undefined],
      ['missing', 'py', 200, -32602],
    ]);
    expect(calls.every((record) => record.route === 'embedded' && record.durationMs >= 0 && typeof record.sessionId === 'string')).toBe(true);
    expect(telemetry.opened).toBe(1);
    expect(telemetry.closed).toBe(1);
    expect(telemetry.exits).toEqual([{ target: 'py', code: expect.anything() }]);
    expect(lines.some((line) => JSON.parse(line).msg === 'listening')).toBe(true);
  });
});
