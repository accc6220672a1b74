import type { Duration } from 'cdk8s';
import type * as kplus from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import type * as config from './gateway/config-contract.generated';
import { omitUndefined } from './manifest-helpers';
import type { AuthorizationRule } from './mcp-authorization-rule';
import { checkCelExpression } from './mcp-authorization-rule';
import type { IMcpRoutePolicy, McpRoutePolicyContext } from './route-policy';
import { isHttpUrl, propError } from './validation';

/**
 * The kind of OpenID provider that issues tokens. The gateway adapts discovery, dynamic client
 * registration and JWKS defaults to providers that deviate from the standards.
 */
export class OidcProvider {
  /**
   * Keycloak: JWKS at `<issuer>/protocol/openid-connect/certs`; the gateway reads OIDC discovery
   * (Keycloak ignores RFC 8707 resource indicators) and proxies dynamic client registration to add CORS.
   */
  public static readonly KEYCLOAK = new OidcProvider('keycloak', '/protocol/openid-connect/certs', { keycloak: {} });

  /** Any standards-compliant OpenID provider; JWKS by convention at `<issuer>/.well-known/jwks.json`. */
  public static readonly GENERIC_OIDC = new OidcProvider(undefined, '/.well-known/jwks.json');

  /**
   * The provider's entry under `provider` in the gateway configuration; undefined for generic providers.
   * @internal
   */
  public readonly _configEntry?: config.AuthProvider;

  /**
   * @param configKey key under `provider` in the gateway configuration; undefined for generic providers
   * @param jwksPath path of the key set below the issuer URL
   */
  private constructor(public readonly configKey: string | undefined, public readonly jwksPath: string, configEntry?: config.AuthProvider) {
    this._configEntry = configEntry;
  }

  /** The JWKS URL this provider serves for `issuerUrl`. */
  public jwksUrlFor(issuerUrl: string): string {
    return `${issuerUrl.replace(/\/+$/, '')}${this.jwksPath}`;
  }
}

/**
 * An OpenID provider (an issuer of access tokens) that a gateway trusts. `KeycloakRealm` implements
 * it; `OidcIssuer.fromUrl` covers providers this library does not deploy.
 */
export interface IOidcIssuer {
  /** Exact `iss` of the tokens, e.g. `https://auth.example.com/realms/mcp`. */
  readonly issuerUrl: string;
  /** Where the gateway fetches the signing keys. May be an in-cluster URL. */
  readonly jwksUrl: string;
  /**
   * The issuer as the gateway reaches it, when that differs from `issuerUrl` (an in-cluster Service):
   * the gateway's discovery, key and client-registration requests go there, tokens keep `issuerUrl`.
   * @default - the gateway reaches the issuer at `issuerUrl`
   */
  readonly backchannelUrl?: string;
  /** Kind of provider. */
  readonly provider: OidcProvider;
  /**
   * Audiences the issuer puts into tokens for MCP clients (`aud`).
   * @default - unknown; `McpAuthPolicy` then needs `audiences` or a resource URL
   */
  readonly tokenAudiences?: string[];
  /**
   * Scopes MCP clients may request, advertised in the protected-resource metadata.
   * @default - none advertised
   */
  readonly scopesSupported?: string[];
  /**
   * Realm roles and groups the issuer's tokens can carry; `McpAuthPolicy` rejects rules naming others.
   * @default - unknown, not checked
   */
  readonly declaredAccess?: IssuerDeclaredAccess;
  /**
   * The gateway's own OIDC client at this issuer, for signing in the browser that opens a connect link
   * (`UserCredential.oauth2`): the gateway checks the browser is the link's user before sending it to the provider.
   * @default - none; a gateway with `UserCredential.oauth2` targets on routes signing in here then fails validation
   */
  readonly connectSignInClient?: OidcConnectSignInClient;
}

/** A confidential OIDC client with the standard flow, redirect URI `<gateway public URL>/connect/_signin/callback`. */
export interface OidcConnectSignInClient {
  /** Client ID. */
  readonly clientId: string;
  /**
   * Its client secret, as a key of a Secret.
   * @default - a public client (no secret)
   */
  readonly clientSecret?: kplus.SecretValue;
}

