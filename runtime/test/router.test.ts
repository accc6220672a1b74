import { backendOf, FakeUpstream, listingServer, RecordingLogger, RecordingSink, type FakeAnswer } from './helpers/fake-upstream.js';
import type { RequestFacts } from '../src/authz/index.js';
import { McpAuthorizer } from '../src/authz/index.js';
import type { ResolvedBackend } from '../src/config/model.js';
import type { McpTarget } from '../src/config/types.js';
import { TargetLink, type ClientCall } from '../src/federation/link.js';
import { decodeCursor, encodeCursor, prefixName, prefixUri, splitName, splitUri } from '../src/federation/names.js';
import { Router, type RoutingHost } from '../src/federation/router.js';
import { McpError } from '../src/protocol/errors.js';
import type { JsonRpcMessage } from '../src/protocol/jsonrpc.js';
import { MODERN_PROTOCOL } from '../src/protocol/versions.js';
import { noTelemetry } from '../src/telemetry/telemetry.js';

type Json = Record<string, unknown>;
type Server = (request: JsonRpcMessage) => FakeAnswer;

const FACTS: RequestFacts = { headers: {}, method: 'POST', path: '/mcp' };

/** A router over fake upstreams, one per target, as a session would hold them. */
function routerFor(servers: Record<string, Server>, overrides: Partial<ResolvedBackend> = {}, authorizer?: McpAuthorizer) {
  const upstreams = new Map(Object.entries(servers).map(([name, server]) => [name, new FakeUpstream(name, server)]));
  const links = new Map<string, TargetLink>();
  const host: RoutingHost = {
    context: {
      routeName: 'route',
      backend: backendOf([...upstreams.keys()], overrides),
      authorizer,
      logger: new RecordingLogger(),
      gatewayVersion: '0.0.0-test',
      telemetry: noTelemetry,
    },
    async linkFor(target: McpTarget, index: number) {
      let link = links.get(target.name);
      if (!link) {
        link = new TargetLink(index, target.name, upstreams.get(target.name)!, 5_000, { upstreamMessage() {}, lost() {} });
        links.set(target.name, link);
      }
      return link;
    },
  };
  const router = new Router(host);
  let nextId = 100;
  /** Routes one client request; the client's id is `id` (default: a fresh one). */
  const route = (method: string, params: Json = {}, id: string | number = nextId++) => {
    const call: ClientCall = { clientId: id, method, sink: new RecordingSink(), upstream: [] };
    return router.route({ jsonrpc: '2.0', id, method, params }, call, FACTS);
  };
  return { route, upstreams };
}

const modern = (params: Json = {}): Json => ({ ...params, _meta: { 'io.modelcontextprotocol/protocolVersion': MODERN_PROTOCOL } });

