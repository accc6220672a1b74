import * as kplus from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import type { CloudNativePgClusterOptions } from './cloudnative-pg';
import { cloudNativePgDatabase, cloudNativePgProblems } from './cloudnative-pg';
import type * as config from './gateway/config-contract.generated';
import { secretValueProblem } from './validation';

const DATABASE_URL_ENV = 'CREDENTIALS_DATABASE_URL';
const ENCRYPTION_KEY_ENV = 'CREDENTIALS_ENCRYPTION_KEY';
const CREATE_KEY = 'kubectl create secret generic mcp-credentials-key --from-literal=key=$(openssl rand -hex 32)';
const KEY_EXAMPLE = 'encryptionKey: { secret: kplus.Secret.fromSecretName(this, "CredentialsKey", "mcp-credentials-key"), key: "key" }';

/** What every credential store needs. */
export interface CredentialStoreOptions {
  /**
   * AES-256 key that encrypts the stored tokens (64 hex characters or 32 bytes in base64), as a key of a Secret.
   * It is never generated: cdk8s would write it into the manifests, next to the database it protects. Create it once
   * with `kubectl create secret generic mcp-credentials-key --from-literal=key=$(openssl rand -hex 32)`; losing or
   * changing it disconnects every user.
   */
  readonly encryptionKey: kplus.SecretValue;
}

/** Options of `CredentialStore.cloudNativePg`. */
export interface CredentialStoreCloudNativePgOptions extends CredentialStoreOptions, CloudNativePgClusterOptions {}

/** Options of `CredentialStore.postgres`. */
export interface CredentialStorePostgresOptions extends CredentialStoreOptions {
  /** Secret key holding the connection URL, e.g. `postgresql://user:password@postgres.db.svc:5432/mcp`. */
  readonly url: kplus.SecretValue;
  /**
   * Table of the credentials; the gateway creates it when missing.
   * @default 'mcp_user_credentials'
   */
  readonly table?: string;
}

/** What a store gives the gateway that uses it. */
export interface BoundCredentialStore {
  /** `config.credentials.store` and `encryptionKey`. */
  readonly config: Pick<config.CredentialsSettings, 'store' | 'encryptionKey'>;
  readonly env: { [name: string]: kplus.EnvValue };
}

/**
 * Where a gateway keeps each user's upstream credentials (see `UserCredential`), encrypted with a key from a
 * Secret and bound to the user's issuer and subject:
 *
 * - `cloudNativePg()`: a PostgreSQL cluster of its own run by the CloudNativePG operator, as for Keycloak;
 * - `postgres({ url })`: an existing database;
 * - `memory()`: in the gateway process; lost on restart and not shared, so a single replica only.
 */
export class CredentialStore {
  /**
   * A CloudNativePG `Cluster` and `Database` (`mcp_credentials`, owned by `mcp_gateway`); the gateway connects
   * with the `uri` of the operator's `<cluster>-app` Secret.
   */
  public static cloudNativePg(options: CredentialStoreCloudNativePgOptions): CredentialStore {
    return new CredentialStore(options, true, (scope) => {
      const database = cloudNativePgDatabase(new Construct(scope, 'CredentialStore'), options, { name: 'mcp_credentials', owner: 'mcp_gateway' });
      return { url: { secret: database.appSecret, key: 'uri' } };
    }, () => cloudNativePgProblems(options));
  }

  /** An existing PostgreSQL database, its URL in a Secret. */
  public static postgres(options: CredentialStorePostgresOptions): CredentialStore {
    return new CredentialStore(options, true, () => ({ url: options.url, table: options.table }), () => {
      const problems: Array<[string, string, string]> = [];
      const urlProblem = secretValueProblem(options.url);
      if (urlProblem) {
        problems.push(['url', urlProblem,
          'Pass url: { secret: kplus.Secret.fromSecretName(this, "CredentialsDb", "mcp-credentials-db"), key: "url" }.']);
      }
      if (options.table !== undefined && !/^[a-z_][a-z0-9_]{0,47}$/.test(options.table)) {
        problems.push(['table', `${JSON.stringify(options.table)} is not a plain lower-case SQL identifier`, 'Use e.g. "mcp_user_credentials".']);
      }
      return problems;
    });
  }

  /** In the gateway process: lost on restart, not shared between replicas (one replica only). For trying things out. */
  public static memory(options: CredentialStoreOptions): CredentialStore {
    return new CredentialStore(options, false, () => undefined, () => []);
  }

  private constructor(
    private readonly options: CredentialStoreOptions,
    /** Whether the credentials outlive the gateway's pods and are shared by its replicas (a database). */
    public readonly isShared: boolean,
    private readonly database: (scope: Construct) => { url: kplus.SecretValue; table?: string } | undefined,
    private readonly problems: () => Array<[string, string, string]>,
  ) {}

  /**
   * Emits what the store needs under `scope` and returns the config and environment of the gateway.
   * @internal
   */
  public _bind(scope: Construct): BoundCredentialStore {
    const database = this.database(scope);
    const env: { [name: string]: kplus.EnvValue } = {};
    if (this.options.encryptionKey?.secret) env[ENCRYPTION_KEY_ENV] = kplus.EnvValue.fromSecretValue(this.options.encryptionKey);
    if (database?.url?.secret) env[DATABASE_URL_ENV] = kplus.EnvValue.fromSecretValue(database.url);
    return {
      config: {
        store: database ? { postgres: { url: { env: DATABASE_URL_ENV }, ...(database.table ? { table: database.table } : {}) } } : { memory: {} },
        encryptionKey: { env: ENCRYPTION_KEY_ENV },
      },
      env,
    };
  }

  /**
   * What is wrong with the store, as `[prop, problem, fix]`.
   * @internal
   */
  public _problems(): Array<[string, string, string]> {
    const keyProblem = secretValueProblem(this.options.encryptionKey);
    return [
      ...(keyProblem ? [['encryptionKey', keyProblem, `Create the key once, \`${CREATE_KEY}\`, and pass ${KEY_EXAMPLE}.`] as [string, string,
        string]] : []),
      ...this.problems(),
    ];
  }
}
