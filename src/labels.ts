/*
 * The label scheme every construct of this library follows, kept in one place so McpServer, McpGateway
 * and KeycloakRealm cannot drift apart. Internal: not exported from the package index.
 *
 * - Kubernetes' recommended labels (`app.kubernetes.io/name`, `instance`, `component`, `part-of`,
 *   `managed-by`, `version`) on every object and every pod template.
 * - One domain, `mcp.cdk8s.io/`, for this library's own labels and annotations. Keys in other domains
 *   are other projects' contracts (e.g. agentgateway's `agentgateway.dev/mcp-path` Service annotation and
 *   `agentgateway.dev/mcp` appProtocol) and keep their spelling.
 */
import { ApiObject } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import type { IConstruct } from 'constructs';

/** This library's label and annotation domain. */
export const LABEL_DOMAIN = 'mcp.cdk8s.io';
export const LABEL_NAME = 'app.kubernetes.io/name';
export const LABEL_INSTANCE = 'app.kubernetes.io/instance';
export const LABEL_COMPONENT = 'app.kubernetes.io/component';
export const LABEL_PART_OF = 'app.kubernetes.io/part-of';
export const LABEL_MANAGED_BY = 'app.kubernetes.io/managed-by';
export const LABEL_VERSION = 'app.kubernetes.io/version';
/** `app.kubernetes.io/part-of` of every object: the system the pieces form together. */
export const PART_OF = 'cdk8s-mcp';
/** `app.kubernetes.io/managed-by`: the tool that renders and applies the manifests. */
export const MANAGED_BY = 'cdk8s';
/** Label put on pods by Gateway API implementations that deploy a proxy per Gateway (GEP-1762). */
export const GATEWAY_NAME_LABEL = 'gateway.networking.k8s.io/gateway-name';

/** The recommended labels of one application instance. */
export interface RecommendedLabels {
  /** `app.kubernetes.io/name`, e.g. `mcp-gateway`, `keycloak`, or the MCP server's target name. */
  readonly name: string;
  /** `app.kubernetes.io/instance`: unique per deployed instance, e.g. the Service name. */
  readonly instance: string;
  /** `app.kubernetes.io/component`, e.g. `mcp-server`, `gateway`, `identity-provider`, `database`. */
  readonly component: string;
  /** `app.kubernetes.io/version`: the image tag or package version (sanitized to a label value). */
  readonly version?: string;
}

/** The full label set, ready for `metadata.labels`. */
export function recommendedLabels(labels: RecommendedLabels): { [key: string]: string } {
  const version = labels.version === undefined ? undefined : labelValue(labels.version);
  return {
    [LABEL_NAME]: labelValue(labels.name) ?? 'unknown',
    [LABEL_INSTANCE]: labelValue(labels.instance) ?? 'unknown',
    [LABEL_COMPONENT]: labels.component,
    [LABEL_PART_OF]: PART_OF,
    [LABEL_MANAGED_BY]: MANAGED_BY,
    ...(version ? { [LABEL_VERSION]: version } : {}),
  };
}

/**
 * The version an image reference names: its tag, else the first 12 hex digits of its digest.
 * `undefined` when the image names neither (the registry's `latest`).
 */
export function imageVersion(image: string): string | undefined {
  const [reference, digest] = image.split('@');
  const lastSegment = reference.slice(reference.lastIndexOf('/') + 1);
  const colon = lastSegment.lastIndexOf(':');
  if (colon >= 0) return lastSegment.slice(colon + 1);
  if (digest) return digest.replace(/^[a-z0-9]+:/, '').slice(0, 12);
  return undefined;
}

/**
 * A string made into a label value (at most 63 characters of `[A-Za-z0-9._-]`, starting and ending
 * alphanumeric), or `undefined` when nothing usable is left.
 */
export function labelValue(value: string): string | undefined {
  const cleaned = value.replace(/[^A-Za-z0-9._-]/g, '-').slice(0, 63).replace(/^[^A-Za-z0-9]+|[^A-Za-z0-9]+$/g, '');
  return cleaned === '' ? undefined : cleaned;
}

/**
 * Puts `labels` on every API object under `scope` (and on the pod templates of its workloads), without
 * overriding a label an object already carries. Objects can be added until synthesis (routes, policies),
 * so constructs call this from a validation hook, which cdk8s runs right before rendering.
 */
export function labelTree(scope: IConstruct, labels: { [key: string]: string }): void {
  for (const child of scope.node.findAll()) {
    if (child instanceof ApiObject) {
      addMissing(child.metadata, labels);
    }
    if (child instanceof kplus.Deployment || child instanceof kplus.StatefulSet) {
      addMissing(child.podMetadata, labels);
    }
  }
}

function addMissing(
  metadata: { getLabel(key: string): string | undefined; addLabel(key: string, value: string): void },
  labels: { [key: string]: string },
): void {
  for (const [key, value] of Object.entries(labels)) {
    if (metadata.getLabel(key) === undefined) metadata.addLabel(key, value);
  }
}