/** Realm roles and groups an issuer declares (`IOidcIssuer.declaredAccess`). */
export interface IssuerDeclaredAccess {
  /** Realm roles tokens can carry in `realm_access.roles`. */
  readonly realmRoles: string[];
  /** Group names tokens can carry in `groups`. */
  readonly groups: string[];
}

/** Options for `OidcIssuer.fromUrl`. */
export interface OidcIssuerOptions {
  /**
   * Kind of provider.
   * @default OidcProvider.GENERIC_OIDC
   */
  readonly provider?: OidcProvider;
  /**
   * Where the signing keys are served.
   * @default - the provider's convention below the issuer URL
   */
  readonly jwksUrl?: string;
  /**
   * The issuer as the gateway reaches it (an in-cluster Service), e.g.
   * `http://keycloak.auth.svc.cluster.local:8080/realms/mcp`.
   * @default - the gateway reaches the issuer at its URL
   */
  readonly backchannelUrl?: string;
  /**
   * Audiences the issuer puts into tokens for MCP clients.
   * @default - unknown
   */
  readonly tokenAudiences?: string[];
  /**
   * Scopes MCP clients may request.
   * @default - none advertised
   */
  readonly scopesSupported?: string[];
  /**
   * The gateway's client here for the browser sign-in of connect links (`UserCredential.oauth2` needs one):
   * standard flow, redirect URI `<gateway public URL>/connect/_signin/callback`.
   * @default - none
   */
  readonly connectSignInClient?: OidcConnectSignInClient;
}

/** Factories for issuers that this library does not deploy. */
export class OidcIssuer {
  /**
   * An issuer known by its URL.
   * @param issuerUrl exact `iss` of the tokens
   * @example OidcIssuer.fromUrl('https://auth.example.com/realms/mcp', { provider: OidcProvider.KEYCLOAK })
   */
  public static fromUrl(issuerUrl: string, options: OidcIssuerOptions = {}): IOidcIssuer {
    const provider = options.provider ?? OidcProvider.GENERIC_OIDC;
    return {
      issuerUrl,
      provider,
      jwksUrl: options.jwksUrl ?? provider.jwksUrlFor(issuerUrl),
      backchannelUrl: options.backchannelUrl,
      tokenAudiences: options.tokenAudiences,
      scopesSupported: options.scopesSupported,
      connectSignInClient: options.connectSignInClient,
    };
  }

  private constructor() {}
}

/** What the gateway does with requests that carry no valid token. */
export enum McpAuthMode {
  /** A valid token is required; others get 401 with a pointer to the protected-resource metadata. */
  STRICT = 'strict',
  /** Requests without a token pass; a token that is present must be valid. Clients never start sign-in. */
  OPTIONAL = 'optional',
  /** Never rejects; claims of valid tokens are available to authorization rules. */
  PERMISSIVE = 'permissive',
}

/** RFC 9728 protected-resource metadata that MCP clients read to find out how to sign in. */
export interface McpResourceMetadata {
  /**
   * Canonical URL of the MCP endpoint (`resource`); must equal the URL clients use and the audience
   * the issuer puts into tokens.
   * @default - `publicUrl` + route path when a public URL is known, else derived per request by the gateway
   */
  readonly resource?: string;
  /**
   * Scopes clients may request (`scopes_supported`).
   * @default - `requiredScopes`, else the issuer's `scopesSupported`
   */
  readonly scopesSupported?: string[];
  /**
   * How clients may present tokens (`bearer_methods_supported`).
   * @default ['header'] - the MCP specification forbids tokens in the query string
   */
  readonly bearerMethodsSupported?: string[];
  /**
   * Human-readable documentation of the resource (`resource_documentation`).
   * @default - none
   */
  readonly documentationUrl?: string;
  /**
   * Human-readable name of the resource (`resource_name`).
   * @default - none
   */
  readonly resourceName?: string;
}

