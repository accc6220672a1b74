import * as kplus from 'cdk8s-plus-28';
import { CredentialInjection } from './credential-injection';
import type * as config from './gateway/config-contract.generated';
import type { KeycloakRealm } from './keycloak-realm';
import type { OAuthProvider } from './oauth-provider';
import { dnsLabelProblem, emptyProblem, isHttpUrl, secretValueProblem } from './validation';

/** Options of `UserCredential.oauth2`. */
export interface UserCredentialOAuth2Options {
  /** The provider users connect, e.g. `OAuthProvider.github({...})`. */
  readonly provider: OAuthProvider;
  /**
   * How the gateway sends the user's token to the server.
   * @default CredentialInjection.bearer()
   */
  readonly inject?: CredentialInjection;
}

/** Options of `UserCredential.tokenExchange`. */
export interface UserCredentialTokenExchangeOptions {
  /**
   * The audience of the exchanged token: the upstream's client ID at the identity provider.
   * With `realm`, one of the realm's `tokenExchange.audiences`.
   */
  readonly audience: string;
  /**
   * The `KeycloakRealm` users sign in with, whose `tokenExchange` client the gateway uses (client ID, secret and
   * in-cluster token endpoint). Without it, pass `clientId` and `clientSecret`.
   * @default - none; `clientId` and `clientSecret` are required
   */
  readonly realm?: KeycloakRealm;
  /**
   * Client ID of the gateway at the identity provider (with standard token exchange enabled).
   * @default - the realm's token exchange client
   */
  readonly clientId?: string;
  /**
   * Its client secret, as a key of a Secret.
   * @default - the realm's token exchange client secret
   */
  readonly clientSecret?: kplus.SecretValue;
  /**
   * Token endpoint of the identity provider.
   * @default - the realm's in-cluster token endpoint; without `realm`, the one the gateway discovers from the
   * route's issuer (its backchannel URL when set)
   */
  readonly tokenUrl?: string;
  /**
   * Scopes to ask for.
   * @default - none
   */
  readonly scopes?: string[];
  /**
   * Name of the provider in the gateway config (one per audience). A DNS-1123 label.
   * @default - the audience, when it is a DNS-1123 label
   */
  readonly name?: string;
  /**
   * How the gateway sends the exchanged token to the server.
   * @default CredentialInjection.bearer()
   */
  readonly inject?: CredentialInjection;
}

/** A provider of the gateway config, with the Secret keys its entry reads. */
export interface BoundCredentialProvider {
  readonly name: string;
  /** The `config.credentials.providers.<name>` entry. */
  readonly config: config.CredentialProvider;
  /** Environment variables of the gateway Deployment the entry refers to. */
  readonly env: { [name: string]: kplus.EnvValue };
  /** The same provider declared twice renders the same identity. */
  readonly identity: string;
  /** A construct the gateway must be able to connect to (its `connections`), e.g. the realm. */
  readonly connectsTo?: unknown;
}

/**
 * The credential each user brings to an MCP server, which the gateway obtains, keeps per user and injects
 * into that user's requests (the gateway config's `targets[].credential`):
 *
 * - `oauth2`: the user connects their own account at a third-party OAuth provider (GitHub, ...) once,
 *   through a link the gateway sends with a URL-mode elicitation;
 * - `tokenExchange`: the gateway exchanges the user's sign-in token (RFC 8693) for one whose audience is the
 *   upstream, for internal services that trust the same identity provider.
 *
 * The gateway routing to the server needs a `credentialStore`.
 *
 * @example UserCredential.oauth2({ provider: OAuthProvider.github({ clientId, clientSecret }) })
 */
export class UserCredential {
  /** Each user's own token from an OAuth 2.0 provider, connected through the gateway (authorization code + PKCE). */
  public static oauth2(options: UserCredentialOAuth2Options): UserCredential {
    const provider = options.provider;
    return new UserCredential(provider.name, options.inject ?? CredentialInjection.bearer(), true, () => {
      const env = secretEnvName(provider.name);
      return {
        name: provider.name,
        config: provider._toConfig(env),
        env: { [env]: kplus.EnvValue.fromSecretValue(provider._clientSecret) },
        identity: identityOf(provider._toConfig(env), provider._clientSecret),
      };
    }, () => provider._problems().map(([prop, problem, fix]) => [`provider ${prop}`, problem, fix]));
  }

