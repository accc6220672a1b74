import { createHash } from 'crypto';
import { ApiObject, Chart, Duration, Names, Size } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import type { CloudNativePgClusterOptions } from './cloudnative-pg';
import { cloudNativePgDatabase } from './cloudnative-pg';
import { McpConnections } from './connections';
import type { KeycloakExposure } from './keycloak-exposure';
import type { RealmSpec } from './keycloak-realm-representation';
import { renderRealm } from './keycloak-realm-representation';
import { LABEL_DOMAIN, imageVersion, labelTree, recommendedLabels } from './labels';
import { restrictedContainerSecurityContext, restrictedPodSecurityContext, serviceHost } from './manifest-helpers';
import type { IOidcIssuer, IssuerDeclaredAccess, OidcConnectSignInClient } from './mcp-auth-policy';
import { OidcProvider } from './mcp-auth-policy';
import { dnsLabelProblem, emptyProblem, isHttpUrl, portProblem, propError } from './validation';

const HTTP_PORT = 8080;
const DEFAULT_TOKEN_EXCHANGE_CLIENT = 'mcp-gateway';
/** Placeholder of the token exchange client's secret in the realm file, resolved from the environment at import. */
const TOKEN_EXCHANGE_SECRET_VARIABLE = 'KEYCLOAK_REALM_TOKEN_EXCHANGE_SECRET';
const CONNECT_SIGN_IN_SECRET_VARIABLE = 'KEYCLOAK_REALM_CONNECT_SIGN_IN_SECRET';
const DEFAULT_CONNECT_SIGN_IN_CLIENT = 'mcp-gateway-connect';
/** Where a runtime gateway receives the browser sign-in of its connect links (runtime/src/credentials/browser-sign-in.ts). */
const CONNECT_SIGN_IN_CALLBACK = '/connect/_signin/callback';
const MANAGEMENT_PORT = 9000;
const IMPORT_DIR = '/opt/keycloak/data/import';
const REALM_HASH_ANNOTATION = `${LABEL_DOMAIN}/realm-hash`;
/**
 * Oldest Keycloak this construct's realm works with: 26.4 serves RFC 8414 metadata at the path MCP clients
 * derive, and 26.5 answers CORS on dynamic client registration (browser-based MCP clients).
 */
const MINIMUM_KEYCLOAK_VERSION: [number, number] = [26, 5];
// The official image runs as uid 1000 and owns /opt/keycloak.
const KEYCLOAK_RUN_AS = { user: 1000, group: 1000 };
// Roles every Keycloak realm has without declaring them.
const BUILT_IN_REALM_ROLES = ['offline_access', 'uma_authorization'];

/** Where Keycloak keeps its data. */
export class KeycloakDatabase {
  /**
   * Embedded H2 in the container (`start-dev`): data is lost with the pod and Keycloak runs with
   * development defaults. For trying things out and tests.
   */
  public static devFile(): KeycloakDatabase {
    return new KeycloakDatabase(undefined, undefined);
  }

  /**
   * An existing PostgreSQL database, credentials from a Secret; Keycloak then runs in production mode
   * (`start`), which needs `hostname`.
   */
  public static postgres(options: KeycloakPostgresOptions): KeycloakDatabase {
    return new KeycloakDatabase(options, undefined);
  }

  /**
   * A PostgreSQL cluster run by the CloudNativePG operator (which must be installed): a `postgresql.cnpg.io/v1`
   * `Cluster` and a `Database` named `keycloak` owned by the user `keycloak`, whose credentials the operator
   * keeps in the Secret `<cluster>-app`. Keycloak runs in production mode (`start`), which needs `hostname`.
   * @see https://cloudnative-pg.io/documentation/current/
   */
  public static cloudNativePg(options: KeycloakCloudNativePgOptions = {}): KeycloakDatabase {
    return new KeycloakDatabase(undefined, options);
  }

  private constructor(
    /** Connection settings of an existing database. */
    public readonly postgresOptions: KeycloakPostgresOptions | undefined,
    private readonly cloudNativePgOptions: KeycloakCloudNativePgOptions | undefined,
  ) {}

  /** Whether Keycloak runs in production mode with this database. */
  public get isProduction(): boolean {
    return this.postgresOptions !== undefined || this.cloudNativePgOptions !== undefined;
  }

  /**
   * Emits what the database needs under `scope` (the CloudNativePG objects) and returns how Keycloak
   * connects to it; undefined for the embedded development database.
   * @internal
   */
  public _bind(scope: Construct): KeycloakPostgresOptions | undefined {
    const cnpg = this.cloudNativePgOptions;
    if (!cnpg) return this.postgresOptions;
    const { host, appSecret } = cloudNativePgDatabase(scope, cnpg, { name: 'keycloak', owner: 'keycloak' });
    return {
      host,
      port: 5432,
      database: 'keycloak',
      username: { secret: appSecret, key: 'username' },
      password: { secret: appSecret, key: 'password' },
    };
  }
}

/** A PostgreSQL cluster for Keycloak, run by CloudNativePG. */
export interface KeycloakCloudNativePgOptions extends CloudNativePgClusterOptions {}

/** Connection to a PostgreSQL database for Keycloak. */
export interface KeycloakPostgresOptions {
  /** Host name of the server, e.g. `postgres.keycloak.svc.cluster.local`. */
  readonly host: string;
  /**
   * Port of the server.
   * @default 5432
   */
  readonly port?: number;
  /**
   * Name of the database.
   * @default 'keycloak'
   */
  readonly database?: string;
  /** Secret key holding the user name. */
  readonly username: kplus.SecretValue;
  /** Secret key holding the password. */
  readonly password: kplus.SecretValue;
}

