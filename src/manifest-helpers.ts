/*
 * Pieces of the manifests more than one construct renders. The security contexts are the "restricted"
 * Pod Security Standard that McpServer, McpGateway and KeycloakRealm share, kept in one place so the
 * three cannot drift apart. Internal: not exported from the package index.
 */
import * as kplus from 'cdk8s-plus-28';

/** Numeric user and group a workload runs as. */
export interface RunAs {
  readonly user: number;
  readonly group: number;
}

/**
 * Container security context: non-root, no privilege escalation, every capability dropped, the runtime's
 * default seccomp profile. The root filesystem is read-only unless the image cannot run that way.
 */
export function restrictedContainerSecurityContext(runAs: RunAs, readOnlyRootFilesystem: boolean = true): kplus.ContainerSecurityContextProps {
  return {
    ensureNonRoot: true,
    user: runAs.user,
    group: runAs.group,
    privileged: false,
    allowPrivilegeEscalation: false,
    readOnlyRootFilesystem,
    capabilities: { drop: [kplus.Capability.ALL] },
    seccompProfile: { type: kplus.SeccompProfileType.RUNTIME_DEFAULT },
  };
}

/** Pod security context: non-root, with the group also owning the volumes (`fsGroup`). */
export function restrictedPodSecurityContext(runAs: RunAs): kplus.PodSecurityContextProps {
  return { ensureNonRoot: true, user: runAs.user, group: runAs.group, fsGroup: runAs.group };
}

/** A copy of `object` without its `undefined` entries, so rendered manifests carry only what was set. */
export function omitUndefined<T extends object>(object: T): T {
  return Object.fromEntries(Object.entries(object).filter(([, value]) => value !== undefined)) as T;
}

/**
 * In-cluster host name of a Service. Without a namespace the objects land wherever they are applied,
 * unknown at synth time, so the short name is used: it resolves for clients in that same namespace,
 * where guessing `default` would break every other namespace.
 */
export function serviceHost(serviceName: string, namespace: string | undefined): string {
  return namespace ? `${serviceName}.${namespace}.svc.cluster.local` : serviceName;
}