describe('router: method classes', () => {
  test('a lone target is passed through: names untouched, the client id echoed, not the one sent upstream', async () => {
    const { route, upstreams } = routerFor({ only: listingServer('tools', [{ name: 'add' }]) });
    const listed = await route('tools/list', {}, 'client-7');
    expect(listed).toEqual({ jsonrpc: '2.0', id: 'client-7', result: { tools: [{ name: 'add' }] } });
    const called = await route('tools/call', { name: 'add', arguments: {} }, 42);
    expect(called.id).toBe(42);
    const sent = upstreams.get('only')!.requests('tools/call')[0];
    expect(sent.params?.name).toBe('add');
    expect(sent.id).not.toBe(42);
  });

  test('several targets: lists merged with prefixed names, a call goes to the owner under its own name', async () => {
    const { route, upstreams } = routerFor({
      github: listingServer('tools', [{ name: 'get_me' }, { name: 'search' }]),
      files: listingServer('tools', [{ name: 'read_file' }]),
    });
    const listed = await route('tools/list');
    expect(listed.result).toEqual({ tools: [{ name: 'github_get_me' }, { name: 'github_search' }, { name: 'files_read_file' }] });
    const called = await route('tools/call', { name: 'files_read_file', arguments: { path: '/x' } }, 9);
    expect(called).toEqual({ jsonrpc: '2.0', id: 9, result: { content: [{ type: 'text', text: 'called read_file' }] } });
    const sent = upstreams.get('files')!.requests('tools/call');
    expect(sent.map((request) => request.params)).toEqual([{ name: 'read_file', arguments: { path: '/x' } }]);
    expect(upstreams.get('github')!.requests('tools/call')).toEqual([]);
  });

  test('resource URIs: the target prefix is stripped on the way in and put on every URI in the answer', async () => {
    const { route, upstreams } = routerFor({ a: listingServer('resources', []), b: listingServer('resources', []) });
    const read = await route('resources/read', { uri: 'b+file:///etc/motd' });
    expect(upstreams.get('b')!.requests('resources/read')[0].params).toEqual({ uri: 'file:///etc/motd' });
    expect(read.result).toEqual({ contents: [{ uri: 'b+file:///etc/motd', text: 'body' }] });
  });

  test('prompts: listed under prefixed names, fetched and completed under their own', async () => {
    const prompts: Server = (request) => {
      if (request.method === 'prompts/list') return { result: { prompts: [{ name: 'review_code' }] } };
      const text = `${request.params?.name}`;
      if (request.method === 'prompts/get') return { result: { messages: [{ role: 'user', content: { type: 'text', text } }] } };
      if (request.method === 'completion/complete') return { result: { completion: { values: ['ts'] } } };
      return { error: { code: -32601, message: 'Method not found' } };
    };
    const { route, upstreams } = routerFor({ a: listingServer('tools', []), b: prompts });
    expect((await route('prompts/list')).result).toEqual({ prompts: [{ name: 'b_review_code' }] });
    const got = await route('prompts/get', { name: 'b_review_code', arguments: { lang: 'ts' } }, 'g');
    expect(got.result).toEqual({ messages: [{ role: 'user', content: { type: 'text', text: 'review_code' } }] });
    const ref = { type: 'ref/prompt', name: 'b_review_code' };
    expect((await route('completion/complete', { ref, argument: { name: 'lang', value: 't' } })).result).toEqual({ completion: { values: ['ts'] } });
    expect(upstreams.get('b')!.requests('completion/complete')[0].params?.ref).toEqual({ type: 'ref/prompt', name: 'review_code' });
    const unknown = await route('prompts/get', { name: 'c_review_code' }, 'x');
    expect(unknown).toEqual({ jsonrpc: '2.0', id: 'x', error: { code: -32602, message: 'Unknown prompt: c_review_code' } });
  });

  test('resource templates are prefixed like URIs', async () => {
    const listed = { resourceTemplates: [{ uriTemplate: 'file:///{path}', name: 'files' }] };
    const templates: Server = (request) => (request.method === 'resources/templates/list' ? { result: listed } : { result: {} });
    const { route } = routerFor({ a: listingServer('tools', []), disk: templates });
    const result = (await route('resources/templates/list')).result;
    expect(result?.resourceTemplates).toEqual([{ uriTemplate: 'disk+file:///{path}', name: 'files' }]);
  });

  test('ping is answered by the gateway; logging/setLevel goes to every target', async () => {
    const { route, upstreams } = routerFor({ a: listingServer('tools', []), b: listingServer('tools', []) });
    expect(await route('ping', {}, 'p')).toEqual({ jsonrpc: '2.0', id: 'p', result: {} });
    expect(await route('logging/setLevel', { level: 'debug' }, 'l')).toEqual({ jsonrpc: '2.0', id: 'l', result: {} });
    for (const upstream of upstreams.values()) {
      expect(upstream.requests('ping')).toEqual([]);
      expect(upstream.requests('logging/setLevel').map((request) => request.params)).toEqual([{ level: 'debug' }]);
    }
  });

  test('a name no target owns is an unknown tool (-32602 in band), and no upstream hears of it', async () => {
    const { route, upstreams } = routerFor({ a: listingServer('tools', [{ name: 'x' }]), b: listingServer('tools', []) });
    for (const name of ['c_x', 'x', '_x']) {
      expect(await route('tools/call', { name }, 5)).toEqual({ jsonrpc: '2.0', id: 5, error: { code: -32602, message: `Unknown tool: ${name}` } });
    }
    for (const upstream of upstreams.values()) expect(upstream.requests('tools/call')).toEqual([]);
  });

  test('a tool hidden by authorization answers exactly like a missing one', async () => {
    const authorizer = McpAuthorizer.compile({ rules: ['mcp.tool.name == "visible"'] }, 'policies.mcpAuthorization');
    const servers = { a: listingServer('tools', [{ name: 'visible' }, { name: 'hidden' }]), b: listingServer('tools', []) };
    const { route, upstreams } = routerFor(servers, {}, authorizer);
    expect((await route('tools/list')).result).toEqual({ tools: [{ name: 'a_visible' }] });
    const unknown = (name: string) => ({ jsonrpc: '2.0', id: 1, error: { code: -32602, message: `Unknown tool: ${name}` } });
    expect(await route('tools/call', { name: 'a_hidden' }, 1)).toEqual(unknown('a_hidden'));
    expect(await route('tools/call', { name: 'a_nosuch' }, 1)).toEqual(unknown('a_nosuch'));
    expect(upstreams.get('a')!.requests('tools/call')).toEqual([]);
  });
});

