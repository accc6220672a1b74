import { randomUUID } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server as HttpServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { SSEServerTransport } from '@modelcontextprotocol/sdk/server/sse.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import {
  CallToolRequestSchema,
  CreateMessageResultSchema,
  ElicitResultSchema,
  ListResourcesRequestSchema,
  ListToolsRequestSchema,
  ReadResourceRequestSchema,
} from '@modelcontextprotocol/sdk/types.js';

export interface TestUpstream {
  readonly url: string;
  /** Number of `initialize` requests the server received. */
  initializeCount: number;
  /** Authorization headers seen on requests. */
  readonly authorizations: Array<string | undefined>;
  /** Headers of every request received. */
  readonly headers: IncomingHttpHeaders[];
  /** Calls of the `wait` tool that ended because the client cancelled them. */
  cancelledCount: number;
  /** Calls of the `wait` tool that have started. */
  waitingCount: number;
  /** Number of session DELETEs received. */
  deleteCount: number;
  close(): Promise<void>;
}

const TOOL_NAMES = ['whoami', 'ask', 'add', 'wait'];

/**
 * A small MCP server written with the SDK's low-level `Server`: `tools/list` pages one tool at a time
 * (to exercise merged pagination), `ask` asks the client for a sampling answer and an elicitation.
 */
function buildServer(label: string, upstream: TestUpstream): Server {
  const server = new Server(
    { name: `${label}-server`, version: '1.0.0' },
    { capabilities: { tools: {}, resources: {} }, instructions: `The ${label} server.` },
  );
  server.setRequestHandler(ListToolsRequestSchema, async (request) => {
    const index = request.params?.cursor ? Number(request.params.cursor) : 0;
    const name = TOOL_NAMES[index];
    return {
      tools: [{ name, description: `${name} on ${label}`, inputSchema: { type: 'object' as const } }],
      ...(index + 1 < TOOL_NAMES.length ? { nextCursor: String(index + 1) } : {}),
    };
  });
  // As many servers do: ask for the client's roots the moment it says it is initialized. That request goes
  // on the session's standalone stream, which must already be open or the server drops it.
  let rootsListed: Promise<string> | undefined;
  server.oninitialized = () => {
    if (!server.getClientCapabilities()?.roots) return;
    rootsListed = server.listRoots().then(
      (result) => result.roots.map((root) => root.uri).join(','),
      (error: Error) => `roots/list failed: ${error.message}`,
    );
  };
  server.setRequestHandler(CallToolRequestSchema, async (request, extra) => {
    switch (request.params.name) {
      case 'roots':
        // Not listed in tools/list (other tests count the tools); called by name.
        return { content: [{ type: 'text' as const, text: rootsListed ? await rootsListed : 'roots/list was never sent' }] };
      case 'whoami':
        return { content: [{ type: 'text' as const, text: label }] };
      case 'add': {
        const { a, b } = (request.params.arguments ?? {}) as { a: number; b: number };
        return { content: [{ type: 'text' as const, text: String(a + b) }] };
      }
      case 'wait':
        // Answers only when cancelled: the cancellation must reach this server with the id it knows.
        upstream.waitingCount++;
        await new Promise<void>((resolve) => extra.signal.addEventListener('abort', () => resolve(), { once: true }));
        upstream.cancelledCount++;
        return { content: [{ type: 'text' as const, text: 'cancelled' }] };
      case 'ask': {
        const sampled = await extra.sendRequest(
          {
            method: 'sampling/createMessage',
            params: { messages: [{ role: 'user', content: { type: 'text', text: 'who are you?' } }], maxTokens: 10 },
          },
          CreateMessageResultSchema,
        );
        const elicited = await extra.sendRequest(
          {
            method: 'elicitation/create',
            params: { message: 'your name?', requestedSchema: { type: 'object', properties: { name: { type: 'string' } } } },
          },
          ElicitResultSchema,
        );
        const sampledText = sampled.content.type === 'text' ? sampled.content.text : '?';
        return { content: [{ type: 'text' as const, text: `sampled=${sampledText} elicited=${String(elicited.content?.name)}` }] };
      }
      default:
        throw new Error(`Unknown tool: ${request.params.name}`);
    }
  });
  server.setRequestHandler(ListResourcesRequestSchema, async () => ({ resources: [{ uri: `${label}://readme`, name: 'readme' }] }));
  server.setRequestHandler(ReadResourceRequestSchema, async (request) => ({
    contents: [{ uri: request.params.uri, mimeType: 'text/plain', text: `readme of ${label}` }],
  }));
  return server;
}

