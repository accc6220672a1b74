import { McpProtocol } from './mcp-target';

/** Options for the HTTP-based transports of `McpServerTransport`. */
export interface McpServerHttpTransportOptions {
  /**
   * Path of the MCP endpoint the server serves.
   * @default "/mcp" for Streamable HTTP, "/sse" for SSE
   */
  readonly path?: string;
}

/**
 * How an MCP server container speaks MCP.
 *
 * - `stdio()`: the server reads JSON-RPC on stdin. `McpServer` runs it behind the cdk8s-mcp bridge,
 *   which serves it as Streamable HTTP at `/mcp` (and legacy SSE at `/sse`) on the server port.
 * - `streamableHttp()`: the server listens on the port itself (MCP 2025-03-26 and later).
 * - `sse()`: the server listens on the port with the legacy HTTP+SSE transport (MCP 2024-11-05).
 */
export class McpServerTransport {
  /** The server speaks stdio; it is bridged to Streamable HTTP at `/mcp` inside the pod. */
  public static stdio(): McpServerTransport {
    return new McpServerTransport(true, McpProtocol.STREAMABLE_HTTP, '/mcp');
  }

  /** The server serves Streamable HTTP itself. */
  public static streamableHttp(options: McpServerHttpTransportOptions = {}): McpServerTransport {
    return new McpServerTransport(false, McpProtocol.STREAMABLE_HTTP, options.path ?? '/mcp');
  }

  /** The server serves the legacy HTTP+SSE transport itself. */
  public static sse(options: McpServerHttpTransportOptions = {}): McpServerTransport {
    return new McpServerTransport(false, McpProtocol.SSE, options.path ?? '/sse');
  }

  /**
   * @param stdio whether the server speaks stdio and needs the bridge
   * @param protocol what the pod serves on the network
   * @param path path of the MCP endpoint on the network
   */
  private constructor(
    /** True when the server speaks stdio and runs behind the bridge. */
    public readonly isStdio: boolean,
    /** Protocol the pod serves on the network (stdio servers are bridged to Streamable HTTP). */
    public readonly protocol: McpProtocol,
    /** Path of the MCP endpoint on the network. */
    public readonly path: string,
  ) {}
}
