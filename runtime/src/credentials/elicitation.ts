import type { ConnectLink } from './broker.js';

type Json = Record<string, unknown>;
type Message = { jsonrpc: '2.0'; id?: string | number | null; result?: Json; error?: { code: number; message: string; data?: unknown } };

/** MCP 2025-11-25 `URLElicitationRequiredError` (SEP-1036). */
export const URL_ELICITATION_REQUIRED = -32042;
const MODERN_PROTOCOL = '2026-07-28';

/**
 * The answer to a call that needs a credential the user has not connected. A client that declared URL-mode
 * elicitation gets -32042 with the connect link; a `tools/call` of any other client gets a tool result with
 * `isError` whose text tells the user to open the link (the model relays it), and other requests a
 * JSON-RPC error carrying the same text. 2026-07-28 removed -32042 in favour of input_required results,
 * which the router does not produce yet: those requests get the text forms too.
 */
export function credentialRequired(
  message: { id?: string | number | null; method?: string },
  link: ConnectLink,
  provider: string,
  clientCapabilities: Json,
  protocolVersion: string,
): Message {
  const text = `This needs your own ${provider} account. Open ${link.url} in your browser to connect it (the link works once, for 10 minutes), then try again.`;
  const elicitation = clientCapabilities.elicitation as Json | undefined;
  if (elicitation?.url !== undefined && protocolVersion !== MODERN_PROTOCOL) {
    const elicitations = [{ mode: 'url', elicitationId: link.elicitationId, url: link.url, message: `Connect your ${provider} account to continue.` }];
    return { jsonrpc: '2.0', id: message.id, error: { code: URL_ELICITATION_REQUIRED, message: `URL elicitation required: connect ${provider}`, data: { elicitations } } };
  }
  if (message.method === 'tools/call') return { jsonrpc: '2.0', id: message.id, result: { content: [{ type: 'text', text }], isError: true } };
  return { jsonrpc: '2.0', id: message.id, error: { code: URL_ELICITATION_REQUIRED, message: text } };
}