/** Properties of an `McpAuthPolicy`. */
export interface McpAuthPolicyProps {
  /**
   * Who issues the tokens: a `KeycloakRealm`, or `OidcIssuer.fromUrl(...)`.
   */
  readonly issuer: IOidcIssuer;
  /**
   * Accepted token audiences (`aud`). Tokens for other audiences are rejected, so a token minted for
   * another service cannot be replayed here.
   * @default - the issuer's `tokenAudiences`, else the resource URL
   */
  readonly audiences?: string[];
  /**
   * Where the gateway fetches the signing keys.
   * @default - the issuer's `jwksUrl`
   */
  readonly jwksUrl?: string;
  /**
   * Kind of provider.
   * @default - the issuer's provider
   */
  readonly provider?: OidcProvider;
  /**
   * What happens to requests without a valid token.
   * @default McpAuthMode.STRICT
   */
  readonly mode?: McpAuthMode;
  /**
   * Protected-resource metadata served at `/.well-known/oauth-protected-resource/<path>`.
   * @default - resource derived from the public URL, `bearerMethodsSupported: ['header']`
   */
  readonly resourceMetadata?: McpResourceMetadata;
  /**
   * Scopes every token must carry; they are named in the 401 challenge and a token lacking one gets
   * 403 `insufficient_scope`.
   * @default - no scope required
   */
  readonly requiredScopes?: string[];
  /**
   * Scopes a call of each tool needs, by the tool name clients call. A token lacking them gets 403
   * `insufficient_scope` naming them, so the client can ask the user for more (step-up).
   * @default - no per-tool scopes
   */
  readonly toolScopes?: { [tool: string]: string[] };
  /**
   * Accepted signing algorithms, from RS256/384/512, PS256/384/512, ES256/384/512, EdDSA and Ed25519.
   * `none` and the HMAC algorithms are refused: the keys come from a public key set.
   * @default - all of those
   */
  readonly algorithms?: string[];
  /**
   * Tolerated clock difference when checking `exp` and `nbf`.
   * @default - the gateway's default, 30 seconds
   */
  readonly clockSkew?: Duration;
  /**
   * Public base URL of the gateway (`https://mcp.example.com`), used for the resource URL and the
   * 401 challenge when `X-Forwarded-*` headers cannot be trusted.
   * @default - the gateway's public URL when it knows one, else derived per request
   */
  readonly publicUrl?: string;
  /**
   * Authorization rules; more can be added with `addRule`.
   * @default - none: every authenticated caller may use every tool
   */
  readonly rules?: AuthorizationRule[];
}

/**
 * Signs users in with OAuth 2.1 (the MCP authorization specification) and authorizes their MCP
 * calls with CEL rules. Attach it to gateway routes; it renders the route's `mcpAuthentication` and
 * `mcpAuthorization` policies.
 *
 * Every rule is parsed when the chart is synthesized, so a typo fails `cdk8s synth` instead of
 * locking everyone out at run time.
 *
 * @example
 * new McpAuthPolicy(this, 'auth', {
 *   issuer: realm,
 *   rules: [
 *     AuthorizationRule.allowTool('get_me'),
 *     AuthorizationRule.allowToolsForRole('admin', ['delete_repository']),
 *   ],
 * });
 */
export class McpAuthPolicy extends Construct implements IMcpRoutePolicy {
  /** Who issues the accepted tokens. */
  public readonly issuer: IOidcIssuer;
  /** What happens to requests without a valid token. */
  public readonly mode: McpAuthMode;

  private readonly props: McpAuthPolicyProps;
  private readonly _rules: AuthorizationRule[];

  public constructor(scope: Construct, id: string, props: McpAuthPolicyProps) {
    super(scope, id);
    this.props = props;
    this.issuer = props.issuer;
    this.mode = props.mode ?? McpAuthMode.STRICT;
    this._rules = [...(props.rules ?? [])];
    this.node.addValidation({ validate: () => this.validateProps() });
    this.node.addValidation({ validate: () => this.declaredAccessProblems() });
  }

  /** Authorization rules, in the order the gateway receives them. */
  public get rules(): AuthorizationRule[] {
    return [...this._rules];
  }

  /** Adds authorization rules. */
  public addRule(...rules: AuthorizationRule[]): void {
    this._rules.push(...rules);
  }

  /**
   * Renders `mcpAuthentication` and, when there are rules, `mcpAuthorization` for a route.
   */
  public renderRoutePolicies(context: McpRoutePolicyContext): { [key: string]: any } {
    return this.routePolicies(context);
  }

