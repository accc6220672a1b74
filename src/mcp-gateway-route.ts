import { Duration } from 'cdk8s';
import { Construct } from 'constructs';
import type * as config from './gateway/config-contract.generated';
import { describePolicy, renderCors, routeNameFromPath } from './mcp-gateway-render';
import type { IMcpTarget } from './mcp-target';
import type { IMcpRoutePolicy } from './route-policy';

/**
 * How tool and prompt names (and resource URIs) of federated targets are prefixed with the target name.
 * @see https://agentgateway.dev/docs/mcp/connect/multiplex/
 */
export enum McpPrefixMode {
  /** Prefix only when the route federates more than one target (agentgateway's default). */
  CONDITIONAL = 'conditional',
  /** Always prefix, so adding a second target later does not rename every tool. */
  ALWAYS = 'always',
  /** Never prefix; a call is routed to the one target that lists the name. */
  NEVER = 'never',
}

/** What a route does when one of its targets fails. */
export enum McpFailureMode {
  /** A failing target fails the request (agentgateway's default). */
  FAIL_CLOSED = 'failClosed',
  /** Failing targets are skipped while at least one target answers. */
  FAIL_OPEN = 'failOpen',
}

/** Whether the route keeps MCP sessions (`Mcp-Session-Id`). */
export enum McpStatefulMode {
  /** Sessions with one upstream connection per target (agentgateway's default). */
  STATEFUL = 'stateful',
  /** No sessions: every request is served on its own; GET and DELETE answer 405. */
  STATELESS = 'stateless',
}

/**
 * Cross-origin access for browser-based MCP clients.
 *
 * The MCP headers (`mcp-protocol-version`, `mcp-session-id`, `content-type`, `authorization`,
 * `last-event-id`) are always allowed and `mcp-session-id` is always exposed, because a browser client
 * cannot speak Streamable HTTP without them.
 */
export interface McpCorsOptions {
  /**
   * Origins allowed to call the route, e.g. `https://inspector.example.com`, or `*`.
   * @example ['https://claude.ai']
   */
  readonly allowOrigins: string[];
  /**
   * Request headers allowed in addition to the MCP headers.
   * @default - only the MCP headers
   */
  readonly allowHeaders?: string[];
  /**
   * Methods allowed.
   * @default ['GET', 'POST', 'DELETE', 'OPTIONS']
   */
  readonly allowMethods?: string[];
  /**
   * Response headers exposed in addition to `mcp-session-id`.
   * @default - only `mcp-session-id`
   */
  readonly exposeHeaders?: string[];
  /**
   * Whether browsers may send credentials (cookies) with cross-origin requests.
   * @default false
   */
  readonly allowCredentials?: boolean;
  /**
   * How long browsers may cache a preflight answer.
   * @default - the runtime's default
   */
  readonly maxAge?: Duration;
}

/**
 * One MCP endpoint of a gateway: a path that federates one or more targets into a single MCP server.
 */
export interface McpGatewayRouteOptions {
  /**
   * Path of the MCP endpoint, matched exactly.
   * @example '/github/mcp'
   */
  readonly path: string;
  /**
   * Servers federated behind the endpoint. More can be added with `McpGatewayRoute.addTarget`.
   */
  readonly targets: IMcpTarget[];
  /**
   * Policies attached to the route (sign-in, authorization). More can be added with `addPolicy`.
   * @default - none: anyone who reaches the gateway may use the route
   */
  readonly policies?: IMcpRoutePolicy[];
  /**
   * Name of the route in the gateway configuration, logs and metrics (a DNS-1123 label).
   * @default - derived from `path`, e.g. `github-mcp` for `/github/mcp`
   */
  readonly name?: string;
  /**
   * `serverInfo.name` of the merged `initialize` result, the name clients show for the server.
   * @default - the route name
   */
  readonly serverName?: string;
  /**
   * How names of federated targets are prefixed.
   * @default McpPrefixMode.CONDITIONAL
   */
  readonly prefixMode?: McpPrefixMode;
  /**
   * What happens when a target fails.
   * @default McpFailureMode.FAIL_CLOSED
   */
  readonly failureMode?: McpFailureMode;
  /**
   * Whether the route keeps sessions.
   * @default McpStatefulMode.STATEFUL
   */
  readonly statefulMode?: McpStatefulMode;
  /**
   * Cross-origin access for browser-based clients.
   * @default - no CORS headers: browsers on other origins cannot call the route
   */
  readonly cors?: McpCorsOptions;
  /**
   * How long one request may take through a Gateway API exposure (the HTTPRoute's `timeouts.request` and
   * `timeouts.backendRequest`). MCP keeps SSE streams open for a session's notifications and tool calls can
   * run for minutes, while implementations otherwise apply their own default (Envoy Gateway: 15 seconds).
   * `Duration.seconds(0)` disables the timeout. Ingress controllers take their timeouts from annotations
   * (`McpGatewayIngressOptions.annotations`).
   * @default Duration.hours(1)
   */
  readonly timeout?: Duration;
}

/**
 * A route of an `McpGateway`; create it with `McpGateway.addRoute` or the `routes` prop.
 */
