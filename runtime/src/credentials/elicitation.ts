import type { ConnectLink } from './broker.js';
import { McpError } from '../protocol/errors.js';
import type { JsonRpcMessage, RequestId } from '../protocol/jsonrpc.js';
import { MODERN_PROTOCOL } from '../protocol/versions.js';

/**
 * The answer to a call that needs a credential the user has not connected. A client that declared URL-mode
 * elicitation gets -32042 (`URLElicitationRequiredError`, MCP 2025-11-25) with the connect link; a
 * `tools/call` of any other client gets a tool result with `isError` whose text tells the user to open the
 * link (the model relays it), other requests a JSON-RPC error carrying the same text. 2026-07-28 removed
 * -32042 in favour of input_required results, which the router does not produce yet: those requests get
 * the text forms too.
 */
export function credentialRequired(
  message: { id?: RequestId | null; method?: string },
  link: ConnectLink,
  provider: string,
  clientCapabilities: Record<string, unknown>,
  protocolVersion: string,
): JsonRpcMessage {
  const text =
    `This needs your own ${provider} account. Open ${link.url} in your browser to connect it ` +
    '(the link works once, for 10 minutes), then try again.';
  const elicitation = clientCapabilities.elicitation as Record<string, unknown> | undefined;
  if (elicitation?.url !== undefined && protocolVersion !== MODERN_PROTOCOL) {
    const prompt = `Connect your ${provider} account to continue.`;
    const elicitations = [{ mode: 'url', elicitationId: link.elicitationId, url: link.url, message: prompt }];
    const error = new McpError('url_elicitation_required', `URL elicitation required: connect ${provider}`, { data: { elicitations } });
    return error.toResponse(message.id);
  }
  if (message.method === 'tools/call') return { jsonrpc: '2.0', id: message.id, result: { content: [{ type: 'text', text }], isError: true } };
  return new McpError('url_elicitation_required', text).toResponse(message.id);
}
