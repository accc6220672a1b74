import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { OAuth2Client, pkcePair, TokenEndpointError, type GrantedToken } from './oauth2.js';
import { PostgresCredentialStore } from './postgres-store.js';
import { rowContext, Sealer } from './sealing.js';
import { MemoryCredentialStore, type ConnectionSummary, type CredentialStore, type UserRef } from './store.js';
import { TokenExchanger } from './token-exchange.js';
import type { ResolvedCredentialProvider, ResolvedCredentials } from '../config/model.js';
import type { Logger } from '../telemetry/logger.js';

/** The token endpoint of a sign-in issuer (token exchange without `tokenUrl`). */
export type TokenUrlDiscovery = (issuer: string) => Promise<string>;

/** How long a connect link, and then the provider round trip, may take. */
export const CONNECT_LINK_TTL_MS = 10 * 60_000;
/** A stored token is refreshed when it has less than this left. */
const REFRESH_MARGIN_MS = 60_000;
/** `connections` for CEL is read from the store at most this often per user and replica. */
const CONNECTIONS_CACHE_MS = 5_000;
const ADMIN_LIST_LIMIT = 500;

/** A connect step kept in the store until used: the link (before the browser opens it) or the OAuth `state`. */
interface PendingStep {
  readonly kind: 'link' | 'state';
  readonly issuer: string;
  readonly subject: string;
  readonly provider: string;
  readonly elicitationId: string;
  /** PKCE verifier (state steps). */
  readonly verifier?: string;
  /** SHA-256 of the browser cookie that must come back with the callback (state steps). */
  readonly binding?: string;
  readonly redirectUri?: string;
}

/** Why a connect step was refused, as the page and status the browser gets. */
export class ConnectRefused extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'ConnectRefused';
  }
}

export interface ConnectLink {
  readonly elicitationId: string;
  readonly url: string;
}

/** Sealed credential contents (never logged, never leaves the gateway except towards the target). */
interface StoredToken {
  readonly accessToken: string;
  readonly refreshToken?: string;
  readonly expiresAt?: number;
}

/**
 * Obtains, keeps and hands out each signed-in user's upstream credentials: the OAuth connect flow and its
 * single-use steps, refresh, token exchange, disconnect. Everything stored is sealed (sealing.ts); the
 * store only ever sees ciphertext.
 */
export class CredentialBroker {
  /** Called after a user connected a provider here (this replica), with the elicitation it answers. */
  onConnected?: (user: UserRef, provider: string, elicitationId: string) => void;
  private readonly sealer: Sealer;
  private readonly oauth = new Map<string, OAuth2Client>();
  private readonly exchangers = new Map<string, TokenExchanger>();
  private readonly connectionsCache = new Map<string, { at: number; value: Record<string, boolean> }>();
  private readonly refreshing = new Map<string, Promise<string | undefined>>();

  static async create(settings: ResolvedCredentials, logger: Logger, discoverTokenUrl: TokenUrlDiscovery): Promise<CredentialBroker> {
    const { store: where } = settings;
    const store = where.kind === 'postgres' ? await PostgresCredentialStore.connect(where.url, where.table) : new MemoryCredentialStore();
    try {
      await store.init();
    } catch (error) {
      await store.close().catch(() => undefined);
      // The message of a connection failure can carry the URL; only its kind is reported.
      throw new Error(`credential store (${store.kind}) not usable: ${redactUrl((error as Error).message)}`);
    }
    if (store.kind === 'memory') {
      logger.warn('credentials are kept in memory: they are lost on restart and not shared with other replicas (use store.postgres)');
    }
    return new CredentialBroker(settings, store, logger, discoverTokenUrl);
  }

  constructor(
    readonly settings: ResolvedCredentials,
    readonly store: CredentialStore,
    private readonly logger: Logger,
    discoverTokenUrl: TokenUrlDiscovery,
  ) {
    this.sealer = new Sealer(settings.encryptionKey);
    for (const [name, provider] of settings.providers) {
      if (provider.kind === 'oauth2') this.oauth.set(name, new OAuth2Client(provider));
      else this.exchangers.set(name, new TokenExchanger(provider, discoverTokenUrl));
    }
  }

  provider(name: string): ResolvedCredentialProvider | undefined {
    return this.settings.providers.get(name);
  }

  oauthClient(provider: string): OAuth2Client | undefined {
    return this.oauth.get(provider);
  }

