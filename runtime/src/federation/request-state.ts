import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';

/**
 * What the gateway hands a 2026-07-28 client as `requestState` while a bridged request waits for input
 * (BRIDGING.md): which parked upstream exchange the retry continues, for whom, on which route and target,
 * until when. The client sends it back unread; anything it changes fails the seal.
 */
export interface BridgedRequestState {
  /** Handle of the parked exchange in this replica. */
  readonly h: string;
  /** Owner (issuer and subject) of the caller, or null when anonymous. */
  readonly o: string | null;
  /** Route id. */
  readonly r: string;
  /** Target name. */
  readonly t: string;
  /** JSON-RPC method of the request that is waiting. */
  readonly m: string;
  /** Expiry, milliseconds since the epoch. */
  readonly e: number;
}

const PREFIX = 'gwb1.';
const IV_BYTES = 12;
const TAG_BYTES = 16;

/**
 * AES-256-GCM over the state, with a key derived (HKDF) from the session key, so a state sealed by one
 * replica opens on every replica that shares `config.session.key`, and is never the session id's own key.
 */
export class RequestStateSeal {
  private readonly key: Buffer;

  constructor(sessionKey: Buffer) {
    this.key = Buffer.from(hkdfSync('sha256', sessionKey, Buffer.alloc(0), 'mcp-gateway bridged requestState v1', 32));
  }

  /** True for a state of ours (sealed or forged); anything else is the upstream's own requestState. */
  static isOurs(value: unknown): value is string {
    return typeof value === 'string' && value.startsWith(PREFIX);
  }

  seal(state: BridgedRequestState): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    const sealed = Buffer.concat([iv, cipher.update(JSON.stringify(state), 'utf8'), cipher.final(), cipher.getAuthTag()]);
    return PREFIX + sealed.toString('base64url');
  }

  /** The state, or undefined when it was not sealed with this key, was altered, or has expired. */
  open(text: string, now = Date.now()): BridgedRequestState | undefined {
    if (!RequestStateSeal.isOurs(text)) return undefined;
    const sealed = Buffer.from(text.slice(PREFIX.length), 'base64url');
    if (sealed.length <= IV_BYTES + TAG_BYTES) return undefined;
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.key, sealed.subarray(0, IV_BYTES));
      decipher.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
      const plain = Buffer.concat([decipher.update(sealed.subarray(IV_BYTES, sealed.length - TAG_BYTES)), decipher.final()]);
      const state = JSON.parse(plain.toString('utf8')) as BridgedRequestState;
      if (typeof state.h !== 'string' || typeof state.e !== 'number' || state.e <= now) return undefined;
      return state;
    } catch {
      return undefined;
    }
  }
}
