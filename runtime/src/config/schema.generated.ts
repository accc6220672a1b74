// The JSON Schema (draft 2020-12) of the gateway configuration: generated from runtime/src/config/types.ts by `npx projen gen:config`. Do not edit.
// It is TypeScript so the compiled program and the single executable carry it without reading files beside themselves.
/* eslint-disable */
export const configSchema = {
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "$id": "https://cdk8s-mcp.dev/schema/gateway-config.json",
  "title": "cdk8s-mcp gateway configuration",
  "type": "object",
  "properties": {
    "config": {
      "$ref": "#/$defs/GlobalSettings",
      "description": "Process-wide settings, read at start-up only."
    },
    "binds": {
      "type": "array",
      "items": {
        "$ref": "#/$defs/Bind"
      },
      "description": "Ports the gateway listens on."
    },
    "mcp": {
      "$ref": "#/$defs/SimpleMcpConfig",
      "description": "Shorthand: one route on path prefixes `/mcp`, `/sse` and `/.well-known`, serving all targets as one server."
    }
  },
  "additionalProperties": false,
  "description": "agentgateway's standalone configuration format (binds → listeners → routes), restricted to what the MCP gateway serves. Either `binds` (full form) or `mcp` (shorthand), or both.",
  "$defs": {
    "GlobalSettings": {
      "type": "object",
      "properties": {
        "session": {
          "type": "object",
          "properties": {
            "key": {
              "type": "string",
              "description": "AES-256 key as 64 hex characters (`openssl rand -hex 32`). Falls back to the `SESSION_KEY` environment variable.",
              "pattern": "^[0-9a-fA-F]{64}$"
            }
          },
          "additionalProperties": false,
          "description": "Session-id encryption (agentgateway: `config.session.key`)."
        },
        "mcp": {
          "type": "object",
          "properties": {
            "sessionTtl": {
              "$ref": "#/$defs/Duration",
              "description": "agentgateway: `config.mcp.sessionTtl`, idle time after which a session is evicted. Default `30m`."
            }
          },
          "additionalProperties": false,
          "description": "agentgateway: `config.mcp`."
        },
        "adminAddr": {
          "type": "string",
          "description": "Read-only admin page and its JSON (agentgateway's `adminAddr`): `host:port`. Default `127.0.0.1:15000`."
        },
        "statsAddr": {
          "type": "string",
          "description": "Prometheus metrics at `/metrics` (agentgateway's `statsAddr`): `host:port`. Default `0.0.0.0:15020`."
        },
        "tracing": {
          "$ref": "#/$defs/TracingSettings",
          "description": "OpenTelemetry traces over OTLP/HTTP (agentgateway's `config.tracing`). Off unless set."
        },
        "limits": {
          "$ref": "#/$defs/LimitSettings",
          "description": "Extension: limits that keep one gateway from exhausting its pod."
        },
        "drainTimeout": {
          "$ref": "#/$defs/Duration",
          "description": "Extension: how long SIGTERM waits for in-flight requests (graceful drain). Default `25s`."
        },
        "logging": {
          "type": "object",
          "properties": {
            "level": {
              "type": "string",
              "enum": [
                "debug",
                "info",
                "warn",
                "error"
              ],
              "description": "Lowest level written. Default `info`."
            },
            "format": {
              "type": "string",
              "enum": [
                "json",
                "text"
              ],
              "description": "JSON lines (default) or plain text."
            }
          },
          "additionalProperties": false,
          "description": "Extension: log settings."
        },
        "credentials": {
          "$ref": "#/$defs/CredentialsSettings",
          "description": "Extension (agentgateway has none): each user's own upstream credentials (see credentials/DESIGN.md)."
        }
      },
      "additionalProperties": false,
      "description": "Process-wide settings, read at start-up only."
    },
    "Duration": {
      "type": "string",
      "description": "Duration such as `500ms`, `30s`, `10m`, `1h30m`.",
      "pattern": "^([0-9]+(\\.[0-9]+)?(ms|s|m|h))+$"
    },
    "TracingSettings": {
      "type": "object",
      "properties": {
        "otlpEndpoint": {
          "type": "string",
          "description": "OTLP/HTTP base URL such as `http://otel-collector:4318` (spans go to `/v1/traces`), or the full `/v1/traces` URL.",
          "pattern": "^https?://"
        },
        "serviceName": {
          "type": "string",
          "description": "Extension: `service.name` of the spans. Default `mcp-gateway`.",
          "minLength": 1
        },
        "sampleRatio": {
          "type": "number",
          "description": "Extension: share of traces started here that are recorded, 0 to 1; a caller's sampled flag is followed. Default 1.",
          "minimum": 0,
          "maximum": 1
        }
      },
      "required": [
        "otlpEndpoint"
      ],
      "additionalProperties": false,
      "description": "OpenTelemetry traces over OTLP/HTTP (JSON). Off unless set."
    },
    "LimitSettings": {
      "type": "object",
      "properties": {
        "maxBodyBytes": {
          "type": "integer",
          "description": "Largest accepted request body in bytes. Default 4 MiB.",
          "minimum": 1
        },
        "upstreamTimeout": {
          "$ref": "#/$defs/Duration",
          "description": "Time an upstream may take to answer one request. Default `60s`."
        },
        "bodyTimeout": {
          "$ref": "#/$defs/Duration",
          "description": "Time a client may take to send a request body (slow-body attacks get 408). Default `30s`."
        },
        "maxReplayBytes": {
          "type": "integer",
          "description": "Bytes of SSE events one session keeps for `Last-Event-ID` replay; older answers become a short error. Default 4 MiB.",
          "minimum": 1
        },
        "maxBatchSize": {
          "type": "integer",
          "description": "Most requests in one JSON-RPC batch (2025-03-26 clients). Default 64.",
          "minimum": 1
        },
        "maxSessions": {
          "type": "integer",
          "description": "Most sessions this process holds; the next `initialize` gets 429. Default 10000.",
          "minimum": 1
        },
        "maxSessionsPerSubject": {
          "type": "integer",
          "description": "Most sessions one subject (token `sub`, or the client address without auth) holds. Default 500.",
          "minimum": 1
        },
        "sessionLifetime": {
          "$ref": "#/$defs/Duration",
          "description": "Longest life of a session id from `initialize`, however active; then 404 and the client re-initializes. Default `24h`."
        }
      },
      "additionalProperties": false,
      "description": "Extension: limits that keep one gateway from exhausting its pod."
    },
    "CredentialsSettings": {
      "type": "object",
      "properties": {
        "store": {
          "type": "object",
          "properties": {
            "postgres": {
              "type": "object",
              "properties": {
                "url": {
                  "$ref": "#/$defs/SecretRef",
                  "description": "postgres:// connection URL."
                },
                "table": {
                  "type": "string",
                  "description": "Table name. Default `mcp_user_credentials`.",
                  "pattern": "^[a-z_][a-z0-9_]{0,47}$"
                }
              },
              "required": [
                "url"
              ],
              "additionalProperties": false
            },
            "memory": {
              "type": "object",
              "additionalProperties": false,
              "description": "Credentials kept in this process only; lost on restart."
            }
          },
          "additionalProperties": false,
          "description": "Where credentials live: exactly one of `postgres` (shared by replicas) or `memory` (`mcp-gateway dev` and single-process use only)."
        },
        "encryptionKey": {
          "$ref": "#/$defs/SecretRef",
          "description": "AES-256-GCM key sealing every stored token: 32 bytes as 64 hex characters or base64."
        },
        "publicUrl": {
          "type": "string",
          "description": "Base of the connect links (`https://mcp.example.com`). Default: the route's `publicUrl`, else the request's (forwarded) host."
        },
        "providers": {
          "type": "object",
          "additionalProperties": {
            "$ref": "#/$defs/CredentialProvider"
          },
          "description": "Provider name → exactly one of `oauth2` or `tokenExchange`.",
          "propertyNames": {
            "pattern": "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"
          }
        },
        "browserSignIn": {
          "$ref": "#/$defs/BrowserSignInClient",
          "description": "The gateway's own OIDC client at the sign-in IdP (the route's `mcpAuthentication.issuer`): before a connect link sends the browser to an `oauth2` provider, the browser signs in there and must be the link's user. Required when any provider is `oauth2`. Register the redirect URI `<publicUrl>/connect/_signin/callback`."
        }
      },
      "required": [
        "store",
        "encryptionKey",
        "providers"
      ],
      "additionalProperties": false,
      "description": "Extension: each user's own upstream credentials, obtained per user (OAuth through URL elicitation, or token exchange) and injected into the targets that name them."
    },
    "SecretRef": {
      "anyOf": [
        {
          "type": "object",
          "properties": {
            "value": {
              "type": "string",
              "minLength": 1
            }
          },
          "required": [
            "value"
          ],
          "additionalProperties": false
        },
        {
          "type": "object",
          "properties": {
            "env": {
              "type": "string",
              "minLength": 1
            }
          },
          "required": [
            "env"
          ],
          "additionalProperties": false
        },
        {
          "type": "object",
          "properties": {
            "file": {
              "type": "string",
              "minLength": 1
            }
          },
          "required": [
            "file"
          ],
          "additionalProperties": false
        }
      ],
      "description": "A secret given inline, from an environment variable or from a file (a mounted Secret). Exactly one."
    },
    "CredentialProvider": {
      "type": "object",
      "properties": {
        "oauth2": {
          "$ref": "#/$defs/OAuth2Provider",
          "description": "OAuth 2.0 authorization code + PKCE (S256) at a third-party provider, started through URL elicitation."
        },
        "tokenExchange": {
          "$ref": "#/$defs/TokenExchangeProvider",
          "description": "RFC 8693 token exchange of the user's token at the sign-in IdP."
        }
      },
      "additionalProperties": false,
      "description": "How one provider's credential is obtained: exactly one kind."
    },
    "OAuth2Provider": {
      "type": "object",
      "properties": {
        "authorizationUrl": {
          "type": "string",
          "minLength": 1
        },
        "tokenUrl": {
          "type": "string",
          "minLength": 1
        },
        "clientId": {
          "type": "string",
          "minLength": 1
        },
        "clientSecret": {
          "$ref": "#/$defs/SecretRef"
        },
        "scopes": {
          "type": "array",
          "items": {
            "type": "string"
          }
        }
      },
      "required": [
        "authorizationUrl",
        "tokenUrl",
        "clientId"
      ],
      "additionalProperties": false
    },
    "TokenExchangeProvider": {
      "type": "object",
      "properties": {
        "tokenUrl": {
          "type": "string",
          "description": "Default: the route issuer's `token_endpoint` (through `backchannelUrl` when set).",
          "minLength": 1
        },
        "clientId": {
          "type": "string",
          "minLength": 1
        },
        "clientSecret": {
          "$ref": "#/$defs/SecretRef"
        },
        "audience": {
          "type": "string",
          "minLength": 1
        },
        "scopes": {
          "type": "array",
          "items": {
            "type": "string"
          }
        }
      },
      "required": [
        "clientId",
        "audience"
      ],
      "additionalProperties": false
    },
    "BrowserSignInClient": {
      "type": "object",
      "properties": {
        "clientId": {
          "type": "string",
          "minLength": 1
        },
        "clientSecret": {
          "$ref": "#/$defs/SecretRef"
        }
      },
      "required": [
        "clientId"
      ],
      "additionalProperties": false,
      "description": "A confidential (or public, without `clientSecret`) OIDC client with the standard flow enabled."
    },
    "Bind": {
      "type": "object",
      "properties": {
        "port": {
          "type": "integer",
          "description": "TCP port; 0 picks a free one (tests).",
          "minimum": 0,
          "maximum": 65535
        },
        "listeners": {
          "type": "array",
          "items": {
            "$ref": "#/$defs/Listener"
          },
          "minItems": 1
        }
      },
      "required": [
        "port",
        "listeners"
      ],
      "additionalProperties": false,
      "description": "A port the gateway listens on."
    },
    "Listener": {
      "type": "object",
      "properties": {
        "name": {
          "type": "string"
        },
        "protocol": {
          "type": "string",
          "const": "HTTP",
          "description": "Only HTTP is served; TLS is terminated in front of the gateway (ingress / Gateway)."
        },
        "hostname": {
          "type": "string",
          "description": "Only requests whose Host matches (`*.example.com` allowed)."
        },
        "routes": {
          "type": "array",
          "items": {
            "$ref": "#/$defs/Route"
          },
          "minItems": 1
        }
      },
      "required": [
        "routes"
      ],
      "additionalProperties": false
    },
    "Route": {
      "type": "object",
      "properties": {
        "name": {
          "type": "string",
          "minLength": 1
        },
        "matches": {
          "type": "array",
          "items": {
            "$ref": "#/$defs/RouteMatch"
          },
          "description": "Default: `[{ path: { pathPrefix: '/' } }]`, as agentgateway.",
          "minItems": 1
        },
        "backends": {
          "type": "array",
          "items": {
            "$ref": "#/$defs/Backend"
          },
          "description": "Exactly one backend.",
          "minItems": 1,
          "maxItems": 1
        },
        "policies": {
          "$ref": "#/$defs/RoutePolicies"
        }
      },
      "required": [
        "backends"
      ],
      "additionalProperties": false
    },
    "RouteMatch": {
      "type": "object",
      "properties": {
        "path": {
          "type": "object",
          "properties": {
            "exact": {
              "type": "string",
              "pattern": "^/"
            },
            "pathPrefix": {
              "type": "string",
              "pattern": "^/"
            },
            "regex": {
              "type": "string"
            }
          },
          "additionalProperties": false,
          "description": "Exactly one of `exact`, `pathPrefix` or `regex`.",
          "minProperties": 1,
          "maxProperties": 1
        },
        "headers": {
          "type": "array",
          "items": {
            "$ref": "#/$defs/HeaderMatch"
          }
        },
        "method": {
          "type": "string",
          "minLength": 1
        }
      },
      "additionalProperties": false
    },
    "HeaderMatch": {
      "type": "object",
      "properties": {
        "name": {
          "type": "string",
          "minLength": 1
        },
        "value": {
          "type": "object",
          "properties": {
            "exact": {
              "type": "string"
            },
            "regex": {
              "type": "string"
            }
          },
          "additionalProperties": false,
          "description": "Exactly one of `exact` or `regex`.",
          "minProperties": 1,
          "maxProperties": 1
        }
      },
      "required": [
        "name",
        "value"
      ],
      "additionalProperties": false
    },
    "Backend": {
      "type": "object",
      "properties": {
        "mcp": {
          "$ref": "#/$defs/McpBackend"
        },
        "weight": {
          "type": "integer",
          "minimum": 0
        }
      },
      "required": [
        "mcp"
      ],
      "additionalProperties": false
    },
    "McpBackend": {
      "type": "object",
      "properties": {
        "name": {
          "type": "string",
          "description": "Extension: name used in logs and metrics. Default: the route name.",
          "minLength": 1
        },
        "targets": {
          "type": "array",
          "items": {
            "$ref": "#/$defs/McpTarget"
          },
          "minItems": 1
        },
        "statefulMode": {
          "$ref": "#/$defs/StatefulMode"
        },
        "prefixMode": {
          "$ref": "#/$defs/PrefixMode"
        },
        "failureMode": {
          "$ref": "#/$defs/FailureMode"
        },
        "dnsRebindingProtection": {
          "type": "boolean",
          "description": "When true, Host and Origin must be loopback names. agentgateway defaults to false; ours is on for a loopback bind (the MCP SDK's rule) and off otherwise. Origin is always checked against CORS `allowOrigins`."
        },
        "serverInfo": {
          "$ref": "#/$defs/ServerInfo"
        },
        "stdio": {
          "$ref": "#/$defs/StdioPoolSettings",
          "description": "Extension: stdio process pool of this backend."
        }
      },
      "required": [
        "targets"
      ],
      "additionalProperties": false
    },
    "McpTarget": {
      "type": "object",
      "properties": {
        "name": {
          "type": "string",
          "description": "Lower-case DNS-label-like name; `_` and `+` are reserved delimiters of prefixed names and URIs.",
          "minLength": 1,
          "maxLength": 253
        },
        "stdio": {
          "$ref": "#/$defs/StdioTarget"
        },
        "mcp": {
          "$ref": "#/$defs/HttpTarget"
        },
        "sse": {
          "$ref": "#/$defs/HttpTarget"
        },
        "policies": {
          "$ref": "#/$defs/TargetPolicies",
          "description": "Per-target policies (agentgateway: backendAuth etc.). Not allowed on stdio targets."
        },
        "credential": {
          "$ref": "#/$defs/TargetCredential",
          "description": "Extension: each user's own credential for this target (see `config.credentials`)."
        }
      },
      "required": [
        "name"
      ],
      "additionalProperties": false,
      "description": "An upstream MCP server: exactly one of `stdio`, `mcp` (Streamable HTTP) or `sse` (legacy HTTP+SSE)."
    },
    "StdioTarget": {
      "type": "object",
      "properties": {
        "cmd": {
          "type": "string",
          "minLength": 1
        },
        "args": {
          "type": "array",
          "items": {
            "type": "string"
          }
        },
        "env": {
          "type": "object",
          "additionalProperties": {
            "type": "string"
          }
        },
        "clearEnv": {
          "type": "boolean",
          "description": "Start from an empty environment instead of the gateway’s."
        },
        "cwd": {
          "type": "string",
          "description": "Extension: working directory of the child."
        },
        "pool": {
          "$ref": "#/$defs/StdioTargetPool",
          "description": "Extension: warm processes kept ready for new sessions, or one process shared by all (see upstream/POOL.md)."
        }
      },
      "required": [
        "cmd"
      ],
      "additionalProperties": false,
      "description": "A server the gateway starts as a child process and speaks to over stdin/stdout."
    },
    "StdioTargetPool": {
      "type": "object",
      "properties": {
        "size": {
          "type": "integer",
          "description": "Processes kept started and pre-initialized, ready for the next session; one is started again in the background for each one taken. 0 starts a process per session when it arrives. Default 0 (the bridge command line: 1).",
          "minimum": 0
        },
        "idleTimeout": {
          "$ref": "#/$defs/Duration",
          "description": "The spares are stopped when no session took one for this long; the next session refills the pool. Default `10m`."
        },
        "maxProcesses": {
          "type": "integer",
          "description": "Most processes of this target at once, sessions and spares together. Default: the backend's `stdio.maxProcesses`.",
          "minimum": 1
        },
        "reuse": {
          "type": "boolean",
          "description": "When a session ends, its process goes back to the pool if it carries nothing from that session (no `logging/setLevel`, subscription, roots change, server-to-client request or unanswered request). Only for servers whose tools keep no per-session state. Default false."
        },
        "shared": {
          "type": "boolean",
          "description": "One process serves every session, JSON-RPC ids remapped. Only for servers that keep no per-session state; server-to-client requests, `logging/setLevel` and subscriptions are refused. Default false."
        }
      },
      "additionalProperties": false,
      "description": "Extension: how sessions get a process of this stdio target."
    },
    "HttpTarget": {
      "type": "object",
      "properties": {
        "host": {
          "type": "string",
          "minLength": 1
        },
        "port": {
          "type": "integer",
          "minimum": 1,
          "maximum": 65535
        },
        "path": {
          "type": "string"
        }
      },
      "required": [
        "host"
      ],
      "additionalProperties": false,
      "description": "`host` as a full URL (`http://svc:3000/mcp`), or `host` + `port` + `path`. Empty path: `/mcp` (or `/sse`)."
    },
    "TargetPolicies": {
      "type": "object",
      "properties": {
        "backendAuth": {
          "type": "object",
          "properties": {
            "passthrough": {
              "type": "object",
              "additionalProperties": false,
              "description": "Forward the client's validated bearer token."
            },
            "key": {
              "type": "object",
              "properties": {
                "value": {
                  "type": "string"
                },
                "file": {
                  "type": "string"
                },
                "env": {
                  "type": "string"
                }
              },
              "additionalProperties": false,
              "description": "Static bearer credential: inline, from a file, or from an environment variable (exactly one).",
              "minProperties": 1,
              "maxProperties": 1
            }
          },
          "additionalProperties": false,
          "description": "Exactly one of `passthrough: {}`, which forwards the client's validated bearer token, and `key`, a static credential.",
          "minProperties": 1,
          "maxProperties": 1
        },
        "requestHeaderModifier": {
          "type": "object",
          "properties": {
            "set": {
              "type": "array",
              "items": {
                "$ref": "#/$defs/HeaderValue"
              }
            },
            "add": {
              "type": "array",
              "items": {
                "$ref": "#/$defs/HeaderValue"
              }
            },
            "remove": {
              "type": "array",
              "items": {
                "$ref": "#/$defs/HeaderName"
              }
            }
          },
          "additionalProperties": false
        }
      },
      "additionalProperties": false
    },
    "HeaderValue": {
      "type": "object",
      "properties": {
        "name": {
          "$ref": "#/$defs/HeaderName"
        },
        "value": {
          "type": "string",
          "description": "Header value."
        }
      },
      "required": [
        "name",
        "value"
      ],
      "additionalProperties": false
    },
    "HeaderName": {
      "type": "string",
      "description": "Header name.",
      "minLength": 1
    },
    "TargetCredential": {
      "type": "object",
      "properties": {
        "provider": {
          "type": "string",
          "description": "A key of `config.credentials.providers`."
        },
        "inject": {
          "type": "object",
          "properties": {
            "env": {
              "type": "string",
              "pattern": "^[A-Za-z_][A-Za-z0-9_]*$"
            },
            "header": {
              "type": "string",
              "pattern": "^[!#$%&'*+.^_`|~0-9A-Za-z-]+$"
            },
            "prefix": {
              "type": "string",
              "description": "Header value prefix. Default `Bearer `."
            }
          },
          "additionalProperties": false,
          "description": "Exactly one of `env` (stdio targets) or `header` (mcp, sse targets; value `Bearer <token>` unless `prefix` is given)."
        }
      },
      "required": [
        "provider",
        "inject"
      ],
      "additionalProperties": false,
      "description": "Extension: the per-user credential a target needs, and how it reaches the target."
    },
    "StatefulMode": {
      "type": "string",
      "enum": [
        "stateful",
        "stateless"
      ],
      "description": "Default `stateful`."
    },
    "PrefixMode": {
      "type": "string",
      "enum": [
        "conditional",
        "always",
        "never"
      ],
      "description": "Default `conditional`: prefix only with several targets."
    },
    "FailureMode": {
      "type": "string",
      "enum": [
        "failClosed",
        "failOpen"
      ],
      "description": "Default `failClosed`."
    },
    "ServerInfo": {
      "type": "object",
      "properties": {
        "name": {
          "type": "string",
          "minLength": 1
        },
        "version": {
          "type": "string"
        },
        "title": {
          "type": "string"
        }
      },
      "required": [
        "name"
      ],
      "additionalProperties": false,
      "description": "Extension: `serverInfo` of the merged `initialize` result (agentgateway hard-codes \"agentgateway\", issue #2564)."
    },
    "StdioPoolSettings": {
      "type": "object",
      "properties": {
        "maxProcesses": {
          "type": "integer",
          "description": "Most live stdio processes for this backend; the next session gets a clear error. Default 64.",
          "minimum": 1
        },
        "idleTimeout": {
          "$ref": "#/$defs/Duration",
          "description": "A process without a session for this long is stopped. Default `10m`."
        },
        "maxRestartsPerMinute": {
          "type": "integer",
          "description": "Crash-loop guard: a crashing process is restarted at most this many times per minute before its target is failed. Default 5.",
          "minimum": 0
        },
        "maxProcessesPerSubject": {
          "type": "integer",
          "description": "Extension: most processes one subject's sessions hold on this backend. Default half of `maxProcesses` (rounded up).",
          "minimum": 1
        },
        "maxMessageBytes": {
          "type": "integer",
          "description": "Extension: largest message (one stdout line) accepted from a stdio server; a larger answer becomes a JSON-RPC error. Default 16 MiB.",
          "minimum": 1
        },
        "warmup": {
          "type": "boolean",
          "description": "Extension: at start-up, run each stdio target of this backend once (`initialize`, then `notifications/initialized`, then stop it) and answer `/readyz` 503 until that succeeded, so package downloads (`npx`, `uvx`) happen before a readiness or startup probe lets clients in. A target that cannot start keeps the gateway unready. Default false; the bridge command line turns it on."
        }
      },
      "additionalProperties": false,
      "description": "Extension: stdio process pool of this backend."
    },
    "RoutePolicies": {
      "type": "object",
      "properties": {
        "cors": {
          "$ref": "#/$defs/CorsPolicy"
        },
        "mcpAuthentication": {
          "$ref": "#/$defs/McpAuthentication"
        },
        "mcpAuthorization": {
          "$ref": "#/$defs/McpAuthorization"
        },
        "localRateLimit": {
          "type": "array",
          "items": {
            "$ref": "#/$defs/LocalRateLimit"
          },
          "description": "agentgateway's token buckets; every bucket must have a token left for a request to pass."
        }
      },
      "additionalProperties": false
    },
    "CorsPolicy": {
      "type": "object",
      "properties": {
        "allowOrigins": {
          "type": "array",
          "items": {
            "type": "string"
          },
          "description": "Origins allowed; `*` for any."
        },
        "allowHeaders": {
          "type": "array",
          "items": {
            "type": "string"
          }
        },
        "allowMethods": {
          "type": "array",
          "items": {
            "type": "string"
          }
        },
        "exposeHeaders": {
          "type": "array",
          "items": {
            "type": "string"
          }
        },
        "allowCredentials": {
          "type": "boolean"
        },
        "maxAge": {
          "anyOf": [
            {
              "$ref": "#/$defs/Seconds"
            },
            {
              "$ref": "#/$defs/Duration"
            }
          ],
          "description": "Seconds, or a duration string."
        }
      },
      "additionalProperties": false
    },
    "Seconds": {
      "type": "integer",
      "description": "Whole seconds.",
      "minimum": 0
    },
    "McpAuthentication": {
      "type": "object",
      "properties": {
        "issuer": {
          "type": "string",
          "description": "Expected `iss` of tokens.",
          "minLength": 1
        },
        "audiences": {
          "type": "array",
          "items": {
            "type": "string"
          },
          "description": "Accepted `aud` values (agentgateway ≥ 0.11); the singular `audience` of 0.10 is accepted as well."
        },
        "audience": {
          "type": "string",
          "description": "agentgateway 0.10 spelling of a single audience."
        },
        "jwks": {
          "anyOf": [
            {
              "type": "string"
            },
            {
              "$ref": "#/$defs/JwksSource"
            }
          ],
          "description": "Key set: `{ url }`, `{ file }` or an inline JWKS JSON string. Default derived from issuer and provider."
        },
        "jwksUrl": {
          "type": "string",
          "description": "agentgateway 0.10 spelling of `jwks.url`."
        },
        "provider": {
          "$ref": "#/$defs/AuthProvider"
        },
        "mode": {
          "type": "string",
          "enum": [
            "strict",
            "optional",
            "permissive"
          ],
          "description": "Default `strict`."
        },
        "resourceMetadata": {
          "type": "object",
          "additionalProperties": {},
          "description": "RFC 9728 protected-resource metadata fields in camelCase (`resource`, `scopesSupported`, `bearerMethodsSupported`, ...)."
        },
        "clientId": {
          "type": "string",
          "description": "When set, the gateway answers dynamic client registration itself with this client id."
        },
        "jwtValidationOptions": {
          "type": "object",
          "properties": {
            "requiredClaims": {
              "type": "array",
              "items": {
                "$ref": "#/$defs/JwtClaim"
              }
            }
          },
          "additionalProperties": false
        },
        "algorithms": {
          "type": "array",
          "items": {
            "type": "string"
          },
          "description": "Extension: accepted signing algorithms. Default RS256, RS384, RS512, PS256, ES256, ES384, EdDSA (never `none`/HS*)."
        },
        "clockSkew": {
          "$ref": "#/$defs/Duration",
          "description": "Extension: clock skew tolerance. Default `30s`."
        },
        "publicUrl": {
          "type": "string",
          "description": "Extension: public base URL (`https://mcp.example.com`) when `X-Forwarded-*` cannot be trusted."
        },
        "requiredScopes": {
          "type": "array",
          "items": {
            "type": "string"
          },
          "description": "Extension: scopes demanded in the 401 challenge; a token lacking any gets 403 `insufficient_scope`."
        },
        "toolScopes": {
          "type": "object",
          "additionalProperties": {
            "$ref": "#/$defs/ScopeList"
          },
          "description": "Extension: scopes a `tools/call` of a tool (keyed by the name clients call) needs; a token lacking any gets 403 `insufficient_scope` naming them, so the client can step up (MCP 2025-11-25)."
        },
        "backchannelUrl": {
          "type": "string",
          "description": "Extension: the issuer's URL as the gateway reaches it, e.g. the in-cluster Service `http://keycloak.auth.svc:8080/realms/mcp`. Discovery, JWKS and client registration use it; tokens are still checked against `issuer`, and clients still see only public URLs."
        }
      },
      "required": [
        "issuer"
      ],
      "additionalProperties": false
    },
    "JwksSource": {
      "type": "object",
      "properties": {
        "url": {
          "type": "string"
        },
        "file": {
          "type": "string"
        }
      },
      "additionalProperties": false,
      "description": "Where the key set is: exactly one of `url` and `file`.",
      "minProperties": 1,
      "maxProperties": 1
    },
    "AuthProvider": {
      "anyOf": [
        {
          "type": "object",
          "properties": {
            "keycloak": {
              "type": "object",
              "additionalProperties": false
            }
          },
          "required": [
            "keycloak"
          ],
          "additionalProperties": false
        },
        {
          "type": "object",
          "properties": {
            "auth0": {
              "type": "object",
              "additionalProperties": false
            }
          },
          "required": [
            "auth0"
          ],
          "additionalProperties": false
        },
        {
          "type": "object",
          "properties": {
            "okta": {
              "type": "object",
              "additionalProperties": false
            }
          },
          "required": [
            "okta"
          ],
          "additionalProperties": false
        }
      ],
      "description": "Exactly one identity provider whose conventions the gateway follows."
    },
    "JwtClaim": {
      "type": "string",
      "enum": [
        "exp",
        "nbf",
        "aud",
        "iss",
        "sub"
      ],
      "description": "A claim a token must carry (agentgateway's `jwtValidationOptions.requiredClaims`)."
    },
    "ScopeList": {
      "type": "array",
      "items": {
        "type": "string"
      },
      "description": "OAuth scopes, at least one.",
      "minItems": 1
    },
    "McpAuthorization": {
      "type": "object",
      "properties": {
        "rules": {
          "type": "array",
          "items": {
            "$ref": "#/$defs/AuthorizationRule"
          }
        }
      },
      "required": [
        "rules"
      ],
      "additionalProperties": false
    },
    "AuthorizationRule": {
      "anyOf": [
        {
          "$ref": "#/$defs/CelExpression"
        },
        {
          "type": "object",
          "properties": {
            "allow": {
              "$ref": "#/$defs/CelExpression"
            }
          },
          "required": [
            "allow"
          ],
          "additionalProperties": false
        },
        {
          "type": "object",
          "properties": {
            "deny": {
              "$ref": "#/$defs/CelExpression"
            }
          },
          "required": [
            "deny"
          ],
          "additionalProperties": false
        },
        {
          "type": "object",
          "properties": {
            "require": {
              "$ref": "#/$defs/CelExpression"
            }
          },
          "required": [
            "require"
          ],
          "additionalProperties": false
        }
      ],
      "description": "A CEL rule: a plain string is an `allow` rule (as agentgateway writes it), else `{ allow }`, `{ deny }` or `{ require }`."
    },
    "CelExpression": {
      "type": "string",
      "description": "A CEL expression over `mcp.*` and `jwt.*`.",
      "minLength": 1
    },
    "LocalRateLimit": {
      "type": "object",
      "properties": {
        "maxTokens": {
          "type": "integer",
          "description": "Bucket size.",
          "minimum": 1
        },
        "tokensPerFill": {
          "type": "integer",
          "description": "Tokens added every `fillInterval`. Default 1.",
          "minimum": 1
        },
        "fillInterval": {
          "$ref": "#/$defs/Duration",
          "description": "How often the bucket is refilled, e.g. `1s`."
        },
        "type": {
          "type": "string",
          "const": "requests",
          "description": "Only `requests` (agentgateway's `tokens` counts LLM tokens, which MCP has none of). Default `requests`."
        },
        "per": {
          "type": "string",
          "enum": [
            "route",
            "subject",
            "tool"
          ],
          "description": "Extension: whose bucket. `route` (agentgateway's meaning, the default): one for the route; `subject`: one per subject (token `sub`, or the client address without auth); `tool`: one per subject and tool, taken by `tools/call` only."
        }
      },
      "required": [
        "maxTokens",
        "fillInterval"
      ],
      "additionalProperties": false,
      "description": "agentgateway's `localRateLimit` bucket. A bucket holds up to `maxTokens`, gets `tokensPerFill` back every `fillInterval`, and each request takes one."
    },
    "SimpleMcpConfig": {
      "type": "object",
      "properties": {
        "port": {
          "type": "integer",
          "description": "Default 3000.",
          "minimum": 0,
          "maximum": 65535
        },
        "targets": {
          "type": "array",
          "items": {
            "$ref": "#/$defs/McpTarget"
          },
          "minItems": 1
        },
        "policies": {
          "$ref": "#/$defs/RoutePolicies"
        },
        "statefulMode": {
          "$ref": "#/$defs/StatefulMode"
        },
        "prefixMode": {
          "$ref": "#/$defs/PrefixMode"
        },
        "failureMode": {
          "$ref": "#/$defs/FailureMode"
        },
        "serverInfo": {
          "$ref": "#/$defs/ServerInfo"
        }
      },
      "required": [
        "targets"
      ],
      "additionalProperties": false,
      "description": "Shorthand: one route on path prefixes `/mcp`, `/sse` and `/.well-known` serving all targets as one server."
    }
  }
} as const;