  /**
   * The token to inject for `user` at `provider`, or undefined when the user must connect first. Refreshes an
   * expiring OAuth token when a refresh token was issued; exchanges `subjectToken` for token-exchange providers.
   */
  async tokenFor(user: UserRef, provider: string, subjectToken: string | undefined): Promise<string | undefined> {
    const exchanger = this.exchangers.get(provider);
    if (exchanger) {
      if (!subjectToken) return undefined;
      return exchanger.tokenFor(user, subjectToken);
    }
    const key = JSON.stringify([user.issuer, user.subject, provider]);
    // Concurrent calls of one user share one refresh: a rotating refresh token can be used once only.
    let running = this.refreshing.get(key);
    if (!running) {
      running = this.storedToken(user, provider).finally(() => this.refreshing.delete(key));
      this.refreshing.set(key, running);
    }
    return running;
  }

  private async storedToken(user: UserRef, provider: string): Promise<string | undefined> {
    const row = await this.store.get(user, provider);
    if (!row) return undefined;
    const plain = this.sealer.open(row.sealed, rowContext(user.issuer, user.subject, provider));
    if (plain === undefined) {
      this.logger.warn('stored credential does not decrypt for its row (other key, or copied from another user); ignored', {
        provider,
        subject: user.subject,
      });
      return undefined;
    }
    const token = JSON.parse(plain) as StoredToken;
    if (token.expiresAt === undefined || token.expiresAt - REFRESH_MARGIN_MS > Date.now()) return token.accessToken;
    if (!token.refreshToken) return undefined;
    try {
      const granted = await this.oauth.get(provider)!.refresh(token.refreshToken);
      await this.save(user, provider, granted);
      this.logger.info('upstream credential refreshed', { provider, subject: user.subject });
      return granted.accessToken;
    } catch (error) {
      this.logger.warn('upstream credential refresh failed: the user must connect again', {
        provider,
        subject: user.subject,
        error: error instanceof TokenEndpointError ? error.error : 'unreachable',
      });
      if (error instanceof TokenEndpointError && error.error === 'invalid_grant') await this.store.delete(user, provider);
      return undefined;
    }
  }

  /** Which providers the user has connected (token-exchange ones always count), for CEL's `connections`. */
  async connections(user: UserRef): Promise<Record<string, boolean>> {
    const key = JSON.stringify([user.issuer, user.subject]);
    const cached = this.connectionsCache.get(key);
    if (cached && Date.now() - cached.at < CONNECTIONS_CACHE_MS) return cached.value;
    const value: Record<string, boolean> = {};
    await Promise.all(
      [...this.settings.providers.keys()].map(async (name) => {
        value[name] = this.exchangers.has(name) || (await this.store.get(user, name)) !== undefined;
      }),
    );
    this.connectionsCache.set(key, { at: Date.now(), value });
    if (this.connectionsCache.size > 10_000) this.connectionsCache.delete(this.connectionsCache.keys().next().value as string);
    return value;
  }

  /** A new single-use connect link for `user`, answering a new elicitation. */
  async connectLink(user: UserRef, provider: string, baseUrl: string): Promise<ConnectLink> {
    const elicitationId = randomUUID();
    const secret = randomBytes(32).toString('base64url');
    await this.addStep(secret, { kind: 'link', issuer: user.issuer, subject: user.subject, provider, elicitationId });
    const base = this.settings.publicUrl ?? baseUrl;
    return { elicitationId, url: `${base}/connect/${encodeURIComponent(provider)}/start?link=${secret}` };
  }

  /** The link's owner, without using it up (the confirmation page). */
  async inspectLink(provider: string, secret: string): Promise<UserRef> {
    const step = await this.step(secret, 'link', provider, false);
    return { issuer: step.issuer, subject: step.subject };
  }

  /**
   * Uses the link up and starts the provider round trip: returns the provider's authorization URL and the
   * cookie value the callback must bring back (so the flow finishes in the browser that started it).
   */
  async begin(provider: string, secret: string, baseUrl: string): Promise<{ authorizationUrl: string; binding: string }> {
    const link = await this.step(secret, 'link', provider, true);
    const client = this.oauth.get(provider);
    if (!client) throw new ConnectRefused(404, `provider "${provider}" is not connected through the browser`);
    const state = randomBytes(32).toString('base64url');
    const binding = randomBytes(32).toString('base64url');
    const { verifier, challenge } = pkcePair();
    const redirectUri = `${this.settings.publicUrl ?? baseUrl}/connect/${encodeURIComponent(provider)}/callback`;
    await this.addStep(state, { ...link, kind: 'state', verifier, binding: hash(binding), redirectUri });
    return { authorizationUrl: client.authorizationUrl(redirectUri, state, challenge), binding };
  }

