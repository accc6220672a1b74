import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openSession, outcome, rpc, stillServes } from './harness.js';
import { McpAuthorizer } from '../../src/authz/index.js';
import { ConfigError } from '../../src/config/errors.js';
import { writeConfigFile } from '../helpers/config-file.js';
import { GatewayProcess } from '../helpers/gateway.js';

const RECORDING_SERVER = join(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'recording-server.mjs');
const PATH = 'binds[0].listeners[0].routes[0].policies.mcpAuthorization';

/**
 * Authorization fails closed and sees what the upstream acts on. The upstream here is lenient on
 * purpose (case-insensitive methods, acts on requests without id) and records every message it gets,
 * so each test can assert that the attack never reached it.
 */
describe('requests that try to skip authorization', () => {
  let gateway: GatewayProcess;
  let url: string;
  let record: string;
  const honest = { 'x-team': 'core' };

  beforeAll(async () => {
    record = join(mkdtempSync(join(tmpdir(), 'hostile-authz-')), 'received.jsonl');
    writeFileSync(record, '');
    const file = writeConfigFile(
      'hostile-authz-',
      `binds:
  - port: 0
    listeners:
      - routes:
          - name: guarded
            backends:
              - mcp:
                  targets:
                    - name: repo
                      stdio:
                        cmd: ${JSON.stringify(process.execPath)}
                        args: [${JSON.stringify(RECORDING_SERVER)}]
                        env: { RECORD_FILE: ${JSON.stringify(record)} }
            policies:
              mcpAuthorization:
                rules:
                  - 'mcp.tool.name == "get_me"'
                  - 'mcp.prompt.name == "public"'
                  # Errors when the header is absent: a deny that cannot be evaluated must deny.
                  - deny: 'request.headers["x-team"].startsWith("ext")'
`,
    );
    gateway = await GatewayProcess.serving(file);
    url = `${gateway.url}/mcp`;
  });

  afterAll(async () => {
    await gateway.stop();
  });

  const received = () => readFileSync(record, 'utf8');

  test('a deny rule that errors at run time denies', async () => {
    const session = await openSession(url);
    const response = await rpc(
      url,
      { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'get_me', arguments: {} } },
      { 'mcp-session-id': session },
    );
    expect(outcome(response)).toEqual({ status: 200, code: -32602 });
    const allowed = await rpc(
      url,
      { jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'get_me', arguments: {} } },
      { ...honest, 'mcp-session-id': session },
    );
    expect(allowed.json?.result).toEqual({ content: [{ type: 'text', text: 'ran get_me' }] });
  });

  test('tools/call sent as a notification is dropped, not forwarded', async () => {
    const session = await openSession(url, honest);
    const response = await rpc(
      url,
      { jsonrpc: '2.0', method: 'tools/call', params: { name: 'delete_repository', arguments: {} } },
      { ...honest, 'mcp-session-id': session },
    );
    expect(response.status).toBe(202);
    await rpc(url, { jsonrpc: '2.0', id: 'sync', method: 'ping' }, { ...honest, 'mcp-session-id': session });
    expect(received()).not.toContain('delete_repository');
    await stillServes(url, honest);
  });

  test('a method spelt Tools/Call is refused as unknown, never forwarded', async () => {
    const session = await openSession(url, honest);
    const response = await rpc(
      url,
      { jsonrpc: '2.0', id: 3, method: 'Tools/Call', params: { name: 'delete_repository', arguments: {} } },
      { ...honest, 'mcp-session-id': session },
    );
    expect(outcome(response)).toEqual({ status: 200, code: -32601 });
    expect(received()).not.toContain('delete_repository');
    await stillServes(url, honest);
  });

  test('completion/complete for a denied prompt is refused like the prompt itself', async () => {
    const session = await openSession(url, honest);
    const complete = (name: string, id: number) =>
      rpc(
        url,
        { jsonrpc: '2.0', id, method: 'completion/complete', params: { ref: { type: 'ref/prompt', name }, argument: { name: 'x', value: 'a' } } },
        { ...honest, 'mcp-session-id': session },
      );
    const denied = await complete('secret', 4);
    expect(outcome(denied)).toEqual({ status: 200, code: -32602 });
    expect(denied.json?.error?.message).toBe('Unknown prompt: secret');
    expect(received()).not.toContain('"secret"');
    const allowed = await complete('public', 5);
    expect(allowed.json?.result).toEqual({ completion: { values: ['completed public'] } });
  });
});

