#!/usr/bin/env node
// The floor row (z): a Streamable HTTP MCP endpoint that does nothing but answer the handshake and the echo call
// the benchmark makes, the fixed parts serialized once at start. No proxy and no server behind it, so its
// connect burst is what the 16 SDK clients alone cost this machine: no proxy can connect faster here.
//   node bench/null-endpoint.mjs   prints `LISTENING <url>` once bound
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';

const ECHO = { name: 'echo', description: 'Returns its text argument', inputSchema: { type: 'object', properties: { text: { type: 'string' } } } };
const TOOLS = JSON.stringify({ tools: [ECHO] });
const INFO = { capabilities: { tools: {} }, serverInfo: { name: 'bench-null', version: '1.0.0' } };
const SESSION_NOT_FOUND = '{"jsonrpc":"2.0","id":null,"error":{"code":-32001,"message":"Session not found"}}';
const sessions = new Set();

function answer(res, status, body, headers = {}) {
  res.writeHead(status, body === undefined ? headers : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...headers });
  res.end(body);
}

/** `json`: the result, already serialized. */
function result(id, json) {
  return `{"jsonrpc":"2.0","id":${JSON.stringify(id)},"result":${json}}`;
}

const server = createServer((req, res) => {
  const session = req.headers['mcp-session-id'];
  if (req.method === 'GET') {
    if (!sessions.has(session)) return answer(res, 404, SESSION_NOT_FOUND);
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    res.flushHeaders();
    return;
  }
  if (req.method === 'DELETE') {
    sessions.delete(session);
    return answer(res, 200);
  }
  let body = '';
  req.setEncoding('utf8');
  req.on('data', (chunk) => (body += chunk));
  req.on('end', () => {
    const message = JSON.parse(body);
    if (message.method === 'initialize') {
      const id = randomBytes(16).toString('hex');
      sessions.add(id);
      const protocolVersion = message.params?.protocolVersion ?? '2025-06-18';
      return answer(res, 200, result(message.id, JSON.stringify({ protocolVersion, ...INFO })), { 'mcp-session-id': id });
    }
    if (!sessions.has(session)) return answer(res, 404, SESSION_NOT_FOUND);
    if (message.id === undefined) return answer(res, 202);
    if (message.method === 'tools/list') return answer(res, 200, result(message.id, TOOLS));
    if (message.method === 'tools/call') {
      const text = JSON.stringify(String(message.params?.arguments?.text ?? ''));
      return answer(res, 200, result(message.id, `{"content":[{"type":"text","text":${text}}]}`));
    }
    return answer(res, 200, `{"jsonrpc":"2.0","id":${JSON.stringify(message.id)},"error":{"code":-32601,"message":"Method not found"}}`);
  });
});

server.listen(0, '127.0.0.1', () => process.stdout.write(`LISTENING http://127.0.0.1:${server.address().port}/mcp\n`));
