/**
 * The gateway configuration, in agentgateway's standalone format (binds → listeners → routes →
 * matches/backends/policies) so a config written for one runs on the other. Our own additions are
 * marked "Extension" below and never change the meaning of an agentgateway field.
 *
 * This file is the contract between the config loader, the HTTP layer, auth/authz and the cdk8s
 * constructs that render it (`src/mcp-gateway.ts`). The JSON Schema in `schema/config.schema.json`
 * describes the same shape and is what start-up validation and the construct tests use.
 */

/** Top level of a config file. Either `binds` (full form) or `mcp` (shorthand), or both. */
export interface GatewayConfig {
  /** Process-wide settings, read at start-up only. */
  readonly config?: GlobalSettings;
  readonly binds?: Bind[];
  /** Shorthand: one route on `PathPrefix /mcp`, `/sse` and `/.well-known`, serving all targets as one server. */
  readonly mcp?: SimpleMcpConfig;
}

export interface GlobalSettings {
  /** Session-id encryption (agentgateway: `config.session.key`, 64 hex chars = AES-256). Falls back to `SESSION_KEY` env. */
  readonly session?: { readonly key?: string };
  /** agentgateway: `config.mcp.sessionTtl`, idle session eviction, duration string such as `30m`. */
  readonly mcp?: { readonly sessionTtl?: string };
  /** Read-only admin page and its JSON (agentgateway's `adminAddr`): `host:port`. Default `127.0.0.1:15000`. */
  readonly adminAddr?: string;
  /** Prometheus metrics at `/metrics` (agentgateway's `statsAddr`): `host:port`. Default `0.0.0.0:15020`. */
  readonly statsAddr?: string;
  /** OpenTelemetry traces over OTLP/HTTP (agentgateway's `config.tracing`). Off unless set. */
  readonly tracing?: TracingSettings;
  /** Extension: limits that keep one gateway from exhausting its pod. */
  readonly limits?: {
    /** Largest accepted request body in bytes. Default 4 MiB. */
    readonly maxBodyBytes?: number;
    /** Upstream request timeout, duration string. Default `60s`. */
    readonly upstreamTimeout?: string;
    /** Time a client may take to send a request body, duration string. Default `30s`. */
    readonly bodyTimeout?: string;
    /** Bytes of SSE events one session keeps for `Last-Event-ID` replay; older answers become a short error. Default 4 MiB. */
    readonly maxReplayBytes?: number;
    /** Most requests in one JSON-RPC batch (2025-03-26 clients). Default 64. */
    readonly maxBatchSize?: number;
    /** Most sessions this process holds; the next `initialize` gets 429. Default 10000. */
    readonly maxSessions?: number;
    /** Most sessions one subject (token `sub`, or the client address without auth) holds. Default 500. */
    readonly maxSessionsPerSubject?: number;
    /** Longest life of a session id from `initialize`, however active; then 404 and the client re-initializes. Default `24h`. */
    readonly sessionLifetime?: string;
  };
  /** Extension: graceful drain on SIGTERM, duration string. Default `25s`. */
  readonly drainTimeout?: string;
  /** Extension: log settings. */
  readonly logging?: { readonly level?: 'debug' | 'info' | 'warn' | 'error'; readonly format?: 'json' | 'text' };
}

export interface TracingSettings {
  /** OTLP/HTTP base URL such as `http://otel-collector:4318` (spans go to `/v1/traces`), or the full `/v1/traces` URL. */
  readonly otlpEndpoint: string;
  /** Extension: `service.name` of the spans. Default `mcp-gateway`. */
  readonly serviceName?: string;
  /** Extension: share of traces started here that are recorded, 0 to 1; a caller's sampled flag is followed. Default 1. */
  readonly sampleRatio?: number;
}

export interface Bind {
  readonly port: number;
  readonly listeners: Listener[];
}

export interface Listener {
  readonly name?: string;
  /** Only HTTP is served; TLS is terminated in front (ingress / Gateway). */
  readonly protocol?: 'HTTP';
  readonly hostname?: string;
  readonly routes: Route[];
}

