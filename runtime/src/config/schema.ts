/**
 * JSON Schema (draft 2020-12) of the gateway configuration described in `types.ts`.
 *
 * It lives in TypeScript so the compiled program (and the single-executable bundle) carries it without
 * reading files next to itself; `schema/config.schema.json` is the published copy, kept identical by
 * `test/config.test.ts`. Regenerate it with
 * `node -e "import('./lib/config/schema.js').then(m=>process.stdout.write(JSON.stringify(m.configSchema,null,2)+'\n'))" > schema/config.schema.json`.
 */

const durationPattern = '^([0-9]+(\\.[0-9]+)?(ms|s|m|h))+$';

const duration = (description: string) => ({ type: 'string', pattern: durationPattern, description });

const nameValue = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'value'],
  properties: {
    name: { type: 'string', minLength: 1, description: 'Header name.' },
    value: { type: 'string', description: 'Header value.' },
  },
};

export const configSchema = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  $id: 'https://cdk8s-mcp.dev/schema/gateway-config.json',
  title: 'cdk8s-mcp gateway configuration',
  description:
    "agentgateway's standalone configuration format (binds → listeners → routes), restricted to what the MCP gateway serves. Either `binds` (full "
      + 'form) or `mcp` (shorthand), or both.',
  type: 'object',
  additionalProperties: false,
  properties: {
    config: { $ref: '#/$defs/globalSettings' },
    binds: { type: 'array', items: { $ref: '#/$defs/bind' }, description: 'Ports the gateway listens on.' },
    mcp: { $ref: '#/$defs/simpleMcp' },
  },
  $defs: {
    duration: duration('Duration such as `500ms`, `30s`, `10m`, `1h30m`.'),
    globalSettings: {
      type: 'object',
      additionalProperties: false,
      description: 'Process-wide settings, read at start-up only.',
      properties: {
        session: {
          type: 'object',
          additionalProperties: false,
          description: 'Session-id encryption.',
          properties: {
            key: {
              type: 'string',
              pattern: '^[0-9a-fA-F]{64}$',
              description: 'AES-256 key as 64 hex characters (`openssl rand -hex 32`). Falls back to the `SESSION_KEY` environment variable.',
            },
          },
        },
        mcp: {
          type: 'object',
          additionalProperties: false,
          properties: { sessionTtl: duration('Idle time after which a session is evicted. Default `30m`.') },
        },
        adminAddr: { type: 'string', description: 'Read-only admin page address `host:port`. Default `127.0.0.1:15000`.' },
        statsAddr: { type: 'string', description: 'Prometheus metrics address `host:port` (path `/metrics`). Default `0.0.0.0:15020`.' },
        tracing: {
          type: 'object',
          additionalProperties: false,
          required: ['otlpEndpoint'],
          description: 'OpenTelemetry traces over OTLP/HTTP (JSON). Off unless set.',
          properties: {
            otlpEndpoint: {
              type: 'string',
              pattern: '^https?://',
              description: 'OTLP/HTTP base URL, e.g. `http://otel-collector:4318` (spans go to `/v1/traces`), or the full `/v1/traces` URL.',
            },
            serviceName: { type: 'string', minLength: 1, description: 'Extension: `service.name` of the spans. Default `mcp-gateway`.' },
            sampleRatio: {
              type: 'number',
              minimum: 0,
              maximum: 1,
              description: "Extension: share of new traces recorded; a caller's sampled flag is followed. Default 1.",
            },
          },
        },
        limits: {
          type: 'object',
          additionalProperties: false,
          description: 'Extension: limits that keep one gateway from exhausting its pod.',
          properties: {
            maxBodyBytes: { type: 'integer', minimum: 1, description: 'Largest accepted request body in bytes. Default 4 MiB.' },
            upstreamTimeout: duration('Time an upstream may take to answer one request. Default `60s`.'),
            bodyTimeout: duration('Time a client may take to send a request body (slow-body attacks get 408). Default `30s`.'),
            maxReplayBytes: {
              type: 'integer',
              minimum: 1,
              description: 'Bytes of SSE events one session keeps for Last-Event-ID replay. Default 4 MiB.',
            },
            maxBatchSize: { type: 'integer', minimum: 1, description: 'Most requests in one JSON-RPC batch. Default 64.' },
            maxSessions: { type: 'integer', minimum: 1, description: 'Most sessions this process holds. Default 10000.' },
            maxSessionsPerSubject: {
              type: 'integer',
              minimum: 1,
              description: 'Most sessions one subject (sub, or client address without auth) holds. Default 500.',
            },
            sessionLifetime: duration('Longest life of a session id, however active. Default `24h`.'),
          },
        },
        drainTimeout: duration('Extension: how long SIGTERM waits for in-flight requests. Default `25s`.'),
        logging: {
          type: 'object',
          additionalProperties: false,
          description: 'Extension: log settings.',
          properties: {
            level: { enum: ['debug', 'info', 'warn', 'error'], description: 'Lowest level written. Default `info`.' },
            format: { enum: ['json', 'text'], description: 'JSON lines (default) or plain text.' },
          },
        },
      },
    },
    bind: {
      type: 'object',
      additionalProperties: false,
      required: ['port', 'listeners'],
      properties: {
        port: { type: 'integer', minimum: 0, maximum: 65535, description: 'TCP port; 0 picks a free one (tests).' },
        listeners: { type: 'array', minItems: 1, items: { $ref: '#/$defs/listener' } },
      },
    },
    listener: {
      type: 'object',
      additionalProperties: false,
      required: ['routes'],
      properties: {
        name: { type: 'string' },
        protocol: { const: 'HTTP', description: 'Only HTTP; TLS is terminated in front of the gateway.' },
        hostname: { type: 'string', description: 'Only requests whose Host matches (`*.example.com` allowed).' },
        routes: { type: 'array', minItems: 1, items: { $ref: '#/$defs/route' } },
      },
    },
    route: {
      type: 'object',
      additionalProperties: false,
      required: ['backends'],
      properties: {
        name: { type: 'string', minLength: 1 },
        matches: {
          type: 'array',
          minItems: 1,
          items: { $ref: '#/$defs/routeMatch' },
          description: 'Default: path prefix `/`.',
        },
        backends: { type: 'array', minItems: 1, maxItems: 1, items: { $ref: '#/$defs/backend' } },
        policies: { $ref: '#/$defs/routePolicies' },
      },
    },
    routeMatch: {
      type: 'object',
      additionalProperties: false,
      properties: {
        path: {
          type: 'object',
          additionalProperties: false,
          minProperties: 1,
          maxProperties: 1,
          properties: {
            exact: { type: 'string', pattern: '^/' },
            pathPrefix: { type: 'string', pattern: '^/' },
            regex: { type: 'string' },
          },
        },
        headers: {
          type: 'array',
          items: {
            type: 'object',
            additionalProperties: false,
            required: ['name', 'value'],
            properties: {
              name: { type: 'string', minLength: 1 },
              value: {
                type: 'object',
                additionalProperties: false,
                minProperties: 1,
                maxProperties: 1,
                properties: { exact: { type: 'string' }, regex: { type: 'string' } },
              },
            },
          },
        },
        method: { type: 'string', minLength: 1 },
      },
    },
    backend: {
      type: 'object',
      additionalProperties: false,
      required: ['mcp'],
      properties: {
        mcp: { $ref: '#/$defs/mcpBackend' },
        weight: { type: 'integer', minimum: 0 },
      },
    },
    mcpBackend: {
      type: 'object',
      additionalProperties: false,
      required: ['targets'],
      properties: {
        name: { type: 'string', minLength: 1, description: 'Extension: name in logs and metrics. Default: the route name.' },
        targets: { type: 'array', minItems: 1, items: { $ref: '#/$defs/target' } },
        statefulMode: { $ref: '#/$defs/statefulMode' },
        prefixMode: { $ref: '#/$defs/prefixMode' },
        failureMode: { $ref: '#/$defs/failureMode' },
        dnsRebindingProtection: {
          type: 'boolean',
          description:
            'When true, Host and Origin must be loopback names. Default: true when the gateway listens on a loopback address. Origin is always '
              + 'checked against CORS `allowOrigins`.',
        },
        serverInfo: { $ref: '#/$defs/serverInfo' },
        stdio: {
          type: 'object',
          additionalProperties: false,
          description: 'Extension: stdio process pool of this backend.',
          properties: {
            maxProcesses: { type: 'integer', minimum: 1, description: 'Most live stdio processes for this backend. Default 64.' },
            idleTimeout: duration('A process without a session for this long is stopped. Default `10m`.'),
            maxRestartsPerMinute: { type: 'integer', minimum: 0, description: 'Crash-loop guard. Default 5.' },
            maxProcessesPerSubject: {
              type: 'integer',
              minimum: 1,
              description: 'Most processes one subject holds on this backend. Default half of maxProcesses.',
            },
            maxMessageBytes: { type: 'integer', minimum: 1, description: 'Largest stdout line accepted from a stdio server. Default 16 MiB.' },
            warmup: {
              type: 'boolean',
              description:
                'Extension: at start-up run each stdio target once (initialize, then stop it) and keep /readyz at 503 until that succeeded, so '
                  + 'npx/uvx downloads happen before clients arrive. A target that cannot start keeps the gateway unready. Default false (the '
                  + 'bridge command line turns it on).',
            },
          },
        },
      },
    },
    statefulMode: { enum: ['stateful', 'stateless'], description: 'Default `stateful`.' },
    prefixMode: { enum: ['conditional', 'always', 'never'], description: 'Default `conditional`: prefix only with several targets.' },
    failureMode: { enum: ['failClosed', 'failOpen'], description: 'Default `failClosed`.' },
    serverInfo: {
      type: 'object',
      additionalProperties: false,
      required: ['name'],
      description: 'Extension: `serverInfo` of the merged `initialize` result.',
      properties: { name: { type: 'string', minLength: 1 }, version: { type: 'string' }, title: { type: 'string' } },
    },
    target: {
      type: 'object',
      additionalProperties: false,
      required: ['name'],
      description: 'An upstream MCP server: exactly one of `stdio`, `mcp` (Streamable HTTP) or `sse` (legacy HTTP+SSE).',
      properties: {
        name: {
          type: 'string',
          minLength: 1,
          maxLength: 253,
          description: 'Lower-case DNS-label-like name; `_` and `+` are reserved delimiters of prefixed names and URIs.',
        },
        stdio: {
          type: 'object',
          additionalProperties: false,
          required: ['cmd'],
          properties: {
            cmd: { type: 'string', minLength: 1 },
            args: { type: 'array', items: { type: 'string' } },
            env: { type: 'object', additionalProperties: { type: 'string' } },
            clearEnv: { type: 'boolean', description: 'Start from an empty environment instead of the gateway’s.' },
            cwd: { type: 'string', description: 'Extension: working directory of the child.' },
            pool: {
              type: 'object',
              additionalProperties: false,
              description: 'Extension: warm processes ready for new sessions, or one process shared by all sessions.',
              properties: {
                size: {
                  type: 'integer',
                  minimum: 0,
                  description:
                    'Processes kept started and pre-initialized for the next sessions; each one taken is replaced in the background. Default 0 '
                      + '(the bridge command line: 1).',
                },
                idleTimeout: duration('Spares are stopped when no session took one for this long; the next session refills the pool. Default `10m`.'),
                maxProcesses: {
                  type: 'integer',
                  minimum: 1,
                  description: "Most processes of this target at once, sessions and spares together. Default: the backend's `stdio.maxProcesses`.",
                },
                reuse: {
                  type: 'boolean',
                  description:
                    'A finished session gives its process back to the pool when it carries no session state (no logging/setLevel, subscription, '
                      + 'roots change, server-to-client request or unanswered request). Only for servers whose tools keep no per-session state. '
                      + 'Default false.',
                },
                shared: {
                  type: 'boolean',
                  description:
                    'One process serves every session with JSON-RPC ids remapped. Only for servers without per-session state: server-to-client '
                      + 'requests, logging/setLevel and resources/subscribe are refused. Default false.',
                },
              },
            },
          },
        },
        mcp: { $ref: '#/$defs/httpTarget' },
        sse: { $ref: '#/$defs/httpTarget' },
        policies: { $ref: '#/$defs/targetPolicies' },
      },
    },
    httpTarget: {
      type: 'object',
      additionalProperties: false,
      required: ['host'],
      description: '`host` as a full URL (`http://svc:3000/mcp`), or `host` + `port` + `path`.',
      properties: {
        host: { type: 'string', minLength: 1 },
        port: { type: 'integer', minimum: 1, maximum: 65535 },
        path: { type: 'string' },
      },
    },
    targetPolicies: {
      type: 'object',
      additionalProperties: false,
      properties: {
        backendAuth: {
          type: 'object',
          additionalProperties: false,
          minProperties: 1,
          maxProperties: 1,
          properties: {
            passthrough: {
              type: 'object',
              additionalProperties: false,
              description: "Forward the client's validated bearer token.",
            },
            key: {
              type: 'object',
              additionalProperties: false,
              minProperties: 1,
              maxProperties: 1,
              description: 'Static bearer credential: inline, from a file, or from an environment variable.',
              properties: { value: { type: 'string' }, file: { type: 'string' }, env: { type: 'string' } },
            },
          },
        },
        requestHeaderModifier: {
          type: 'object',
          additionalProperties: false,
          properties: {
            set: { type: 'array', items: nameValue },
            add: { type: 'array', items: nameValue },
            remove: { type: 'array', items: { type: 'string', minLength: 1 } },
          },
        },
      },
    },
    routePolicies: {
      type: 'object',
      additionalProperties: false,
      properties: {
        cors: { $ref: '#/$defs/cors' },
        mcpAuthentication: { $ref: '#/$defs/mcpAuthentication' },
        mcpAuthorization: { $ref: '#/$defs/mcpAuthorization' },
        localRateLimit: { type: 'array', items: { $ref: '#/$defs/localRateLimit' }, description: "agentgateway's token buckets." },
      },
    },
    localRateLimit: {
      type: 'object',
      additionalProperties: false,
      required: ['maxTokens', 'fillInterval'],
      properties: {
        maxTokens: { type: 'integer', minimum: 1, description: 'Bucket size.' },
        tokensPerFill: { type: 'integer', minimum: 1, description: 'Tokens added every fillInterval. Default 1.' },
        fillInterval: duration('How often the bucket is refilled.'),
        type: { enum: ['requests'], description: 'Only `requests`. Default `requests`.' },
        per: {
          enum: ['route', 'subject', 'tool'],
          description: 'Extension: one bucket for the route (default), per subject, or per subject and tool (tools/call only).',
        },
      },
    },
    cors: {
      type: 'object',
      additionalProperties: false,
      properties: {
        allowOrigins: { type: 'array', items: { type: 'string' }, description: 'Origins allowed; `*` for any.' },
        allowHeaders: { type: 'array', items: { type: 'string' } },
        allowMethods: { type: 'array', items: { type: 'string' } },
        exposeHeaders: { type: 'array', items: { type: 'string' } },
        allowCredentials: { type: 'boolean' },
        maxAge: {
          anyOf: [
            { type: 'integer', minimum: 0 },
            { type: 'string', pattern: durationPattern },
          ],
          description: 'Seconds, or a duration string.',
        },
      },
    },
    mcpAuthentication: {
      type: 'object',
      additionalProperties: false,
      required: ['issuer'],
      properties: {
        issuer: { type: 'string', minLength: 1, description: 'Expected `iss` of tokens.' },
        audiences: { type: 'array', items: { type: 'string' }, description: 'Accepted `aud` values.' },
        audience: { type: 'string', description: 'agentgateway 0.10 spelling of a single audience.' },
        jwks: {
          anyOf: [
            { type: 'string', description: 'Inline JWKS JSON.' },
            {
              type: 'object',
              additionalProperties: false,
              minProperties: 1,
              maxProperties: 1,
              properties: { url: { type: 'string' }, file: { type: 'string' } },
            },
          ],
          description: 'Key set: `{url}`, `{file}` or inline JSON. Default derived from issuer and provider.',
        },
        jwksUrl: { type: 'string', description: 'agentgateway 0.10 spelling of `jwks.url`.' },
        provider: {
          type: 'object',
          additionalProperties: false,
          minProperties: 1,
          maxProperties: 1,
          properties: {
            keycloak: { type: 'object', additionalProperties: false },
            auth0: { type: 'object', additionalProperties: false },
            okta: { type: 'object', additionalProperties: false },
          },
        },
        mode: { enum: ['strict', 'optional', 'permissive'], description: 'Default `strict`.' },
        resourceMetadata: {
          type: 'object',
          description: 'RFC 9728 protected-resource metadata fields in camelCase (`resource`, `scopesSupported`, ...).',
        },
        clientId: { type: 'string', description: 'Answer dynamic client registration with this client id.' },
        jwtValidationOptions: {
          type: 'object',
          additionalProperties: false,
          properties: {
            requiredClaims: { type: 'array', items: { enum: ['exp', 'nbf', 'aud', 'iss', 'sub'] } },
          },
        },
        algorithms: { type: 'array', items: { type: 'string' }, description: 'Extension: accepted signing algorithms.' },
        clockSkew: duration('Extension: clock skew tolerance. Default `30s`.'),
        publicUrl: { type: 'string', description: 'Extension: public base URL of the gateway.' },
        requiredScopes: { type: 'array', items: { type: 'string' }, description: 'Extension: scopes every token must carry.' },
        toolScopes: {
          type: 'object',
          additionalProperties: { type: 'array', items: { type: 'string' }, minItems: 1 },
          description: 'Extension: scopes a tools/call of each tool needs (403 insufficient_scope otherwise).',
        },
        backchannelUrl: { type: 'string', description: 'Extension: the issuer URL as the gateway reaches it (in-cluster Service).' },
      },
    },
    mcpAuthorization: {
      type: 'object',
      additionalProperties: false,
      required: ['rules'],
      properties: {
        rules: {
          type: 'array',
          items: {
            anyOf: [
              { type: 'string', minLength: 1, description: 'A CEL expression; shorthand for `allow`.' },
              { type: 'object', additionalProperties: false, required: ['allow'], properties: { allow: { type: 'string', minLength: 1 } } },
              { type: 'object', additionalProperties: false, required: ['deny'], properties: { deny: { type: 'string', minLength: 1 } } },
              { type: 'object', additionalProperties: false, required: ['require'], properties: { require: { type: 'string', minLength: 1 } } },
            ],
          },
          description: 'CEL rules over `mcp.*` and `jwt.*`: a string or `{allow}`, `{deny}`, `{require}`.',
        },
      },
    },
    simpleMcp: {
      type: 'object',
      additionalProperties: false,
      required: ['targets'],
      description: 'Shorthand: one route on path prefixes `/mcp`, `/sse` and `/.well-known` serving all targets as one server.',
      properties: {
        port: { type: 'integer', minimum: 0, maximum: 65535, description: 'Default 3000.' },
        targets: { type: 'array', minItems: 1, items: { $ref: '#/$defs/target' } },
        policies: { $ref: '#/$defs/routePolicies' },
        statefulMode: { $ref: '#/$defs/statefulMode' },
        prefixMode: { $ref: '#/$defs/prefixMode' },
        failureMode: { $ref: '#/$defs/failureMode' },
        serverInfo: { $ref: '#/$defs/serverInfo' },
      },
    },
  },
} as const;
