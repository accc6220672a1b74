/*
 * The gateway configuration, in agentgateway's standalone format (binds → listeners → routes →
 * matches/backends/policies) so a config written for one runs on the other. Our own additions are
 * marked "Extension" and never change the meaning of an agentgateway field.
 *
 * The one source of the config contract (CONTRACT.md): the JSON Schema the loader validates with
 * (`schema.generated.ts`), the published `schema/config.schema.json` and the constructs' typed copy
 * (`src/gateway/config-contract.generated.ts`) are generated from this file by `npx projen gen:config`.
 * JSDoc text becomes the schema's `description`; the tags `@pattern`, `@minimum`, `@maximum`, `@minLength`,
 * `@maxLength`, `@minItems`, `@maxItems`, `@minProperties`, `@maxProperties` and `@asType integer` become its
 * constraints. Keep to types ts-json-schema-generator can express: interfaces, literal unions, arrays, `Record`.
 */

/**
 * agentgateway's standalone configuration format (binds → listeners → routes), restricted to what the MCP
 * gateway serves. Either `binds` (full form) or `mcp` (shorthand), or both.
 */
export interface GatewayConfig {
  /** Process-wide settings, read at start-up only. */
  readonly config?: GlobalSettings;
  /** Ports the gateway listens on. */
  readonly binds?: Bind[];
  /** Shorthand: one route on path prefixes `/mcp`, `/sse` and `/.well-known`, serving all targets as one server. */
  readonly mcp?: SimpleMcpConfig;
}

/**
 * Duration such as `500ms`, `30s`, `10m`, `1h30m`.
 * @pattern ^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$
 */
export type Duration = string;

/** Process-wide settings, read at start-up only. */
export interface GlobalSettings {
  /** Session-id encryption (agentgateway: `config.session.key`). */
  readonly session?: {
    /**
     * AES-256 key as 64 hex characters (`openssl rand -hex 32`). Falls back to the `SESSION_KEY` environment variable.
     * @pattern ^[0-9a-fA-F]{64}$
     */
    readonly key?: string;
  };
  /** agentgateway: `config.mcp`. */
  readonly mcp?: {
    /** agentgateway: `config.mcp.sessionTtl`, idle time after which a session is evicted. Default `30m`. */
    readonly sessionTtl?: Duration;
  };
  /** Read-only admin page and its JSON (agentgateway's `adminAddr`): `host:port`. Default `127.0.0.1:15000`. */
  readonly adminAddr?: string;
  /** Prometheus metrics at `/metrics` (agentgateway's `statsAddr`): `host:port`. Default `0.0.0.0:15020`. */
  readonly statsAddr?: string;
  /** OpenTelemetry traces over OTLP/HTTP (agentgateway's `config.tracing`). Off unless set. */
  readonly tracing?: TracingSettings;
  /** Extension: limits that keep one gateway from exhausting its pod. */
  readonly limits?: LimitSettings;
  /** Extension: how long SIGTERM waits for in-flight requests (graceful drain). Default `25s`. */
  readonly drainTimeout?: Duration;
  /** Extension: log settings. */
  readonly logging?: {
    /** Lowest level written. Default `info`. */
    readonly level?: 'debug' | 'info' | 'warn' | 'error';
    /** JSON lines (default) or plain text. */
    readonly format?: 'json' | 'text';
  };
  /** Extension (agentgateway has none): each user's own upstream credentials (see credentials/DESIGN.md). */
  readonly credentials?: CredentialsSettings;
}

/** A secret given inline, from an environment variable or from a file (a mounted Secret). Exactly one. */
export type SecretRef =
  | {
    /** @minLength 1 */
    readonly value: string;
  }
  | {
    /** @minLength 1 */
    readonly env: string;
  }
  | {
    /** @minLength 1 */
    readonly file: string;
  };

/**
 * Extension: each user's own upstream credentials, obtained per user (OAuth through URL elicitation, or token
 * exchange) and injected into the targets that name them.
 */
