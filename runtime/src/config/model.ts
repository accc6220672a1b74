import type { CorsPolicy, FailureMode, McpAuthentication, McpAuthorization, McpTarget, PrefixMode, RouteMatch, StatefulMode } from './types.js';

/**
 * The configuration after validation and normalisation: the shorthand folded into binds, defaults
 * filled in, durations in milliseconds. Everything downstream of the loader reads only this.
 */
export interface ResolvedConfig {
  /** File the configuration came from, or a description such as `command line`. */
  readonly source: string;
  readonly settings: ResolvedSettings;
  readonly binds: readonly ResolvedBind[];
}

export interface ResolvedSettings {
  /** AES-256 key for session ids, when configured (config or `SESSION_KEY`). */
  readonly sessionKey?: Buffer;
  readonly sessionTtlMs: number;
  readonly maxBodyBytes: number;
  readonly bodyTimeoutMs: number;
  readonly upstreamTimeoutMs: number;
  readonly drainTimeoutMs: number;
  readonly maxReplayBytes: number;
  readonly maxBatchSize: number;
  readonly maxSessions: number;
  readonly maxSessionsPerSubject: number;
  readonly sessionLifetimeMs: number;
  readonly logLevel: 'debug' | 'info' | 'warn' | 'error';
  readonly logFormat: 'json' | 'text';
  /** Where `/metrics` is served; undefined when off (the bridge command line). */
  readonly statsAddr?: ListenAddress;
  /** Where the admin page is served; undefined when off (the bridge command line). */
  readonly adminAddr?: ListenAddress;
  readonly tracing?: ResolvedTracing;
  /** `config.credentials` with its secrets read; undefined when no target needs a per-user credential. */
  readonly credentials?: ResolvedCredentials;
}

/** `config.credentials` after validation: secrets read from their env/file, the key decoded. */
export interface ResolvedCredentials {
  readonly store: { readonly kind: 'postgres'; readonly url: string; readonly table: string } | { readonly kind: 'memory' };
  /** 32 bytes. */
  readonly encryptionKey: Buffer;
  readonly publicUrl?: string;
  readonly providers: ReadonlyMap<string, ResolvedCredentialProvider>;
  /** The gateway's OIDC client for signing the connect link's browser in; set whenever an `oauth2` provider is. */
  readonly browserSignIn?: { readonly clientId: string; readonly clientSecret?: string };
}

export type ResolvedCredentialProvider =
  | {
    readonly kind: 'oauth2';
    readonly name: string;
    readonly authorizationUrl: string;
    readonly tokenUrl: string;
    readonly clientId: string;
    readonly clientSecret?: string;
    readonly scopes: readonly string[];
  }
  | {
    readonly kind: 'tokenExchange';
    readonly name: string;
    /** Undefined: discovered from the issuer of the route the user signed in on. */
    readonly tokenUrl?: string;
    readonly clientId: string;
    readonly clientSecret?: string;
    readonly audience: string;
    readonly scopes: readonly string[];
  };

export interface ListenAddress {
  readonly host: string;
  readonly port: number;
}

export interface ResolvedTracing {
  /** Full URL spans are POSTed to. */
  readonly url: string;
  readonly serviceName: string;
  readonly sampleRatio: number;
}

export interface ResolvedBind {
  readonly port: number;
  readonly listeners: readonly ResolvedListener[];
}

export interface ResolvedListener {
  readonly name?: string;
  readonly hostname?: string;
  readonly routes: readonly ResolvedRoute[];
}

export interface ResolvedRoute {
  /** Stable across replicas and reloads: sessions are bound to it. */
  readonly id: string;
  readonly name: string;
  /** JSON path of the route in the file, for errors raised later (auth, authz compilation). */
  readonly configPath: string;
  readonly matches: readonly RouteMatch[];
  readonly backend: ResolvedBackend;
  readonly cors?: CorsPolicy;
  readonly authentication?: McpAuthentication;
  readonly authorization?: McpAuthorization;
  /** `localRateLimit` buckets; empty when none. */
  readonly rateLimits: readonly ResolvedRateLimit[];
}

export interface ResolvedRateLimit {
  readonly maxTokens: number;
  readonly tokensPerFill: number;
  readonly fillIntervalMs: number;
  readonly per: 'route' | 'subject' | 'tool';
}

export interface ResolvedBackend {
  readonly name: string;
  readonly targets: readonly McpTarget[];
  readonly statefulMode: StatefulMode;
  readonly prefixMode: PrefixMode;
  readonly failureMode: FailureMode;
  /** Undefined: on when the bind listens on a loopback address (the MCP SDK's default). */
  readonly dnsRebindingProtection?: boolean;
  readonly serverInfo?: { readonly name: string; readonly version?: string; readonly title?: string };
  readonly stdio: ResolvedStdioPool;
}

export interface ResolvedStdioPool {
  readonly maxProcesses: number;
  readonly idleTimeoutMs: number;
  readonly maxRestartsPerMinute: number;
  readonly maxProcessesPerSubject: number;
  readonly maxMessageBytes: number;
  /** Run each stdio target once at start-up before reporting ready. */
  readonly warmup: boolean;
}
