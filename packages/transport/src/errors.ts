/** Why a link failed or ended; `ConnectionError.reason` is always one of these. */
export type ConnectionErrorReason =
  /** `connected` did not settle within `connectTimeoutMs`. */
  | 'timeout'
  /** ICE or DTLS failed (`connectionState` became `failed`, or `closed` while the link was connecting). */
  | 'failed'
  /** `close()` was called before the link connected. */
  | 'closed'
  /** The remote peer sent a signal this link cannot apply (bad SDP, bad candidate). */
  | 'signaling';

/** A call that is not valid in the object's current state (e.g. `sendSample()` after `close()`). */
export class InvalidStateError extends Error {
  override name = 'InvalidStateError';
}

/** A network failure, with a machine-readable `reason` and the underlying `cause` when there is one. */
export class ConnectionError extends Error {
  override name = 'ConnectionError';
  /** The kind of failure. */
  readonly reason: ConnectionErrorReason;

  constructor(reason: ConnectionErrorReason, message: string, options?: { cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.reason = reason;
  }
}

/** Which check a received byte string failed; `MalformedFrameError.field` is always one of these. */
export type MalformedField =
  | 'bytes'
  | 'msgpack'
  | 'shape'
  | 'version'
  | 'stream'
  | 'pseq'
  | 'seq'
  | 'index'
  | 'count'
  | 'captureTsMs'
  | 'op'
  | 'payload';

/**
 * A byte string from the wire that is not a valid frame. The pure decoders throw it; the link catches it,
 * counts it as a `malformed` drop and logs it, so it never leaves the event loop.
 */
export class MalformedFrameError extends Error {
  override name = 'MalformedFrameError';
  /** The first field that failed validation. */
  readonly field: MalformedField;

  constructor(field: MalformedField, message: string, options?: { cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.field = field;
  }
}