export interface CredentialsSettings {
  /**
   * Where credentials live: exactly one of `postgres` (shared by replicas) or `memory` (`mcp-gateway dev` and
   * single-process use only).
   */
  readonly store: {
    readonly postgres?: {
      /** postgres:// connection URL. */
      readonly url: SecretRef;
      /**
       * Table name. Default `mcp_user_credentials`.
       * @pattern ^[a-z_][a-z0-9_]{0,47}$
       */
      readonly table?: string;
    };
    /** Credentials kept in this process only; lost on restart. */
    readonly memory?: Record<string, never>;
  };
  /** AES-256-GCM key sealing every stored token: 32 bytes as 64 hex characters or base64. */
  readonly encryptionKey: SecretRef;
  /** Base of the connect links (`https://mcp.example.com`). Default: the route's `publicUrl`, else the request's (forwarded) host. */
  readonly publicUrl?: string;
  /**
   * Provider name → exactly one of `oauth2` or `tokenExchange`.
   * @propertyNames {"pattern": "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"}
   */
  readonly providers: Record<string, CredentialProvider>;
  /**
   * The gateway's own OIDC client at the sign-in IdP (the route's `mcpAuthentication.issuer`): before a connect
   * link sends the browser to an `oauth2` provider, the browser signs in there and must be the link's user.
   * Required when any provider is `oauth2`. Register the redirect URI `<publicUrl>/connect/_signin/callback`.
   */
  readonly browserSignIn?: BrowserSignInClient;
}

/** A confidential (or public, without `clientSecret`) OIDC client with the standard flow enabled. */
export interface BrowserSignInClient {
  /** @minLength 1 */
  readonly clientId: string;
  readonly clientSecret?: SecretRef;
}

/** How one provider's credential is obtained: exactly one kind. */
export interface CredentialProvider {
  /** OAuth 2.0 authorization code + PKCE (S256) at a third-party provider, started through URL elicitation. */
  readonly oauth2?: OAuth2Provider;
  /** RFC 8693 token exchange of the user's token at the sign-in IdP. */
  readonly tokenExchange?: TokenExchangeProvider;
}

export interface OAuth2Provider {
  /** @minLength 1 */
  readonly authorizationUrl: string;
  /** @minLength 1 */
  readonly tokenUrl: string;
  /** @minLength 1 */
  readonly clientId: string;
  readonly clientSecret?: SecretRef;
  readonly scopes?: string[];
}

export interface TokenExchangeProvider {
  /**
   * Default: the route issuer's `token_endpoint` (through `backchannelUrl` when set).
   * @minLength 1
   */
  readonly tokenUrl?: string;
  /** @minLength 1 */
  readonly clientId: string;
  readonly clientSecret?: SecretRef;
  /** @minLength 1 */
  readonly audience: string;
  readonly scopes?: string[];
}

/** Extension: the per-user credential a target needs, and how it reaches the target. */
export interface TargetCredential {
  /** A key of `config.credentials.providers`. */
  readonly provider: string;
  /** Exactly one of `env` (stdio targets) or `header` (mcp, sse targets; value `Bearer <token>` unless `prefix` is given). */
  readonly inject: {
    /** @pattern ^[A-Za-z_][A-Za-z0-9_]*$ */
    readonly env?: string;
    /** @pattern ^[!#$%&'*+.^_`|~0-9A-Za-z-]+$ */
    readonly header?: string;
    /** Header value prefix. Default `Bearer `. */
    readonly prefix?: string;
  };
}

