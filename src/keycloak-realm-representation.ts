/**
 * Builds the Keycloak realm JSON (RealmRepresentation) that `KeycloakRealm` imports. Kept apart from
 * the construct because it is pure data and is what the tests check against Keycloak's schema.
 */

/** Component type of client registration policies in a realm's `components`. */
const CLIENT_REGISTRATION_POLICY = 'org.keycloak.services.clientregistration.policy.ClientRegistrationPolicy';

/** Keycloak's default mapper types for dynamically registered clients (DefaultClientRegistrationPolicies). */
const ALLOWED_PROTOCOL_MAPPER_TYPES = [
  'oidc-full-name-mapper',
  'oidc-sha256-pairwise-sub-mapper',
  'saml-user-property-mapper',
  'oidc-address-mapper',
  'saml-user-attribute-mapper',
  'oidc-usermodel-property-mapper',
  'oidc-usermodel-attribute-mapper',
  'saml-role-list-mapper',
];

/** Scopes clients may ask for besides the defaults: Keycloak's built-in optional ones plus `profile`, `email` and `roles`. */
const OPTIONAL_SCOPES = ['profile', 'email', 'offline_access', 'roles', 'address', 'phone', 'microprofile-jwt'];
/**
 * Built-in scopes every client gets besides `basic` and the MCP scope, as Keycloak gives them by default.
 * `roles` stays optional: the MCP scope already writes `realm_access.roles`.
 */
const BUILT_IN_DEFAULT_SCOPES = ['acr', 'web-origins'];

/** Everything the realm JSON depends on, already defaulted by the construct. */
export interface RealmSpec {
  readonly realm: string;
  readonly displayName?: string;
  readonly mcpScope: string;
  readonly audiences: string[];
  readonly roles: Array<{ readonly name: string; readonly description?: string }>;
  readonly groups: Array<{ readonly name: string; readonly realmRoles: string[] }>;
  readonly users: Array<{
    readonly username: string;
    /** Name of the environment variable (or operator placeholder) that holds the password. */
    readonly passwordVariable: string;
    readonly email?: string;
    readonly firstName?: string;
    readonly lastName?: string;
    readonly realmRoles: string[];
    readonly groups: string[];
  }>;
  readonly client: { readonly clientId: string; readonly redirectUris: string[]; readonly webOrigins: string[] };
  readonly registration?: {
    readonly trustedHosts: string[];
    readonly maxClients: number;
    readonly webOrigins: string[];
  };
  readonly accessTokenLifespanSeconds: number;
  /** The gateway's confidential client for standard token exchange (Keycloak 26.2+), when declared. */
  readonly tokenExchange?: {
    readonly clientId: string;
    /** Name of the environment variable (or operator placeholder) that holds the client secret. */
    readonly secretVariable: string;
    /** Client IDs of the upstream services tokens are exchanged for. */
    readonly audiences: string[];
  };
  /** The gateway's client for the browser sign-in of connect links, when declared. */
  readonly connectSignIn?: {
    readonly clientId: string;
    readonly secretVariable: string;
    readonly redirectUris: string[];
  };
}

/** Claims in access tokens only: MCP clients never need them in ID tokens. */
function accessTokenClaim(extra: { [key: string]: string }): { [key: string]: string } {
  return { 'access.token.claim': 'true', 'id.token.claim': 'false', 'introspection.token.claim': 'true', 'userinfo.token.claim': 'false', ...extra };
}

