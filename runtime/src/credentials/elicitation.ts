import type { ConnectLink } from './broker.js';
import { McpError } from '../protocol/errors.js';
import type { JsonRpcMessage } from '../protocol/jsonrpc.js';
import { META_CLIENT_CAPABILITIES, MODERN_PROTOCOL } from '../protocol/versions.js';

type Json = Record<string, any>;

/**
 * `requestState` of the gateway's own credential input_required result (2026-07-28), then the provider name.
 * It is not sealed because it grants nothing: the retry is checked against the credential store like any
 * call, and a forged one only makes the gateway drop the fields it names. Bridged exchanges use `gwb1.`.
 */
const CREDENTIAL_STATE_PREFIX = 'gwc1.';

/** The `inputRequests` key of a provider's connect link. */
function inputKey(provider: string): string {
  return `connect-${provider}`;
}

/**
 * The answer to a call that needs a credential the user has not connected. A 2026-07-28 client that declared
 * URL-mode elicitation (in the request's `_meta`) gets an input_required result asking it to open the connect
 * link (SEP-2322: elicitation travels in `inputRequests`; 2026-07-28 dropped `elicitationId` and -32042) and
 * retries with the `requestState`; a session-era client that declared it gets -32042
 * (`URLElicitationRequiredError`, MCP 2025-11-25) with the link. A `tools/call` of any other client, or of one
 * whose user declined the link, gets a tool result with `isError` whose text tells the user to open the link
 * (the model relays it), other requests a JSON-RPC error carrying the same text.
 */
export function credentialRequired(
  message: JsonRpcMessage,
  link: ConnectLink,
  provider: string,
  clientCapabilities: Record<string, unknown>,
  protocolVersion: string,
  declined = false,
): JsonRpcMessage {
  const text =
    `This needs your own ${provider} account. Open ${link.url} in your browser to connect it ` +
    '(the link works once, for 10 minutes), then try again.';
  const prompt = `Connect your ${provider} account to continue.`;
  if (protocolVersion === MODERN_PROTOCOL) {
    const declared = message.params?._meta?.[META_CLIENT_CAPABILITIES] as Json | undefined;
    if (!declined && declared?.elicitation?.url !== undefined) {
      const elicitation = { method: 'elicitation/create', params: { mode: 'url', message: prompt, url: link.url } };
      const inputRequests = { [inputKey(provider)]: elicitation };
      const requestState = CREDENTIAL_STATE_PREFIX + provider;
      return { jsonrpc: '2.0', id: message.id, result: { resultType: 'input_required', inputRequests, requestState } };
    }
  } else if ((clientCapabilities.elicitation as Record<string, unknown> | undefined)?.url !== undefined) {
    const elicitations = [{ mode: 'url', elicitationId: link.elicitationId, url: link.url, message: prompt }];
    const error = new McpError('url_elicitation_required', `URL elicitation required: connect ${provider}`, { data: { elicitations } });
    return error.toResponse(message.id);
  }
  if (message.method === 'tools/call') return { jsonrpc: '2.0', id: message.id, result: { content: [{ type: 'text', text }], isError: true } };
  return new McpError('url_elicitation_required', text).toResponse(message.id);
}

/**
 * A 2026-07-28 retry of a call the gateway answered with `credentialRequired`'s input_required: takes the
 * gateway's `requestState` and `inputResponses` off `params` (they were never the target's, and the router
 * forwards these params) and tells whether the user turned the link down. Undefined for any other request.
 */
export function takeCredentialRetry(params: Json | undefined): { readonly declined: boolean } | undefined {
  const state = params?.requestState;
  if (typeof state !== 'string' || !state.startsWith(CREDENTIAL_STATE_PREFIX)) return undefined;
  const answer = (params!.inputResponses as Json | undefined)?.[inputKey(state.slice(CREDENTIAL_STATE_PREFIX.length))] as Json | undefined;
  delete params!.requestState;
  delete params!.inputResponses;
  return { declined: answer?.action === 'decline' || answer?.action === 'cancel' };
}
