import { redactLogFields } from './redact.js';

/** Severity of a log line; lines below the configured level are dropped before formatting. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

const rank: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/**
 * The access log line, one per HTTP request: the only line frequent enough to be worth batching. Every
 * other line flushes the batch and itself at once, so lines keep their order and events are not delayed.
 */
const ACCESS_LOG_MESSAGE = 'request';

export type LogFields = Record<string, unknown>;

/** Passed explicitly to every part that logs; there is no global logger. */
export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  /** A logger that adds `fields` to every line. */
  child(fields: LogFields): Logger;
}

export interface LogSink {
  write(line: string): unknown;
  /** Sinks that batch lines write them out now (warnings and errors must not wait). */
  flush?(): void;
}

/** JSON lines (or `level msg key=value` text) on a sink, stdout by default. */
export class StructuredLogger implements Logger {
  constructor(
    private readonly level: LogLevel = 'info',
    private readonly format: 'json' | 'text' = 'json',
    private readonly sink: LogSink = process.stdout,
    private readonly base: LogFields = {},
  ) {}

  debug(msg: string, fields?: LogFields): void {
    this.log('debug', msg, fields);
  }
  info(msg: string, fields?: LogFields): void {
    this.log('info', msg, fields);
  }
  warn(msg: string, fields?: LogFields): void {
    this.log('warn', msg, fields);
  }
  error(msg: string, fields?: LogFields): void {
    this.log('error', msg, fields);
  }

  child(fields: LogFields): Logger {
    return new StructuredLogger(this.level, this.format, this.sink, { ...this.base, ...fields });
  }

  private log(level: LogLevel, msg: string, fields?: LogFields): void {
    if (rank[level] < rank[this.level]) return;
    // Every line passes the redaction: a URL, token or session id in any field never reaches the log.
    const record = { time: new Date().toISOString(), level, msg, ...this.base, ...(fields ? redactLogFields(fields) : undefined) };
    if (this.format === 'json') {
      // A replacer function is called for every key; only fields that may hold an Error need it.
      this.sink.write(`${needsReplacer(fields) || needsReplacer(this.base) ? JSON.stringify(record, errorReplacer) : JSON.stringify(record)}\n`);
      if (msg !== ACCESS_LOG_MESSAGE || rank[level] >= rank.warn) this.sink.flush?.();
      return;
    }
    const rest = Object.entries(record)
      .filter(([key, value]) => key !== 'time' && key !== 'level' && key !== 'msg' && value !== undefined)
      .map(([key, value]) => `${key}=${typeof value === 'string' ? value : JSON.stringify(value, errorReplacer)}`)
      .join(' ');
    this.sink.write(`${record.time} ${level.toUpperCase()} ${msg}${rest ? ` ${rest}` : ''}\n`);
    if (msg !== ACCESS_LOG_MESSAGE || rank[level] >= rank.warn) this.sink.flush?.();
  }
}

function needsReplacer(fields: LogFields | undefined): boolean {
  if (fields === undefined) return false;
  for (const key in fields) {
    const value = fields[key];
    if (typeof value === 'object' && value !== null) return true;
  }
  return false;
}

function errorReplacer(_key: string, value: unknown): unknown {
  return value instanceof Error ? value.message : value;
}
