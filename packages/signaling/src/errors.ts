/** Why a connection failed or ended; `ConnectionError.reason` is always one of these. */
export type ConnectionErrorReason =
  /** The server could not be reached (DNS, TCP or the WebSocket handshake failed). */
  | 'unreachable'
  /** The server answered but refused the join (bad token, room full, second sender, …); see `code`. */
  | 'refused'
  /** No `joined` arrived within `timeoutMs`. */
  | 'timeout'
  /** The connection closed (by the server, the network, or `close()`). */
  | 'closed'
  /** The server sent something that is not this protocol. */
  | 'protocol';

/** A call that is not valid in the object's current state (e.g. `signal()` after `close()`). */
export class InvalidStateError extends Error {
  override name = 'InvalidStateError';
}

/** A network failure, with a machine-readable `reason` and, when the server said why, its error `code`. */
export class ConnectionError extends Error {
  override name = 'ConnectionError';
  /** The kind of failure. */
  readonly reason: ConnectionErrorReason;
  /** The server's error code (e.g. `token-expired`, `room-full`) when the server gave one. */
  readonly code: string | undefined;

  constructor(reason: ConnectionErrorReason, message: string, options?: { cause?: unknown; code?: string }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.reason = reason;
    this.code = options?.code;
  }
}