/** The temporary administrator Keycloak creates in the `master` realm on first start. */
export interface KeycloakBootstrapAdmin {
  /**
   * Secret with the administrator's user name and password. With the operator, the keys must be
   * `username` and `password`.
   */
  readonly secret: kplus.ISecret;
  /**
   * Key of the user name in `secret`.
   * @default 'username'
   */
  readonly usernameKey?: string;
  /**
   * Key of the password in `secret`.
   * @default 'password'
   */
  readonly passwordKey?: string;
}

/** A user of the realm. */
export interface KeycloakUser {
  /** User name (lower case: Keycloak stores user names in lower case). */
  readonly username: string;
  /**
   * Secret key holding the password. Keycloak reads it from an environment variable at import time,
   * so the password never appears in the realm file.
   */
  readonly password: kplus.SecretValue;
  /**
   * E-mail address (marked verified). E-mail, first and last name are required: Keycloak's user profile
   * asks users without them to fill in a form at first sign-in.
   */
  readonly email: string;
  /** First name. */
  readonly firstName: string;
  /** Last name. */
  readonly lastName: string;
  /**
   * Realm roles of the user (declared in `roles`); tokens carry them in `realm_access.roles`.
   * @default - none
   */
  readonly realmRoles?: string[];
  /**
   * Groups of the user (declared in `groups`); tokens carry their names in `groups`.
   * @default - none
   */
  readonly groups?: string[];
}

/** A realm role. */
export interface KeycloakRole {
  /** Name of the role, as it appears in `realm_access.roles`. */
  readonly name: string;
  /**
   * What the role is for.
   * @default - none
   */
  readonly description?: string;
}

/** A top-level group of the realm. */
export interface KeycloakGroup {
  /** Name of the group, as it appears in the `groups` claim. */
  readonly name: string;
  /**
   * Realm roles every member gets.
   * @default - none
   */
  readonly realmRoles?: string[];
}

/** Dynamic client registration (RFC 7591) for MCP clients. */
export interface KeycloakClientRegistrationOptions {
  /**
   * Hosts that registered redirect URIs may point at. MCP clients on users' machines redirect to
   * loopback; web clients need their host added (e.g. `vscode.dev`, `claude.ai`).
   * @default ['localhost', '127.0.0.1']
   */
  readonly trustedHosts?: string[];
  /**
   * Most clients that may register themselves.
   * @default 200
   */
  readonly maxClients?: number;
  /**
   * Browser origins that may register clients (CORS on the registration endpoint), e.g. the MCP
   * Inspector at `http://localhost:6274`.
   * @default - none
   */
  readonly webOrigins?: string[];
}

/** Deploying through the Keycloak operator instead of a plain Deployment. */
export interface KeycloakOperatorOptions {
  /**
   * Name of the `Keycloak` resource the realm is imported into.
   * @default - the `Keycloak` resource this construct creates
   */
  readonly keycloakName?: string;
  /**
   * Whether to create the `Keycloak` resource as well (needs `database: KeycloakDatabase.postgres(...)`).
   * @default - true unless `keycloakName` names an existing one
   */
  readonly createKeycloak?: boolean;
}

/** Properties of a `KeycloakRealm`. */
/**
 * The gateway's token exchange client in the realm: a confidential client with standard token exchange enabled,
 * a client per upstream `audience`, and an audience mapper that adds the gateway's client to MCP tokens
 * (Keycloak exchanges only tokens whose audience includes the requesting client).
 */
export interface KeycloakTokenExchangeOptions {
  /**
   * The client secret, as a key of a Secret: Keycloak reads it at realm import, the gateway to authenticate.
   * Create it with `kubectl create secret generic mcp-token-exchange --from-literal=secret=$(openssl rand -hex 32)`.
   */
  readonly clientSecret: kplus.SecretValue;
  /**
   * Client IDs of the upstream services tokens may be exchanged for; each becomes a client of the realm
   * (bearer-only) and the `aud` of the exchanged tokens. The upstream must accept tokens with that audience.
   */
  readonly audiences: string[];
  /**
   * Client ID of the gateway's client.
   * @default 'mcp-gateway'
   */
  readonly clientId?: string;
}

/**
 * The gateway's client for signing in the browser that opens a connect link (`UserCredential.oauth2`): a
 * confidential client with the standard flow (authorization code + PKCE) and no other grant.
 */
export interface KeycloakConnectSignInOptions {
  /**
   * The client secret, as a key of a Secret: Keycloak reads it at realm import, the gateway to redeem codes.
   * Create it with `kubectl create secret generic mcp-connect-sign-in --from-literal=secret=$(openssl rand -hex 32)`.
   */
  readonly clientSecret: kplus.SecretValue;
  /**
   * Client ID.
   * @default 'mcp-gateway-connect'
   */
  readonly clientId?: string;
  /**
   * Public URLs of the gateways whose connect links sign in here, e.g. `https://mcp.example.com`; each gets the
   * redirect URI `<url>/connect/_signin/callback`.
   * @default - the origins of `mcpAudiences`
   */
  readonly gatewayUrls?: string[];
}

/** What a gateway needs to exchange tokens with a `KeycloakRealm` (its `tokenExchangeClient`). */
export interface KeycloakTokenExchangeClient {
  /** Client ID of the gateway's confidential client. */
  readonly clientId: string;
  /** Its secret, as a key of a Secret. */
  readonly clientSecret: kplus.SecretValue;
  /** The realm's token endpoint at the in-cluster URL. */
  readonly tokenUrl: string;
  /** The audiences the client may exchange tokens for. */
  readonly audiences: string[];
}

