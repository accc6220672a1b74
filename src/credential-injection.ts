import type * as config from './gateway/config-contract.generated';
import { emptyProblem } from './validation';

// RFC 7230 token characters: what an HTTP header name may contain.
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
// Headers the gateway or the transport own: a credential in them would be overwritten or break the request.
const RESERVED_HEADERS = ['host', 'content-length', 'content-type', 'transfer-encoding', 'connection', 'mcp-session-id', 'mcp-protocol-version'];

/**
 * How the gateway hands a user's credential to an MCP server: a request header on every request it sends
 * for that user (`targets[].credential.inject` of the gateway config).
 *
 * Only HTTP servers can take a per-user credential in a cluster: a stdio server runs behind the bridge in
 * its own pod, which starts its processes without knowing the user. Run such a server's HTTP mode instead
 * (the GitHub MCP server: `github-mcp-server http`, which reads `Authorization: Bearer <token>` per request).
 */
export class CredentialInjection {
  /** `Authorization: Bearer <token>`, what OAuth-protected APIs and the GitHub MCP server's HTTP mode read. */
  public static bearer(): CredentialInjection {
    return new CredentialInjection('Authorization', undefined);
  }

  /**
   * A named header.
   * @param name the header, e.g. `X-Api-Key`
   * @param prefix text before the token, e.g. `"token "`: `"Bearer "` when omitted, the token alone when empty
   */
  public static header(name: string, prefix?: string): CredentialInjection {
    return new CredentialInjection(name, prefix);
  }

  private constructor(
    /** The header the credential is sent in. */
    public readonly headerName: string,
    /**
     * Text before the token.
     * @default - `"Bearer "`
     */
    public readonly prefix?: string,
  ) {}

  /**
   * The gateway config's `inject` entry.
   * @internal
   */
  public _toConfig(): config.TargetCredential['inject'] {
    return { header: this.headerName, ...(this.prefix !== undefined ? { prefix: this.prefix } : {}) };
  }

  /**
   * What is wrong with the injection, as `[problem, fix]` pairs.
   * @internal
   */
  public _problems(): Array<[string, string]> {
    const problems: Array<[string, string]> = [];
    if (emptyProblem(this.headerName) || !HEADER_NAME.test(this.headerName)) {
      problems.push([`header ${JSON.stringify(this.headerName)} is not an HTTP header name`,
        'Use e.g. CredentialInjection.bearer() or CredentialInjection.header("X-Api-Key").']);
    } else if (RESERVED_HEADERS.includes(this.headerName.toLowerCase())) {
      problems.push([`header ${JSON.stringify(this.headerName)} is set by the gateway or the MCP transport itself`,
        'Pick the header the server reads the credential from, e.g. Authorization.']);
    }
    if (this.prefix !== undefined && /[\r\n]/.test(this.prefix)) {
      problems.push(['prefix contains a line break', 'Use e.g. "token ".']);
    }
    return problems;
  }
}
