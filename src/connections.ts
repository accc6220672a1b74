import * as kplus from 'cdk8s-plus-28';
import { Construct } from 'constructs';

/** Options of `McpConnections.allowFrom`. */
export interface McpAllowFromOptions {
  /**
   * Ports the peer may connect to.
   * @default - the port clients use (the MCP port of a server, the `http` port of the gateway and of Keycloak)
   */
  readonly ports?: kplus.NetworkPolicyPort[];
}

/** How a construct that isolates its pods sets up its `McpConnections`. */
export interface McpConnectionsProps {
  /** The pods this isolates (unused when `enabled` is false). */
  readonly selector?: kplus.IPodSelector;
  /** Ports `allowFrom` opens when none are given. */
  readonly defaultPorts: kplus.NetworkPolicyPort[];
  /** False when the owner opted out of isolation: nothing is emitted and `allowFrom` records nothing. */
  readonly enabled: boolean;
}

/**
 * Who may open connections to the pods of an `McpServer`, `McpGateway` or `KeycloakRealm`, in the manner
 * of cdk8s-plus' `PodConnections`: the pods are isolated for ingress by one `NetworkPolicy`, and every
 * `allowFrom` adds an ingress rule to it. The constructs open what they need themselves (a server to the
 * gateways that route to it, a gateway to its exposure path, Keycloak to the gateways that check its tokens
 * and to its exposure path); use `allowFrom` for anything else.
 *
 * Only ingress is restricted: the pods keep reaching DNS, Keycloak and upstream HTTP servers. Kubernetes
 * lets traffic from a pod's own node through (kubelet probes), which is how the health probes keep working
 * on the common CNIs (Calico, Cilium, the AWS VPC CNI, GKE Dataplane V2).
 *
 * @example
 * server.connections.allowFrom(kplus.Pods.select(this, 'Agents', { labels: { app: 'agent' } }));
 */
export class McpConnections extends Construct {
  /**
   * The NetworkPolicy that isolates the pods.
   * @default - none when isolation is turned off
   */
  public readonly networkPolicy?: kplus.NetworkPolicy;
  private readonly defaultPorts: kplus.NetworkPolicyPort[];
  private readonly allowed = new Set<string>();

  constructor(scope: Construct, id: string, props: McpConnectionsProps) {
    super(scope, id);
    this.defaultPorts = props.defaultPorts;
    if (props.enabled && props.selector) {
      this.networkPolicy = new kplus.NetworkPolicy(this, 'Ingress', {
        selector: props.selector,
        // Denies every connection no rule allows; rules are added by allowFrom.
        ingress: { default: kplus.NetworkPolicyTrafficDefault.DENY },
      });
    }
  }

  /** Whether the pods are isolated (a NetworkPolicy is emitted). */
  public get isolated(): boolean {
    return this.networkPolicy !== undefined;
  }

  /**
   * Allows connections from `peer` (pods, namespaces, a workload or an IP block), on `options.ports`.
   * Has no effect when isolation is turned off, since nothing is blocked then. Allowing the same peer
   * construct twice adds one rule.
   */
  public allowFrom(peer: kplus.INetworkPolicyPeer, options: McpAllowFromOptions = {}): void {
    if (!this.networkPolicy) return;
    const ports = options.ports ?? this.defaultPorts;
    const key = `${peer.node.addr}:${JSON.stringify(ports.map((port) => port._toKube()))}`;
    if (this.allowed.has(key)) return;
    this.allowed.add(key);
    this.networkPolicy.addIngressRule(peer, ports);
  }
}

/** The `connections` of a construct that has them (an `McpServer`, a `KeycloakRealm`), else undefined. */
export function connectionsOf(construct: unknown): McpConnections | undefined {
  const connections = (construct as { connections?: unknown } | undefined)?.connections;
  return connections instanceof McpConnections ? connections : undefined;
}
