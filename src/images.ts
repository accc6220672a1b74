import * as fs from 'fs';
import * as path from 'path';

/**
 * The gateway image is released together with this library, so its tag is this package's version.
 * Both `src/` (tests) and `lib/` (published) sit one level below package.json.
 */
function libraryVersion(): string {
  const manifest = JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'package.json'), 'utf8'));
  return manifest.version;
}

/**
 * Container images the constructs use by default. Each is pinned to an exact tag so that a synth
 * today and a synth next month deploy the same software; override them through the constructs' props.
 *
 * The default runtime images are Debian bookworm slim: the official Node and uv images the npm and
 * PyPI ecosystems test against. (The stdio bridge brings its own loader and libraries, so it does
 * not constrain the choice.)
 */
export class McpImages {
  /**
   * Node.js for `McpServerSource.npmPackage` (runs `npx`). Debian bookworm slim, glibc.
   */
  public static readonly NODE = 'node:22.21.1-bookworm-slim';

  /**
   * uv with Python 3.12 for `McpServerSource.pypiPackage` (runs `uvx`). Debian bookworm slim, glibc.
   */
  public static readonly UV = 'ghcr.io/astral-sh/uv:0.11.7-python3.12-bookworm-slim';

  /**
   * The cdk8s-mcp gateway (`@cdk8s-mcp/gateway`), tagged with this library's version. It provides the
   * stdio bridge of `McpServer` and the `McpGateway` proxy.
   */
  public static readonly GATEWAY = `ghcr.io/cdk8s-mcp/gateway:${libraryVersion()}`;

  private constructor() {}
}