export function renderRealm(spec: RealmSpec): any {
  const realm: any = {
    realm: spec.realm,
    enabled: true,
    ...(spec.displayName ? { displayName: spec.displayName } : {}),
    // Requests from private addresses (the cluster, a port-forward) may use HTTP; everything else needs HTTPS.
    sslRequired: 'external',
    registrationAllowed: false,
    resetPasswordAllowed: false,
    editUsernameAllowed: false,
    bruteForceProtected: true,
    accessTokenLifespan: spec.accessTokenLifespanSeconds,
    roles: { realm: spec.roles.map(role => ({ name: role.name, ...(role.description ? { description: role.description } : {}) })) },
    groups: spec.groups.map(group => ({ name: group.name, path: `/${group.name}`, realmRoles: group.realmRoles })),
    users: spec.users.map(user => ({
      username: user.username,
      enabled: true,
      ...(user.email ? { email: user.email, emailVerified: true } : {}),
      ...(user.firstName ? { firstName: user.firstName } : {}),
      ...(user.lastName ? { lastName: user.lastName } : {}),
      // Resolved by Keycloak from the environment (or the operator's placeholders) at import time.
      credentials: [{ type: 'password', value: `\${${user.passwordVariable}}`, temporary: false }],
      // Imported users get no default roles unless listed; the default role carries offline_access,
      // which MCP clients asking for refresh tokens need.
      realmRoles: [`default-roles-${spec.realm.toLowerCase()}`, ...user.realmRoles],
      groups: user.groups.map(group => `/${group}`),
    })),
    // Declaring clientScopes stops Keycloak from creating its built-in ones (keycloak#31082), so the
    // built-in OpenID Connect scopes are declared again as Keycloak creates them, `basic` (which carries
    // `sub`) first: a client asking for `roles` or `phone` must not get `invalid_scope`.
    clientScopes: [
      basicScope(), profileScope(), emailScope(), offlineAccessScope(), rolesScope(), webOriginsScope(), acrScope(),
      addressScope(), phoneScope(), microprofileJwtScope(), mcpScope(spec),
      ...(spec.tokenExchange ? [tokenExchangeAudienceScope(spec.tokenExchange)] : []),
    ],
    // Realm defaults are what dynamically registered clients get: sub, the MCP audience, roles and groups.
    defaultDefaultClientScopes: ['basic', spec.mcpScope, ...BUILT_IN_DEFAULT_SCOPES],
    // Keycloak rejects authorization requests naming a scope the client lacks, and MCP clients ask for these.
    defaultOptionalClientScopes: [...OPTIONAL_SCOPES],
    // Dynamically registered clients have fullScopeAllowed=false; mapping every realm role to the MCP
    // scope is what lets their tokens carry realm_access.roles.
    scopeMappings: [
      { clientScope: 'offline_access', roles: ['offline_access'] },
      ...(spec.roles.length > 0 ? [{ clientScope: spec.mcpScope, roles: spec.roles.map(role => role.name) }] : []),
    ],
    clients: [{
      clientId: spec.client.clientId,
      name: 'MCP clients',
      enabled: true,
      protocol: 'openid-connect',
      publicClient: true,
      standardFlowEnabled: true,
      implicitFlowEnabled: false,
      directAccessGrantsEnabled: false,
      serviceAccountsEnabled: false,
      fullScopeAllowed: false,
      redirectUris: spec.client.redirectUris,
      webOrigins: spec.client.webOrigins,
      attributes: { 'pkce.code.challenge.method': 'S256', 'post.logout.redirect.uris': '+' },
      defaultClientScopes: ['basic', spec.mcpScope, ...BUILT_IN_DEFAULT_SCOPES],
      optionalClientScopes: [...OPTIONAL_SCOPES],
    }, ...(spec.tokenExchange ? tokenExchangeClients(spec.tokenExchange) : []),
    ...(spec.connectSignIn ? [connectSignInClient(spec.connectSignIn)] : [])],
    components: { [CLIENT_REGISTRATION_POLICY]: registrationPolicies(spec) },
  };
  return realm;
}

