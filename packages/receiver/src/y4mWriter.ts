import { createWriteStream, type WriteStream } from 'node:fs';

/** Writes RGB24 frames as a YUV4MPEG2 (4:4:4, BT.601 studio range) file that ffplay/mpv/ffmpeg play. */
export interface Y4mWriter {
  write(frame: { data: Uint8Array; width: number; height: number }): void;
  close(): Promise<void>;
  readonly frames: number;
}

/** Opens `path` for writing; the first frame fixes the size, later frames of another size are refused. */
export function createY4mWriter(path: string, fps: number): Y4mWriter {
  const out: WriteStream = createWriteStream(path);
  let size: [number, number] | undefined;
  let frames = 0;
  const fpsNum = Math.round(fps * 1000);
  return {
    get frames() {
      return frames;
    },
    write({ data, width, height }) {
      if (!size) {
        size = [width, height];
        out.write(`YUV4MPEG2 W${width} H${height} F${fpsNum}:1000 Ip A1:1 C444\n`);
      } else if (size[0] !== width || size[1] !== height) {
        throw new TypeError(`Y4M frame ${width}×${height} differs from the stream's ${size[0]}×${size[1]}`);
      }
      const n = width * height;
      const buf = Buffer.alloc(6 + 3 * n);
      buf.write('FRAME\n', 0, 'latin1');
      for (let i = 0; i < n; i++) {
        const r = data[3 * i]!;
        const g = data[3 * i + 1]!;
        const b = data[3 * i + 2]!;
        buf[6 + i] = Math.round(16 + 0.257 * r + 0.504 * g + 0.098 * b);
        buf[6 + n + i] = Math.round(128 - 0.148 * r - 0.291 * g + 0.439 * b);
        buf[6 + 2 * n + i] = Math.round(128 + 0.439 * r - 0.368 * g - 0.071 * b);
      }
      out.write(buf);
      frames++;
    },
    close() {
      return new Promise((resolve) => out.end(resolve));
    },
  };
}
