import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { McpError } from '../protocol/errors.js';

/**
 * What a gateway needs to take over a session it has never seen: the route, each target's upstream
 * session and protocol version, the names of the capabilities the client declared, and when the id
 * expires. Field names are short because the whole thing travels in every request header; nothing a
 * client sends goes in whole (see DESIGN.md: ids stay small).
 */
export interface SessionState {
  /** Route id (`ResolvedRoute.id`): an id from one route is refused on another. */
  readonly r: string;
  /** Protocol version negotiated with the client. */
  readonly v: string;
  /** Per target: [name, kind, upstream session id or null, upstream protocol version]. */
  readonly t: ReadonlyArray<readonly [string, 'stdio' | 'mcp' | 'sse', string | null, string]>;
  /** Names of the client's capabilities from `initialize` (`roots`, `sampling`, …), not their contents. */
  readonly c: readonly string[];
  /** Expiry, seconds since the epoch (`config.limits.sessionLifetime` after `initialize`). */
  readonly e: number;
  /** Subject (`sub`) of the caller, for display. */
  readonly s?: string;
  /** Owner the session is bound to (issuer and subject), when authenticated. */
  readonly o?: string;
  /** Randomness so two sessions never share an id even with identical upstream state. */
  readonly n: string;
}

const IV_BYTES = 12;
const TAG_BYTES = 16;
/** Random bytes of `n` (12 base64url characters). */
const NONCE_BYTES = 9;
/**
 * Longest `Mcp-Session-Id` issued. Clients and proxies cap request headers (Node: 16 KiB for all of
 * them), and the id goes with every request; routing state is a few hundred characters.
 */
export const MAX_SESSION_ID_CHARS = 2048;
/** Capability names kept in the id, and their longest name; the rest are not needed to route. */
const MAX_CAPABILITY_NAMES = 16;
const MAX_CAPABILITY_NAME_CHARS = 64;

/** What of the client's capabilities the id keeps: the names, bounded. */
export function capabilityNames(capabilities: Record<string, unknown>): string[] {
  return Object.keys(capabilities)
    .filter((name) => name.length <= MAX_CAPABILITY_NAME_CHARS)
    .slice(0, MAX_CAPABILITY_NAMES);
}

/** The session's routing state does not fit an id a client can send back (answered in band, -32603). */
function sessionIdTooLarge(chars: number): McpError {
  return new McpError(
    'internal',
    `the session state does not fit an Mcp-Session-Id: ${chars} characters, at most ${MAX_SESSION_ID_CHARS} ` +
      '(an upstream session id or a token subject is too long)',
  );
}

/** AES-256-GCM sealing of (deflated) session state into an opaque, visible-ASCII `Mcp-Session-Id`. */
export class SessionCodec {
  constructor(private readonly key: Buffer) {
    if (key.length !== 32) throw new Error('session key must be 32 bytes');
  }

  static randomKey(): Buffer {
    return randomBytes(32);
  }

  encode(state: Omit<SessionState, 'n'>): string {
    // One draw from the CSPRNG for both the IV and the nonce: each draw has a fixed cost larger than its bytes'.
    const random = randomBytes(IV_BYTES + NONCE_BYTES);
    const iv = random.subarray(0, IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    // Compressed first: client capabilities repeat a lot of keys, and the id travels in every request header.
    const plain = deflateRawSync(Buffer.from(JSON.stringify({ ...state, n: random.subarray(IV_BYTES).toString('base64url') })));
    const sealed = Buffer.concat([iv, cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
    const id = sealed.toString('base64url');
    if (id.length > MAX_SESSION_ID_CHARS) throw sessionIdTooLarge(id.length);
    return id;
  }

  /** The state, or undefined for anything not sealed with this key (forged, truncated, other key) or expired. */
  decode(id: string, now = Date.now()): SessionState | undefined {
    if (id.length > MAX_SESSION_ID_CHARS || !/^[A-Za-z0-9_-]+$/.test(id)) return undefined;
    const sealed = Buffer.from(id, 'base64url');
    if (sealed.length <= IV_BYTES + TAG_BYTES) return undefined;
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.key, sealed.subarray(0, IV_BYTES));
      decipher.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
      const plain = Buffer.concat([decipher.update(sealed.subarray(IV_BYTES, sealed.length - TAG_BYTES)), decipher.final()]);
      const state = JSON.parse(inflateRawSync(plain).toString('utf8')) as SessionState;
      // An id without an expiry predates expiries: refused like an expired one (the client re-initializes).
      if (typeof state.r !== 'string' || !Array.isArray(state.t) || typeof state.e !== 'number' || state.e * 1000 <= now) return undefined;
      return state;
    } catch {
      return undefined;
    }
  }
}
