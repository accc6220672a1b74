import type * as kplus from 'cdk8s-plus-28';
import type * as config from './gateway/config-contract.generated';
import { dnsLabelProblem, emptyProblem, isHttpUrl, secretValueProblem } from './validation';

/** Options of `OAuthProvider.github`. */
export interface GithubOAuthProviderOptions {
  /**
   * Client ID of the GitHub OAuth app (`Ov23li...`). Register the app with the callback URL
   * `<gateway publicUrl>/connect/<name>/callback`.
   */
  readonly clientId: string;
  /** The OAuth app's client secret, as a key of a Secret (never a literal: it would land in the manifests). */
  readonly clientSecret: kplus.SecretValue;
  /**
   * Scopes to ask for.
   * @default ['read:user', 'repo']
   */
  readonly scopes?: string[];
  /**
   * Name of the provider in the gateway config and in the connect URLs (`/connect/<name>/...`). A DNS-1123 label.
   * @default 'github'
   */
  readonly name?: string;
  /**
   * Base URL of GitHub, for GitHub Enterprise Server.
   * @default 'https://github.com'
   */
  readonly githubUrl?: string;
}

/** Options of `OAuthProvider.custom`. */
export interface CustomOAuthProviderOptions {
  /** Name of the provider in the gateway config and in the connect URLs (`/connect/<name>/...`). A DNS-1123 label. */
  readonly name: string;
  /** The provider's authorization endpoint. */
  readonly authorizationUrl: string;
  /** The provider's token endpoint. */
  readonly tokenUrl: string;
  /** Client ID registered at the provider, with the redirect URI `<gateway publicUrl>/connect/<name>/callback`. */
  readonly clientId: string;
  /** The client secret, as a key of a Secret. */
  readonly clientSecret: kplus.SecretValue;
  /**
   * Scopes to ask for.
   * @default - none
   */
  readonly scopes?: string[];
}

/**
 * An OAuth 2.0 provider whose tokens users connect through the gateway (authorization code with PKCE):
 * the gateway sends a user who has not connected yet to `/connect/<name>/start`, keeps the token it gets for
 * that user, and injects it into their requests to the targets that need it.
 *
 * @example OAuthProvider.github({ clientId: 'Ov23li...', clientSecret: { secret: kplus.Secret.fromSecretName(this, 'GithubApp',
   'github-oauth-app'), key: 'clientSecret' } })
 */
export class OAuthProvider {
  /** A GitHub (or GitHub Enterprise Server) OAuth app. */
  public static github(options: GithubOAuthProviderOptions): OAuthProvider {
    const base = (options.githubUrl ?? 'https://github.com').replace(/\/+$/, '');
    return new OAuthProvider({
      name: options.name ?? 'github',
      authorizationUrl: `${base}/login/oauth/authorize`,
      tokenUrl: `${base}/login/oauth/access_token`,
      clientId: options.clientId,
      clientSecret: options.clientSecret,
      scopes: options.scopes ?? ['read:user', 'repo'],
    });
  }

  /** Any OAuth 2.0 provider with an authorization and a token endpoint. */
  public static custom(options: CustomOAuthProviderOptions): OAuthProvider {
    return new OAuthProvider(options);
  }

  /** Name of the provider in the gateway config and in the connect URLs. */
  public readonly name: string;

  private constructor(private readonly options: CustomOAuthProviderOptions) {
    this.name = options.name;
  }

  /**
   * The `config.credentials.providers` entry; the client secret is read from `secretEnv`.
   * @internal
   */
  public _toConfig(secretEnv: string): config.CredentialProvider {
    const { authorizationUrl, tokenUrl, clientId, scopes } = this.options;
    return { oauth2: { authorizationUrl, tokenUrl, clientId, clientSecret: { env: secretEnv }, ...(scopes && scopes.length > 0 ? { scopes } : {}) } };
  }

  /** @internal */
  public get _clientSecret(): kplus.SecretValue {
    return this.options.clientSecret;
  }

  /**
   * What is wrong with the provider, as `[prop, problem, fix]`.
   * @internal
   */
  public _problems(): Array<[string, string, string]> {
    const { name, authorizationUrl, tokenUrl, clientId, clientSecret, scopes } = this.options;
    const problems: Array<[string, string | undefined, string]> = [
      ['name', dnsLabelProblem(name), 'Name the provider with a DNS-1123 label such as "github": it becomes part of the /connect/<name>/ URLs.'],
      ['authorizationUrl', isHttpUrl(authorizationUrl) ? undefined : `${JSON.stringify(authorizationUrl)} is not an http(s) URL`,
        'Pass the provider\'s authorization endpoint.'],
      ['tokenUrl', isHttpUrl(tokenUrl) ? undefined : `${JSON.stringify(tokenUrl)} is not an http(s) URL`, 'Pass the provider\'s token endpoint.'],
      ['clientId', emptyProblem(clientId), 'Pass the client ID the provider gave the OAuth app.'],
      ['clientSecret', secretValueProblem(clientSecret),
        'Pass { secret: kplus.Secret.fromSecretName(this, "OAuthApp", "<name>"), key: "clientSecret" }.'],
      ['scopes',
        (scopes ?? []).some((scope) => emptyProblem(scope) !== undefined || /\s/.test(scope))
          ? 'has an empty scope or one with whitespace' : undefined,
        'Pass one scope per element, e.g. ["read:user", "repo"].'],
    ];
    return problems.filter((entry): entry is [string, string, string] => entry[1] !== undefined);
  }
}
