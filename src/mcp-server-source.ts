import { McpImages } from './images';
import { emptyProblem } from './validation';

/** Options of `McpServerSource.npmPackage`. */
export interface McpServerNpmPackageOptions {
  /**
   * Version or range of the package. Pin it: an unpinned package changes under you on every restart.
   * @default "latest"
   */
  readonly version?: string;
  /**
   * Arguments after the package name.
   * @default - none
   */
  readonly args?: string[];
  /**
   * Image that provides `npx`.
   * @default McpImages.NODE
   */
  readonly image?: string;
}

/** Options of `McpServerSource.pypiPackage`. */
export interface McpServerPypiPackageOptions {
  /**
   * Exact version of the package. Pin it: an unpinned package changes under you on every restart.
   * @default - the newest release
   */
  readonly version?: string;
  /**
   * Command the package installs, when it is not named like the package (`uvx --from <package> <executable>`).
   * @default - the package name
   */
  readonly executable?: string;
  /**
   * Arguments after the command.
   * @default - none
   */
  readonly args?: string[];
  /**
   * Image that provides `uvx`.
   * @default McpImages.UV
   */
  readonly image?: string;
}

/** Options of `McpServerSource.image`. */
export interface McpServerImageOptions {
  /**
   * Program that runs the server. Required for stdio servers: the bridge becomes the container
   * entrypoint and starts this command as its child.
   * @default - the image's entrypoint (HTTP servers only)
   */
  readonly command?: string[];
  /**
   * Arguments of the program.
   * @default - none (HTTP servers: the image's CMD when `command` is not set either)
   */
  readonly args?: string[];
}

/** A problem with a source, reported by `McpServer` under its `source` prop. */
interface SourceProblem {
  readonly problem: string;
  readonly fix: string;
}

/**
 * What an `McpServer` runs: a package from npm or PyPI started by its package manager, or a container image.
 * Each source renders the server container's image, command and arguments itself, so `McpServer` does not
 * switch on where the server comes from.
 *
 * (cdk8s-plus keeps `fromXxx` for importing objects that already exist; a server built from a package is new,
 * so it is a prop of the constructor rather than a factory of `McpServer`.)
 */
export class McpServerSource {
  /**
   * A stdio server published on npm, run with `npx` in a Node.js image.
   * @param packageName the npm package, e.g. `@modelcontextprotocol/server-everything`
   */
  public static npmPackage(packageName: string, options: McpServerNpmPackageOptions = {}): McpServerSource {
    const version = options.version ?? 'latest';
    return new McpServerSource(options.image ?? McpImages.NODE, ['npx', '--yes', `${packageName}@${version}`], options.args, () => {
      const problem = emptyProblem(packageName) ?? emptyProblem(version);
      return problem
        ? [
          {
            problem: `npm package or version ${problem}`,
            fix: 'Pass the package name and its version, e.g. McpServerSource.npmPackage("@modelcontextprotocol/server-everything", { version: '
              + '"2026.8.31" }).',
          },
        ]
        : [];
    });
  }

  /**
   * A stdio server published on PyPI, run with `uvx` in a uv image.
   * @param packageName the PyPI package, e.g. `mcp-server-fetch`
   */
  public static pypiPackage(packageName: string, options: McpServerPypiPackageOptions = {}): McpServerSource {
    const { version, executable } = options;
    const command = executable === undefined
      ? ['uvx', version === undefined ? packageName : `${packageName}@${version}`]
      : ['uvx', '--from', version === undefined ? packageName : `${packageName}==${version}`, executable];
    return new McpServerSource(options.image ?? McpImages.UV, command, options.args, () => {
      const problem = emptyProblem(packageName)
        ?? (version === undefined ? undefined : emptyProblem(version))
        ?? (executable === undefined ? undefined : emptyProblem(executable));
      return problem ? [{
        problem: `PyPI package, version or executable ${problem}`,
        fix: 'Pass the package name and its version, e.g. McpServerSource.pypiPackage("mcp-server-fetch", { version: "2025.4.7" }).',
      }] : [];
    });
  }

  /**
   * A server in a container image. stdio servers need `command`: the bridge replaces the image's entrypoint
   * and starts the command as its child. The image needs nothing else (the bridge brings its own libc), but it
   * must be built for the nodes' CPU architecture, like the gateway image.
   * @param image the container image, e.g. `ghcr.io/github/github-mcp-server:v0.20.1`
   */
  public static image(image: string, options: McpServerImageOptions = {}): McpServerSource {
    return new McpServerSource(image, options.command, options.args, () => {
      const problem = emptyProblem(image);
      return problem ? [{
        problem: `image ${problem}`,
        fix: 'Pass the container image of the server, e.g. McpServerSource.image("ghcr.io/github/github-mcp-server:v0.20.1").',
      }] : [];
    });
  }

  /** Image of the server container. */
  public readonly containerImage: string;
  /**
   * Program the server container runs.
   * @default - the image's entrypoint
   */
  public readonly command?: string[];
  /**
   * Arguments of the program.
   * @default - none
   */
  public readonly args?: string[];

  private constructor(
    containerImage: string,
    command: string[] | undefined,
    args: string[] | undefined,
    private readonly problems: () => SourceProblem[],
  ) {
    this.containerImage = containerImage;
    this.command = command;
    this.args = args;
  }

  /**
   * Whether the image is one of the defaults, which are known to have `sleep` for the pre-stop hook.
   * @internal
   */
  public get _hasSleep(): boolean {
    return this.containerImage === McpImages.NODE || this.containerImage === McpImages.UV;
  }

  /**
   * What is wrong with the source (an empty package name, version or image), each with its fix.
   * @internal
   */
  public _validate(): SourceProblem[] {
    return this.problems();
  }
}
