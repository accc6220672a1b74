/*
 * The article's GitHub MCP server behind Keycloak sign-in: every signed-in user may call `get_me`,
 * only users with the realm role `admin` may call `delete_repository`, and nothing else is allowed.
 *
 * Keycloak and the gateway are reached through Ingresses on nip.io names that resolve to the cluster's
 * ingress address (by default minikube's 192.168.49.2, as in the article), so browsers, MCP clients
 * and pods all use the same URLs: the token issuer Keycloak writes is the one the gateway checks.
 * Keycloak runs in production mode on a PostgreSQL cluster run by CloudNativePG; NetworkPolicies let only
 * the gateway reach the GitHub server, and only the Ingress controller and the gateway reach Keycloak.
 *
 * Before applying (namespace `mcp`), install the CloudNativePG operator
 * (https://cloudnative-pg.io/documentation/current/installation_upgrade/) and enable minikube's ingress addon, then:
 *   kubectl -n mcp create secret generic github-token --from-literal=token=<PAT>
 *   kubectl -n mcp create secret generic keycloak-bootstrap-admin --from-literal=username=admin --from-literal=password=<pw>
 *   kubectl -n mcp create secret generic keycloak-users --from-literal=admin=<pw> --from-literal=alice=<pw>
 * Then connect an MCP client to http://mcp.<ingress-ip>.nip.io/github/mcp and sign in as `admin` or `alice`.
 *
 * With `githubOAuthApp` (the `secure-github-per-user` example) every user calls GitHub with their own token
 * instead of the shared PAT: the GitHub server runs its HTTP mode, which takes `Authorization: Bearer <token>`
 * per request; the first call of a user who has not connected GitHub yet answers with a link (URL-mode
 * elicitation) to the gateway's `/connect/github/start`, which runs GitHub's OAuth flow and keeps the token,
 * encrypted, in a PostgreSQL cluster of its own run by CloudNativePG. Instead of `github-token`, create:
 *   kubectl -n mcp create secret generic github-oauth-app --from-literal=clientSecret=<OAuth app client secret>
 *   kubectl -n mcp create secret generic mcp-credentials-key --from-literal=key=$(openssl rand -hex 32)
 *   kubectl -n mcp create secret generic mcp-connect-sign-in --from-literal=secret=$(openssl rand -hex 32)
 * (the last one is the secret of the realm's `mcp-gateway-connect` client: before the connect link sends the
 * browser to GitHub, the gateway signs it in at Keycloak and checks it is the user the link was made for)
 * and register the GitHub OAuth app with the callback URL http://mcp.<ingress-ip>.nip.io/connect/github/callback.
 */
import type { ChartProps } from 'cdk8s';
import { App, Chart } from 'cdk8s';
import * as kplus from 'cdk8s-plus-28';
import type { Construct } from 'constructs';
import {
  AuthorizationRule, CredentialStore, KeycloakDatabase, KeycloakExposure, KeycloakRealm, McpAuthPolicy, McpGateway, McpGatewayExposure, McpServer,
  McpServerSource, McpServerTransport, OAuthProvider, UserCredential,
} from '../../src';

/** Release of github/github-mcp-server (a Go binary in a distroless image without Node or libstdc++). */
const GITHUB_MCP_SERVER_IMAGE = 'ghcr.io/github/github-mcp-server:v0.20.1';
/** A release with the `http` command (Streamable HTTP at `/`, the GitHub token read from each request's Authorization header). */
const GITHUB_MCP_SERVER_HTTP_IMAGE = 'ghcr.io/github/github-mcp-server:v1.10.1';
const ROUTE_PATH = '/github/mcp';

export interface SecureGithubChartProps extends ChartProps {
  /**
   * DNS suffix that resolves to the cluster's ingress: Keycloak is served at `keycloak.<domain>` and
   * the gateway at `mcp.<domain>`.
   * @default '192.168.49.2.nip.io'
   */
  readonly domain?: string;
  /**
   * A GitHub OAuth app through which each user connects their own GitHub account; its client secret is the key
   * `clientSecret` of the Secret `github-oauth-app`.
   * @default - every user calls GitHub with the shared PAT in the Secret `github-token`
   */
  readonly githubOAuthApp?: { readonly clientId: string };
}

export class SecureGithubChart extends Chart {
  public readonly gateway: McpGateway;
  public readonly realm: KeycloakRealm;
  public readonly auth: McpAuthPolicy;