function basicScope(): any {
  return {
    name: 'basic',
    description: 'OpenID Connect scope for the subject and authentication time',
    protocol: 'openid-connect',
    attributes: { 'include.in.token.scope': 'false', 'display.on.consent.screen': 'false' },
    protocolMappers: [
      subMapper(),
      {
        name: 'auth_time',
        protocol: 'openid-connect',
        protocolMapper: 'oidc-usersessionmodel-note-mapper',
        consentRequired: false,
        config: {
          'user.session.note': 'AUTH_TIME',
          'claim.name': 'auth_time',
          'jsonType.label': 'long',
          'id.token.claim': 'true',
          'access.token.claim': 'true',
          'introspection.token.claim': 'true',
        },
      },
    ],
  };
}

function offlineAccessScope(): any {
  return {
    name: 'offline_access',
    description: 'OpenID Connect built-in scope: offline_access',
    protocol: 'openid-connect',
    attributes: { 'display.on.consent.screen': 'true', 'consent.screen.text': 'Offline access' },
  };
}

/** The token subject (`sub`), which Keycloak 25+ adds only through a mapper. */
function subMapper(): any {
  return {
    name: 'sub',
    protocol: 'openid-connect',
    protocolMapper: 'oidc-sub-mapper',
    consentRequired: false,
    config: { 'access.token.claim': 'true', 'introspection.token.claim': 'true' },
  };
}

function userAttributeMapper(name: string, attribute: string, claim: string): any {
  return {
    name,
    protocol: 'openid-connect',
    protocolMapper: 'oidc-usermodel-attribute-mapper',
    consentRequired: false,
    config: {
      'user.attribute': attribute,
      'claim.name': claim,
      'jsonType.label': 'String',
      'id.token.claim': 'true',
      'access.token.claim': 'true',
      'userinfo.token.claim': 'true',
      'introspection.token.claim': 'true',
    },
  };
}

function profileScope(): any {
  return {
    name: 'profile',
    description: 'OpenID Connect built-in scope: profile',
    protocol: 'openid-connect',
    attributes: { 'include.in.token.scope': 'true', 'display.on.consent.screen': 'true', 'consent.screen.text': 'User profile' },
    protocolMappers: [
      userAttributeMapper('given name', 'firstName', 'given_name'),
      userAttributeMapper('family name', 'lastName', 'family_name'),
      {
        name: 'full name',
        protocol: 'openid-connect',
        protocolMapper: 'oidc-full-name-mapper',
        consentRequired: false,
        config: { 'id.token.claim': 'true', 'access.token.claim': 'true', 'userinfo.token.claim': 'true', 'introspection.token.claim': 'true' },
      },
    ],
  };
}

function emailScope(): any {
  return {
    name: 'email',
    description: 'OpenID Connect built-in scope: email',
    protocol: 'openid-connect',
    attributes: { 'include.in.token.scope': 'true', 'display.on.consent.screen': 'true', 'consent.screen.text': 'Email address' },
    protocolMappers: [
      userAttributeMapper('email', 'email', 'email'),
      {
        name: 'email verified',
        protocol: 'openid-connect',
        protocolMapper: 'oidc-usermodel-property-mapper',
        consentRequired: false,
        config: {
          'user.attribute': 'emailVerified',
          'claim.name': 'email_verified',
          'jsonType.label': 'boolean',
          'id.token.claim': 'true',
          'access.token.claim': 'true',
          'userinfo.token.claim': 'true',
          'introspection.token.claim': 'true',
        },
      },
    ],
  };
}

/** Mapper config that puts a claim into ID, access and introspection tokens and userinfo. */
function everyTokenClaim(extra: { [key: string]: string }): { [key: string]: string } {
  return { 'id.token.claim': 'true', 'access.token.claim': 'true', 'userinfo.token.claim': 'true', 'introspection.token.claim': 'true', ...extra };
}

function builtInScope(name: string, attributes: { [key: string]: string }, protocolMappers: any[]): any {
  return { name, description: `OpenID Connect built-in scope: ${name}`, protocol: 'openid-connect', attributes, protocolMappers };
}

