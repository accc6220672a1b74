/** The stateless protocol revision: no initialize, no sessions, `_meta` on every request. */
export const MODERN_PROTOCOL = '2026-07-28';

/** The newest revision with sessions (initialize handshake, Mcp-Session-Id). */
export const LATEST_SESSION_PROTOCOL = '2025-11-25';

/** Every revision the gateway serves to clients, oldest first. */
export const SUPPORTED_PROTOCOL_VERSIONS = ['2024-11-05', '2025-03-26', '2025-06-18', LATEST_SESSION_PROTOCOL, MODERN_PROTOCOL] as const;

/** What a client that sends no `MCP-Protocol-Version` (and an `initialize` without one) speaks, per the 2025-06-18 transport rules. */
export const DEFAULT_PROTOCOL_VERSION = '2025-03-26';

/** Revisions that allow JSON-RPC batches (2025-06-18 removed them). */
export const BATCH_PROTOCOL_VERSIONS: readonly string[] = ['2024-11-05', '2025-03-26'];

/** `_meta` key of a 2026-07-28 request's protocol version. */
export const META_PROTOCOL_VERSION = 'io.modelcontextprotocol/protocolVersion';

/** `_meta` key that ties a 2026-07-28 listen-stream notification to its `subscriptions/listen` request. */
export const META_SUBSCRIPTION_ID = 'io.modelcontextprotocol/subscriptionId';

export function isSupportedVersion(version: string): boolean {
  return (SUPPORTED_PROTOCOL_VERSIONS as readonly string[]).includes(version);
}

/** The protocol version a 2026-07-28 request names in its `_meta`; undefined for session-era messages. */
export function metaProtocolVersion(params: { _meta?: Record<string, unknown> } | undefined): unknown {
  return params?._meta?.[META_PROTOCOL_VERSION];
}