describe('rules that cannot match are refused at load, with the field path', () => {
  function refusal(rule: unknown): string {
    try {
      McpAuthorizer.compile({ rules: [rule] } as never, PATH);
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      expect(error.issues[0].path).toBe(`${PATH}.rules[0]`);
      return error.issues[0].message;
    }
    throw new Error(`rule ${JSON.stringify(rule)} was accepted`);
  }

  test('unknown variables and misspelt members', () => {
    expect(refusal('mcp.tol.name == "get_me"')).toMatch(/column 4: mcp has no member "tol" \(it has tool, prompt, resource\)/);
    expect(refusal({ deny: 'unknownvar.x == 1' })).toMatch(/unknown variable "unknownvar"/);
    expect(refusal('mcp.tool.nme == "x"')).toMatch(/mcp\.tool has no member "nme" \(it has name, target\)/);
    expect(refusal('request.header["x"] == "y"')).toMatch(/request has no member "header"/);
    expect(refusal('jwt.roles.exists(r, q == "admin")')).toMatch(/unknown variable "q"/);
    expect(refusal('mcp.tool.name.size == 1')).toMatch(/mcp\.tool\.name is a string and has no member "size"/);
  });

  test('rules that are not boolean', () => {
    expect(refusal('mcp.tool.name')).toMatch(/is a string, not a boolean/);
    expect(refusal({ require: '1 + 2' })).toMatch(/is a int, not a boolean/);
    expect(refusal('"yes"')).toMatch(/not a boolean/);
    expect(refusal('[true]')).toMatch(/is a list, not a boolean/);
  });

  test('well-formed rules over every variable still load', () => {
    const rules = [
      'mcp.tool.name == "get_me" && mcp.tool.target == "github"',
      'has(mcp.prompt) && mcp.prompt.name.startsWith("p")',
      '"admin" in jwt.realm_access.roles',
      'jwt.realm_access.roles.exists(r, r == "admin")',
      'jwt.email_verified',
      'has(jwt.email) && jwt.email.endsWith("@example.com")',
      'request.headers["x-role"] == "admin" && request.method == "POST" && request.path.startsWith("/mcp")',
      'size(jwt.groups) > 0 ? jwt.groups[0] == "a" : false',
      { deny: 'mcp.resource.name.contains("secret")' },
    ];
    expect(() => McpAuthorizer.compile({ rules } as never, PATH)).not.toThrow();
  });

  test('a rule about tools does not touch prompts, and a failing rule never allows', () => {
    const authorizer = McpAuthorizer.compile(
      { rules: [{ deny: 'mcp.tool.name.startsWith("delete_")' }, 'jwt.admin == true || has(mcp.prompt)'] } as never,
      PATH,
    );
    expect(authorizer.allows({ kind: 'prompt', name: 'any', target: 't' }, { headers: {} })).toBe(true);
    expect(authorizer.allows({ kind: 'tool', name: 'get_me', target: 't' }, { headers: {} })).toBe(false);
    expect(authorizer.allows({ kind: 'tool', name: 'get_me', target: 't' }, { jwt: { admin: true }, headers: {} })).toBe(true);
    expect(authorizer.allows({ kind: 'tool', name: 'delete_repo', target: 't' }, { jwt: { admin: true }, headers: {} })).toBe(false);
  });
});