function mapper(name: string, protocolMapper: string, config: { [key: string]: string }): any {
  return { name, protocol: 'openid-connect', protocolMapper, consentRequired: false, config };
}

function rolesScope(): any {
  return builtInScope('roles', { 'include.in.token.scope': 'false', 'display.on.consent.screen': 'true', 'consent.screen.text': 'User roles' }, [
    mapper('realm roles', 'oidc-usermodel-realm-role-mapper', {
      'claim.name': 'realm_access.roles',
      'jsonType.label': 'String',
      'multivalued': 'true',
      'access.token.claim': 'true',
      'introspection.token.claim': 'true',
    }),
    mapper('client roles', 'oidc-usermodel-client-role-mapper', {
      'claim.name': 'resource_access.${client_id}.roles',
      'jsonType.label': 'String',
      'multivalued': 'true',
      'access.token.claim': 'true',
      'introspection.token.claim': 'true',
    }),
    mapper('audience resolve', 'oidc-audience-resolve-mapper', { 'access.token.claim': 'true', 'introspection.token.claim': 'true' }),
  ]);
}

function webOriginsScope(): any {
  return builtInScope('web-origins', { 'include.in.token.scope': 'false', 'display.on.consent.screen': 'false' }, [
    mapper('allowed web origins', 'oidc-allowed-origins-mapper', { 'access.token.claim': 'true', 'introspection.token.claim': 'true' }),
  ]);
}

function acrScope(): any {
  return builtInScope('acr', { 'include.in.token.scope': 'false', 'display.on.consent.screen': 'false' }, [
    mapper('acr loa level', 'oidc-acr-mapper', { 'id.token.claim': 'true', 'access.token.claim': 'true', 'introspection.token.claim': 'true' }),
  ]);
}

function addressScope(): any {
  return builtInScope('address', { 'include.in.token.scope': 'true', 'display.on.consent.screen': 'true', 'consent.screen.text': 'Address' }, [
    mapper('address', 'oidc-address-mapper', everyTokenClaim({
      'user.attribute.formatted': 'formatted',
      'user.attribute.country': 'country',
      'user.attribute.postal_code': 'postal_code',
      'user.attribute.street': 'street',
      'user.attribute.region': 'region',
      'user.attribute.locality': 'locality',
    })),
  ]);
}

function phoneScope(): any {
  return builtInScope('phone', { 'include.in.token.scope': 'true', 'display.on.consent.screen': 'true', 'consent.screen.text': 'Phone number' }, [
    mapper(
      'phone number',
      'oidc-usermodel-attribute-mapper',
      everyTokenClaim({ 'user.attribute': 'phoneNumber', 'claim.name': 'phone_number', 'jsonType.label': 'String' }),
    ),
    mapper(
      'phone number verified',
      'oidc-usermodel-attribute-mapper',
      everyTokenClaim({ 'user.attribute': 'phoneNumberVerified', 'claim.name': 'phone_number_verified', 'jsonType.label': 'boolean' }),
    ),
  ]);
}

function microprofileJwtScope(): any {
  return builtInScope('microprofile-jwt', { 'include.in.token.scope': 'true', 'display.on.consent.screen': 'false' }, [
    mapper(
      'upn',
      'oidc-usermodel-attribute-mapper',
      everyTokenClaim({ 'user.attribute': 'username', 'claim.name': 'upn', 'jsonType.label': 'String' }),
    ),
    mapper(
      'groups',
      'oidc-usermodel-realm-role-mapper',
      everyTokenClaim({ 'claim.name': 'groups', 'jsonType.label': 'String', 'multivalued': 'true' }),
    ),
  ]);
}