  /** The provider sent the browser back: checks state and cookie, redeems the code, stores the token. */
  async finish(provider: string, state: string, code: string, binding: string | undefined): Promise<UserRef> {
    const step = await this.step(state, 'state', provider, true);
    if (!binding || hash(binding) !== step.binding) {
      throw new ConnectRefused(403, 'this sign-in was started in another browser: open the connect link again in this one');
    }
    let granted: GrantedToken;
    try {
      granted = await this.oauth.get(provider)!.redeemCode(code, step.redirectUri!, step.verifier!);
    } catch (error) {
      const reason = error instanceof TokenEndpointError ? error.error : 'failed';
      this.logger.warn('connect: the provider refused the code', { provider, subject: step.subject, error: reason });
      throw new ConnectRefused(502, `${provider} did not issue a token; open the connect link again`);
    }
    const user = { issuer: step.issuer, subject: step.subject };
    await this.save(user, provider, granted);
    this.connectionsCache.delete(JSON.stringify([user.issuer, user.subject]));
    this.logger.info('upstream credential connected', { provider, subject: user.subject, refreshable: granted.refreshToken !== undefined });
    this.onConnected?.(user, provider, step.elicitationId);
    return user;
  }

  async disconnect(user: UserRef, provider: string): Promise<boolean> {
    this.exchangers.get(provider)?.forget(user);
    const removed = await this.store.delete(user, provider);
    this.connectionsCache.delete(JSON.stringify([user.issuer, user.subject]));
    if (removed) this.logger.info('upstream credential disconnected', { provider, subject: user.subject });
    return removed;
  }

  /** For the admin page: who connected what, when; never a token. */
  listConnections(): Promise<ConnectionSummary[]> {
    return this.store.list(ADMIN_LIST_LIMIT);
  }

  close(): Promise<void> {
    return this.store.close();
  }

  private async save(user: UserRef, provider: string, granted: GrantedToken): Promise<void> {
    const stored: StoredToken = { accessToken: granted.accessToken, refreshToken: granted.refreshToken, expiresAt: granted.expiresAt };
    const sealed = this.sealer.seal(JSON.stringify(stored), rowContext(user.issuer, user.subject, provider));
    await this.store.put(user, provider, sealed, granted.expiresAt);
  }

  /** Pending steps are stored under the hash of their secret: the store never holds a usable link or state. */
  private async addStep(secret: string, step: PendingStep): Promise<void> {
    const id = hash(secret);
    await this.store.addPending(id, this.sealer.seal(JSON.stringify(step), `pending|${id}`), Date.now() + CONNECT_LINK_TTL_MS);
  }

  private async step(secret: string, kind: PendingStep['kind'], provider: string, use: boolean): Promise<PendingStep> {
    const noun = kind === 'link' ? 'connect link' : 'sign-in response';
    if (!/^[A-Za-z0-9_-]{43}$/.test(secret)) throw new ConnectRefused(400, `this ${noun} is not valid`);
    const id = hash(secret);
    const outcome = use ? await this.store.takePending(id) : await this.store.peekPending(id);
    if (outcome.status === 'unknown') throw new ConnectRefused(400, `this ${noun} is not valid`);
    if (outcome.status === 'used') throw new ConnectRefused(410, `this ${noun} was already used; ask the assistant again for a new one`);
    if (outcome.expiresAt < Date.now()) throw new ConnectRefused(410, `this ${noun} has expired; ask the assistant again for a new one`);
    const plain = this.sealer.open(outcome.sealed, `pending|${id}`);
    const step = plain !== undefined ? (JSON.parse(plain) as PendingStep) : undefined;
    if (!step || step.kind !== kind) throw new ConnectRefused(400, `this ${noun} is not valid`);
    if (step.provider !== provider) throw new ConnectRefused(400, `this ${noun} is for another provider`);
    return step;
  }
}

function hash(secret: string): string {
  return createHash('sha256').update(secret).digest('base64url');
}

/** `postgres://user:password@host/db` in a driver message becomes `postgres://***@host/db`. */
function redactUrl(message: string): string {
  return message.replace(/([a-z]+:\/\/)[^@\s/]+@/gi, '$1***@');
}
