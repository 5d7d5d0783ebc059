/**
 * A streaming YUV4MPEG2 (Y4M) parser: the pure core behind `--source y4m:FILE|-` and `--source camera`.
 * Feed it bytes as they come (`push`), get whole frames back as RGB24. 8-bit 4:2:0, 4:2:2, 4:4:4 and mono
 * are supported; anything else is refused with a clear error naming the colour space.
 */

/** A parsed Y4M stream header. */
export interface Y4mHeader {
  width: number;
  height: number;
  /** Frames per second from the `F` tag (num/den), when present. */
  fps: number | undefined;
  /** The `C` tag, e.g. `420jpeg`; `420jpeg` when absent (the format's default). */
  colourSpace: string;
}

/** One decoded frame: RGB24, row-major. */
export interface Y4mFrame {
  width: number;
  height: number;
  data: Uint8Array;
}

/** Y4M input that cannot be parsed, or that asks for an unsupported pixel format. */
export class Y4mError extends Error {
  override name = 'Y4mError';
}

const MAGIC = 'YUV4MPEG2';
/** Longest header or FRAME line accepted, bytes: real headers are < 100 bytes; garbage must not grow the buffer. */
const MAX_LINE_BYTES = 1024;
/** Largest frame accepted, pixels (8K). */
const MAX_PIXELS = 7680 * 4320;

type Chroma = { cw: (w: number) => number; ch: (h: number) => number; mono?: true };
const CHROMA: Record<string, Chroma> = {
  '420jpeg': { cw: (w) => Math.ceil(w / 2), ch: (h) => Math.ceil(h / 2) },
  '420paldv': { cw: (w) => Math.ceil(w / 2), ch: (h) => Math.ceil(h / 2) },
  '420mpeg2': { cw: (w) => Math.ceil(w / 2), ch: (h) => Math.ceil(h / 2) },
  '420': { cw: (w) => Math.ceil(w / 2), ch: (h) => Math.ceil(h / 2) },
  '422': { cw: (w) => Math.ceil(w / 2), ch: (h) => h },
  '444': { cw: (w) => w, ch: (h) => h },
  mono: { cw: () => 0, ch: () => 0, mono: true },
};

/** Parses a Y4M header line (without the newline). Throws Y4mError. */
export function parseY4mHeader(line: string): Y4mHeader {
  const parts = line.split(' ');
  if (parts[0] !== MAGIC)
    throw new Y4mError(`not a Y4M stream: expected '${MAGIC}', got '${line.slice(0, 16)}'`);
  let width = 0;
  let height = 0;
  let fps: number | undefined;
  let colourSpace = '420jpeg';
  for (const p of parts.slice(1)) {
    const tag = p[0];
    const v = p.slice(1);
    if (tag === 'W') width = Number(v);
    else if (tag === 'H') height = Number(v);
    else if (tag === 'F') {
      const [n, d] = v.split(':').map(Number);
      if (n && d) fps = n / d;
    } else if (tag === 'C') colourSpace = v;
  }
  if (!Number.isInteger(width) || !Number.isInteger(height) || width <= 0 || height <= 0) {
    throw new Y4mError(`Y4M header has no valid size (W${width} H${height})`);
  }
  if (width * height > MAX_PIXELS) throw new Y4mError(`Y4M frame ${width}×${height} is larger than 8K`);
  if (!CHROMA[colourSpace]) {
    throw new Y4mError(
      `unsupported Y4M pixel format C${colourSpace}: use 8-bit 4:2:0, 4:2:2, 4:4:4 or mono (e.g. ffmpeg -pix_fmt yuv420p)`,
    );
  }
  return { width, height, fps, colourSpace };
}

const clamp = (v: number) => Math.max(0, Math.min(255, v));

/** YCbCr (BT.601, full range as in JPEG, or studio range) planes → RGB24. */
function toRgb(buf: Uint8Array, h: Y4mHeader): Uint8Array {
  const { width: w, height: hh } = h;
  const c = CHROMA[h.colourSpace]!;
  const out = new Uint8Array(w * hh * 3);
  if (c.mono) {
    for (let i = 0; i < w * hh; i++) out.fill(buf[i]!, i * 3, i * 3 + 3);
    return out;
  }
  const cw = c.cw(w);
  const ch = c.ch(hh);
  const uOff = w * hh;
  const vOff = uOff + cw * ch;
  const sx = cw === w ? 1 : 2;
  const sy = ch === hh ? 1 : 2;
  for (let y = 0; y < hh; y++) {
    for (let x = 0; x < w; x++) {
      const Y = buf[y * w + x]!;
      const ci = Math.floor(y / sy) * cw + Math.floor(x / sx);
      const U = buf[uOff + ci]! - 128;
      const V = buf[vOff + ci]! - 128;
      // ffmpeg's yuv420p is studio range (16..235) BT.601.
      const yy = 1.164 * (Y - 16);
      const o = (y * w + x) * 3;
      out[o] = clamp(Math.round(yy + 1.596 * V));
      out[o + 1] = clamp(Math.round(yy - 0.392 * U - 0.813 * V));
      out[o + 2] = clamp(Math.round(yy + 2.017 * U));
    }
  }
  return out;
}

/** Bytes of one frame's planes. */
export function y4mFrameBytes(h: Y4mHeader): number {
  const c = CHROMA[h.colourSpace]!;
  return h.width * h.height + 2 * c.cw(h.width) * c.ch(h.height);
}

/** Incremental parser: `push(bytes)` returns the frames completed by those bytes. */
export class Y4mParser {
  #buf = new Uint8Array(0);
  #header: Y4mHeader | undefined;

  /** The stream header, once parsed. */
  get header(): Y4mHeader | undefined {
    return this.#header;
  }

  push(chunk: Uint8Array): Y4mFrame[] {
    const merged = new Uint8Array(this.#buf.length + chunk.length);
    merged.set(this.#buf);
    merged.set(chunk, this.#buf.length);
    let pos = 0;
    const frames: Y4mFrame[] = [];
    const readLine = (): string | undefined => {
      const nl = merged.indexOf(0x0a, pos);
      if (nl < 0) {
        if (merged.length - pos > MAX_LINE_BYTES) throw new Y4mError('Y4M line too long: not a Y4M stream?');
        return undefined;
      }
      if (nl - pos > MAX_LINE_BYTES) throw new Y4mError('Y4M line too long: not a Y4M stream?');
      const line = new TextDecoder().decode(merged.subarray(pos, nl));
      pos = nl + 1;
      return line;
    };
    for (;;) {
      const start = pos;
      if (!this.#header) {
        const line = readLine();
        if (line === undefined) break;
        this.#header = parseY4mHeader(line);
        continue;
      }
      const line = readLine();
      if (line === undefined) break;
      if (!line.startsWith('FRAME'))
        throw new Y4mError(`expected a FRAME marker, got '${line.slice(0, 16)}'`);
      const size = y4mFrameBytes(this.#header);
      if (merged.length - pos < size) {
        pos = start;
        break;
      }
      const planes = merged.subarray(pos, pos + size);
      pos += size;
      frames.push({
        width: this.#header.width,
        height: this.#header.height,
        data: toRgb(planes, this.#header),
      });
    }
    this.#buf = merged.slice(pos);
    return frames;
  }
}
