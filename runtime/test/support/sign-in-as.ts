import type { OAuthClientProvider } from '@modelcontextprotocol/sdk/client/auth.js';
import type { OAuthClientInformationMixed, OAuthClientMetadata, OAuthTokens } from '@modelcontextprotocol/sdk/shared/auth.js';
import type { TestOpenIdProvider } from './oidc-provider.js';

/**
 * An MCP client's OAuth state for the SDK's `authProvider`, with the browser step replaced by a programmatic
 * login of `username` at the test realm. After the first, refused connect `authorizationCode` holds the code
 * for `transport.finishAuth`.
 */
export class SignInAs implements OAuthClientProvider {
  private client?: OAuthClientInformationMixed;
  private savedTokens?: OAuthTokens;
  private verifier = '';
  authorizationCode?: string;

  /** @param clientName the `client_name` the client registers under (dynamic client registration). */
  constructor(
    private readonly idp: TestOpenIdProvider,
    private readonly username: string,
    private readonly clientName: string,
  ) {}

  get redirectUrl(): string {
    return 'http://127.0.0.1:1/callback';
  }
  get clientMetadata(): OAuthClientMetadata {
    return {
      client_name: this.clientName,
      redirect_uris: [this.redirectUrl],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
    };
  }
  clientInformation() {
    return this.client;
  }
  saveClientInformation(info: OAuthClientInformationMixed) {
    this.client = info;
  }
  tokens() {
    return this.savedTokens;
  }
  saveTokens(tokens: OAuthTokens) {
    this.savedTokens = tokens;
  }
  saveCodeVerifier(verifier: string) {
    this.verifier = verifier;
  }
  codeVerifier() {
    return this.verifier;
  }
  async redirectToAuthorization(authorizationUrl: URL): Promise<void> {
    const callback = await this.idp.login(authorizationUrl, this.username);
    const code = callback.searchParams.get('code');
    if (!code) throw new Error(`sign-in failed: ${callback.href}`);
    this.authorizationCode = code;
  }
}