export class McpGatewayRoute extends Construct {
  /** Path of the MCP endpoint. */
  public readonly path: string;
  /** Name of the route in the gateway configuration. */
  public readonly routeName: string;
  /** `serverInfo.name` clients see. */
  public readonly serverName: string;
  /**
   * How names are prefixed.
   * @default - not set: the gateway's default, `McpPrefixMode.CONDITIONAL`
   */
  public readonly prefixMode?: McpPrefixMode;
  /**
   * Failure handling.
   * @default - not set: the gateway's default, `McpFailureMode.FAIL_CLOSED`
   */
  public readonly failureMode?: McpFailureMode;
  /**
   * Session handling.
   * @default - not set: the gateway's default, `McpStatefulMode.STATEFUL`
   */
  public readonly statefulMode?: McpStatefulMode;
  /**
   * CORS settings.
   * @default - no CORS headers
   */
  public readonly cors?: McpCorsOptions;
  /** Request timeout of the route's HTTPRoute (`0` disables it). */
  public readonly timeout: Duration;
  private readonly _targets: IMcpTarget[];
  private readonly _policies: IMcpRoutePolicy[];
  private readonly serverNameSet: boolean;

  /** Called by the gateway when a policy is attached, so controller resources can follow. @internal */
  public _onPolicyAdded?: () => void;

  /** Called by the gateway when a target is added, so the target lets the gateway in. @internal */
  public _onTargetAdded?: (target: IMcpTarget) => void;

  /**
   * Creates a route for `McpGateway.addRoute`, the only way a route is rendered.
   * @internal
   */
  public static _create(scope: Construct, id: string, options: McpGatewayRouteOptions): McpGatewayRoute {
    McpGatewayRoute.creating = true;
    try {
      return new McpGatewayRoute(scope, id, options);
    } finally {
      McpGatewayRoute.creating = false;
    }
  }

  private static creating = false;

  /**
   * Routes are created by their gateway: use `McpGateway.addRoute` or the `routes` prop. A route made
   * with `new` would belong to no gateway and render nothing, so the constructor refuses.
   * @internal
   */
  constructor(scope: Construct, id: string, options: McpGatewayRouteOptions) {
    super(scope, id);
    if (!McpGatewayRoute.creating) {
      throw new Error(
        `McpGatewayRoute ${this.node.path}: cannot be created with new, because a route belongs to a gateway and would otherwise be left out of `
          + 'every manifest. ' +
          `Call gateway.addRoute({ path: ${JSON.stringify(options?.path ?? '/mcp')}, targets: [...] }), or pass it in the routes prop of new `
            + 'McpGateway(...).',
      );
    }
    this.path = options.path;
    this.routeName = options.name ?? routeNameFromPath(options.path);
    this.serverName = options.serverName ?? this.routeName;
    this.serverNameSet = options.serverName !== undefined;
    this.prefixMode = options.prefixMode;
    this.failureMode = options.failureMode;
    this.statefulMode = options.statefulMode;
    this.cors = options.cors;
    this.timeout = options.timeout ?? Duration.hours(1);
    this._targets = [...(options.targets ?? [])];
    this._policies = [...(options.policies ?? [])];
  }

  /** Servers federated behind this route. */
  public get targets(): IMcpTarget[] {
    return [...this._targets];
  }

  /** Policies attached to this route. */
  public get policies(): IMcpRoutePolicy[] {
    return [...this._policies];
  }

  /** Whether `serverName` was chosen explicitly rather than defaulted. @internal */
  public get _serverNameSet(): boolean {
    return this.serverNameSet;
  }

  /** Federates one more server behind this route. */
  public addTarget(target: IMcpTarget): void {
    this._targets.push(target);
    this._onTargetAdded?.(target);
  }

  /** Attaches a policy (e.g. an `McpAuthPolicy`) to this route. */
  public addPolicy(policy: IMcpRoutePolicy): void {
    this._policies.push(policy);
    this._onPolicyAdded?.();
  }

  /**
   * Renders the route's `policies` block: the keys of every attached policy plus `cors`, and a
   * `[problem, fix]` for every key two sources contribute and every policy that failed to render.
   * @internal
   */
  public _renderPolicies(publicUrl: string | undefined): { policies: config.RoutePolicies; problems: Array<[string, string]> } {
    const policies: { [key: string]: unknown } = {};
    const sources: { [key: string]: string } = {};
    const problems: Array<[string, string]> = [];
    const contribute = (source: string, keys: { [key: string]: unknown }) => {
      for (const [key, value] of Object.entries(keys)) {
        if (value === undefined) continue;
        if (!Object.keys(ROUTE_POLICY_KEYS).includes(key)) {
          problems.push([`unknown key: ${source} contributes the route policy "${key}", which the gateway configuration has no place for`,
            `Contribute only ${Object.keys(ROUTE_POLICY_KEYS).join(', ')}.`]);
          continue;
        }
        if (key in sources) {
          problems.push([
            `conflict: both ${sources[key]} and ${source} set the route policy "${key}"`,
            'Attach only one of them, or merge their settings into one policy.',
          ]);
          continue;
        }
        sources[key] = source;
        policies[key] = value;
      }
    };
    if (this.cors) {
      contribute('the route\'s cors option', { cors: renderCors(this.cors) });
    }
    this._policies.forEach((policy, index) => {
      const source = describePolicy(policy, index);
      let rendered: { [key: string]: unknown };
      try {
        rendered = policy.renderRoutePolicies({ routePath: this.path, publicUrl });
      } catch (error) {
        // Reported with the other validation errors instead of aborting validation at the first policy.
        problems.push([`failed: ${source} could not be rendered: ${(error as Error).message.replace(/\.$/, '')}`, 'Fix what that message names.']);
        return;
      }
      contribute(source, rendered);
    });
    // Only the keys were checked: the values of a policy implemented outside this library are its own contract.
    return { policies: policies as config.RoutePolicies, problems };
  }
}

/** Every key of the runtime's route `policies`; tsc fails when the contract gains or loses one. */
const ROUTE_POLICY_KEYS: { readonly [key in keyof Required<config.RoutePolicies>]: true } = {
  cors: true,
  mcpAuthentication: true,
  mcpAuthorization: true,
  localRateLimit: true,
};