  /** What `renderRoutePolicies` returns, typed with the gateway configuration's contract. */
  private routePolicies(context: McpRoutePolicyContext): config.RoutePolicies {
    const publicUrl = (this.props.publicUrl ?? context.publicUrl)?.replace(/\/+$/, '');
    const metadata = this.props.resourceMetadata ?? {};
    const resource = metadata.resource ?? (publicUrl ? `${publicUrl}${context.routePath}` : undefined);
    const audiences = this.props.audiences ?? this.issuer.tokenAudiences ?? (resource ? [resource] : undefined);
    if (!audiences || audiences.length === 0) {
      throw new Error(`McpAuthPolicy ${this.node.path}: cannot tell which token audience route ${context.routePath} accepts; `
        + 'set audiences (or resourceMetadata.resource, or publicUrl) to the URL MCP clients use, e.g. "https://mcp.example.com/github/mcp".');
    }
    const provider = this.props.provider ?? this.issuer.provider;
    const scopesSupported = metadata.scopesSupported ?? this.props.requiredScopes ?? this.issuer.scopesSupported;

    const mcpAuthentication = omitUndefined<config.McpAuthentication>({
      issuer: this.issuer.issuerUrl,
      audiences,
      jwks: { url: this.props.jwksUrl ?? this.issuer.jwksUrl },
      provider: provider._configEntry,
      mode: this.mode,
      resourceMetadata: omitUndefined({
        resource,
        scopesSupported,
        bearerMethodsSupported: metadata.bearerMethodsSupported ?? ['header'],
        resourceDocumentation: metadata.documentationUrl,
        resourceName: metadata.resourceName,
      }),
      requiredScopes: this.props.requiredScopes,
      toolScopes: this.props.toolScopes,
      algorithms: this.props.algorithms,
      clockSkew: this.props.clockSkew ? `${this.props.clockSkew.toSeconds({ integral: false })}s` : undefined,
      publicUrl,
      backchannelUrl: backchannelOf(this.issuer),
    });
    return omitUndefined<config.RoutePolicies>({
      mcpAuthentication,
      mcpAuthorization: this._rules.length > 0 ? { rules: this._rules.map(rule => rule._toConfig()) } : undefined,
    });
  }

  /** Rules naming a realm role or group the issuer does not declare would never match. */
  private declaredAccessProblems(): string[] {
    const declared = this.issuer.declaredAccess;
    if (!declared) return [];
    const errors: string[] = [];
    this._rules.forEach((rule, index) => {
      const { realmRole, group } = rule._names;
      if (realmRole !== undefined && !declared.realmRoles.includes(realmRole)) {
        errors.push(
          propError(
            this,
            `authorization rule #${index} (${rule.effect})`,
            `names the realm role ${JSON.stringify(realmRole)}, which the issuer's realm does not declare (it has `
              + `${declared.realmRoles.map((r) => JSON.stringify(r)).join(', ') || 'none'}), so the rule would never match`,
            `Add { name: ${JSON.stringify(realmRole)} } to the KeycloakRealm's roles, or name one of its roles.`,
          ),
        );
      }
      if (group !== undefined && !declared.groups.includes(group)) {
        errors.push(
          propError(
            this,
            `authorization rule #${index} (${rule.effect})`,
            `names the group ${JSON.stringify(group)}, which the issuer's realm does not declare (it has `
              + `${declared.groups.map((g) => JSON.stringify(g)).join(', ') || 'none'}), so the rule would never match`,
            `Add { name: ${JSON.stringify(group)} } to the KeycloakRealm's groups, or name one of its groups.`,
          ),
        );
      }
    });
    return errors;
  }