export interface KeycloakRealmProps {
  /**
   * Canonical URLs of the MCP endpoints tokens are for, e.g. `https://mcp.example.com/github/mcp`.
   * Keycloak puts them into every MCP token's `aud`; they must equal the gateway's resource URLs.
   */
  readonly mcpAudiences: string[];
  /** The temporary administrator of the `master` realm. */
  readonly bootstrapAdmin: KeycloakBootstrapAdmin;
  /**
   * Name of the realm (part of the issuer URL).
   * @default 'mcp'
   */
  readonly realmName?: string;
  /**
   * Name shown on the sign-in page.
   * @default - the realm name
   */
  readonly displayName?: string;
  /**
   * Public base URL of Keycloak (`https://auth.example.com`). It fixes the token issuer, so it is
   * needed whenever users sign in from outside the cluster, and always in production mode.
   * @default - the in-cluster Service URL (development database only)
   */
  readonly hostname?: string;
  /**
   * Where Keycloak keeps its data. Required: `KeycloakDatabase.cloudNativePg()` or
   * `KeycloakDatabase.postgres(...)` run Keycloak in production mode (`start`); `KeycloakDatabase.devFile()`
   * runs `start-dev` with an embedded database that is lost with the pod (for trying things out).
   * @default - none; synthesis fails naming the choices
   */
  readonly database?: KeycloakDatabase;
  /**
   * How browsers reach the sign-in pages (only `/realms/` and `/resources/` on the host of `hostname`).
   * @default - not exposed: reachable inside the cluster only
   */
  readonly exposure?: KeycloakExposure;
  /**
   * Name of the client scope MCP clients get, which carries the audience, roles and groups.
   * @default 'mcp:tools'
   */
  readonly mcpScope?: string;
  /**
   * Realm roles.
   * @default - none
   */
  readonly roles?: KeycloakRole[];
  /**
   * Groups.
   * @default - none
   */
  readonly groups?: KeycloakGroup[];
  /**
   * Users.
   * @default - none
   */
  readonly users?: KeycloakUser[];
  /**
   * Client id of the pre-registered public client for MCP clients (PKCE S256).
   * @default 'mcp-client'
   */
  readonly clientId?: string;
  /**
   * Redirect URIs of the public client besides loopback (`http://localhost/*`, `http://127.0.0.1/*`).
   * @default - loopback only
   */
  readonly redirectUris?: string[];
  /**
   * Dynamic client registration for MCP clients. Pass `{}` for the defaults.
   * @default - enabled for loopback redirect URIs
   */
  readonly clientRegistration?: KeycloakClientRegistrationOptions;
  /**
   * Turns dynamic client registration off; MCP clients then need the pre-registered client.
   * @default false
   */
  readonly disableClientRegistration?: boolean;
  /**
   * Lifetime of access tokens.
   * @default Duration.minutes(5)
   */
  readonly accessTokenLifespan?: Duration;
  /**
   * Keycloak features to enable, e.g. `['resource-indicators', 'cimd']`.
   * @default - none beyond the defaults
   */
  readonly features?: string[];
  /**
   * Container image. With `keycloakOperator`, the operator expects an image pre-built with
   * `kc.sh build` that already holds the database, health and feature settings.
   * @default KeycloakRealm.IMAGE; with `keycloakOperator`, the operator's own image
   */
  readonly image?: string;
  /**
   * CPU and memory. Keycloak sizes its heap as a percentage of the memory limit, so a limit is required.
   * @default - requests 500m CPU and 1 GiB memory; limits 2 CPU and 2 GiB memory (with `keycloakOperator`,
   * the `Keycloak` resource gets the requests and the memory limit only)
   */
  readonly resources?: kplus.ContainerResources;
  /**
   * Deploy through the Keycloak operator (`Keycloak` and `KeycloakRealmImport` resources) instead of
   * a Deployment and a Service.
   * @default - a Deployment and a Service
   */
  readonly keycloakOperator?: KeycloakOperatorOptions;
  /**
   * Declare the gateway's confidential client for standard token exchange (RFC 8693, Keycloak 26.2+), so
   * `UserCredential.tokenExchange({ realm, audience })` can trade a signed-in user's token for one whose
   * audience is an internal upstream, instead of passing the user's token on.
   * @default - no token exchange client
   */
  readonly tokenExchange?: KeycloakTokenExchangeOptions;
  /**
   * Declare the gateway's client for the browser sign-in of connect links, which gateways with
   * `UserCredential.oauth2` targets need (the browser that opens a link must be the link's own user).
   * @default - no such client
   */
  readonly connectSignIn?: KeycloakConnectSignInOptions;
  /**
   * Isolate Keycloak's pods for ingress with a NetworkPolicy: only the gateways whose routes sign in with
   * this realm, the exposure path for browsers (see `expose*`) and peers added with
   * `connections.allowFrom` may connect to the `http` port. Only ingress is restricted.
   * @default true
   */
  readonly isolate?: boolean;
}

/**
 * Keycloak with a realm for MCP sign-in: users, roles and groups; a client scope that puts the
 * gateway's URL into `aud` and roles and groups into tokens; a public PKCE client; and dynamic client
 * registration for MCP clients. Pass it as `issuer` to `McpAuthPolicy`.
 *
 * The realm is imported when Keycloak starts. Keycloak skips the import when the realm already
 * exists, so later changes to these props do not reach a running Keycloak with a persistent database.
 *
 * @example
 * const realm = new KeycloakRealm(this, 'keycloak', {
 *   mcpAudiences: ['https://mcp.example.com/github/mcp'],
 *   bootstrapAdmin: { secret: kplus.Secret.fromSecretName(this, 'admin', 'keycloak-admin') },
 *   roles: [{ name: 'admin' }],
 *   users: [{ username: 'admin', password: { secret: users, key: 'admin' }, realmRoles: ['admin'] }],
 * });
 */
export class KeycloakRealm extends Construct implements IOidcIssuer {
  /** The Keycloak image used by default: 26.x, at least 26.5 for CORS on dynamic client registration. */
  public static readonly IMAGE = 'quay.io/keycloak/keycloak:26.8.0';

