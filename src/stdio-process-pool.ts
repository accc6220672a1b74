import type { Duration } from 'cdk8s';

/**
 * Options of a warm pool of stdio server processes.
 */
export interface StdioWarmPoolOptions {
  /**
   * Processes kept started and initialized, ready for the next new sessions; each one taken is replaced
   * in the background. Size it to the sessions that arrive together (a burst of new chats); each spare
   * costs one idle server process.
   * @default 1
   */
  readonly size?: number;

  /**
   * The spares are stopped when no new session took one for this long; the next session refills the pool.
   * @default Duration.minutes(10)
   */
  readonly idleTimeout?: Duration;

  /**
   * Most server processes at once in one pod, sessions and spares together; a session beyond it gets a
   * clear error.
   * @default 64
   */
  readonly maxProcesses?: number;

  /**
   * When a session ends, its process goes back to the pool if it carries nothing from that session (no
   * log level, subscription, roots change, server-to-client request or unanswered request). Only for
   * servers whose tools keep no per-session state: the next session sees the same process.
   * @default false
   */
  readonly reuse?: boolean;
}

/**
 * Options of one stdio server process shared by every session.
 */
export interface StdioSharedProcessOptions {
  /**
   * The shared process is stopped after this long without a session; the next session starts it again.
   * @default Duration.minutes(10)
   */
  readonly idleTimeout?: Duration;
}

/**
 * How the stdio bridge of an `McpServer` gives each new session a server process.
 */
export class StdioProcessPool {
  /**
   * Keep `size` processes started and initialized, so a new session gets one at once.
   */
  public static warm(options: StdioWarmPoolOptions = {}): StdioProcessPool {
    const size = options.size ?? 1;
    const errors: string[] = [];
    if (!Number.isInteger(size) || size < 0 || size > 1024) {
      errors.push(`size must be an integer from 0 to 1024, got ${size}. Pick the number of sessions that start together.`);
    }
    if (options.maxProcesses !== undefined && (!Number.isInteger(options.maxProcesses) || options.maxProcesses < 1 || options.maxProcesses > 1024)) {
      errors.push(`maxProcesses must be an integer from 1 to 1024, got ${options.maxProcesses}.`);
    } else if (options.maxProcesses !== undefined && size > options.maxProcesses) {
      errors.push(`size ${size} does not fit under maxProcesses ${options.maxProcesses}. Lower size or raise maxProcesses.`);
    }
    const args = ['--pool', String(size)];
    if (options.idleTimeout) args.push('--pool-idle-timeout', durationArg(options.idleTimeout, errors));
    if (options.maxProcesses !== undefined) args.push('--pool-max', String(options.maxProcesses));
    if (options.reuse) args.push('--pool-reuse');
    return new StdioProcessPool(args, errors);
  }

  /**
   * Start a process per session when the session arrives (no spare process; slower new sessions).
   */
  public static none(): StdioProcessPool {
    return new StdioProcessPool(['--pool', '0'], []);
  }

  /**
   * One process serves every session, JSON-RPC ids remapped. Only for servers without per-session state:
   * server-to-client requests (sampling, elicitation, roots), `logging/setLevel` and resource
   * subscriptions are refused with an error rather than risk a message reaching the wrong user.
   */
  public static shared(options: StdioSharedProcessOptions = {}): StdioProcessPool {
    const errors: string[] = [];
    const args = ['--shared'];
    if (options.idleTimeout) args.push('--pool-idle-timeout', durationArg(options.idleTimeout, errors));
    return new StdioProcessPool(args, errors);
  }

  private constructor(
    private readonly args: string[],
    private readonly errors: string[],
  ) {}

  /**
   * The bridge's command-line options.
   * @internal
   */
  public _toBridgeArgs(): string[] {
    return [...this.args];
  }

  /**
   * What is wrong with the options, for `node.addValidation`.
   * @internal
   */
  public _validate(): string[] {
    return [...this.errors];
  }
}

function durationArg(duration: Duration, errors: string[]): string {
  const ms = duration.toMilliseconds();
  if (!(ms >= 1000)) errors.push(`idleTimeout must be at least 1 second, got ${ms} ms.`);
  return `${Math.round(ms)}ms`;
}