  constructor(scope: Construct, id: string, props: SecureGithubChartProps = {}) {
    const { domain = '192.168.49.2.nip.io', githubOAuthApp, ...chartProps } = props;
    super(scope, id, { namespace: 'mcp', ...chartProps });
    const keycloakHost = `keycloak.${domain}`;
    const gatewayHost = `mcp.${domain}`;

    const github = githubOAuthApp ? this.perUserGithubServer(githubOAuthApp.clientId) : this.sharedTokenGithubServer();

    const passwords = kplus.Secret.fromSecretName(this, 'KeycloakUsers', 'keycloak-users');
    this.realm = new KeycloakRealm(this, 'keycloak', {
      hostname: `http://${keycloakHost}`,
      // The audience must be the exact URL MCP clients use for the route.
      mcpAudiences: [`http://${gatewayHost}${ROUTE_PATH}`],
      bootstrapAdmin: { secret: kplus.Secret.fromSecretName(this, 'KeycloakAdmin', 'keycloak-bootstrap-admin') },
      database: KeycloakDatabase.cloudNativePg(),
      // Only what sign-in needs is public: not the admin console (/admin) nor the health and metrics port.
      exposure: KeycloakExposure.ingress({ controllerNamespace: 'ingress-nginx' }),
      roles: [{ name: 'admin', description: 'May delete repositories through MCP' }],
      users: [
        {
          username: 'admin',
          password: { secret: passwords, key: 'admin' },
          email: 'admin@example.com',
          firstName: 'Ada',
          lastName: 'Admin',
          realmRoles: ['admin'],
        },
        { username: 'alice', password: { secret: passwords, key: 'alice' }, email: 'alice@example.com', firstName: 'Alice', lastName: 'Example' },
      ],
      // Per-user GitHub: the browser that opens a connect link signs in here first and must be the link's user.
      connectSignIn: githubOAuthApp
        ? { clientSecret: { secret: kplus.Secret.fromSecretName(this, 'ConnectSignIn', 'mcp-connect-sign-in'), key: 'secret' } }
        : undefined,
    });

    this.auth = new McpAuthPolicy(this, 'github-auth', {
      issuer: this.realm,
      rules: [
        AuthorizationRule.allowTool('get_me'),
        AuthorizationRule.allowToolsForRole('admin', ['delete_repository']),
      ],
    });

    this.gateway = new McpGateway(this, 'gateway', {
      // minikube's ingress addon runs the controller in `ingress-nginx`; only it may reach the gateway.
      exposure: McpGatewayExposure.ingress({ host: gatewayHost, controllerNamespace: 'ingress-nginx' }),
      routes: [{ path: ROUTE_PATH, targets: [github], serverName: 'GitHub', policies: [this.auth] }],
      // Where each user's GitHub token is kept, encrypted with a key the cluster holds and cdk8s never sees.
      credentialStore: githubOAuthApp ? CredentialStore.cloudNativePg({
        encryptionKey: { secret: kplus.Secret.fromSecretName(this, 'CredentialsKey', 'mcp-credentials-key'), key: 'key' },
      }) : undefined,
    });
  }

  /** The article's server: stdio behind the bridge, every user acting with the one PAT in `github-token`. */
  private sharedTokenGithubServer(): McpServer {
    const token = kplus.Secret.fromSecretName(this, 'GithubToken', 'github-token');
    return new McpServer(this, 'github', {
      source: McpServerSource.image(GITHUB_MCP_SERVER_IMAGE, { command: ['/server/github-mcp-server'], args: ['stdio'] }),
      env: {
        GITHUB_PERSONAL_ACCESS_TOKEN: kplus.EnvValue.fromSecretValue({ secret: token, key: 'token' }),
      },
    });
  }

  /** The same server in its HTTP mode, to which the gateway sends each user's own GitHub token. */
  private perUserGithubServer(clientId: string): McpServer {
    return new McpServer(this, 'github', {
      source: McpServerSource.image(GITHUB_MCP_SERVER_HTTP_IMAGE, { command: ['/server/github-mcp-server'], args: ['http', '--port', '3000'] }),
      transport: McpServerTransport.streamableHttp({ path: '/' }),
      userCredential: UserCredential.oauth2({
        provider: OAuthProvider.github({
          clientId,
          clientSecret: { secret: kplus.Secret.fromSecretName(this, 'GithubOAuthApp', 'github-oauth-app'), key: 'clientSecret' },
        }),
      }),
    });
  }
}

if (require.main === module) {
  const app = new App();
  new SecureGithubChart(app, 'secure-github');
  app.synth();
}
