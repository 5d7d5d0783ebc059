/** Structured context attached to a log line. */
export type LogContext = Record<string, unknown>;

/**
 * The logger the library writes to. Libraries never print: the host (a CLI, a test, an app) injects one.
 * Every line from this package is under the namespace {@link LOG_NAMESPACE}.
 */
export interface Logger {
  debug(message: string, context?: LogContext): void;
  info(message: string, context?: LogContext): void;
  warn(message: string, context?: LogContext): void;
  error(message: string, context?: LogContext): void;
}

/** The namespace a host should print this package's lines under. */
export const LOG_NAMESPACE = 'm4sc:transport';

/** A logger that drops everything: the default, so the library stays silent unless asked. */
export const silentLogger: Logger = Object.freeze({
  debug() {},
  info() {},
  warn() {},
  error() {},
});