/** Extension: limits that keep one gateway from exhausting its pod. */
export interface LimitSettings {
  /**
   * Largest accepted request body in bytes. Default 4 MiB.
   * @asType integer
   * @minimum 1
   */
  readonly maxBodyBytes?: number;
  /** Time an upstream may take to answer one request. Default `60s`. */
  readonly upstreamTimeout?: Duration;
  /** Time a client may take to send a request body (slow-body attacks get 408). Default `30s`. */
  readonly bodyTimeout?: Duration;
  /**
   * Bytes of SSE events one session keeps for `Last-Event-ID` replay; older answers become a short error. Default 4 MiB.
   * @asType integer
   * @minimum 1
   */
  readonly maxReplayBytes?: number;
  /**
   * Most requests in one JSON-RPC batch (2025-03-26 clients). Default 64.
   * @asType integer
   * @minimum 1
   */
  readonly maxBatchSize?: number;
  /**
   * Most sessions this process holds; the next `initialize` gets 429. Default 10000.
   * @asType integer
   * @minimum 1
   */
  readonly maxSessions?: number;
  /**
   * Most sessions one subject (token `sub`, or the client address without auth) holds. Default 500.
   * @asType integer
   * @minimum 1
   */
  readonly maxSessionsPerSubject?: number;
  /** Longest life of a session id from `initialize`, however active; then 404 and the client re-initializes. Default `24h`. */
  readonly sessionLifetime?: Duration;
}

/** OpenTelemetry traces over OTLP/HTTP (JSON). Off unless set. */
export interface TracingSettings {
  /**
   * OTLP/HTTP base URL such as `http://otel-collector:4318` (spans go to `/v1/traces`), or the full `/v1/traces` URL.
   * @pattern ^https?://
   */
  readonly otlpEndpoint: string;
  /**
   * Extension: `service.name` of the spans. Default `mcp-gateway`.
   * @minLength 1
   */
  readonly serviceName?: string;
  /**
   * Extension: share of traces started here that are recorded, 0 to 1; a caller's sampled flag is followed. Default 1.
   * @minimum 0
   * @maximum 1
   */
  readonly sampleRatio?: number;
}

/** A port the gateway listens on. */
export interface Bind {
  /**
   * TCP port; 0 picks a free one (tests).
   * @asType integer
   * @minimum 0
   * @maximum 65535
   */
  readonly port: number;
  /** @minItems 1 */
  readonly listeners: Listener[];
}

export interface Listener {
  readonly name?: string;
  /** Only HTTP is served; TLS is terminated in front of the gateway (ingress / Gateway). */
  readonly protocol?: 'HTTP';
  /** Only requests whose Host matches (`*.example.com` allowed). */
  readonly hostname?: string;
  /** @minItems 1 */
  readonly routes: Route[];
}

export interface Route {
  /** @minLength 1 */
  readonly name?: string;
  /**
   * Default: `[{ path: { pathPrefix: '/' } }]`, as agentgateway.
   * @minItems 1
   */
  readonly matches?: RouteMatch[];
  /**
   * Exactly one backend.
   * @minItems 1
   * @maxItems 1
   */
  readonly backends: Backend[];
  readonly policies?: RoutePolicies;
}

export interface RouteMatch {
  /**
   * Exactly one of `exact`, `pathPrefix` or `regex`.
   * @minProperties 1
   * @maxProperties 1
   */
  readonly path?: {
    /** @pattern ^/ */
    readonly exact?: string;
    /** @pattern ^/ */
    readonly pathPrefix?: string;
    readonly regex?: string;
  };
  readonly headers?: HeaderMatch[];
  /** @minLength 1 */
  readonly method?: string;
}

export interface HeaderMatch {
  /** @minLength 1 */
  readonly name: string;
  /**
   * Exactly one of `exact` or `regex`.
   * @minProperties 1
   * @maxProperties 1
   */
  readonly value: { readonly exact?: string; readonly regex?: string };
}

export interface Backend {
  readonly mcp: McpBackend;
  /**
   * @asType integer
   * @minimum 0
   */
  readonly weight?: number;
}

/** Default `stateful`. */
export type StatefulMode = 'stateful' | 'stateless';
/** Default `conditional`: prefix only with several targets. */
export type PrefixMode = 'conditional' | 'always' | 'never';
/** Default `failClosed`. */
export type FailureMode = 'failClosed' | 'failOpen';

