import type { UserCredential } from './user-credential';

/**
 * The wire protocol a gateway uses to reach an MCP server over the network.
 */
export enum McpProtocol {
  /** Streamable HTTP (MCP 2025-03-26 and later). */
  STREAMABLE_HTTP = 'StreamableHTTP',
  /** The legacy HTTP+SSE transport (MCP 2024-11-05). */
  SSE = 'SSE',
}

/**
 * Something a gateway can route MCP traffic to: an `McpServer` deployed by this library, or a
 * server reachable at a URL (`McpTarget.fromUrl`).
 *
 * Gateways read only these fields, so any construct that deploys an MCP server can implement it.
 */
export interface IMcpTarget {
  /**
   * Name of the target inside a gateway route: tool and prompt names are prefixed with
   * `<targetName>_` and resource URIs with `<targetName>+` when a route federates several targets.
   * A DNS-1123 label (no `_` or `+`).
   */
  readonly targetName: string;
  /** Protocol the server speaks on the network. */
  readonly protocol: McpProtocol;
  /** Full URL of the MCP endpoint, e.g. `http://github.tools.svc.cluster.local:3000/mcp`. */
  readonly url: string;
  /** Host part of `url` (a Service DNS name for in-cluster servers). */
  readonly host: string;
  /** Port part of `url`. */
  readonly port: number;
  /** Path part of `url`, e.g. `/mcp`. */
  readonly path: string;
  /**
   * Kubernetes Service that fronts the server, when it runs in the cluster.
   * Gateway API and agentgateway resources reference it by name.
   * @default - not a Kubernetes Service (an external URL)
   */
  readonly serviceName?: string;
  /**
   * Namespace of `serviceName`.
   * @default - unknown; gateways assume their own namespace
   */
  readonly serviceNamespace?: string;
  /**
   * The credential each user needs at this server, which gateways obtain, keep and inject per user.
   * @default - none: the gateway sends requests without a user credential
   */
  readonly userCredential?: UserCredential;
}

/** Options for `McpTarget.fromUrl`. */
export interface McpTargetFromUrlOptions {
  /**
   * Protocol the server speaks.
   * @default McpProtocol.STREAMABLE_HTTP
   */
  readonly protocol?: McpProtocol;
  /**
   * The credential each user needs at this server, e.g. `UserCredential.oauth2({ provider: OAuthProvider.github({...}) })`.
   * @default - none
   */
  readonly userCredential?: UserCredential;
}

/**
 * Factories for targets that this library does not deploy.
 */
export class McpTarget {
  /**
   * A server reachable at a URL, inside or outside the cluster.
   *
   * @param targetName name of the target in gateway routes (DNS-1123 label)
   * @param url the MCP endpoint, e.g. `https://mcp.example.com/mcp`
   * @example McpTarget.fromUrl('docs', 'https://mcp.deepwiki.com/mcp')
   */
  public static fromUrl(targetName: string, url: string, options: McpTargetFromUrlOptions = {}): IMcpTarget {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new Error(`McpTarget.fromUrl(${JSON.stringify(targetName)}): url ${JSON.stringify(url)} is not an absolute URL. Pass e.g. "http://host:3000/mcp".`);
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
      throw new Error(
        `McpTarget.fromUrl(${JSON.stringify(targetName)}): url ${JSON.stringify(url)} uses ${parsed.protocol}, not http: or https:. Pass the `
          + 'server\'s http(s) MCP endpoint.',
      );
    }
    const defaultPort = parsed.protocol === 'https:' ? 443 : 80;
    return {
      targetName,
      protocol: options.protocol ?? McpProtocol.STREAMABLE_HTTP,
      url: parsed.toString(),
      host: parsed.hostname,
      port: parsed.port ? Number(parsed.port) : defaultPort,
      path: parsed.pathname,
      userCredential: options.userCredential,
    };
  }

  private constructor() {}
}