export interface Route {
  readonly name?: string;
  /** Default: `[{ path: { pathPrefix: '/' } }]`, as agentgateway. */
  readonly matches?: RouteMatch[];
  readonly backends: Backend[];
  readonly policies?: RoutePolicies;
}

export interface RouteMatch {
  readonly path?: { readonly exact?: string; readonly pathPrefix?: string; readonly regex?: string };
  readonly headers?: Array<{ readonly name: string; readonly value: { readonly exact?: string; readonly regex?: string } }>;
  readonly method?: string;
}

export interface Backend {
  readonly mcp: McpBackend;
  readonly weight?: number;
}

export type StatefulMode = 'stateful' | 'stateless';
export type PrefixMode = 'conditional' | 'always' | 'never';
export type FailureMode = 'failClosed' | 'failOpen';

export interface McpBackend {
  /** Extension: name used in logs and metrics. Default: the route name. */
  readonly name?: string;
  readonly targets: McpTarget[];
  readonly statefulMode?: StatefulMode;
  readonly prefixMode?: PrefixMode;
  readonly failureMode?: FailureMode;
  /**
   * Host/Origin must be loopback. agentgateway defaults to false; ours is on for a loopback bind (the MCP SDK's
   * rule) and off otherwise, where Origin is still checked against `allowedOrigins`.
   */
  readonly dnsRebindingProtection?: boolean;
  /** Extension: `serverInfo` of the merged `initialize` result (agentgateway hard-codes "agentgateway", issue #2564). */
  readonly serverInfo?: { readonly name: string; readonly version?: string; readonly title?: string };
  /** Extension: stdio process pool per backend. */
  readonly stdio?: StdioPoolSettings;
}

export interface StdioPoolSettings {
  /** Most live stdio processes for this backend; the next session gets a clear error. Default 64. */
  readonly maxProcesses?: number;
  /** A process without a session for this long is stopped. Duration string, default `10m`. */
  readonly idleTimeout?: string;
  /** A crashing process is restarted at most this many times per minute before its target is failed. Default 5. */
  readonly maxRestartsPerMinute?: number;
  /** Extension: most processes one subject's sessions hold on this backend. Default half of `maxProcesses` (rounded up). */
  readonly maxProcessesPerSubject?: number;
  /** Extension: largest message (one stdout line) accepted from a stdio server; a larger answer becomes a JSON-RPC error. Default 16 MiB. */
  readonly maxMessageBytes?: number;
  /**
   * Extension: at start-up, run each stdio target of this backend once (`initialize`, then
   * `notifications/initialized`, then stop it) and answer `/readyz` 503 until that succeeded, so package
   * downloads (`npx`, `uvx`) happen before a readiness or startup probe lets clients in. A target that
   * cannot start keeps the gateway unready. Default false; the bridge command line turns it on.
   */
  readonly warmup?: boolean;
}

/** Exactly one of `stdio`, `mcp` (Streamable HTTP) or `sse`. */
export interface McpTarget {
  /** DNS-label-like; `_` and `+` are reserved as delimiters for prefixed names and URIs. */
  readonly name: string;
  readonly stdio?: StdioTarget;
  readonly mcp?: HttpTarget;
  readonly sse?: HttpTarget;
  /** Per-target policies (agentgateway: backendAuth etc.). Not allowed on stdio targets. */
  readonly policies?: TargetPolicies;
}

