import { request, type IncomingMessage } from 'node:http';
import { send, stillServes } from './harness.js';
import { writeConfigFile } from '../helpers/config-file.js';
import { GatewayProcess, INITIALIZE, PYTHON_SERVER } from '../helpers/gateway.js';

/** A legacy HTTP+SSE session (2024-11-05 transport): its POST URL and the messages its stream delivered. */
interface LegacySession {
  readonly postUrl: string;
  readonly messages: Array<{ id?: unknown; result?: unknown; error?: { code: number; message: string } }>;
  next(): Promise<LegacySession['messages'][number]>;
  close(): void;
}

function openLegacySse(base: string): Promise<LegacySession> {
  return new Promise((resolve, reject) => {
    const req = request(`${base}/sse`, { headers: { accept: 'text/event-stream' } }, (res: IncomingMessage) => {
      const messages: LegacySession['messages'] = [];
      const waiting: Array<() => void> = [];
      let buffer = '';
      let resolved = false;
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buffer += chunk;
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const event = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const data = /^data: (.*)$/m.exec(event)?.[1];
          if (data === undefined) continue;
          if (/^event: endpoint$/m.test(event)) {
            resolved = true;
            resolve(session(new URL(data, base).toString()));
          } else {
            messages.push(JSON.parse(data));
            for (const wake of waiting.splice(0)) wake();
          }
        }
      });
      let read = 0;
      const session = (postUrl: string): LegacySession => ({
        postUrl,
        messages,
        next: async () => {
          while (messages.length <= read) await new Promise<void>((wake) => waiting.push(wake));
          return messages[read++];
        },
        close: () => req.destroy(),
      });
      res.on('error', (error) => (resolved ? undefined : reject(error)));
    });
    req.on('error', reject);
    req.end();
  });
}

/**
 * Re-sending `initialize` on one legacy SSE session started a new stdio process each time and never
 * stopped the old one; two such sessions exhausted `maxProcesses` for everyone.
 */
describe('legacy SSE: initialize twice on one session', () => {
  let gateway: GatewayProcess;

  beforeAll(async () => {
    const file = writeConfigFile(
      'hostile-sse-',
      `binds:
  - port: 0
    listeners:
      - routes:
          - name: bridge
            backends:
              - mcp:
                  stdio: { maxProcesses: 2, maxProcessesPerSubject: 2 }
                  targets:
                    - name: py
                      stdio: { cmd: python3, args: [${JSON.stringify(PYTHON_SERVER)}] }
`,
    );
    gateway = await GatewayProcess.serving(file);
  });

  afterAll(async () => {
    await gateway.stop();
  });

  test('is refused on the stream, and no process is leaked', async () => {
    const attacker = await openLegacySse(gateway.url);
    const first = await send(attacker.postUrl, { headers: { 'content-type': 'application/json' }, body: INITIALIZE });
    expect(first.status).toBe(202);
    expect((await attacker.next()).result).toBeDefined();
    for (const id of [2, 3]) {
      const again = await send(attacker.postUrl, {
        headers: { 'content-type': 'application/json' },
        body: INITIALIZE.replace('"id":1', `"id":${id}`),
      });
      expect(again.status).toBe(202);
      const answer = await attacker.next();
      expect(answer).toMatchObject({ id, error: { code: -32600 } });
      expect(answer.error?.message).toMatch(/already initialized/);
    }
    // maxProcesses is 2: the attacker holds one process, so the next client (the same anonymous subject,
    // hence the per-subject limit of 2 as well) still gets the other.
    await stillServes(`${gateway.url}/mcp`);
    attacker.close();
  });
});
