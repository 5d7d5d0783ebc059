import { Packr } from 'msgpackr';

/** How a message travels: JSON in text frames, or msgpack in binary frames. */
export type Encoding = 'json' | 'msgpack';

// Plain maps and arrays only (no msgpackr records), so any msgpack decoder can read what we write;
// 64-bit integers come back as numbers, never BigInt, so that every decoded value is JSON-compatible.
const packr = new Packr({ useRecords: false, int64AsType: 'number' });

/** Result of {@link decodeFrame}. */
export type DecodeResult =
  | { ok: true; value: unknown; encoding: Encoding }
  | { ok: false; encoding: Encoding; message: string };

/** Encodes one message: a string for JSON (a text frame), bytes for msgpack (a binary frame). */
export function encodeMessage(message: object, encoding: Encoding): string | Uint8Array {
  return encoding === 'json' ? JSON.stringify(message) : packr.pack(message);
}

/** Decodes one frame. Text is JSON, bytes are msgpack. Never throws. */
export function decodeFrame(data: string | Uint8Array | ArrayBuffer): DecodeResult {
  if (typeof data === 'string') {
    try {
      return { ok: true, value: JSON.parse(data), encoding: 'json' };
    } catch (err) {
      return { ok: false, encoding: 'json', message: `malformed JSON: ${(err as Error).message}` };
    }
  }
  const bytes = data instanceof Uint8Array ? data : new Uint8Array(data);
  try {
    return { ok: true, value: packr.unpack(bytes), encoding: 'msgpack' };
  } catch (err) {
    return { ok: false, encoding: 'msgpack', message: `malformed msgpack: ${(err as Error).message}` };
  }
}

/** Size of a value once written as JSON, in bytes; `undefined` when it cannot be written as JSON. */
export function jsonByteLength(value: unknown): number | undefined {
  try {
    const text = JSON.stringify(value);
    return text === undefined ? undefined : new TextEncoder().encode(text).byteLength;
  } catch {
    return undefined;
  }
}