export interface McpBackend {
  /**
   * Extension: name used in logs and metrics. Default: the route name.
   * @minLength 1
   */
  readonly name?: string;
  /** @minItems 1 */
  readonly targets: McpTarget[];
  readonly statefulMode?: StatefulMode;
  readonly prefixMode?: PrefixMode;
  readonly failureMode?: FailureMode;
  /**
   * When true, Host and Origin must be loopback names. agentgateway defaults to false; ours is on for a loopback
   * bind (the MCP SDK's rule) and off otherwise. Origin is always checked against CORS `allowOrigins`.
   */
  readonly dnsRebindingProtection?: boolean;
  readonly serverInfo?: ServerInfo;
  /** Extension: stdio process pool of this backend. */
  readonly stdio?: StdioPoolSettings;
}

/** Extension: `serverInfo` of the merged `initialize` result (agentgateway hard-codes "agentgateway", issue #2564). */
export interface ServerInfo {
  /** @minLength 1 */
  readonly name: string;
  readonly version?: string;
  readonly title?: string;
}

/** Extension: stdio process pool of this backend. */
export interface StdioPoolSettings {
  /**
   * Most live stdio processes for this backend; the next session gets a clear error. Default 64.
   * @asType integer
   * @minimum 1
   */
  readonly maxProcesses?: number;
  /** A process without a session for this long is stopped. Default `10m`. */
  readonly idleTimeout?: Duration;
  /**
   * Crash-loop guard: a crashing process is restarted at most this many times per minute before its target is failed. Default 5.
   * @asType integer
   * @minimum 0
   */
  readonly maxRestartsPerMinute?: number;
  /**
   * Extension: most processes one subject's sessions hold on this backend. Default half of `maxProcesses` (rounded up).
   * @asType integer
   * @minimum 1
   */
  readonly maxProcessesPerSubject?: number;
  /**
   * Extension: largest message (one stdout line) accepted from a stdio server; a larger answer becomes a JSON-RPC error.
   * Default 16 MiB.
   * @asType integer
   * @minimum 1
   */
  readonly maxMessageBytes?: number;
  /**
   * Extension: at start-up, run each stdio target of this backend once (`initialize`, then
   * `notifications/initialized`, then stop it) and answer `/readyz` 503 until that succeeded, so package
   * downloads (`npx`, `uvx`) happen before a readiness or startup probe lets clients in. A target that
   * cannot start keeps the gateway unready. Default false; the bridge command line turns it on.
   */
  readonly warmup?: boolean;
}

/** An upstream MCP server: exactly one of `stdio`, `mcp` (Streamable HTTP) or `sse` (legacy HTTP+SSE). */
export interface McpTarget {
  /**
   * Lower-case DNS-label-like name; `_` and `+` are reserved delimiters of prefixed names and URIs.
   * @minLength 1
   * @maxLength 253
   */
  readonly name: string;
  readonly stdio?: StdioTarget;
  readonly mcp?: HttpTarget;
  readonly sse?: HttpTarget;
  /** Per-target policies (agentgateway: backendAuth etc.). Not allowed on stdio targets. */
  readonly policies?: TargetPolicies;
  /** Extension: each user's own credential for this target (see `config.credentials`). */
  readonly credential?: TargetCredential;
}

/** A server the gateway starts as a child process and speaks to over stdin/stdout. */
export interface StdioTarget {
  /** @minLength 1 */
  readonly cmd: string;
  readonly args?: string[];
  readonly env?: Record<string, string>;
  /** Start from an empty environment instead of the gateway’s. */
  readonly clearEnv?: boolean;
  /** Extension: working directory of the child. */
  readonly cwd?: string;
  /** Extension: warm processes kept ready for new sessions, or one process shared by all (see upstream/POOL.md). */
  readonly pool?: StdioTargetPool;
}