  /** Name of the realm. */
  public readonly realmName: string;
  /**
   * Exact `iss` of the realm's tokens: `<hostname>/realms/<realm>`, or without `hostname` the in-cluster
   * URL in the chart's namespace (the short Service name when the chart has none).
   */
  public readonly issuerUrl: string;
  /** Signing keys of the realm, at the in-cluster URL so the gateway does not leave the cluster. */
  public readonly jwksUrl: string;
  /**
   * The realm at the in-cluster URL: the gateway's discovery and client registration go there too, while
   * tokens and MCP clients keep `issuerUrl` (Keycloak's `hostname-backchannel-dynamic`).
   * @default - always set for a `KeycloakRealm`; optional only in `IOidcIssuer`
   */
  public readonly backchannelUrl?: string;
  /** Always `OidcProvider.KEYCLOAK`. */
  public readonly provider: OidcProvider = OidcProvider.KEYCLOAK;
  /**
   * The MCP audiences tokens carry (`mcpAudiences`).
   * @default - always set for a `KeycloakRealm`; optional only in `IOidcIssuer`
   */
  public readonly tokenAudiences?: string[];
  /**
   * The MCP client scope, as a list for `IOidcIssuer`.
   * @default - always set for a `KeycloakRealm`; optional only in `IOidcIssuer`
   */
  public readonly scopesSupported?: string[];
  /** Name of the client scope MCP clients get. */
  public readonly mcpScope: string;
  /**
   * The realm roles (declared and built-in) and groups tokens can carry, so `McpAuthPolicy` can check rules against them.
   * @default - always set for a `KeycloakRealm`; optional only in `IOidcIssuer`
   */
  public readonly declaredAccess?: IssuerDeclaredAccess;
  /** In-cluster base URL of Keycloak, e.g. `http://keycloak.auth.svc.cluster.local:8080`. */
  public readonly internalUrl: string;
  /**
   * The Deployment running Keycloak.
   * @default - none when deployed through the operator
   */
  public readonly deployment?: kplus.Deployment;
  /**
   * The Service in front of Keycloak.
   * @default - none when deployed through the operator (it creates `<keycloak>-service`)
   */
  public readonly service?: kplus.Service;
  /** Name of the Service in front of Keycloak (the operator's `<keycloak>-service` with `keycloakOperator`). */
  public readonly serviceName: string;

  /**
   * The gateway's token exchange client, when `tokenExchange` is set.
   * @default - none
   */
  public readonly tokenExchangeClient?: KeycloakTokenExchangeClient;

  /**
   * The gateway's client for the browser sign-in of connect links, when `connectSignIn` is set.
   * @default - none
   */
  public readonly connectSignInClient?: OidcConnectSignInClient;

  /**
   * Who may connect to Keycloak: gateways that check its tokens and its exposure path are allowed
   * automatically; add other clients with `connections.allowFrom(...)`.
   */
  public readonly connections: McpConnections;

  private readonly props: KeycloakRealmProps;
  private readonly database: KeycloakDatabase;
  /** How Keycloak connects to PostgreSQL; undefined with the development database. */
  private readonly postgres?: KeycloakPostgresOptions;
  private readonly realmSpec: RealmSpec;

  public constructor(scope: Construct, id: string, props: KeycloakRealmProps) {
    super(scope, id);
    this.props = props;
    this.realmName = props.realmName ?? 'mcp';
    // A missing database is reported by validation; the development one lets the rest render meanwhile.
    this.database = props.database ?? KeycloakDatabase.devFile();
    this.tokenAudiences = [...(props.mcpAudiences ?? [])];
    this.mcpScope = props.mcpScope ?? 'mcp:tools';
    this.scopesSupported = [this.mcpScope];
    this.declaredAccess = {
      realmRoles: [...BUILT_IN_REALM_ROLES, `default-roles-${this.realmName.toLowerCase()}`, ...(props.roles ?? []).map((role) => role.name)],
      groups: (props.groups ?? []).map((group) => group.name),
    };
    this.node.addValidation({ validate: () => this.validateProps() });
    // Objects may be added until synthesis (NetworkPolicy rules); label them all just before.
    this.node.addValidation({ validate: () => { labelTree(this, this.labels); return []; } });
    this.postgres = this.database._bind(this);

    const namespace = Chart.of(this).namespace;
    this.realmSpec = this.buildRealmSpec();
    const realm = renderRealm(this.realmSpec);

    if (props.keycloakOperator) {
      const keycloakName = props.keycloakOperator.keycloakName ?? Names.toDnsLabel(this);
      if (props.keycloakOperator.createKeycloak ?? props.keycloakOperator.keycloakName === undefined) this.createKeycloakResource(keycloakName);
      new ApiObject(this, 'realm-import', {
        apiVersion: 'k8s.keycloak.org/v2alpha1',
        kind: 'KeycloakRealmImport',
        spec: {
          keycloakCRName: keycloakName,
          realm,
          placeholders: Object.fromEntries(
            this.passwordVariables().map(([name, value]) => [name, { secret: { name: value.secret.name, key: value.key } }]),
          ),
        },
      });
      // The operator names the Service `<keycloak>-service`.
      this.internalUrl = `http://${serviceHost(`${keycloakName}-service`, namespace)}:${HTTP_PORT}`;
      this.connections = this.createConnections(kplus.Pods.select(this, 'pods', {
        labels: { 'app.kubernetes.io/instance': keycloakName, 'app.kubernetes.io/managed-by': 'keycloak-operator' },
      }));
      this.serviceName = `${keycloakName}-service`;
    } else {
      const realmFile = new kplus.ConfigMap(this, 'realm', { data: { [`${this.realmName}-realm.json`]: JSON.stringify(realm, null, 2) } });
      this.deployment = this.createDeployment(realmFile);
      this.service = new kplus.Service(this, 'service', {
        selector: this.deployment,
        ports: [{ name: 'http', port: HTTP_PORT, targetPort: HTTP_PORT }],
      });
      this.internalUrl = `http://${serviceHost(this.service.name, namespace)}:${HTTP_PORT}`;
      this.connections = this.createConnections(this.deployment);
      this.serviceName = this.service.name;
    }

    const publicBase = props.hostname?.replace(/\/+$/, '') ?? this.internalUrl;
    this.issuerUrl = `${publicBase}/realms/${this.realmName}`;
    this.jwksUrl = `${this.internalUrl}/realms/${this.realmName}/protocol/openid-connect/certs`;
    this.backchannelUrl = `${this.internalUrl}/realms/${this.realmName}`;
    if (props.tokenExchange) {
      this.tokenExchangeClient = {
        clientId: props.tokenExchange.clientId ?? DEFAULT_TOKEN_EXCHANGE_CLIENT,
        clientSecret: props.tokenExchange.clientSecret,
        tokenUrl: `${this.backchannelUrl}/protocol/openid-connect/token`,
        audiences: [...props.tokenExchange.audiences],
      };
    }

    if (props.connectSignIn) {
      this.connectSignInClient = {
        clientId: props.connectSignIn.clientId ?? DEFAULT_CONNECT_SIGN_IN_CLIENT,
        clientSecret: props.connectSignIn.clientSecret,
      };
    }

    const host = props.hostname && isHttpUrl(props.hostname) ? new URL(props.hostname).hostname : undefined;
    if (props.exposure && host) {
      props.exposure._bind(this, { host, serviceName: this.serviceName, servicePort: HTTP_PORT, namespace, connections: this.connections });
    }
  }