export interface StdioTarget {
  readonly cmd: string;
  readonly args?: string[];
  readonly env?: Record<string, string>;
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
   */
  readonly size?: number;
  /** The spares are stopped when no session took one for this long; the next session refills the pool. Default `10m`. */
  readonly idleTimeout?: string;
  /** Most processes of this target at once, sessions and spares together. Default: the backend's `stdio.maxProcesses`. */
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

/** `host` is a full URL (`http://svc:3000/mcp`), or `host` + `port` + `path`. Empty path: `/mcp` (or `/sse`). */
export interface HttpTarget {
  readonly host: string;
  readonly port?: number;
  readonly path?: string;
}

export interface TargetPolicies {
  /** `passthrough: {}` forwards the client's validated token; `key` sends a static credential. */
  readonly backendAuth?: {
    readonly passthrough?: Record<string, never>;
    readonly key?: { readonly value?: string; readonly file?: string; readonly env?: string };
  };
  readonly requestHeaderModifier?: {
    readonly set?: Array<{ readonly name: string; readonly value: string }>;
    readonly add?: Array<{ readonly name: string; readonly value: string }>;
    readonly remove?: string[];
  };
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
  readonly maxTokens: number;
  /** Default 1. */
  readonly tokensPerFill?: number;
  /** Duration string, e.g. `1s`. */
  readonly fillInterval: string;
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
  readonly allowOrigins?: string[];
  readonly allowHeaders?: string[];
  readonly allowMethods?: string[];
  readonly exposeHeaders?: string[];
  readonly allowCredentials?: boolean;
  /** Seconds, or a duration string. */
  readonly maxAge?: number | string;
}

export type AuthProvider =
  { readonly keycloak: Record<string, never> } | { readonly auth0: Record<string, never> } | { readonly okta: Record<string, never> };

export interface McpAuthentication {
  readonly issuer: string;
  /** agentgateway ≥ 0.11; the singular `audience` of 0.10 is accepted as well. */
  readonly audiences?: string[];
  readonly audience?: string;
  /** `{ url }`, `{ file }` or an inline JWKS JSON string. Default derived from issuer and provider. */
  readonly jwks?: { readonly url?: string; readonly file?: string } | string;
  /** agentgateway 0.10 spelling of `jwks.url`. */
  readonly jwksUrl?: string;
  readonly provider?: AuthProvider;
  readonly mode?: 'strict' | 'optional' | 'permissive';
  /** Free-form RFC 9728 fields in camelCase (`resource`, `scopesSupported`, `bearerMethodsSupported`, ...). */
  readonly resourceMetadata?: Record<string, unknown>;
  /** When set, the gateway answers dynamic client registration itself with this client id. */
  readonly clientId?: string;
  readonly jwtValidationOptions?: { readonly requiredClaims?: string[] };
  /** Extension: accepted signing algorithms. Default RS256, RS384, RS512, PS256, ES256, ES384, EdDSA (never `none`/HS*). */
  readonly algorithms?: string[];
  /** Extension: clock skew tolerance, duration string. Default `30s`. */
  readonly clockSkew?: string;
  /** Extension: public base URL (`https://mcp.example.com`) when `X-Forwarded-*` cannot be trusted. */
  readonly publicUrl?: string;
  /** Extension: scopes demanded in the 401 challenge; a token lacking any gets 403 `insufficient_scope`. */
  readonly requiredScopes?: string[];
  /**
   * Extension: scopes a `tools/call` of a tool (keyed by the name clients call) needs; a token lacking any
   * gets 403 `insufficient_scope` naming them, so the client can step up (MCP 2025-11-25).
   */
  readonly toolScopes?: Record<string, string[]>;
  /**
   * Extension: the issuer's URL as the gateway reaches it, e.g. the in-cluster Service
   * `http://keycloak.auth.svc:8080/realms/mcp`. Discovery, JWKS and client registration use it; tokens are
   * still checked against `issuer`, and clients still see only public URLs.
   */
  readonly backchannelUrl?: string;
}

/** A plain string is an `allow` rule. */
export type AuthorizationRule = string | { readonly allow: string } | { readonly deny: string } | { readonly require: string };

export interface McpAuthorization {
  readonly rules: AuthorizationRule[];
}

export interface SimpleMcpConfig {
  readonly port?: number;
  readonly targets: McpTarget[];
  readonly policies?: RoutePolicies;
  readonly statefulMode?: StatefulMode;
  readonly prefixMode?: PrefixMode;
  readonly failureMode?: FailureMode;
  readonly serverInfo?: McpBackend['serverInfo'];
}