/** Extension: how sessions get a process of this stdio target. */
export interface StdioTargetPool {
  /**
   * Processes kept started and pre-initialized, ready for the next session; one is started again in the
   * background for each one taken. 0 starts a process per session when it arrives. Default 0 (the bridge
   * command line: 1).
   * @asType integer
   * @minimum 0
   */
  readonly size?: number;
  /** The spares are stopped when no session took one for this long; the next session refills the pool. Default `10m`. */
  readonly idleTimeout?: Duration;
  /**
   * Most processes of this target at once, sessions and spares together. Default: the backend's `stdio.maxProcesses`.
   * @asType integer
   * @minimum 1
   */
  readonly maxProcesses?: number;
  /**
   * When a session ends, its process goes back to the pool if it carries nothing from that session (no
   * `logging/setLevel`, subscription, roots change, server-to-client request or unanswered request).
   * Only for servers whose tools keep no per-session state. Default false.
   */
  readonly reuse?: boolean;
  /**
   * One process serves every session, JSON-RPC ids remapped. Only for servers that keep no per-session
   * state; server-to-client requests, `logging/setLevel` and subscriptions are refused. Default false.
   */
  readonly shared?: boolean;
}

/** `host` as a full URL (`http://svc:3000/mcp`), or `host` + `port` + `path`. Empty path: `/mcp` (or `/sse`). */
export interface HttpTarget {
  /** @minLength 1 */
  readonly host: string;
  /**
   * @asType integer
   * @minimum 1
   * @maximum 65535
   */
  readonly port?: number;
  readonly path?: string;
}

export interface TargetPolicies {
  /**
   * Exactly one of `passthrough: {}`, which forwards the client's validated bearer token, and `key`, a static credential.
   * @minProperties 1
   * @maxProperties 1
   */
  readonly backendAuth?: {
    /** Forward the client's validated bearer token. */
    readonly passthrough?: Record<string, never>;
    /**
     * Static bearer credential: inline, from a file, or from an environment variable (exactly one).
     * @minProperties 1
     * @maxProperties 1
     */
    readonly key?: { readonly value?: string; readonly file?: string; readonly env?: string };
  };
  readonly requestHeaderModifier?: {
    readonly set?: HeaderValue[];
    readonly add?: HeaderValue[];
    readonly remove?: HeaderName[];
  };
}

/**
 * Header name.
 * @minLength 1
 */
export type HeaderName = string;

export interface HeaderValue {
  readonly name: HeaderName;
  /** Header value. */
  readonly value: string;
}

export interface RoutePolicies {
  readonly cors?: CorsPolicy;
  readonly mcpAuthentication?: McpAuthentication;
  readonly mcpAuthorization?: McpAuthorization;
  /** agentgateway's token buckets; every bucket must have a token left for a request to pass. */
  readonly localRateLimit?: LocalRateLimit[];
}

/**
 * agentgateway's `localRateLimit` bucket. A bucket holds up to `maxTokens`, gets `tokensPerFill` back every
 * `fillInterval`, and each request takes one.
 */
export interface LocalRateLimit {
  /**
   * Bucket size.
   * @asType integer
   * @minimum 1
   */
  readonly maxTokens: number;
  /**
   * Tokens added every `fillInterval`. Default 1.
   * @asType integer
   * @minimum 1
   */
  readonly tokensPerFill?: number;
  /** How often the bucket is refilled, e.g. `1s`. */
  readonly fillInterval: Duration;
  /** Only `requests` (agentgateway's `tokens` counts LLM tokens, which MCP has none of). Default `requests`. */
  readonly type?: 'requests';
  /**
   * Extension: whose bucket. `route` (agentgateway's meaning, the default): one for the route; `subject`: one
   * per subject (token `sub`, or the client address without auth); `tool`: one per subject and tool, taken
   * by `tools/call` only.
   */
  readonly per?: 'route' | 'subject' | 'tool';
}

export interface CorsPolicy {
  /** Origins allowed; `*` for any. */
  readonly allowOrigins?: string[];
  readonly allowHeaders?: string[];
  readonly allowMethods?: string[];
  readonly exposeHeaders?: string[];
  readonly allowCredentials?: boolean;
  /** Seconds, or a duration string. */
  readonly maxAge?: Seconds | Duration;
}

/**
 * Whole seconds.
 * @asType integer
 * @minimum 0
 */
export type Seconds = number;

/** Exactly one identity provider whose conventions the gateway follows. */
export type AuthProvider =
  | { readonly keycloak: Record<string, never> }
  | { readonly auth0: Record<string, never> }
  | { readonly okta: Record<string, never> };