function listen(server: HttpServer): Promise<number> {
  // Node's default 5 s keep-alive lets a test server close a pooled socket just as the gateway, slowed down on
  // a busy machine, sends on it (ECONNRESET under `npm run test:stress`); servers in front of gateways keep longer.
  server.keepAliveTimeout = 65_000;
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)));
}

function countRequests(upstream: TestUpstream, req: IncomingMessage, body?: unknown): void {
  upstream.authorizations.push(req.headers.authorization);
  upstream.headers.push(req.headers);
  if (req.method === 'DELETE') upstream.deleteCount++;
  if (body && typeof body === 'object' && (body as { method?: string }).method === 'initialize') upstream.initializeCount++;
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  return text ? JSON.parse(text) : undefined;
}

/** Stateful Streamable HTTP server (one SDK transport per session), as most remote MCP servers are. */
export async function startStreamableServer(label = 'http'): Promise<TestUpstream> {
  const transports = new Map<string, StreamableHTTPServerTransport>();
  const upstream: TestUpstream = {
    url: '',
    initializeCount: 0,
    deleteCount: 0,
    cancelledCount: 0,
    waitingCount: 0,
    authorizations: [],
    headers: [],
    close: async () => undefined,
  };
  const http = createServer(async (req: IncomingMessage, res: ServerResponse) => {
    const body = req.method === 'POST' ? await readJson(req) : undefined;
    countRequests(upstream, req, body);
    const sessionId = req.headers['mcp-session-id'] as string | undefined;
    let transport = sessionId ? transports.get(sessionId) : undefined;
    if (!transport) {
      if (sessionId || (body as { method?: string } | undefined)?.method !== 'initialize') {
        res.writeHead(sessionId ? 404 : 400).end();
        return;
      }
      const created = new StreamableHTTPServerTransport({
        sessionIdGenerator: () => randomUUID(),
        onsessioninitialized: (id) => {
          transports.set(id, created);
        },
      });
      created.onclose = () => {
        if (created.sessionId) transports.delete(created.sessionId);
      };
      await buildServer(label, upstream).connect(created);
      transport = created;
    }
    await transport.handleRequest(req, res, body);
  });
  const port = await listen(http);
  return Object.assign(upstream, {
    url: `http://127.0.0.1:${port}/mcp`,
    close: async () => {
      for (const transport of transports.values()) await transport.close();
      http.closeAllConnections();
      await new Promise((resolve) => http.close(resolve));
    },
  });
}

/** Legacy HTTP+SSE server (protocol 2024-11-05 transport): GET /sse, POST /messages?sessionId=. */
export async function startSseServer(label = 'sse'): Promise<TestUpstream> {
  const transports = new Map<string, SSEServerTransport>();
  const upstream: TestUpstream = {
    url: '',
    initializeCount: 0,
    deleteCount: 0,
    cancelledCount: 0,
    waitingCount: 0,
    authorizations: [],
    headers: [],
    close: async () => undefined,
  };
  const http = createServer(async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (req.method === 'GET' && url.pathname === '/sse') {
      countRequests(upstream, req);
      const transport = new SSEServerTransport('/messages', res);
      transports.set(transport.sessionId, transport);
      transport.onclose = () => transports.delete(transport.sessionId);
      await buildServer(label, upstream).connect(transport);
      return;
    }
    if (req.method === 'POST' && url.pathname === '/messages') {
      const transport = transports.get(url.searchParams.get('sessionId') ?? '');
      if (!transport) {
        res.writeHead(404).end();
        return;
      }
      const body = await readJson(req);
      countRequests(upstream, req, body);
      await transport.handlePostMessage(req, res, body);
      return;
    }
    res.writeHead(404).end();
  });
  const port = await listen(http);
  return Object.assign(upstream, {
    url: `http://127.0.0.1:${port}/sse`,
    close: async () => {
      for (const transport of transports.values()) await transport.close();
      http.closeAllConnections();
      await new Promise((resolve) => http.close(resolve));
    },
  });
}
