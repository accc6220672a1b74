import { runInit } from './init-command';
import type { CliIo } from './io';
import { PROCESS_IO } from './io';
import { packageVersion } from './package-info';
import { runServer } from './server-command';
import { UsageError } from './usage-error';

export const MAIN_USAGE = `Usage: cdk8s-mcp <command> [options]

Kubernetes manifests for MCP servers, without writing a cdk8s app.

Commands:
  server   Print the manifests of one MCP server (and optionally a gateway) as YAML
  init     Create a small cdk8s app that uses cdk8s-mcp

Options:
  -h, --help      Show this help (or "cdk8s-mcp <command> --help")
  -v, --version   Print the cdk8s-mcp version

Examples:
  cdk8s-mcp server --npm @modelcontextprotocol/server-everything --gateway | kubectl apply -f -
  cdk8s-mcp init my-mcp-app`;

/**
 * Runs the CLI and resolves to the exit code: 0 on success, 2 on bad usage (including input the
 * constructs reject), 1 on anything unexpected. Only manifests go to stdout, so
 * `cdk8s-mcp server ... | kubectl apply -f -` never sees a note.
 */
export async function main(argv: string[], io: CliIo = PROCESS_IO): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'server':
        io.stdout(runServer(rest, io));
        return 0;
      case 'init':
        runInit(rest, io);
        return 0;
      case 'help':
        // `cdk8s-mcp help server` is `cdk8s-mcp server --help`.
        if (rest.length > 0) return await main([rest[0], '--help', ...rest.slice(1)], io);
        io.stdout(`${MAIN_USAGE}\n`);
        return 0;
      case '-h':
      case '--help':
        io.stdout(`${MAIN_USAGE}\n`);
        return 0;
      case '-v':
      case '--version':
        io.stdout(`${packageVersion()}\n`);
        return 0;
      case undefined:
        throw new UsageError('missing command', MAIN_USAGE);
      default:
        throw new UsageError(`unknown command ${JSON.stringify(command)}`, MAIN_USAGE);
    }
  } catch (err) {
    if (err instanceof UsageError) {
      io.stderr(`cdk8s-mcp: ${err.message}\n\n${err.usage}\n`);
      return 2;
    }
    io.stderr(`cdk8s-mcp: ${(err as Error)?.stack ?? String(err)}\n`);
    return 1;
  }
}