  /**
   * The realm JSON (Keycloak's RealmRepresentation) imported at start-up. Passwords appear only as
   * `${VARIABLE}` placeholders.
   */
  public renderRealm(): any {
    return renderRealm(this.realmSpec);
  }

  private get labels(): { [key: string]: string } {
    return recommendedLabels({
      name: 'keycloak',
      instance: Names.toDnsLabel(this),
      component: 'identity-provider',
      version: imageVersion(this.props.image ?? KeycloakRealm.IMAGE),
    });
  }

  private createConnections(selector: kplus.IPodSelector): McpConnections {
    return new McpConnections(this, 'connections', {
      selector,
      defaultPorts: [kplus.NetworkPolicyPort.tcp(HTTP_PORT)],
      enabled: this.props.isolate ?? true,
    });
  }

  private buildRealmSpec(): RealmSpec {
    const props = this.props;
    const registration = props.disableClientRegistration ? undefined : props.clientRegistration ?? {};
    return {
      realm: this.realmName,
      displayName: props.displayName,
      mcpScope: this.mcpScope,
      audiences: [...(props.mcpAudiences ?? [])],
      roles: (props.roles ?? []).map(role => ({ name: role.name, description: role.description })),
      groups: (props.groups ?? []).map(group => ({ name: group.name, realmRoles: group.realmRoles ?? [] })),
      users: (props.users ?? []).map((user, index) => ({
        username: user.username,
        passwordVariable: passwordVariable(index),
        email: user.email,
        firstName: user.firstName,
        lastName: user.lastName,
        realmRoles: user.realmRoles ?? [],
        groups: user.groups ?? [],
      })),
      client: {
        clientId: props.clientId ?? 'mcp-client',
        redirectUris: ['http://localhost/*', 'http://127.0.0.1/*', ...(props.redirectUris ?? [])],
        webOrigins: ['+'],
      },
      registration: registration && {
        trustedHosts: registration.trustedHosts ?? ['localhost', '127.0.0.1'],
        maxClients: registration.maxClients ?? 200,
        webOrigins: registration.webOrigins ?? [],
      },
      accessTokenLifespanSeconds: (props.accessTokenLifespan ?? Duration.minutes(5)).toSeconds(),
      tokenExchange: props.tokenExchange && {
        clientId: props.tokenExchange.clientId ?? DEFAULT_TOKEN_EXCHANGE_CLIENT,
        secretVariable: TOKEN_EXCHANGE_SECRET_VARIABLE,
        audiences: [...props.tokenExchange.audiences],
      },
      connectSignIn: props.connectSignIn && {
        clientId: props.connectSignIn.clientId ?? DEFAULT_CONNECT_SIGN_IN_CLIENT,
        secretVariable: CONNECT_SIGN_IN_SECRET_VARIABLE,
        redirectUris: [...new Set((props.connectSignIn.gatewayUrls ?? (props.mcpAudiences ?? []).filter(isHttpUrl))
          .map((url) => `${new URL(url).origin}${CONNECT_SIGN_IN_CALLBACK}`))],
      },
    };
  }

  private passwordVariables(): Array<[string, kplus.SecretValue]> {
    const exchange = this.props.tokenExchange;
    return [
      ...(this.props.users ?? []).map((user, index): [string, kplus.SecretValue] => [passwordVariable(index), user.password]),
      ...(exchange ? [[TOKEN_EXCHANGE_SECRET_VARIABLE, exchange.clientSecret] as [string, kplus.SecretValue]] : []),
      ...(this.props.connectSignIn
        ? [[CONNECT_SIGN_IN_SECRET_VARIABLE, this.props.connectSignIn.clientSecret] as [string, kplus.SecretValue]]
        : []),
    ].filter(([, value]) => value?.secret !== undefined);
  }