export interface McpAuthentication {
  /**
   * Expected `iss` of tokens.
   * @minLength 1
   */
  readonly issuer: string;
  /** Accepted `aud` values (agentgateway ≥ 0.11); the singular `audience` of 0.10 is accepted as well. */
  readonly audiences?: string[];
  /** agentgateway 0.10 spelling of a single audience. */
  readonly audience?: string;
  /** Key set: `{ url }`, `{ file }` or an inline JWKS JSON string. Default derived from issuer and provider. */
  readonly jwks?: string | JwksSource;
  /** agentgateway 0.10 spelling of `jwks.url`. */
  readonly jwksUrl?: string;
  readonly provider?: AuthProvider;
  /** Default `strict`. */
  readonly mode?: 'strict' | 'optional' | 'permissive';
  /** RFC 9728 protected-resource metadata fields in camelCase (`resource`, `scopesSupported`, `bearerMethodsSupported`, ...). */
  readonly resourceMetadata?: Record<string, unknown>;
  /** When set, the gateway answers dynamic client registration itself with this client id. */
  readonly clientId?: string;
  readonly jwtValidationOptions?: { readonly requiredClaims?: JwtClaim[] };
  /** Extension: accepted signing algorithms. Default RS256, RS384, RS512, PS256, ES256, ES384, EdDSA (never `none`/HS*). */
  readonly algorithms?: string[];
  /** Extension: clock skew tolerance. Default `30s`. */
  readonly clockSkew?: Duration;
  /** Extension: public base URL (`https://mcp.example.com`) when `X-Forwarded-*` cannot be trusted. */
  readonly publicUrl?: string;
  /** Extension: scopes demanded in the 401 challenge; a token lacking any gets 403 `insufficient_scope`. */
  readonly requiredScopes?: string[];
  /**
   * Extension: scopes a `tools/call` of a tool (keyed by the name clients call) needs; a token lacking any
   * gets 403 `insufficient_scope` naming them, so the client can step up (MCP 2025-11-25).
   */
  readonly toolScopes?: Record<string, ScopeList>;
  /**
   * Extension: the issuer's URL as the gateway reaches it, e.g. the in-cluster Service
   * `http://keycloak.auth.svc:8080/realms/mcp`. Discovery, JWKS and client registration use it; tokens are
   * still checked against `issuer`, and clients still see only public URLs.
   */
  readonly backchannelUrl?: string;
}

/** A claim a token must carry (agentgateway's `jwtValidationOptions.requiredClaims`). */
export type JwtClaim = 'exp' | 'nbf' | 'aud' | 'iss' | 'sub';

/**
 * Where the key set is: exactly one of `url` and `file`.
 * @minProperties 1
 * @maxProperties 1
 */
export interface JwksSource {
  readonly url?: string;
  readonly file?: string;
}

/**
 * OAuth scopes, at least one.
 * @minItems 1
 */
export type ScopeList = string[];

/**
 * A CEL expression over `mcp.*` and `jwt.*`.
 * @minLength 1
 */
export type CelExpression = string;

/** A CEL rule: a plain string is an `allow` rule (as agentgateway writes it), else `{ allow }`, `{ deny }` or `{ require }`. */
export type AuthorizationRule =
  | CelExpression
  | { readonly allow: CelExpression }
  | { readonly deny: CelExpression }
  | { readonly require: CelExpression };

export interface McpAuthorization {
  readonly rules: AuthorizationRule[];
}

/** Shorthand: one route on path prefixes `/mcp`, `/sse` and `/.well-known` serving all targets as one server. */
export interface SimpleMcpConfig {
  /**
   * Default 3000.
   * @asType integer
   * @minimum 0
   * @maximum 65535
   */
  readonly port?: number;
  /** @minItems 1 */
  readonly targets: McpTarget[];
  readonly policies?: RoutePolicies;
  readonly statefulMode?: StatefulMode;
  readonly prefixMode?: PrefixMode;
  readonly failureMode?: FailureMode;
  readonly serverInfo?: ServerInfo;
}
