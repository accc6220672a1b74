#!/usr/bin/env node
// The server the MCP conformance suite's server scenarios are written against, built on the official
// TypeScript SDK. The suite's own "everything server" is not published in its npm package, so this one
// implements what each scenario's description in `@modelcontextprotocol/conformance` asks for (tool,
// resource and prompt names, content shapes, server→client requests, resumable SSE, DNS-rebinding
// protection). The conformance test runs the suite straight against it and through the gateway; what
// matters there is the difference, so this server only has to be a faithful, ordinary SDK server.
//
// Usage: node reference-server.mjs [--port P] [--host H]   (port 0 picks a free one)
// Prints one line `LISTENING http://H:P/mcp` on stdout once it accepts connections.
import { randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

// Resolved through the runtime package so the harness can be launched from anywhere (and by Node 22).
const runtimeDir = dirname(dirname(fileURLToPath(import.meta.url)));
const require = createRequire(join(runtimeDir, 'package.json'));
const sdk = async (p) => import(pathToFileURL(require.resolve(`@modelcontextprotocol/sdk/${p}`)).href);

const { Server } = await sdk('server/index.js');
const { StreamableHTTPServerTransport } = await sdk('server/streamableHttp.js');
const { createMcpExpressApp } = await sdk('server/express.js');
const { InMemoryEventStore } = await sdk('examples/shared/inMemoryEventStore.js');
const types = await sdk('types.js');

function arg(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
}
const host = arg('host', '127.0.0.1');
const port = Number(arg('port', '0'));

// 1x1 red PNG and a 44-byte silent WAV: the scenarios check shape and MIME type, not pixels or samples.
const PNG =
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==';
const WAV = Buffer.concat([
  Buffer.from('RIFF'), u32(36), Buffer.from('WAVEfmt '), u32(16), u16(1), u16(1), u32(8000), u32(8000), u16(1), u16(8),
  Buffer.from('data'), u32(0),
]).toString('base64');
function u32(n) { const b = Buffer.alloc(4); b.writeUInt32LE(n); return b; }
function u16(n) { const b = Buffer.alloc(2); b.writeUInt16LE(n); return b; }

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const noArgs = { type: 'object', properties: {} };

const TOOLS = [
  { name: 'test_simple_text', description: 'Returns simple text content', inputSchema: noArgs },
  { name: 'test_image_content', description: 'Returns image content', inputSchema: noArgs },
  { name: 'test_audio_content', description: 'Returns audio content', inputSchema: noArgs },
  { name: 'test_embedded_resource', description: 'Returns an embedded resource', inputSchema: noArgs },
  { name: 'test_multiple_content_types', description: 'Returns text, image and resource content', inputSchema: noArgs },
  { name: 'test_tool_with_logging', description: 'Sends log notifications while it runs', inputSchema: noArgs },
  { name: 'test_tool_with_progress', description: 'Reports progress while it runs', inputSchema: noArgs },
  { name: 'test_error_handling', description: 'Always returns a tool error', inputSchema: noArgs },
  {
    name: 'test_sampling',
    description: 'Asks the client to sample an LLM',
    inputSchema: { type: 'object', properties: { prompt: { type: 'string' } }, required: ['prompt'] },
  },
  {
    name: 'test_elicitation',
    description: 'Asks the client for user input',
    inputSchema: { type: 'object', properties: { message: { type: 'string' } }, required: ['message'] },
  },
  { name: 'test_elicitation_sep1034_defaults', description: 'Elicitation with defaults for every primitive type', inputSchema: noArgs },
  { name: 'test_elicitation_sep1330_enums', description: 'Elicitation with every enum schema variant', inputSchema: noArgs },
  { name: 'test_reconnection', description: 'Closes its SSE stream before answering, so the client must resume', inputSchema: noArgs },
  {
    name: 'json_schema_2020_12_tool',
    description: 'Tool with JSON Schema 2020-12 features',
    inputSchema: {
      $schema: 'https://json-schema.org/draft/2020-12/schema',
      type: 'object',
      $defs: { address: { type: 'object', properties: { street: { type: 'string' }, city: { type: 'string' } } } },
      properties: { name: { type: 'string' }, address: { $ref: '#/$defs/address' } },
      additionalProperties: false,
    },
  },
];

const text = (t) => ({ type: 'text', text: t });

function newServer() {
  const server = new Server(
    { name: 'cdk8s-mcp-conformance-reference', version: '1.0.0' },
    {
      capabilities: {
        tools: { listChanged: true },
        resources: { subscribe: true, listChanged: true },
        prompts: { listChanged: true },
        logging: {},
        completions: {},
      },
    },
  );
  const subscriptions = new Set();

  server.setRequestHandler(types.ListToolsRequestSchema, async () => ({ tools: TOOLS }));
  server.setRequestHandler(types.CallToolRequestSchema, async (req, extra) => {
    const args = req.params.arguments ?? {};
    const log = (data) => extra.sendNotification({ method: 'notifications/message', params: { level: 'info', data } });
    switch (req.params.name) {
      case 'test_simple_text':
        return { content: [text('This is a simple text response for testing.')] };
      case 'test_image_content':
        return { content: [{ type: 'image', data: PNG, mimeType: 'image/png' }] };
      case 'test_audio_content':
        return { content: [{ type: 'audio', data: WAV, mimeType: 'audio/wav' }] };
      case 'test_embedded_resource':
        return {
          content: [{ type: 'resource', resource: { uri: 'test://embedded-resource', mimeType: 'text/plain', text: 'This is an embedded resource content.' } }],
        };
      case 'test_multiple_content_types':
        return {
          content: [
            text('Multiple content types test:'),
            { type: 'image', data: PNG, mimeType: 'image/png' },
            { type: 'resource', resource: { uri: 'test://mixed-content-resource', mimeType: 'application/json', text: '{"test":"data","value":123}' } },
          ],
        };
      case 'test_tool_with_logging':
        await log('Tool execution started');
        await sleep(50);
        await log('Tool processing data');
        await sleep(50);
        await log('Tool execution completed');
        return { content: [text('Tool with logging executed successfully')] };
      case 'test_tool_with_progress': {
        const token = req.params._meta?.progressToken;
        for (const progress of [0, 50, 100]) {
          if (token !== undefined) {
            await extra.sendNotification({ method: 'notifications/progress', params: { progressToken: token, progress, total: 100 } });
          }
          if (progress < 100) await sleep(50);
        }
        return { content: [text(String(token ?? 'no progress token'))] };
      }
      case 'test_error_handling':
        return { isError: true, content: [text('This tool intentionally returns an error for testing')] };
      case 'test_sampling': {
        const result = await extra.sendRequest(
          {
            method: 'sampling/createMessage',
            params: { messages: [{ role: 'user', content: text(String(args.prompt ?? '')) }], maxTokens: 100 },
          },
          types.CreateMessageResultSchema,
        );
        const reply = result.content?.type === 'text' ? result.content.text : JSON.stringify(result.content);
        return { content: [text(`LLM response: ${reply}`)] };
      }
      case 'test_elicitation': {
        const result = await extra.sendRequest(
          {
            method: 'elicitation/create',
            params: {
              message: String(args.message ?? ''),
              requestedSchema: {
                type: 'object',
                properties: {
                  username: { type: 'string', description: "User's response" },
                  email: { type: 'string', description: "User's email address" },
                },
                required: ['username', 'email'],
              },
            },
          },
          types.ElicitResultSchema,
        );
        return { content: [text(`User response: action=${result.action}, content=${JSON.stringify(result.content ?? {})}`)] };
      }
      case 'test_elicitation_sep1034_defaults': {
        const result = await extra.sendRequest(
          {
            method: 'elicitation/create',
            params: {
              message: 'Please review and update the form fields with defaults',
              requestedSchema: {
                type: 'object',
                properties: {
                  name: { type: 'string', description: 'User name', default: 'John Doe' },
                  age: { type: 'integer', description: 'User age', default: 30 },
                  score: { type: 'number', description: 'User score', default: 95.5 },
                  status: { type: 'string', description: 'User status', enum: ['active', 'inactive', 'pending'], default: 'active' },
                  verified: { type: 'boolean', description: 'Verification status', default: true },
                },
                required: [],
              },
            },
          },
          types.ElicitResultSchema,
        );
        return { content: [text(`Elicitation completed: action=${result.action}, content=${JSON.stringify(result.content ?? {})}`)] };
      }
      case 'test_elicitation_sep1330_enums': {
        const result = await extra.sendRequest(
          {
            method: 'elicitation/create',
            params: {
              message: 'Please select options from the enum fields',
              requestedSchema: {
                type: 'object',
                properties: {
                  untitledSingle: { type: 'string', description: 'Untitled single-select', enum: ['option1', 'option2', 'option3'] },
                  titledSingle: {
                    type: 'string',
                    description: 'Titled single-select',
                    oneOf: [
                      { const: 'value1', title: 'First Option' },
                      { const: 'value2', title: 'Second Option' },
                      { const: 'value3', title: 'Third Option' },
                    ],
                  },
                  legacyEnum: {
                    type: 'string',
                    description: 'Legacy titled enum',
                    enum: ['opt1', 'opt2', 'opt3'],
                    enumNames: ['Option One', 'Option Two', 'Option Three'],
                  },
                  untitledMulti: {
                    type: 'array',
                    description: 'Untitled multi-select',
                    items: { type: 'string', enum: ['option1', 'option2', 'option3'] },
                  },
                  titledMulti: {
                    type: 'array',
                    description: 'Titled multi-select',
                    items: {
                      anyOf: [
                        { const: 'value1', title: 'First Choice' },
                        { const: 'value2', title: 'Second Choice' },
                        { const: 'value3', title: 'Third Choice' },
                      ],
                    },
                  },
                },
                required: [],
              },
            },
          },
          types.ElicitResultSchema,
        );
        return { content: [text(`Elicitation completed: action=${result.action}, content=${JSON.stringify(result.content ?? {})}`)] };
      }
      case 'test_reconnection':
        // Closing the POST stream mid-call makes the client resume with GET + Last-Event-ID; the answer is
        // kept in the event store and replayed there (SEP-1699).
        await sleep(100);
        extra.closeSSEStream?.();
        await sleep(200);
        return { content: [text('Reconnection test completed successfully')] };
      case 'json_schema_2020_12_tool':
        return { content: [text(`Received: ${JSON.stringify(args)}`)] };
      default:
        throw new types.McpError(types.ErrorCode.InvalidParams, `Unknown tool: ${req.params.name}`);
    }
  });

  const RESOURCES = [
    { uri: 'test://static-text', name: 'Static text resource', description: 'A static text resource', mimeType: 'text/plain' },
    { uri: 'test://static-binary', name: 'Static binary resource', description: 'A static PNG image', mimeType: 'image/png' },
    { uri: 'test://watched-resource', name: 'Watched resource', description: 'A resource that can be subscribed to', mimeType: 'text/plain' },
  ];
  server.setRequestHandler(types.ListResourcesRequestSchema, async () => ({ resources: RESOURCES }));
  server.setRequestHandler(types.ListResourceTemplatesRequestSchema, async () => ({
    resourceTemplates: [
      { uriTemplate: 'test://template/{id}/data', name: 'Template resource', description: 'Data for an id', mimeType: 'application/json' },
    ],
  }));
  server.setRequestHandler(types.ReadResourceRequestSchema, async (req) => {
    const { uri } = req.params;
    if (uri === 'test://static-text') {
      return { contents: [{ uri, mimeType: 'text/plain', text: 'This is the content of the static text resource.' }] };
    }
    if (uri === 'test://static-binary') return { contents: [{ uri, mimeType: 'image/png', blob: PNG }] };
    if (uri === 'test://watched-resource') return { contents: [{ uri, mimeType: 'text/plain', text: 'Watched resource content.' }] };
    const m = /^test:\/\/template\/([^/]+)\/data$/.exec(uri);
    if (m) {
      return {
        contents: [{ uri, mimeType: 'application/json', text: JSON.stringify({ id: m[1], templateTest: true, data: `Data for ID: ${m[1]}` }) }],
      };
    }
    throw new types.McpError(types.ErrorCode.InvalidParams, `Resource not found: ${uri}`);
  });
  server.setRequestHandler(types.SubscribeRequestSchema, async (req) => {
    subscriptions.add(req.params.uri);
    return {};
  });
  server.setRequestHandler(types.UnsubscribeRequestSchema, async (req) => {
    subscriptions.delete(req.params.uri);
    return {};
  });

  const PROMPTS = [
    { name: 'test_simple_prompt', description: 'A prompt without arguments' },
    {
      name: 'test_prompt_with_arguments',
      description: 'A prompt with two required arguments',
      arguments: [
        { name: 'arg1', description: 'First test argument', required: true },
        { name: 'arg2', description: 'Second test argument', required: true },
      ],
    },
    {
      name: 'test_prompt_with_embedded_resource',
      description: 'A prompt embedding a resource',
      arguments: [{ name: 'resourceUri', description: 'URI of the resource to embed', required: true }],
    },
    { name: 'test_prompt_with_image', description: 'A prompt with image content' },
  ];
  server.setRequestHandler(types.ListPromptsRequestSchema, async () => ({ prompts: PROMPTS }));
  server.setRequestHandler(types.GetPromptRequestSchema, async (req) => {
    const a = req.params.arguments ?? {};
    switch (req.params.name) {
      case 'test_simple_prompt':
        return { messages: [{ role: 'user', content: text('This is a simple prompt for testing.') }] };
      case 'test_prompt_with_arguments':
        return { messages: [{ role: 'user', content: text(`Prompt with arguments: arg1='${a.arg1}', arg2='${a.arg2}'`) }] };
      case 'test_prompt_with_embedded_resource':
        return {
          messages: [
            {
              role: 'user',
              content: { type: 'resource', resource: { uri: a.resourceUri, mimeType: 'text/plain', text: 'Embedded resource content for testing.' } },
            },
            { role: 'user', content: text('Please process the embedded resource above.') },
          ],
        };
      case 'test_prompt_with_image':
        return {
          messages: [
            { role: 'user', content: { type: 'image', data: PNG, mimeType: 'image/png' } },
            { role: 'user', content: text('Please analyze the image above.') },
          ],
        };
      default:
        throw new types.McpError(types.ErrorCode.InvalidParams, `Unknown prompt: ${req.params.name}`);
    }
  });

  server.setRequestHandler(types.CompleteRequestSchema, async (req) => {
    const value = String(req.params.argument?.value ?? '');
    const values = ['paris', 'park', 'party', 'test', 'testValue1', 'testValue2'].filter((v) => v.startsWith(value));
    return { completion: { values, total: values.length, hasMore: false } };
  });
  return server;
}

// Host-header validation on a loopback bind is the SDK's DNS-rebinding protection.
const app = createMcpExpressApp({ host });
const eventStore = new InMemoryEventStore();
const sessions = new Map();

app.all('/mcp', async (req, res) => {
  try {
    const sid = req.headers['mcp-session-id'];
    const existing = typeof sid === 'string' ? sessions.get(sid) : undefined;
    if (existing) {
      await existing.handleRequest(req, res, req.body);
      return;
    }
    if (sid) {
      res.status(404).json({ jsonrpc: '2.0', error: { code: -32001, message: 'Session not found' }, id: null });
      return;
    }
    if (req.method !== 'POST' || !types.isInitializeRequest(req.body)) {
      res.status(400).json({ jsonrpc: '2.0', error: { code: -32000, message: 'Bad Request: No valid session ID provided' }, id: null });
      return;
    }
    const transport = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      eventStore,
      retryInterval: 500,
      onsessioninitialized: (id) => sessions.set(id, transport),
    });
    transport.onclose = () => {
      if (transport.sessionId) sessions.delete(transport.sessionId);
    };
    await newServer().connect(transport);
    await transport.handleRequest(req, res, req.body);
  } catch (err) {
    process.stderr.write(`reference-server: ${err?.stack ?? err}\n`);
    if (!res.headersSent) res.status(500).json({ jsonrpc: '2.0', error: { code: -32603, message: 'Internal server error' }, id: null });
  }
});

const listener = app.listen(port, host, () => {
  const { port: bound } = listener.address();
  process.stdout.write(`LISTENING http://${host}:${bound}/mcp\n`);
});
listener.on('error', (err) => {
  process.stderr.write(`reference-server: ${err.message}\n`);
  process.exit(1);
});
for (const sig of ['SIGTERM', 'SIGINT']) {
  process.on(sig, () => {
    listener.close();
    listener.closeAllConnections?.();
    process.exit(0);
  });
}