describe('router: name prefixing modes', () => {
  test('always: a lone target is prefixed too', async () => {
    const { route, upstreams } = routerFor({ solo: listingServer('tools', [{ name: 'add' }]) }, { prefixMode: 'always' });
    expect((await route('tools/list')).result).toEqual({ tools: [{ name: 'solo_add' }] });
    await route('tools/call', { name: 'solo_add' });
    expect(upstreams.get('solo')!.requests('tools/call')[0].params?.name).toBe('add');
  });

  test('never: names stay as the targets list them, and a call finds its owner by listing', async () => {
    const { route, upstreams } = routerFor(
      { a: listingServer('tools', [{ name: 'one' }, { name: 'two' }], 1), b: listingServer('tools', [{ name: 'three' }]) },
      { prefixMode: 'never' },
    );
    expect((await route('tools/list')).result?.tools).toEqual([{ name: 'one' }]);
    await route('tools/call', { name: 'two' });
    expect(upstreams.get('a')!.requests('tools/call').map((request) => request.params?.name)).toEqual(['two']);
    expect(upstreams.get('b')!.requests('tools/call')).toEqual([]);
  });

  test('never: a name two targets serve is refused, not guessed', async () => {
    const servers = { a: listingServer('tools', [{ name: 'dup' }]), b: listingServer('tools', [{ name: 'dup' }]) };
    const { route, upstreams } = routerFor(servers, { prefixMode: 'never' });
    const refusal = await route('tools/call', { name: 'dup' }).catch((error: unknown) => error);
    expect(refusal).toBeInstanceOf(McpError);
    expect(refusal).toMatchObject({ kind: 'invalid_params', code: -32602, httpStatus: 200, message: 'tool dup is served by several targets: a, b' });
    for (const upstream of upstreams.values()) expect(upstream.requests('tools/call')).toEqual([]);
  });

  test('a delimiter inside a tool name belongs to the name: only the first one ends the target', async () => {
    const { route, upstreams } = routerFor({ a: listingServer('tools', [{ name: 'get_me_now' }]), b: listingServer('tools', []) });
    expect((await route('tools/list')).result?.tools).toEqual([{ name: 'a_get_me_now' }]);
    await route('tools/call', { name: 'a_get_me_now' });
    expect(upstreams.get('a')!.requests('tools/call')[0].params?.name).toBe('get_me_now');
  });
});

describe('names and URIs: prefixing is undone exactly', () => {
  // Target names cannot hold '_' or '+' (config refuses them, see config.test.ts), so the first delimiter ends the target.
  test.each([
    ['github', 'get_me'],
    ['a', '_leading'],
    ['a', 'trailing_'],
    ['a', ''],
    ['srv-1.x', 'tool+with+plus'],
  ])('tool %s / %s', (target, name) => {
    expect(splitName(prefixName(target, name))).toEqual({ target, name });
  });

  test.each([
    ['files', 'file:///tmp/a_b+c.txt'],
    ['web', 'https://example.com/search?q=a+b&x=_y'],
    ['db', 'postgres+ssl://host/db'],
    ['a', ''],
  ])('resource %s / %s', (target, uri) => {
    expect(splitUri(prefixUri(target, uri))).toEqual({ target, uri });
  });

  test('what no prefixing can produce is no name of any target', () => {
    for (const sent of ['', '_tool', 'tool', '+file:///x']) {
      expect([sent, sent.includes('+') ? splitUri(sent) : splitName(sent)]).toEqual([sent, undefined]);
    }
    expect(splitUri('file:///no-prefix')).toBeUndefined();
  });
});

describe('router: 2026-07-28 error rules', () => {
  test('an unknown method is refused with 404 and -32601 before any upstream sees it', async () => {
    const { route, upstreams } = routerFor({ a: listingServer('tools', []), b: listingServer('tools', []) });
    const refusal = await route('tools/frobnicate', modern(), 'm-1').catch((error: unknown) => error);
    expect(refusal).toBeInstanceOf(McpError);
    expect(refusal).toMatchObject({ kind: 'unknown_method', httpStatus: 404, code: -32601 });
    const response = (refusal as McpError).toResponse('m-1');
    expect(response).toEqual({ jsonrpc: '2.0', id: 'm-1', error: { code: -32601, message: 'Method not found: tools/frobnicate' } });
    for (const upstream of upstreams.values()) expect(upstream.sent).toEqual([]);
  });

  test('the session-era answer to an unknown method stays in band (a 404 there means the session is gone)', async () => {
    const { route } = routerFor({ a: listingServer('tools', []) });
    expect(await route('Tools/Call', {}, 3)).toEqual({ jsonrpc: '2.0', id: 3, error: { code: -32601, message: 'Method not found: Tools/Call' } });
  });

  test('a lone target is no excuse: an unknown method never reaches it', async () => {
    const { route, upstreams } = routerFor({ only: listingServer('tools', []) });
    await expect(route('vendor/secret', modern())).rejects.toMatchObject({ httpStatus: 404, code: -32601 });
    expect(upstreams.get('only')!.sent).toEqual([]);
  });
});

