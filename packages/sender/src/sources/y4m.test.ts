import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { decodeNetpbm } from './netpbm.js';
import { parseY4mHeader, Y4mError, Y4mParser } from './y4m.js';

const header = 'YUV4MPEG2 W4 H2 F15:1 Ip A1:1 C420jpeg\n';
/** One 4×2 4:2:0 frame: Y plane 8 bytes, U and V 2 bytes each. */
const frame = (y: number, u: number, v: number) =>
  Buffer.concat([Buffer.from('FRAME\n'), Buffer.alloc(8, y), Buffer.alloc(2, u), Buffer.alloc(2, v)]);

describe('Y4mParser', () => {
  it('parses the header and frames split across arbitrary chunks', () => {
    const bytes = Buffer.concat([Buffer.from(header), frame(16, 128, 128), frame(235, 128, 128)]);
    for (const cut of [1, 5, 30, 45, 52]) {
      const p = new Y4mParser();
      const frames = [...p.push(bytes.subarray(0, cut)), ...p.push(bytes.subarray(cut))];
      expect(p.header).toEqual({ width: 4, height: 2, fps: 15, colourSpace: '420jpeg' });
      expect(frames).toHaveLength(2);
      // Studio-range black and white map to 0 and 255.
      expect([...frames[0]!.data]).toEqual(new Array(24).fill(0));
      expect([...frames[1]!.data]).toEqual(new Array(24).fill(255));
    }
  });

  it('refuses an unsupported pixel format by name, and a stream that is not Y4M', () => {
    expect(() => parseY4mHeader('YUV4MPEG2 W4 H2 C420p10')).toThrow(/unsupported Y4M pixel format C420p10/);
    expect(() => parseY4mHeader('P6 4 2 255')).toThrow(Y4mError);
    expect(() => new Y4mParser().push(new Uint8Array(4096).fill(0x41))).toThrow(/line too long/);
    const p = new Y4mParser();
    p.push(Buffer.from(header));
    expect(() => p.push(Buffer.from('GARBAGE\n'))).toThrow(/expected a FRAME marker/);
  });

  it("decodes ffmpeg's own testsrc piped as Y4M", () => {
    const y4m = execFileSync('ffmpeg', [
      '-loglevel',
      'error',
      '-f',
      'lavfi',
      '-i',
      'testsrc=size=64x48:rate=15',
      '-frames:v',
      '3',
      '-pix_fmt',
      'yuv420p',
      '-f',
      'yuv4mpegpipe',
      '-',
    ]);
    const frames = new Y4mParser().push(y4m);
    expect(frames).toHaveLength(3);
    expect([frames[0]!.width, frames[0]!.height, frames[0]!.data.length]).toEqual([64, 48, 64 * 48 * 3]);
    // testsrc is colourful: the frame is far from flat grey.
    const d = frames[0]!.data;
    let min = 255;
    let max = 0;
    for (const v of d) {
      min = Math.min(min, v);
      max = Math.max(max, v);
    }
    expect(max - min).toBeGreaterThan(200);
  });
});

describe('decodeNetpbm', () => {
  it('reads binary PGM (with a comment) as grey RGB and refuses 16-bit files', () => {
    const pgm = Buffer.concat([Buffer.from('P5\n# made by a test\n2 1\n255\n'), Buffer.from([10, 200])]);
    expect(decodeNetpbm(pgm)).toEqual({
      width: 2,
      height: 1,
      data: new Uint8Array([10, 10, 10, 200, 200, 200]),
    });
    expect(() => decodeNetpbm(Buffer.from('P5 2 1 65535\n\0\0\0\0'))).toThrow(/only 8-bit/);
    expect(() => decodeNetpbm(Buffer.from('P5 2 2 255\n\0'))).toThrow(/truncated/);
  });
});