  /** The user's sign-in token exchanged (RFC 8693) for one whose audience is the upstream. */
  public static tokenExchange(options: UserCredentialTokenExchangeOptions): UserCredential {
    const name = options.name ?? options.audience;
    const client = options.realm?.tokenExchangeClient;
    const clientId = options.clientId ?? client?.clientId;
    const clientSecret = options.clientSecret ?? client?.clientSecret;
    const tokenUrl = options.tokenUrl ?? client?.tokenUrl;
    const render = (): BoundCredentialProvider => {
      const env = secretEnvName(name);
      const entry: config.CredentialProvider = {
        tokenExchange: {
          ...(tokenUrl ? { tokenUrl } : {}),
          // Without a realm or clientId, `_problems` fails synth before this entry is written anywhere.
          clientId: clientId ?? '',
          clientSecret: { env },
          audience: options.audience,
          ...(options.scopes && options.scopes.length > 0 ? { scopes: options.scopes } : {}),
        },
      };
      return {
        name,
        config: entry,
        env: clientSecret ? { [env]: kplus.EnvValue.fromSecretValue(clientSecret) } : {},
        identity: identityOf(entry, clientSecret),
        connectsTo: options.realm,
      };
    };
    const problems = (): Array<[string, string, string]> => {
      const found: Array<[string, string | undefined, string]> = [
        ['name', dnsLabelProblem(name), options.name === undefined
          ? `The default is the audience ${JSON.stringify(options.audience)}; set name to a DNS-1123 label such as "internal-api".`
          : 'Set name to a DNS-1123 label such as "internal-api".'],
        ['audience', emptyProblem(options.audience), 'Pass the upstream\'s client ID at the identity provider.'],
        ['tokenUrl', tokenUrl === undefined || isHttpUrl(tokenUrl) ? undefined : `${JSON.stringify(tokenUrl)} is not an http(s) URL`,
          'Pass the identity provider\'s token endpoint.'],
      ];
      if (options.realm && !client) {
        found.push(['realm', `${options.realm.node.path} declares no tokenExchange client`,
          `Set tokenExchange on the KeycloakRealm: { clientSecret: { secret, key }, audiences: [${JSON.stringify(options.audience)}] }.`]);
      } else if (client && !client.audiences.includes(options.audience)) {
        found.push(['audience',
          `${JSON.stringify(options.audience)} is not among the realm's tokenExchange audiences (${client.audiences.join(', ')})`,
          'Add it to the KeycloakRealm\'s tokenExchange.audiences: Keycloak exchanges tokens only for clients it knows.']);
      }
      if (!options.realm) {
        found.push(['clientId', emptyProblem(clientId), 'Pass realm (a KeycloakRealm with tokenExchange), or clientId and clientSecret.']);
        found.push(['clientSecret', secretValueProblem(clientSecret),
          'Pass realm (a KeycloakRealm with tokenExchange), or clientSecret: { secret, key }.']);
      }
      return found.filter((entry): entry is [string, string, string] => entry[1] !== undefined);
    };
    return new UserCredential(name, options.inject ?? CredentialInjection.bearer(), false, render, problems);
  }

  private constructor(
    /** Name of the provider in the gateway config. */
    public readonly providerName: string,
    /** How the gateway sends the credential to the server. */
    public readonly injection: CredentialInjection,
    /** Whether users connect it themselves, after their first session (OAuth), so a session may start without it. */
    private readonly connectedLater: boolean,
    private readonly render: () => BoundCredentialProvider,
    private readonly problems: () => Array<[string, string, string]>,
  ) {}

  /**
   * The `targets[].credential` entry.
   * @internal
   */
  public _toTargetConfig(): config.TargetCredential {
    return { provider: this.providerName, inject: this.injection._toConfig() };
  }

  /**
   * The stdio bridge's command-line options: `--credential-env NAME` for `CredentialInjection.env`, and
   * `--credential-optional` when users connect the credential after their first session (OAuth), whose
   * processes then start without the variable until they have.
   * @internal
   */
  public _toBridgeArgs(): string[] {
    const args = this.injection._toBridgeArgs();
    return args.length > 0 && this.connectedLater ? [...args, '--credential-optional'] : args;
  }

  /**
   * The provider entry, its Secret-backed environment and what the gateway must reach.
   * @internal
   */
  public _bindProvider(): BoundCredentialProvider {
    return this.render();
  }

  /**
   * What is wrong with the credential, as `[prop, problem, fix]`.
   * @internal
   */
  public _problems(): Array<[string, string, string]> {
    return [
      ...this.problems(),
      ...this.injection._problems().map(([problem, fix]): [string, string, string] => ['inject', problem, fix]),
    ];
  }
}

/** `github` → `CREDENTIALS_GITHUB_CLIENT_SECRET`. */
function secretEnvName(provider: string): string {
  return `CREDENTIALS_${provider.toUpperCase().replace(/[^A-Z0-9]/g, '_')}_CLIENT_SECRET`;
}

function identityOf(entry: config.CredentialProvider, secret: kplus.SecretValue | undefined): string {
  return JSON.stringify({ config: entry, secret: secret ? [secret.secret?.name, secret.key] : undefined });
}
