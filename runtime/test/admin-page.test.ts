/**
 * The admin page in a real browser (playwright-core driving Debian's Chromium): after a call through the
 * gateway it shows the target, its health and the call, and no secret of the configuration.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';
import { connectClient, EVERYTHING, GatewayProcess, RUNTIME_DIR } from './helpers/gateway.js';
import { describeIf, file } from './helpers/requirements.js';
import { startStreamableServer, type TestUpstream } from './helpers/upstreams.js';

/** Debian's Chromium; CHROMIUM_PATH points elsewhere (a missing file shows what happens without it). */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ARTIFACTS = join(RUNTIME_DIR, '.test-artifacts');

/** Every secret in the configuration below; none may reach the page or its JSON. */
const SECRETS = {
  sessionKey: 'a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90',
  envToken: 'env-token-7c1e9d',
  backendKey: 'backend-key-55aa01',
  header: 'header-secret-9f8e7d',
  urlQuery: 'url-query-31337',
  flag: 'flag-secret-4242',
};

describeIf([file(CHROMIUM, 'chromium', true)])('admin page', () => {
  let upstream: TestUpstream;
  let gateway: GatewayProcess;
  let browser: BrowserContext | undefined;
  let userDataDir: string;

  beforeAll(async () => {
    upstream = await startStreamableServer('web');
    const dir = mkdtempSync(join(tmpdir(), 'gw-admin-'));
    const configFile = join(dir, 'config.yaml');
    const webUrl = new URL(upstream.url);
    webUrl.searchParams.set('api_key', SECRETS.urlQuery);
    writeFileSync(
      configFile,
      `config:
  session: { key: ${SECRETS.sessionKey} }
  statsAddr: 127.0.0.1:0
  adminAddr: 127.0.0.1:0
binds:
- port: 0
  listeners:
  - routes:
    - name: tools
      matches: [{ path: { exact: /mcp } }]
      backends:
      - mcp:
          targets:
          - name: everything
            stdio:
              cmd: "${process.execPath}"
              args: ["${EVERYTHING}", stdio, --ignored-token, ${SECRETS.flag}]
              env: { API_TOKEN: ${SECRETS.envToken}, LOG_LEVEL: debug }
          - name: web
            mcp: { host: "${webUrl.toString()}" }
            policies:
              backendAuth: { key: { value: ${SECRETS.backendKey} } }
              requestHeaderModifier: { set: [ { name: x-api-key, value: ${SECRETS.header} } ] }
`,
    );
    gateway = await GatewayProcess.serving(configFile);
    await gateway.waitFor(() => gateway.logs.some((line) => line.msg === 'admin page listening'), 'admin page listening');
    userDataDir = join(dir, 'chromium-profile');
    // A fresh profile per run; playwright passes it as --user-data-dir.
    browser = await chromium.launchPersistentContext(userDataDir, {
      executablePath: CHROMIUM,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
  });

  afterAll(async () => {
    await browser?.close();
    await gateway?.stop();
    await upstream?.close();
    if (userDataDir) rmSync(userDataDir, { recursive: true, force: true });
  });

  const adminUrl = (): string => `http://localhost:${gateway.logs.find((line) => line.msg === 'admin page listening')!.port as number}`;

  test('shows targets, their health, stdio processes and the recent call, with secrets redacted', async () => {
    const client = await connectClient(`${gateway.url}/mcp`);
    const echoed = await client.callTool({ name: 'everything_echo', arguments: { message: 'seen on the admin page' } });
    expect(JSON.stringify(echoed)).toContain('seen on the admin page');
    expect(await client.callTool({ name: 'web_whoami', arguments: {} })).toMatchObject({ content: [{ text: 'web' }] });

    const page = await browser!.newPage();
    const response = await page.goto(adminUrl());
    expect(response?.status()).toBe(200);
    const calls = page.locator('#calls tbody');
    await calls.getByText('echo', { exact: true }).waitFor();
    await expect(calls.locator('tr').filter({ hasText: 'tools/call' }).filter({ hasText: 'everything' }).first().textContent()).resolves.toContain(
      'ok',
    );
    const targets = page.locator('#targets tbody');
    const everythingRow = targets.locator('tr').filter({ hasText: 'everything' });
    await expect(everythingRow.textContent()).resolves.toMatch(/stdio.*connected/);
    await expect(targets.locator('tr').filter({ hasText: 'web' }).textContent()).resolves.toMatch(/mcp.*connected/);
    await expect(page.locator('#processes tbody').textContent()).resolves.toContain('everything');
    expect(await page.locator('#sessions tbody tr').count()).toBe(1);

    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'admin-page.png'), fullPage: true });

    const text = (await page.content()) + (await page.locator('body').innerText());
    const json = await (await fetch(`${adminUrl()}/api/status`)).text();
    for (const [what, secret] of Object.entries(SECRETS)) {
      expect({ what, inPage: text.includes(secret), inJson: json.includes(secret) }).toEqual({ what, inPage: false, inJson: false });
    }
    // The redacted configuration is still there: names stay, values go.
    expect(text).toContain('API_TOKEN');
    expect(text).toContain('LOG_LEVEL');
    expect(text).toContain('[redacted]');
    // Full session ids are credentials; the page shows a prefix only.
    const sessionId = (client.transport as { sessionId?: string }).sessionId!;
    expect(json).not.toContain(sessionId);
    await page.close();
    await client.close();
  });

  test('is read-only and answers loopback host names only', async () => {
    const base = adminUrl();
    expect((await fetch(`${base}/api/status`, { method: 'POST', body: '{}' })).status).toBe(405);
    const port = new URL(base).port;
    // A DNS-rebinding page would arrive with its own host name.
    const rebound = await new Promise<number>((resolve, reject) => {
      import('node:http').then(({ request }) => {
        const req = request({ host: '127.0.0.1', port, path: '/api/status', headers: { host: `evil.example:${port}` } }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        });
        req.on('error', reject);
        req.end();
      }, reject);
    });
    expect(rebound).toBe(403);
    expect((await fetch(`${base}/nothing-here`)).status).toBe(404);
  });
});