  private validateProps(): string[] {
    const errors: string[] = [];
    const fail = (prop: string, problem: string, fix: string) => errors.push(propError(this, prop, problem, fix));

    if (!isHttpUrl(this.issuer.issuerUrl)) {
      fail('issuer', `URL ${JSON.stringify(this.issuer.issuerUrl)} is not an absolute http(s) URL`, 'Pass e.g. OidcIssuer.fromUrl("https://auth.example.com/realms/mcp").');
    }
    if (this.issuer.backchannelUrl !== undefined && !isHttpUrl(this.issuer.backchannelUrl)) {
      fail('issuer', `back-channel URL ${JSON.stringify(this.issuer.backchannelUrl)} is not an absolute http(s) URL`, 'Pass e.g. "http://keycloak.auth.svc.cluster.local:8080/realms/mcp".');
    }
    const jwksUrl = this.props.jwksUrl ?? this.issuer.jwksUrl;
    if (!isHttpUrl(jwksUrl)) fail('jwksUrl', `${JSON.stringify(jwksUrl)} is not an absolute http(s) URL`, 'Pass the URL of the key set, e.g. "https://auth.example.com/realms/mcp/protocol/openid-connect/certs".');
    if (this.props.audiences && this.props.audiences.length === 0) {
      fail('audiences', 'is empty', 'List the URL MCP clients use (the audience your issuer puts into tokens), or omit it to use the resource URL.');
    }
    const issued = this.issuer.tokenAudiences;
    if (this.props.audiences && this.props.audiences.length > 0 && issued && !this.props.audiences.some(audience => issued.includes(audience))) {
      fail(
        'audiences',
        `${JSON.stringify(this.props.audiences)} contain none of the audiences the issuer puts into tokens (${JSON.stringify(issued)}), so every `
          + 'token would be rejected',
        "Omit audiences to accept the issuer's, or add the route URL to the issuer (KeycloakRealm mcpAudiences).",
      );
    }
    for (const [name, url] of [['resourceMetadata.resource', this.props.resourceMetadata?.resource],
      ['resourceMetadata.documentationUrl', this.props.resourceMetadata?.documentationUrl]] as const) {
      if (url !== undefined && !isHttpUrl(url)) fail(name, `${JSON.stringify(url)} is not an absolute http(s) URL`, 'Pass e.g. "https://mcp.example.com/github/mcp".');
    }
    const publicUrl = this.props.publicUrl;
    // The gateway inserts /.well-known/... between host and route path, so its base URL cannot have a path.
    if (publicUrl !== undefined && (!isHttpUrl(publicUrl) || new URL(publicUrl).pathname !== '/' || new URL(publicUrl).search !== '')) {
      fail('publicUrl', `${JSON.stringify(publicUrl)} is not a scheme://host[:port] URL`, 'Pass e.g. "https://mcp.example.com" without a path.');
    }
    for (const [tool, scopes] of Object.entries(this.props.toolScopes ?? {})) {
      if (scopes.length === 0) {
        fail(`toolScopes.${tool}`, 'is empty', `List the scopes a call of ${tool} needs, e.g. ["repo:delete"], or leave the tool out.`);
      }
    }
    const refused = (this.props.algorithms ?? []).filter(alg => !ASYMMETRIC_ALGORITHMS.includes(alg));
    if (refused.length > 0) {
      fail(
        'algorithms',
        `${refused.join(', ')} are refused: only asymmetric signatures can be checked with a public key set ("none" is unsigned, HS* needs a `
          + 'shared secret)',
        `Use some of ${ASYMMETRIC_ALGORITHMS.join(', ')}.`,
      );
    }
    if (this.props.algorithms && this.props.algorithms.length === 0) {
      fail('algorithms', 'is empty', 'Omit it to use the gateway default, or list e.g. ["RS256"].');
    }
    if (this.props.clockSkew && this.props.clockSkew.toMilliseconds() > 5 * 60_000) {
      fail('clockSkew', `of ${this.props.clockSkew.toSeconds()}s would accept tokens long after they expire`, 'Keep it at 5 minutes or less.');
    }

    this._rules.forEach((rule, index) => {
      const problem = checkCelExpression(rule.expression);
      if (!problem) return;
      const verdict = problem.kind === 'syntax' ? 'is not valid CEL' : 'cannot match';
      fail(
        `authorization rule #${index} (${rule.effect})`,
        `${JSON.stringify(rule.expression)} ${verdict}: ${problem.message} at line ${problem.line}, column ${problem.column}`,
        problem.hint ? `Hint: ${problem.hint}.` : 'Fix the expression.',
      );
    });
    return errors;
  }
}

/** What the gateway accepts (runtime/src/auth/settings.ts). */
const ASYMMETRIC_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519'];

/** The back-channel URL worth rendering: one that differs from the public issuer. */
function backchannelOf(issuer: IOidcIssuer): string | undefined {
  const trim = (url: string) => url.replace(/\/+$/, '');
  return issuer.backchannelUrl !== undefined && trim(issuer.backchannelUrl) !== trim(issuer.issuerUrl) ? trim(issuer.backchannelUrl) : undefined;
}
