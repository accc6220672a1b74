import { AGENTGATEWAY_CONTROLLER } from './gateway/agentgateway';
import type { McpRouteController } from './gateway/controller';
import { KGATEWAY_V2_1_CONTROLLER } from './gateway/kgateway';

/**
 * What serves the MCP routes of an `McpGateway`.
 *
 * - `RUNTIME` deploys this project's gateway (`@cdk8s-mcp/gateway`) and renders its configuration; every
 *   feature of this library works with it.
 * - `AGENTGATEWAY` and `KGATEWAY_V2_1` deploy nothing: they emit the custom resources of a controller the
 *   cluster already runs, which then programs its own proxy. Features those resources cannot express
 *   fail synthesis with a message saying so.
 */
export class McpGatewayImplementation {
  /** This project's gateway runtime: a Deployment, Service and ConfigMap (the default). */
  public static readonly RUNTIME = new McpGatewayImplementation('runtime', undefined);

  /**
   * agentgateway's Kubernetes controller (`agentgateway.dev/v1alpha1`): an `AgentgatewayBackend` per route,
   * an `HTTPRoute` to it and, for attached policies, an `AgentgatewayPolicy`.
   * Needs Gateway API exposure whose Gateway uses an agentgateway GatewayClass.
   * @see https://agentgateway.dev/docs/kubernetes/latest/mcp/
   */
  public static readonly AGENTGATEWAY = new McpGatewayImplementation('agentgateway', AGENTGATEWAY_CONTROLLER);

  /**
   * kgateway v2.1 with agentgateway enabled: a `gateway.kgateway.dev/v1alpha1` `Backend` of type `MCP`
   * per route and an `HTTPRoute` to it. kgateway 2.2 moved these resources to `agentgateway.dev`
   * (use `AGENTGATEWAY`) and 2.3 removed them. This flavour has no session, prefix or failure settings
   * and no MCP sign-in.
   * @see https://kgateway.dev/docs/agentgateway/latest/mcp/
   */
  public static readonly KGATEWAY_V2_1 = new McpGatewayImplementation('kgateway-v2.1', KGATEWAY_V2_1_CONTROLLER);

  /** Identifier used in messages, e.g. `agentgateway`. */
  public readonly name: string;

  /**
   * How the controller renders and validates a route; undefined for the runtime, which the gateway configures
   * through its ConfigMap.
   * @internal
   */
  public readonly _controller?: McpRouteController;

  private constructor(name: string, controller: McpRouteController | undefined) {
    this.name = name;
    this._controller = controller;
  }
}
