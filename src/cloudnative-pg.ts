/*
 * A CloudNativePG `Cluster` with one application database, shared by the stores that run on one: Keycloak's
 * production database and the gateway's credential store. Internal: not exported from the index.
 */
import { ApiObject, Chart, Names, Size } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import type { Construct } from 'constructs';
import { recommendedLabels } from './labels';
import { serviceHost } from './manifest-helpers';

const CNPG_GROUP = 'postgresql.cnpg.io';

/** A PostgreSQL cluster run by the CloudNativePG operator (which must be installed in the cluster). */
export interface CloudNativePgClusterOptions {
  /**
   * PostgreSQL instances: one primary and streaming replicas the operator fails over to.
   * @default 2
   */
  readonly instances?: number;
  /**
   * Size of each instance's volume.
   * @default Size.gibibytes(10)
   */
  readonly storageSize?: Size;
  /**
   * StorageClass of the volumes.
   * @default - the cluster's default StorageClass
   */
  readonly storageClassName?: string;
  /**
   * PostgreSQL image.
   * @default - the operator's default image
   */
  readonly imageName?: string;
}

/** What a CloudNativePG database gives the workload that uses it. */
export interface CloudNativePgDatabase {
  readonly cluster: ApiObject;
  /** The read-write Service's host name: it always points at the primary. */
  readonly host: string;
  /**
   * The operator's `<cluster>-app` Secret of the database owner: keys `username`, `password`, `dbname`,
   * `host`, `port`, and `uri` (`postgresql://user:password@<cluster>-rw.<namespace>:5432/<database>`).
   */
  readonly appSecret: kplus.ISecret;
}

/**
 * Emits a `Cluster` whose `initdb` creates `database` owned by `owner`, and a `Database` that keeps them
 * declared (the operator never drops it: `databaseReclaimPolicy: retain`).
 */
export function cloudNativePgDatabase(scope: Construct, options: CloudNativePgClusterOptions,
  database: { name: string; owner: string }): CloudNativePgDatabase {
  const labels = recommendedLabels({ name: 'postgresql', instance: `${Names.toDnsLabel(scope)}-db`, component: 'database' });
  const cluster = new ApiObject(scope, 'postgres', {
    apiVersion: `${CNPG_GROUP}/v1`,
    kind: 'Cluster',
    metadata: { labels },
    spec: {
      instances: options.instances ?? 2,
      ...(options.imageName ? { imageName: options.imageName } : {}),
      // The database and its owner exist from the first start; the Database below keeps them declared.
      bootstrap: { initdb: { database: database.name, owner: database.owner } },
      storage: {
        size: `${(options.storageSize ?? Size.gibibytes(10)).toGibibytes()}Gi`,
        ...(options.storageClassName ? { storageClass: options.storageClassName } : {}),
      },
      inheritedMetadata: { labels },
    },
  });
  new ApiObject(scope, 'postgres-database', {
    apiVersion: `${CNPG_GROUP}/v1`,
    kind: 'Database',
    metadata: { labels },
    spec: { cluster: { name: cluster.name }, name: database.name, owner: database.owner, ensure: 'present', databaseReclaimPolicy: 'retain' },
  });
  return {
    cluster,
    host: serviceHost(`${cluster.name}-rw`, Chart.of(scope).namespace),
    appSecret: kplus.Secret.fromSecretName(scope, 'postgres-app-secret', `${cluster.name}-app`),
  };
}

/** Problems of the cluster options, as `[prop suffix, problem, fix]`. */
export function cloudNativePgProblems(options: CloudNativePgClusterOptions): Array<[string, string, string]> {
  const problems: Array<[string, string, string]> = [];
  const instances = options.instances;
  if (instances !== undefined && (!Number.isInteger(instances) || instances < 1)) {
    problems.push(['instances', `${instances} is not a whole number of at least 1`,
      'Use 1 for a single instance, or 2 or more for a primary with replicas.']);
  }
  return problems;
}