/** The scope MCP clients get by default: the gateway as audience, plus what authorization rules read. */
function mcpScope(spec: RealmSpec): any {
  return {
    name: spec.mcpScope,
    description: 'Access to the MCP servers behind the gateway',
    protocol: 'openid-connect',
    attributes: { 'include.in.token.scope': 'true', 'display.on.consent.screen': 'true', 'consent.screen.text': 'Use MCP tools on your behalf' },
    protocolMappers: [
      // Clients that name scopes when registering get no realm default scopes, hence no `basic`:
      // the subject is repeated here so every MCP token identifies its user.
      subMapper(),
      ...spec.audiences.map((audience, index) => ({
        name: `mcp audience ${index + 1}`,
        protocol: 'openid-connect',
        protocolMapper: 'oidc-audience-mapper',
        consentRequired: false,
        config: accessTokenClaim({ 'included.custom.audience': audience }),
      })),
      {
        name: 'realm roles',
        protocol: 'openid-connect',
        protocolMapper: 'oidc-usermodel-realm-role-mapper',
        consentRequired: false,
        config: accessTokenClaim({ 'claim.name': 'realm_access.roles', 'multivalued': 'true', 'jsonType.label': 'String' }),
      },
      {
        name: 'groups',
        protocol: 'openid-connect',
        protocolMapper: 'oidc-group-membership-mapper',
        consentRequired: false,
        config: accessTokenClaim({ 'claim.name': 'groups', 'full.path': 'false' }),
      },
      userAttributeMapper('username', 'username', 'preferred_username'),
      // Standard token exchange accepts a subject token only when the requesting client is among its audiences.
      ...(spec.tokenExchange ? [{
        name: 'token exchange requester',
        protocol: 'openid-connect',
        protocolMapper: 'oidc-audience-mapper',
        consentRequired: false,
        config: accessTokenClaim({ 'included.client.audience': spec.tokenExchange.clientId }),
      }] : []),
    ],
  };
}

/** Name of the client scope that makes the upstream audiences available to the gateway's exchange client. */
function tokenExchangeScopeName(exchange: NonNullable<RealmSpec['tokenExchange']>): string {
  return `${exchange.clientId}-audiences`;
}

/**
 * Keycloak issues an exchanged token for `audience=<client>` only when that client is available to the
 * requester through its client scopes: one audience mapper per upstream.
 */
function tokenExchangeAudienceScope(exchange: NonNullable<RealmSpec['tokenExchange']>): any {
  return {
    name: tokenExchangeScopeName(exchange),
    description: 'Audiences the MCP gateway may exchange user tokens for',
    protocol: 'openid-connect',
    attributes: { 'include.in.token.scope': 'false', 'display.on.consent.screen': 'false' },
    protocolMappers: exchange.audiences.map((audience, index) => ({
      name: `upstream audience ${index + 1}`,
      protocol: 'openid-connect',
      protocolMapper: 'oidc-audience-mapper',
      consentRequired: false,
      config: accessTokenClaim({ 'included.client.audience': audience }),
    })),
  };
}

/**
 * The gateway's confidential client for the browser sign-in of connect links: standard flow with PKCE S256, its
 * exact redirect URIs, `openid` only (the gateway reads `sub` from the ID token), no other grant.
 */
function connectSignInClient(client: NonNullable<RealmSpec['connectSignIn']>): any {
  return {
    clientId: client.clientId,
    name: 'MCP gateway (connect link sign-in)',
    enabled: true,
    protocol: 'openid-connect',
    publicClient: false,
    clientAuthenticatorType: 'client-secret',
    secret: `\${${client.secretVariable}}`,
    standardFlowEnabled: true,
    implicitFlowEnabled: false,
    directAccessGrantsEnabled: false,
    serviceAccountsEnabled: false,
    fullScopeAllowed: false,
    redirectUris: client.redirectUris,
    webOrigins: [],
    attributes: { 'pkce.code.challenge.method': 'S256' },
    defaultClientScopes: ['basic'],
    optionalClientScopes: [],
  };
}

/**
 * The gateway's confidential client with standard token exchange on (attribute `standard.token.exchange.enabled`,
 * Keycloak 26.2+), and one client per upstream audience: `audience` must name a client of the realm.
 */
