/*
 * Per-user upstream credentials of a RUNTIME gateway (issue #14): the `config.credentials` section rendered from
 * the `CredentialStore` and the `UserCredential`s of the routes' targets, the Secret-backed environment that
 * section refers to, and the checks that tie them together. Internal: not exported from the index.
 */
import * as kplus from 'cdk8s-plus-28';
import type { Construct } from 'constructs';
import type * as config from './config-contract.generated';
import type { BoundCredentialStore, CredentialStore } from '../credential-store';
import type { IOidcIssuer, OidcConnectSignInClient } from '../mcp-auth-policy';
import type { McpGatewayRoute } from '../mcp-gateway-route';
import type { IMcpTarget } from '../mcp-target';
import type { BoundCredentialProvider } from '../user-credential';
import type { PropCheck } from '../validation';

/** Where the gateway serves the connect flow (`/connect/<provider>/start`, `/callback`, and disconnect). */
export const CONNECT_PATH_PREFIX = '/connect/';
/** The environment variable holding the secret of the gateway's connect sign-in client. */
const SIGN_IN_SECRET_ENV = 'CREDENTIALS_BROWSER_SIGN_IN_CLIENT_SECRET';

interface ProviderUse {
  readonly provider: BoundCredentialProvider;
  /** `<route path> target <name>` of each target that declared it. */
  readonly usedBy: string[];
  /** Every different declaration under the same name, to report a clash. */
  readonly identities: Set<string>;
}

/** The credentials part of one gateway. */
export class GatewayCredentials {
  private readonly store?: BoundCredentialStore;

  constructor(
    scope: Construct,
    private readonly credentialStore: CredentialStore | undefined,
    private readonly routes: () => McpGatewayRoute[],
    private readonly publicUrl: string | undefined,
  ) {
    this.store = credentialStore?._bind(scope);
  }

  /** Whether the gateway serves the connect flow, so its exposure must route `/connect/` to it. */
  public get enabled(): boolean {
    return this.credentialStore !== undefined;
  }

  /** Targets of every route that need a user credential. */
  public get credentialTargets(): Array<{ route: McpGatewayRoute; target: IMcpTarget }> {
    return this.routes().flatMap((route) => route.targets.filter((target) => target.userCredential).map((target) => ({ route, target })));
  }

  /** `config.credentials`, or undefined without a store. */
  public renderConfig(): config.CredentialsSettings | undefined {
    if (!this.store) return undefined;
    const providers = Object.fromEntries([...this.providers().values()].map((use) => [use.provider.name, use.provider.config]));
    const signIn = this.signInClient();
    return {
      ...this.store.config,
      ...(this.publicUrl ? { publicUrl: this.publicUrl } : {}),
      providers,
      ...(signIn ? { browserSignIn: this.renderSignIn(signIn) } : {}),
    };
  }

  private renderSignIn(client: OidcConnectSignInClient): any {
    return { clientId: client.clientId, ...(client.clientSecret ? { clientSecret: { env: SIGN_IN_SECRET_ENV } } : {}) };
  }

  /**
   * The sign-in issuer's client for the browser sign-in of connect links (`config.credentials.browserSignIn`), when
   * a provider needs it (`oauth2`): the first one declared by an issuer of the routes with credential targets.
   */
  private signInClient(): OidcConnectSignInClient | undefined {
    if (![...this.providers().values()].some((use) => use.provider.config.oauth2 !== undefined)) return undefined;
    return this.issuers().map((issuer) => issuer.connectSignInClient).find((client) => client !== undefined);
  }

  /** The issuers (`McpAuthPolicy.issuer`) of the routes with credential targets. */
  private issuers(): IOidcIssuer[] {
    const routes = new Set(this.credentialTargets.map(({ route }) => route));
    return [...routes].flatMap((route) => route.policies.map((policy) => (policy as { issuer?: IOidcIssuer }).issuer))
      .filter((issuer): issuer is IOidcIssuer => issuer !== undefined);
  }

  /**
   * The environment `config.credentials` refers to: the database URL, the encryption key and each provider's
   * client secret, all from Secret keys.
   */
  public env(): { [name: string]: kplus.EnvValue } {
    if (!this.store) return {};
    const env = { ...this.store.env };
    for (const use of this.providers().values()) Object.assign(env, use.provider.env);
    const secret = this.signInClient()?.clientSecret;
    if (secret) env[SIGN_IN_SECRET_ENV] = kplus.EnvValue.fromSecretValue(secret);
    return env;
  }

  /** Constructs the gateway must be able to reach for its credentials (e.g. the Keycloak realm it exchanges tokens with). */
  public peers(target: IMcpTarget): unknown[] {
    const connectsTo = target.userCredential?._bindProvider().connectsTo;
    return connectsTo ? [connectsTo] : [];
  }

  /** The store, replicas and provider declarations. */
  public check(check: PropCheck, severalPods: boolean): void {
    for (const [prop, problem, fix] of this.credentialStore?._problems() ?? []) check(`credentialStore ${prop}`, problem, fix);
    const targets = this.credentialTargets;
    if (!this.credentialStore && targets.length > 0) {
      const names = targets.map(({ route, target }) => `${target.targetName} (route ${route.path})`).join(', ');
      check('credentialStore', `is missing, but ${names} need${targets.length === 1 ? 's' : ''} a user credential the gateway must keep per user`,
        'Pass credentialStore: CredentialStore.cloudNativePg({ encryptionKey }) (or .postgres({ url, encryptionKey }) for an existing database, '
        + 'or .memory({ encryptionKey }) for one replica).');
    }
    if (this.credentialStore && !this.credentialStore.isShared && severalPods) {
      check('credentialStore',
        'is CredentialStore.memory(), but the gateway may run more than one pod: each would keep its own credentials, '
        + 'so users would be asked to connect again on every other request',
        'Use CredentialStore.cloudNativePg({ encryptionKey }) or CredentialStore.postgres({ url, encryptionKey }), or run one replica.');
    }
    const oauth2 = [...this.providers().values()].find((use) => use.provider.config.oauth2 !== undefined);
    // Routes without sign-in cannot take credentials at all (the runtime refuses them); that is not this check's to report.
    if (this.credentialStore && oauth2 && this.issuers().length > 0 && !this.signInClient()) {
      check(`credential provider ${JSON.stringify(oauth2.provider.name)}`,
        'is oauth2, but no sign-in issuer of its routes declares a connectSignInClient: the gateway could not check that the browser '
        + 'opening a connect link is the link\'s own user',
        'Set connectSignIn: { clientSecret: { secret, key } } on the KeycloakRealm the routes sign in with.');
    }
    for (const use of this.providers().values()) {
      if (use.identities.size > 1) {
        check(`credential provider ${JSON.stringify(use.provider.name)}`, `is declared differently by ${use.usedBy.join(', ')}`,
          'Share one OAuthProvider (or tokenExchange options) between those targets, or give each its own name.');
      }
    }
  }

  private providers(): Map<string, ProviderUse> {
    const byName = new Map<string, ProviderUse>();
    for (const { route, target } of this.credentialTargets) {
      const provider = target.userCredential!._bindProvider();
      const use = byName.get(provider.name) ?? { provider, usedBy: [], identities: new Set<string>() };
      use.usedBy.push(`route ${route.path} target ${target.targetName}`);
      use.identities.add(provider.identity);
      byName.set(provider.name, use);
    }
    return byName;
  }
}
