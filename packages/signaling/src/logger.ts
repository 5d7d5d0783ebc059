/** Structured context attached to a log line. */
export type LogContext = Record<string, unknown>;

/**
 * The logger the library writes to. Libraries never print: the host (a CLI, a test, an app) injects one.
 * The server and client log under the namespace `m4sc:signaling`.
 */
export interface Logger {
  debug(message: string, context?: LogContext): void;
  info(message: string, context?: LogContext): void;
  warn(message: string, context?: LogContext): void;
  error(message: string, context?: LogContext): void;
}

/** Log levels, least to most severe. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/** The namespace every line from this package carries. */
export const LOG_NAMESPACE = 'm4sc:signaling';

/** A logger that drops everything: the default, so the library stays silent unless asked. */
export const silentLogger: Logger = Object.freeze({
  debug() {},
  info() {},
  warn() {},
  error() {},
});

const LEVEL_RANK: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };

/** Options of {@link createLineLogger}. */
export interface LineLoggerOptions {
  /** Where each finished line goes (a CLI passes a stderr writer). */
  write: (line: string) => void;
  /** Lines below this level are dropped. Default `info`. */
  level?: LogLevel;
  /** Prefix of each line. Default {@link LOG_NAMESPACE}. */
  namespace?: string;
}

/**
 * A logger that formats one line per call, `namespace level message key=value…`, and hands it to `write`.
 * The sink is the caller's choice, so this stays a library function that never prints by itself.
 */
export function createLineLogger(options: LineLoggerOptions): Logger {
  const min = LEVEL_RANK[options.level ?? 'info'];
  const namespace = options.namespace ?? LOG_NAMESPACE;
  const emit = (level: LogLevel, message: string, context?: LogContext) => {
    if (LEVEL_RANK[level] < min) return;
    let line = `${namespace} ${level} ${message}`;
    if (context) {
      for (const [k, v] of Object.entries(context)) {
        if (v === undefined) continue;
        line += ` ${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`;
      }
    }
    options.write(line);
  };
  return {
    debug: (m, c) => emit('debug', m, c),
    info: (m, c) => emit('info', m, c),
    warn: (m, c) => emit('warn', m, c),
    error: (m, c) => emit('error', m, c),
  };
}
