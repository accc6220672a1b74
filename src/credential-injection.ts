import type * as config from './gateway/config-contract.generated';
import { emptyProblem } from './validation';

// RFC 7230 token characters: what an HTTP header name may contain.
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
// What the bridge's --credential-env accepts (and a POSIX shell can name).
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
// Headers the gateway or the transport own: a credential in them would be overwritten or break the request.
const RESERVED_HEADERS = ['host', 'content-length', 'content-type', 'transfer-encoding', 'connection', 'mcp-session-id', 'mcp-protocol-version'];

/**
 * The header in which the gateway hands a stdio server's bridge the user's credential (the bridge's default
 * `--credential-header`).
 */
const BRIDGE_CREDENTIAL_HEADER = 'X-Mcp-User-Credential';

/**
 * How the gateway hands a user's credential to an MCP server (`targets[].credential.inject` of the gateway
 * config): a request header on every request it sends for that user (HTTP servers), or an environment
 * variable of the process that serves the user's session (stdio servers).
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

  /**
   * An environment variable of the stdio server's process, e.g. `GITHUB_PERSONAL_ACCESS_TOKEN`: stdio
   * servers only. The server's pod runs the bridge, which starts one process per session with the credential
   * the gateway sends in the `X-Mcp-User-Credential` header (`mcp-gateway --credential-env NAME`); such a
   * process is never pooled, reused or shared, so the server takes no `stdioPool`.
   * @param name the variable the server reads its token from
   */
  public static env(name: string): CredentialInjection {
    return new CredentialInjection(BRIDGE_CREDENTIAL_HEADER, '', name);
  }

  private constructor(
    /** The header the credential is sent in (to the bridge for `env`). */
    public readonly headerName: string,
    /**
     * Text before the token.
     * @default - `"Bearer "`
     */
    public readonly prefix?: string,
    /**
     * The environment variable the bridge starts each session's process with.
     * @default - none: the credential goes to the server in `headerName`
     */
    public readonly envName?: string,
  ) {}

  /**
   * The bridge's command-line options for this injection.
   * @internal
   */
  public _toBridgeArgs(): string[] {
    return this.envName === undefined ? [] : ['--credential-env', this.envName];
  }

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
    if (this.envName !== undefined) {
      if (!ENV_NAME.test(this.envName)) {
        problems.push([`env ${JSON.stringify(this.envName)} is not a variable name (letters, digits and "_", not starting with a digit)`,
          'Name the variable the server reads its token from, e.g. CredentialInjection.env("GITHUB_PERSONAL_ACCESS_TOKEN").']);
      }
    }
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
