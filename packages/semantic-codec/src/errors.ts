/**
 * The package's error taxonomy (STYLE §7). Bad arguments at the public boundary throw the built-in
 * `TypeError`; everything else is one of these classes, each with a `reason` where there is more than one
 * way to fail, so callers can switch on it without parsing messages.
 */

/** An operation was called in the wrong state (e.g. after `close()`). */
export class InvalidStateError extends Error {
  override readonly name = 'InvalidStateError';
}

/** The bundle, opset, task, modality or parameter is valid but not supported here. */
export class UnsupportedError extends Error {
  override readonly name = 'UnsupportedError';
}

/** Why a bundle was refused. */
export type BundleErrorReason = 'missing-file' | 'checksum' | 'opset' | 'shape' | 'manifest' | 'corrupt';

/** A model bundle was refused; `file` names the file at fault (relative to the bundle directory). */
export class BundleError extends Error {
  override readonly name = 'BundleError';
  constructor(
    readonly reason: BundleErrorReason,
    readonly file: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`${file}: ${message}`, options);
  }
}

/** Why a symbol packet was refused. */
export type PacketErrorReason =
  | 'truncated'
  | 'magic'
  | 'version'
  | 'checksum'
  | 'header'
  | 'inconsistent'
  | 'empty';

/** A symbol packet could not be parsed (truncated, garbage, or inconsistent with its sample). */
export class PacketError extends Error {
  override readonly name = 'PacketError';
  constructor(
    readonly reason: PacketErrorReason,
    message: string,
  ) {
    super(message);
  }
}
