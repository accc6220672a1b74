import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { deflateRawSync, inflateRawSync } from 'node:zlib';

/**
 * What a gateway needs to take over a session it has never seen: the route, each target's upstream
 * session and protocol version, and what the client negotiated. Field names are short because the
 * whole thing travels in every request header.
 */
export interface SessionState {
  /** Route id (`ResolvedRoute.id`): an id from one route is refused on another. */
  readonly r: string;
  /** Protocol version negotiated with the client. */
  readonly v: string;
  /** Per target: [name, kind, upstream session id or null, upstream protocol version]. */
  readonly t: ReadonlyArray<readonly [string, 'stdio' | 'mcp' | 'sse', string | null, string]>;
  /** Client capabilities from `initialize`. */
  readonly c: Record<string, unknown>;
  /** Subject (`sub`) of the caller, for display. */
  readonly s?: string;
  /** Owner the session is bound to (issuer and subject), when authenticated. */
  readonly o?: string;
  /** Randomness so two sessions never share an id even with identical upstream state. */
  readonly n: string;
}

const IV_BYTES = 12;
const TAG_BYTES = 16;

/** AES-256-GCM sealing of (deflated) session state into an opaque, visible-ASCII `Mcp-Session-Id`. */
export class SessionCodec {
  constructor(private readonly key: Buffer) {
    if (key.length !== 32) throw new Error('session key must be 32 bytes');
  }

  static randomKey(): Buffer {
    return randomBytes(32);
  }

  encode(state: Omit<SessionState, 'n'>): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    // Compressed first: client capabilities repeat a lot of keys, and the id travels in every request header.
    const plain = deflateRawSync(Buffer.from(JSON.stringify({ ...state, n: randomBytes(9).toString('base64url') })));
    const sealed = Buffer.concat([iv, cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
    return sealed.toString('base64url');
  }

  /** The state, or undefined for anything not sealed with this key (forged, truncated, other key). */
  decode(id: string): SessionState | undefined {
    if (!/^[A-Za-z0-9_-]+$/.test(id)) return undefined;
    const sealed = Buffer.from(id, 'base64url');
    if (sealed.length <= IV_BYTES + TAG_BYTES) return undefined;
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.key, sealed.subarray(0, IV_BYTES));
      decipher.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
      const plain = Buffer.concat([decipher.update(sealed.subarray(IV_BYTES, sealed.length - TAG_BYTES)), decipher.final()]);
      const state = JSON.parse(inflateRawSync(plain).toString('utf8')) as SessionState;
      return typeof state.r === 'string' && Array.isArray(state.t) ? state : undefined;
    } catch {
      return undefined;
    }
  }
}