describe('router: composite cursors', () => {
  const servers = () => ({
    a: listingServer('tools', [{ name: 'a1' }, { name: 'a2' }, { name: 'a3' }], 2),
    b: listingServer('tools', [{ name: 'b1' }]),
    c: listingServer('tools', [{ name: 'c1' }, { name: 'c2' }], 1),
  });

  test('pages follow each target in turn; a target whose cursor ends hands over to the next in the same page', async () => {
    const { route } = routerFor(servers());
    const names: string[][] = [];
    let cursor: string | undefined;
    for (let page = 0; page < 10; page++) {
      const result = (await route('tools/list', cursor ? { cursor } : {})).result!;
      names.push((result.tools as Json[]).map((tool) => String(tool.name)));
      cursor = result.nextCursor as string | undefined;
      if (!cursor) break;
    }
    expect(names).toEqual([['a_a1', 'a_a2'], ['a_a3', 'b_b1', 'c_c1'], ['c_c2']]);
  });

  test("the cursor carries the target and that target's own cursor, nothing else", async () => {
    const { route, upstreams } = routerFor(servers());
    const first = (await route('tools/list')).result!;
    expect(decodeCursor(first.nextCursor as string)).toEqual({ target: 0, cursor: 'p2' });
    await route('tools/list', { cursor: first.nextCursor });
    expect(upstreams.get('a')!.requests('tools/list').map((request) => request.params)).toEqual([{}, { cursor: 'p2' }]);
    // The later targets are asked in parallel on every page (for latency), never with a cursor of a's.
    for (const name of ['b', 'c']) {
      for (const request of upstreams.get(name)!.requests('tools/list')) expect(request.params).toEqual({});
    }
  });

  test('a cursor that resumes at a later target does not ask the earlier ones again', async () => {
    const { route, upstreams } = routerFor(servers());
    const result = (await route('tools/list', { cursor: encodeCursor({ target: 2, cursor: 'p1' }) })).result!;
    expect(result).toEqual({ tools: [{ name: 'c_c2' }] });
    expect(upstreams.get('a')!.requests('tools/list')).toEqual([]);
    expect(upstreams.get('b')!.requests('tools/list')).toEqual([]);
  });

  test.each([
    ['not ours', 'p2'],
    ['tampered base64', 'gw1.!!!'],
    ['a target index past the end', encodeCursor({ target: 3 })],
    ['a negative index', `gw1.${Buffer.from('[-1,null]').toString('base64url')}`],
    ['a fractional index', `gw1.${Buffer.from('[0.5,null]').toString('base64url')}`],
    ['a cursor that is not a string', `gw1.${Buffer.from('[0,{"x":1}]').toString('base64url')}`],
    ['not JSON', `gw1.${Buffer.from('[0,').toString('base64url')}`],
  ])('%s is an invalid cursor (-32602), and no upstream is asked', async (_label, cursor) => {
    const { route, upstreams } = routerFor(servers());
    expect(await route('tools/list', { cursor }, 'c')).toEqual({ jsonrpc: '2.0', id: 'c', error: { code: -32602, message: 'Invalid cursor' } });
    for (const upstream of upstreams.values()) expect(upstream.requests('tools/list')).toEqual([]);
  });

  test('a target that does not serve the list contributes nothing instead of failing the page', async () => {
    const { route } = routerFor({ a: listingServer('prompts', [{ name: 'p' }]), b: listingServer('tools', [{ name: 't' }]) });
    expect((await route('tools/list')).result).toEqual({ tools: [{ name: 'b_t' }] });
  });

  test("failClosed: a target's error fails the page with its code; failOpen: the page goes on without it", async () => {
    const broken: Server = () => ({ error: { code: -32000, message: 'database down' } });
    const closed = routerFor({ a: listingServer('tools', [{ name: 'x' }]), b: broken });
    await expect(closed.route('tools/list')).rejects.toMatchObject({ kind: 'relayed', code: -32000, message: 'target "b": database down' });
    const open = routerFor({ a: listingServer('tools', [{ name: 'x' }]), b: broken }, { failureMode: 'failOpen' });
    expect((await open.route('tools/list')).result).toEqual({ tools: [{ name: 'a_x' }] });
  });
});
