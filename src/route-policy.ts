/**
 * Where a policy is being rendered: the gateway route it is attached to.
 */
export interface McpRoutePolicyContext {
  /** Path of the MCP endpoint of the route, e.g. `/github/mcp`. */
  readonly routePath: string;
  /**
   * Public base URL of the gateway (`https://mcp.example.com`), when the gateway knows it.
   * @default - unknown; the runtime derives it from each request
   */
  readonly publicUrl?: string;
}

/**
 * A policy that attaches to a gateway route, like a Gateway API policy attaches to an HTTPRoute.
 *
 * `McpAuthPolicy` implements it; `McpGateway` merges every attached policy into the route's
 * `policies` block of the runtime configuration.
 */
export interface IMcpRoutePolicy {
  /**
   * The route policy keys this policy contributes, in the gateway configuration format
   * (agentgateway's: `mcpAuthentication`, `mcpAuthorization`, `cors`, `localRateLimit`; the runtime's
   * `RoutePolicies` type). Two policies on one route may not contribute the same key, and a key outside
   * that type fails validation.
   */
  renderRoutePolicies(context: McpRoutePolicyContext): { [key: string]: any };
}