  private createDeployment(realmFile: kplus.ConfigMap): kplus.Deployment {
    const props = this.props;
    const admin = props.bootstrapAdmin;
    const env: { [name: string]: kplus.EnvValue } = {
      KC_BOOTSTRAP_ADMIN_USERNAME: kplus.EnvValue.fromSecretValue({ secret: admin.secret, key: admin.usernameKey ?? 'username' }),
      KC_BOOTSTRAP_ADMIN_PASSWORD: kplus.EnvValue.fromSecretValue({ secret: admin.secret, key: admin.passwordKey ?? 'password' }),
      KC_HEALTH_ENABLED: kplus.EnvValue.fromValue('true'),
      KC_HTTP_ENABLED: kplus.EnvValue.fromValue('true'),
      // TLS ends at the ingress or Gateway in front of Keycloak.
      KC_PROXY_HEADERS: kplus.EnvValue.fromValue('xforwarded'),
    };
    if (props.hostname) {
      env.KC_HOSTNAME = kplus.EnvValue.fromValue(props.hostname);
      // Tokens keep the public issuer while in-cluster callers (the gateway) use the Service URL.
      env.KC_HOSTNAME_BACKCHANNEL_DYNAMIC = kplus.EnvValue.fromValue('true');
    }
    const postgres = this.postgres;
    if (postgres) {
      env.KC_DB = kplus.EnvValue.fromValue('postgres');
      env.KC_DB_URL_HOST = kplus.EnvValue.fromValue(postgres.host);
      env.KC_DB_URL_PORT = kplus.EnvValue.fromValue(String(postgres.port ?? 5432));
      env.KC_DB_URL_DATABASE = kplus.EnvValue.fromValue(postgres.database ?? 'keycloak');
      env.KC_DB_USERNAME = kplus.EnvValue.fromSecretValue(postgres.username);
      env.KC_DB_PASSWORD = kplus.EnvValue.fromSecretValue(postgres.password);
    }
    if (props.features && props.features.length > 0) env.KC_FEATURES = kplus.EnvValue.fromValue(props.features.join(','));
    for (const [name, value] of this.passwordVariables()) env[name] = kplus.EnvValue.fromSecretValue(value);

    const deployment = new kplus.Deployment(this, 'deployment', {
      replicas: 1,
      // One Keycloak at a time: the embedded database cannot be shared and imports must not race.
      strategy: kplus.DeploymentStrategy.recreate(),
      securityContext: restrictedPodSecurityContext(KEYCLOAK_RUN_AS),
      automountServiceAccountToken: false,
    });
    const container = deployment.addContainer({
      name: 'keycloak',
      image: props.image ?? KeycloakRealm.IMAGE,
      // The default image is a pinned tag.
      imagePullPolicy: kplus.ImagePullPolicy.IF_NOT_PRESENT,
      args: [this.database.isProduction ? 'start' : 'start-dev', '--import-realm'],
      ports: [{ name: 'http', number: HTTP_PORT }, { name: 'management', number: MANAGEMENT_PORT }],
      envVariables: env,
      resources: props.resources ?? {
        cpu: { request: kplus.Cpu.millis(500), limit: kplus.Cpu.units(2) },
        memory: { request: Size.gibibytes(1), limit: Size.gibibytes(2) },
      },
      // Keycloak rebuilds itself into /opt/keycloak/lib/quarkus at start-up whenever build options
      // (health, database, features) differ from the image's; that directory holds the server's own
      // jars, so it cannot be an emptyDir. A read-only root needs a custom image built with
      // `kc.sh build` and `start --optimized`.
      securityContext: restrictedContainerSecurityContext(KEYCLOAK_RUN_AS, false),
      // Start-up includes that rebuild and the realm import: allow up to 5 minutes.
      startup: kplus.Probe.fromHttpGet('/health/started', { port: MANAGEMENT_PORT, periodSeconds: Duration.seconds(5), failureThreshold: 60 }),
      readiness: kplus.Probe.fromHttpGet('/health/ready', { port: MANAGEMENT_PORT, periodSeconds: Duration.seconds(10), failureThreshold: 3 }),
      liveness: kplus.Probe.fromHttpGet('/health/live', { port: MANAGEMENT_PORT, periodSeconds: Duration.seconds(10), failureThreshold: 3 }),
    });
    container.mount(IMPORT_DIR, kplus.Volume.fromConfigMap(this, 'realm-volume', realmFile), { readOnly: true });
    // A changed realm file restarts Keycloak; with the development database that re-imports the realm.
    deployment.podMetadata.addAnnotation(
      REALM_HASH_ANNOTATION,
      createHash('sha256').update(JSON.stringify(realmFile.data)).digest('hex').slice(0, 16),
    );
    return deployment;
  }

  private createKeycloakResource(name: string): void {
    const postgres = this.postgres;
    const resources = this.props.resources;
    new ApiObject(this, 'keycloak', {
      apiVersion: 'k8s.keycloak.org/v2alpha1',
      kind: 'Keycloak',
      metadata: { name },
      spec: {
        instances: 1,
        // The operator treats any image given here as pre-built (`--optimized`) and ignores the database,
        // health and feature settings below; without one it runs its own matching stock image.
        ...(this.props.image ? { image: this.props.image } : {}),
        ...(postgres ? {
          db: {
            vendor: 'postgres',
            host: postgres.host,
            port: postgres.port ?? 5432,
            database: postgres.database ?? 'keycloak',
            usernameSecret: { name: postgres.username.secret.name, key: postgres.username.key },
            passwordSecret: { name: postgres.password.secret.name, key: postgres.password.key },
          },
        } : {}),
        http: { httpEnabled: true },
        // Validation requires a hostname here: the operator always runs Keycloak in production mode.
        ...(this.props.hostname ? { hostname: { hostname: this.props.hostname, backchannelDynamic: true } } : {}),
        proxy: { headers: 'xforwarded' },
        bootstrapAdmin: { user: { secret: this.props.bootstrapAdmin.secret.name } },
        ...(this.props.features && this.props.features.length > 0 ? { features: { enabled: this.props.features } } : {}),
        resources: {
          requests: {
            cpu: resources?.cpu?.request?.amount ?? '500m',
            memory: resources?.memory?.request?.toMebibytes() ? `${resources.memory.request.toMebibytes()}Mi` : '1Gi',
          },
          limits: { memory: resources?.memory?.limit ? `${resources.memory.limit.toMebibytes()}Mi` : '2Gi' },
        },
      },
    });
  }