function tokenExchangeClients(exchange: NonNullable<RealmSpec['tokenExchange']>): any[] {
  const noFlows = { standardFlowEnabled: false, implicitFlowEnabled: false, directAccessGrantsEnabled: false, serviceAccountsEnabled: false };
  return [
    {
      clientId: exchange.clientId,
      name: 'MCP gateway (token exchange)',
      enabled: true,
      protocol: 'openid-connect',
      publicClient: false,
      clientAuthenticatorType: 'client-secret',
      // Resolved by Keycloak from the environment (or the operator's placeholders) at import time.
      secret: `\${${exchange.secretVariable}}`,
      ...noFlows,
      fullScopeAllowed: false,
      attributes: { 'standard.token.exchange.enabled': 'true' },
      defaultClientScopes: ['basic', tokenExchangeScopeName(exchange)],
      optionalClientScopes: [],
    },
    ...exchange.audiences.map((audience) => ({
      clientId: audience,
      name: `Upstream ${audience} (token exchange audience)`,
      enabled: true,
      protocol: 'openid-connect',
      publicClient: false,
      bearerOnly: true,
      ...noFlows,
    })),
  ];
}

/**
 * Keycloak adds its default registration policies only to a realm without any, so the full set is
 * declared. Anonymous registration is what MCP clients use.
 */
function registrationPolicies(spec: RealmSpec): any[] {
  const allowedScopes = [spec.mcpScope, ...OPTIONAL_SCOPES, ...BUILT_IN_DEFAULT_SCOPES];
  const allowedScopesPolicy = (subType: string) => ({
    name: 'Allowed Client Scopes',
    providerId: 'allowed-client-templates',
    subType,
    config: { 'allowed-client-scopes': allowedScopes, 'allow-default-scopes': ['true'] },
  });
  const allowedMappersPolicy = (subType: string) => ({
    name: 'Allowed Protocol Mapper Types',
    providerId: 'allowed-protocol-mappers',
    subType,
    config: { 'allowed-protocol-mapper-types': ALLOWED_PROTOCOL_MAPPER_TYPES },
  });
  const registration = spec.registration;
  const webOriginsPolicy = (subType: string) => ({
    name: 'Allowed Registration Web Origins',
    providerId: 'registration-web-origins',
    subType,
    config: { 'web-origins': registration?.webOrigins ?? [] },
  });
  const authenticated = [allowedScopesPolicy('authenticated'), allowedMappersPolicy('authenticated'), webOriginsPolicy('authenticated')];
  if (!registration) {
    // An empty trusted-host list is how Keycloak switches anonymous registration off.
    return [
      {
        name: 'Trusted Hosts',
        providerId: 'trusted-hosts',
        subType: 'anonymous',
        config: { 'trusted-hosts': [], 'host-sending-registration-request-must-match': ['true'], 'client-uris-must-match': ['true'] },
      },
      ...authenticated,
    ];
  }
  return [
    // MCP clients register from users' machines, so the sender's address cannot be checked; their
    // redirect URIs must still point at a trusted host.
    {
      name: 'Trusted Hosts',
      providerId: 'trusted-hosts',
      subType: 'anonymous',
      config: {
        'trusted-hosts': registration.trustedHosts,
        'host-sending-registration-request-must-match': ['false'],
        'client-uris-must-match': ['true'],
      },
    },
    { name: 'Consent Required', providerId: 'consent-required', subType: 'anonymous', config: {} },
    { name: 'Full Scope Disabled', providerId: 'scope', subType: 'anonymous', config: {} },
    { name: 'Max Clients Limit', providerId: 'max-clients', subType: 'anonymous', config: { 'max-clients': [String(registration.maxClients)] } },
    allowedScopesPolicy('anonymous'),
    allowedMappersPolicy('anonymous'),
    webOriginsPolicy('anonymous'),
    ...authenticated,
  ];
}
