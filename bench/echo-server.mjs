#!/usr/bin/env node
// The one MCP server every benchmark configuration talks to: an SDK server with a single `echo` tool.
//   node bench/echo-server.mjs              stdio (what the bridges wrap)
//   node bench/echo-server.mjs --http PORT  the SDK's own Streamable HTTP server (the HTTP baseline);
//                                           prints `LISTENING <url>` once bound (PORT 0 picks one)
// The tool does no work so that what is measured is the transport and whatever sits in front of it.
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import { sdk } from './sdk.mjs';

const { Server } = await sdk('server/index.js');
const types = await sdk('types.js');

const ECHO_TOOL = {
  name: 'echo',
  description: 'Returns its text argument',
  inputSchema: { type: 'object', properties: { text: { type: 'string' } }, required: ['text'] },
};

function newServer() {
  const server = new Server({ name: 'bench-echo', version: '1.0.0' }, { capabilities: { tools: {} } });
  server.setRequestHandler(types.ListToolsRequestSchema, async () => ({ tools: [ECHO_TOOL] }));
  server.setRequestHandler(types.CallToolRequestSchema, async (req) => {
    if (req.params.name !== 'echo') throw new types.McpError(types.ErrorCode.InvalidParams, `Unknown tool: ${req.params.name}`);
    return { content: [{ type: 'text', text: String(req.params.arguments?.text ?? '') }] };
  });
  return server;
}

const httpAt = process.argv.indexOf('--http');
if (httpAt < 0) {
  const { StdioServerTransport } = await sdk('server/stdio.js');
  const transport = new StdioServerTransport();
  // A bridge that goes away closes our stdin; leaving then avoids orphaned servers between phases.
  process.stdin.on('end', () => process.exit(0));
  await newServer().connect(transport);
} else {
  const { StreamableHTTPServerTransport } = await sdk('server/streamableHttp.js');
  const port = Number(process.argv[httpAt + 1] ?? 0);
  const sessions = new Map();
  const http = createServer(async (req, res) => {
    try {
      if (!req.url?.startsWith('/mcp')) {
        res.writeHead(404).end();
        return;
      }
      const sid = req.headers['mcp-session-id'];
      const known = typeof sid === 'string' ? sessions.get(sid) : undefined;
      if (known) {
        await known.handleRequest(req, res);
        return;
      }
      if (sid) {
        res.writeHead(404, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ jsonrpc: '2.0', error: { code: -32001, message: 'Session not found' }, id: null }));
        return;
      }
      const transport = new StreamableHTTPServerTransport({
        sessionIdGenerator: () => randomUUID(),
        onsessioninitialized: (id) => sessions.set(id, transport),
      });
      transport.onclose = () => transport.sessionId && sessions.delete(transport.sessionId);
      await newServer().connect(transport);
      await transport.handleRequest(req, res);
    } catch (err) {
      if (!res.headersSent) res.writeHead(500).end(String(err));
    }
  });
  http.keepAliveTimeout = 60_000;
  http.listen(port, '127.0.0.1', () => {
    process.stdout.write(`LISTENING http://127.0.0.1:${http.address().port}/mcp\n`);
  });
  process.on('SIGTERM', () => process.exit(0));
}