  private validateProps(): string[] {
    const props = this.props;
    const errors: string[] = [];
    const fail = (prop: string, problem: string, fix: string) => errors.push(propError(this, prop, problem, fix));

    if (!/^[A-Za-z0-9][A-Za-z0-9_-]*$/.test(this.realmName)) {
      fail(
        'realmName',
        `${JSON.stringify(this.realmName)} is not usable in the issuer URL and the import file name`,
        'Use letters, digits, "-" and "_", e.g. "mcp".',
      );
    } else if (this.realmName === 'master') {
      fail('realmName', '"master" is Keycloak\'s administration realm', 'Choose another name, e.g. "mcp".');
    }
    const audiences = props.mcpAudiences ?? [];
    if (audiences.length === 0) {
      fail('mcpAudiences', 'is empty, so tokens would carry no audience the gateway accepts', 'List the URL of each MCP endpoint, e.g. "https://mcp.example.com/github/mcp".');
    }
    for (const audience of audiences) {
      if (!isHttpUrl(audience)) fail('mcpAudiences', `entry ${JSON.stringify(audience)} is not an absolute http(s) URL`, 'Use the URL MCP clients connect to, e.g. "https://mcp.example.com/github/mcp".');
    }
    if (props.hostname !== undefined && !isHttpUrl(props.hostname)) {
      fail('hostname', `${JSON.stringify(props.hostname)} is not an absolute http(s) URL`, 'Give the full public URL, e.g. "https://auth.example.com".');
    }
    if (props.database === undefined) {
      fail(
        'database',
        'is missing, so Keycloak would not know where to keep its data',
        'Pass database: KeycloakDatabase.cloudNativePg() (a PostgreSQL cluster run by the CloudNativePG operator), KeycloakDatabase.postgres({ '
          + 'host, username, password }) (an existing PostgreSQL), or KeycloakDatabase.devFile() (start-dev with an embedded database that is '
          + 'lost on restart; for trying things out only).',
      );
    }
    const signIn = props.connectSignIn;
    if (signIn) {
      if (!signIn.clientSecret?.secret || !signIn.clientSecret.key) {
        fail('connectSignIn clientSecret', 'is not a key of a Secret',
          'Pass { secret: kplus.Secret.fromSecretName(this, "ConnectSignIn", "mcp-connect-sign-in"), key: "secret" }.');
      }
      const urls = signIn.gatewayUrls ?? (props.mcpAudiences ?? []).filter(isHttpUrl);
      const bad = urls.find((url) => !isHttpUrl(url));
      if (urls.length === 0 || bad !== undefined) {
        const problem = bad === undefined ? 'is empty and no mcpAudiences is an http(s) URL' : `${JSON.stringify(bad)} is not an http(s) URL`;
        fail('connectSignIn gatewayUrls', problem,
          'Pass the gateways\' public URLs, e.g. ["https://mcp.example.com"]: each gets the redirect URI <url>/connect/_signin/callback.');
      }
    }
    const exchange = props.tokenExchange;
    if (exchange) {
      const exchangeClient = exchange.clientId ?? DEFAULT_TOKEN_EXCHANGE_CLIENT;
      if (!exchange.clientSecret?.secret || !exchange.clientSecret.key) {
        fail('tokenExchange clientSecret', 'is not a key of a Secret',
          'Pass { secret: kplus.Secret.fromSecretName(this, "TokenExchange", "mcp-token-exchange"), key: "secret" }.');
      }
      if (exchange.audiences.length === 0) {
        fail('tokenExchange audiences', 'is empty, so no token could be exchanged', 'List the client IDs of the upstreams, e.g. ["internal-api"].');
      }
      const clientIds = [props.clientId ?? 'mcp-client', exchangeClient];
      for (const id of [exchangeClient, ...exchange.audiences]) {
        if (!/^[A-Za-z0-9][A-Za-z0-9._:-]*$/.test(id)) {
          fail('tokenExchange', `client ID ${JSON.stringify(id)} has characters a client ID cannot have`,
            'Use letters, digits, ".", "_", ":" and "-", e.g. "internal-api".');
        }
      }
      for (const audience of new Set(exchange.audiences)) {
        if (clientIds.includes(audience) || exchange.audiences.filter((a) => a === audience).length > 1) {
          fail('tokenExchange audiences', `${JSON.stringify(audience)} is listed twice or is already a client of the realm (${clientIds.join(', ')})`,
            'Name each upstream once, with its own client ID.');
        }
      }
    }
    if (props.exposure && !props.hostname) {
      fail('exposure', 'needs hostname, whose host the Ingress or HTTPRoute answers for', 'Set hostname to the public URL of Keycloak, e.g. "https://auth.example.com".');
    }
    const version = keycloakVersion(props.image ?? KeycloakRealm.IMAGE);
    if (version && compareVersions(version, MINIMUM_KEYCLOAK_VERSION) < 0) {
      fail(
        'image',
        `${JSON.stringify(props.image)} is Keycloak ${version.join('.')}, older than ${MINIMUM_KEYCLOAK_VERSION.join('.')}: MCP clients need RFC `
          + '8414 metadata at the path they derive (26.4) and CORS on dynamic client registration (26.5)',
        `Use KeycloakRealm.IMAGE (${KeycloakRealm.IMAGE}) or another ${MINIMUM_KEYCLOAK_VERSION.join('.')}+ image.`,
      );
    }
    if (this.database.isProduction && !props.hostname) {
      fail('hostname', 'is required with a PostgreSQL database (Keycloak runs in production mode)', 'Set hostname to the public URL of Keycloak, e.g. "https://auth.example.com".');
    }
    const postgres = this.postgres;
    if (postgres) {
      const hostProblem = emptyProblem(postgres.host);
      if (hostProblem) fail('database.host', hostProblem, 'Give the PostgreSQL host name.');
      if (postgres.port !== undefined) {
        const problem = portProblem(postgres.port);
        if (problem) fail('database.port', problem, 'Use the PostgreSQL port, usually 5432.');
      }
    }
    if (props.keycloakOperator) {
      if ((props.keycloakOperator.createKeycloak ?? props.keycloakOperator.keycloakName === undefined) && !postgres) {
        fail(
          'keycloakOperator',
          'creates a Keycloak resource, which runs in production mode and needs a database',
          'Pass database: KeycloakDatabase.postgres(...), or name an existing Keycloak with keycloakOperator.keycloakName.',
        );
      }
      if (props.keycloakOperator.keycloakName !== undefined) {
        const problem = dnsLabelProblem(props.keycloakOperator.keycloakName);
        if (problem) fail('keycloakOperator.keycloakName', problem, 'Use the metadata.name of the Keycloak resource.');
      }
      if ((props.bootstrapAdmin.usernameKey ?? 'username') !== 'username' || (props.bootstrapAdmin.passwordKey ?? 'password') !== 'password') {
        fail(
          'bootstrapAdmin',
          'uses custom secret keys, which the Keycloak operator does not support',
          'Store the administrator under the keys "username" and "password".',
        );
      }
    }
    if (props.resources && !props.resources.memory?.limit) {
      fail(
        'resources.memory.limit',
        'is missing; Keycloak sizes its heap as a percentage of it',
        'Set a memory limit of at least 1 GiB, e.g. Size.gibibytes(2).',
      );
    }

    const roles = new Set<string>(BUILT_IN_REALM_ROLES.concat(`default-roles-${this.realmName.toLowerCase()}`));
    for (const role of props.roles ?? []) {
      if (emptyProblem(role.name)) fail('roles', 'contains a role without a name', 'Give every role a name.');
      else if (roles.has(role.name)) fail('roles', `declares "${role.name}" twice (or redeclares a built-in role)`, 'Declare each role once.');
      roles.add(role.name);
    }
    const groups = new Set<string>();
    for (const group of props.groups ?? []) {
      if (emptyProblem(group.name) || group.name.includes('/')) {
        fail('groups', 'contains the group name '
        + `${JSON.stringify(group.name)}`, 'Give every group a name without "/".');
      } else if (groups.has(group.name)) {
        fail('groups', `declares "${group.name}" twice`, 'Declare each group once.');
      }
      groups.add(group.name);
      for (const role of group.realmRoles ?? []) {
        if (!roles.has(role)) {
          fail(`groups["${group.name}"].realmRoles`, `references the undeclared role "${role}"`, `Add { name: "${role}" } to roles.`);
        }
      }
    }
    const usernames = new Set<string>();
    (props.users ?? []).forEach((user, index) => {
      const label = `users[${index}]`;
      if (emptyProblem(user.username)) {
        fail(`${label}.username`, 'is empty', 'Give every user a user name.');
        return;
      }
      const missing = (['email', 'firstName', 'lastName'] as const).filter((field) => emptyProblem(user[field]) !== undefined);
      if (missing.length > 0) {
        fail(
          `${label}`,
          `"${user.username}" has no ${missing.join(', ')}: Keycloak's user profile requires them, so the user would meet an "update profile" `
            + 'form at first sign-in (and scripted sign-ins fail with "Account is not fully set up")',
          'Set email, firstName and lastName of every user.',
        );
      }
      if (user.username !== user.username.toLowerCase()) {
        fail(
          `${label}.username`,
          `"${user.username}" has upper-case letters; Keycloak stores user names in lower case and tokens would not match`,
          `Use "${user.username.toLowerCase()}".`,
        );
      }
      if (usernames.has(user.username.toLowerCase())) fail(`${label}.username`, `"${user.username}" is declared twice`, 'Declare each user once.');
      usernames.add(user.username.toLowerCase());
      if (!user.password?.secret || emptyProblem(user.password.key)) {
        fail(
          `${label}.password`,
          `of "${user.username}" is missing`,
          'Reference a Secret key: password: { secret, key }. Passwords are never written into the realm file.',
        );
      }
      for (const role of user.realmRoles ?? []) {
        if (!roles.has(role)) {
          fail(`${label}.realmRoles`, `of "${user.username}" references the undeclared role "${role}"`, `Add { name: "${role}" } to roles.`);
        }
      }
      for (const group of user.groups ?? []) {
        if (!groups.has(group)) {
          fail(`${label}.groups`, `of "${user.username}" references the undeclared group "${group}"`, `Add { name: "${group}" } to groups.`);
        }
      }
    });
    for (const uri of props.redirectUris ?? []) {
      if (!isHttpUrl(uri.replace(/\*$/, ''))) fail('redirectUris', `entry ${JSON.stringify(uri)} is not an absolute URL`, 'Use e.g. "https://claude.ai/api/mcp/auth_callback".');
    }
    const maxClients = props.clientRegistration?.maxClients;
    if (maxClients !== undefined && (!Number.isInteger(maxClients) || maxClients < 1)) {
      fail('clientRegistration.maxClients', `${maxClients} is not a positive whole number`, 'Use e.g. 200.');
    }
    const scopeName = this.mcpScope;
    if (!/^[\x21\x23-\x5b\x5d-\x7e]+$/.test(scopeName) || ['basic', 'profile', 'email', 'offline_access', 'openid'].includes(scopeName)) {
      fail(
        'mcpScope',
        `${JSON.stringify(scopeName)} is not a usable OAuth scope name`,
        'Use a name without spaces or quotes that is not a built-in scope, e.g. "mcp:tools".',
      );
    }
    return errors;
  }
}

function passwordVariable(index: number): string {
  return `KEYCLOAK_REALM_USER_${index}_PASSWORD`;
}

/** `[major, minor]` of a Keycloak image tag such as `26.8.0` or `26.5`; undefined when the tag is not a version. */
function keycloakVersion(image: string): [number, number] | undefined {
  const match = /^(\d+)\.(\d+)(?:[.-]|$)/.exec(imageVersion(image) ?? '');
  return match ? [Number(match[1]), Number(match[2])] : undefined;
}

function compareVersions(a: [number, number], b: [number, number]): number {
  return a[0] !== b[0] ? a[0] - b[0] : a[1] - b[1];
}
