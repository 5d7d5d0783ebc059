import { spawn } from 'node:child_process';
import { createReadStream, readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { generateScene, renderScene, SCENE_SIZE, sceneCaption, sceneQuestions } from '@m4sc/semantic-codec';
import sharp from 'sharp';
import { decodeNetpbm } from './netpbm.js';
import { type Source, SourceError, type SourceSample } from './source.js';
import { testPatternFrame } from './testPattern.js';
import { Y4mError, type Y4mFrame, Y4mParser } from './y4m.js';

export { type Source, SourceError, type SourceSample } from './source.js';

/** A parsed `--source` value. */
export type SourceSpec =
  | { kind: 'synthetic' }
  | { kind: 'pattern' }
  | { kind: 'images'; dir: string }
  | { kind: 'y4m'; path: string | '-' }
  | { kind: 'camera'; device: string }
  | { kind: 'text'; path: string | '-' };

/** Parses `synthetic`, `images:DIR`, `y4m:FILE|-`, `camera[:DEVICE]`, `text:FILE|-`. Throws TypeError. */
export function parseSourceSpec(spec: string): SourceSpec {
  const i = spec.indexOf(':');
  const kind = i < 0 ? spec : spec.slice(0, i);
  const arg = i < 0 ? '' : spec.slice(i + 1);
  switch (kind) {
    case 'synthetic':
    case 'pattern':
      if (arg) throw new TypeError(`--source ${kind} takes no argument, got '${spec}'`);
      return { kind };
    case 'images':
    case 'y4m':
    case 'text':
      if (!arg)
        throw new TypeError(`--source ${kind} needs a path: ${kind}:${kind === 'images' ? 'DIR' : 'FILE|-'}`);
      if (kind === 'images') return { kind, dir: arg };
      return { kind, path: arg };
    case 'camera':
      return { kind, device: arg || '/dev/video0' };
    default:
      throw new TypeError(
        `unknown --source '${spec}' (synthetic, pattern, images:DIR, y4m:FILE|-, camera[:DEVICE], text:FILE|-)`,
      );
  }
}

/** Frame size the image sources scale to (model input; multiples of the image stride). */
export interface FrameSize {
  width: number;
  height: number;
}

async function fit(frame: Y4mFrame, size: FrameSize): Promise<Y4mFrame> {
  if (frame.width === size.width && frame.height === size.height) return frame;
  const data = await sharp(frame.data, { raw: { width: frame.width, height: frame.height, channels: 3 } })
    .resize(size.width, size.height, { fit: 'cover' })
    .raw()
    .toBuffer();
  return { width: size.width, height: size.height, data: new Uint8Array(data) };
}

/**
 * The synthetic scene generator (training/data/scenes.md), one new scene per frame. Seeds are the held-out
 * ones (seed % 10 == 9) so that live results are checked on scenes the model never trained on.
 */
function syntheticSource(): Source {
  let index = 0;
  return {
    description: 'synthetic',
    modality: 'image',
    async next() {
      const i = index++;
      const seed = 9 + 10 * (i % 100_000_000);
      const scene = generateScene(seed);
      return {
        index: i,
        image: { data: renderScene(scene), width: SCENE_SIZE, height: SCENE_SIZE },
        truth: { seed, caption: sceneCaption(scene), qa: sceneQuestions(scene) },
      };
    },
    close() {},
  };
}

const IMAGE_EXT = new Set(['.png', '.jpg', '.jpeg', '.webp', '.gif', '.tif', '.tiff', '.pgm', '.ppm']);

function imagesSource(dir: string, size: FrameSize): Source {
  let files: string[];
  try {
    if (!statSync(dir).isDirectory()) throw new SourceError(`--source images:${dir}: not a directory`);
    files = readdirSync(dir)
      .filter((f) => IMAGE_EXT.has(extname(f).toLowerCase()))
      .sort()
      .map((f) => join(dir, f));
  } catch (err) {
    if (err instanceof SourceError) throw err;
    throw new SourceError(`--source images:${dir}: cannot read the directory (${(err as Error).message})`);
  }
  if (files.length === 0) {
    throw new SourceError(`--source images:${dir}: no images (${[...IMAGE_EXT].join(' ')})`);
  }
  let index = 0;
  return {
    description: `images:${dir}`,
    modality: 'image',
    async next() {
      const i = index++;
      const file = files[i % files.length]!;
      let frame: Y4mFrame;
      try {
        const bytes = readFileSync(file);
        if (/\.p[gp]m$/i.test(file)) frame = decodeNetpbm(bytes);
        else {
          const { data, info } = await sharp(bytes).removeAlpha().toColourspace('srgb').raw().toBuffer({
            resolveWithObject: true,
          });
          frame = { width: info.width, height: info.height, data: new Uint8Array(data) };
          if (info.channels === 1)
            frame = decodeNetpbm(Buffer.concat([Buffer.from(`P5 ${info.width} ${info.height} 255\n`), data]));
        }
      } catch (err) {
        throw new SourceError(`cannot read image ${file}: ${(err as Error).message}`);
      }
      return { index: i, image: await fit(frame, size) };
    },
    close() {},
  };
}

/** Most frames read ahead from a Y4M file (a file is read at the sender's pace, frame by frame). */
const FILE_READ_AHEAD_FRAMES = 4;

/**
 * Frames from a Y4M byte stream. A file is read at the sender's pace and every frame is sent; a live
 * stream (a pipe, a camera) keeps only the newest frame when the sender is slower than the stream.
 */
function y4mStreamSource(
  description: string,
  stream: Readable,
  size: FrameSize,
  live: boolean,
  onClose: () => void,
): Source {
  const parser = new Y4mParser();
  let queue: Y4mFrame[] = [];
  let ended = false;
  let error: Error | undefined;
  let wake: (() => void) | undefined;
  let index = 0;
  stream.on('data', (chunk: Buffer) => {
    try {
      const frames = parser.push(chunk);
      if (frames.length > 0) {
        queue = live ? frames.slice(-1) : queue.concat(frames);
        wake?.();
      }
      if (!live && queue.length >= FILE_READ_AHEAD_FRAMES) stream.pause();
    } catch (err) {
      error = err instanceof Y4mError ? new SourceError(`${description}: ${err.message}`) : (err as Error);
      stream.destroy();
      wake?.();
    }
  });
  stream.on('error', (err) => {
    error = new SourceError(`${description}: ${err.message}`);
    wake?.();
  });
  stream.on('end', () => {
    ended = true;
    wake?.();
  });
  return {
    description,
    modality: 'image',
    async next() {
      while (queue.length === 0 && !ended && !error) await new Promise<void>((r) => (wake = r));
      if (error) throw error;
      const frame = queue.shift();
      if (!ended && queue.length < FILE_READ_AHEAD_FRAMES) stream.resume();
      if (!frame) {
        if (!parser.header) throw new SourceError(`${description}: the stream ended before a Y4M header`);
        return undefined;
      }
      const sample: SourceSample = { index: index++, image: await fit(frame, size) };
      return sample;
    },
    close() {
      stream.destroy();
      onClose();
    },
  };
}

function y4mSource(path: string, size: FrameSize): Source {
  if (path === '-') return y4mStreamSource('y4m:-', process.stdin, size, true, () => {});
  try {
    statSync(path);
  } catch (err) {
    throw new SourceError(`--source y4m:${path}: cannot open (${(err as Error).message})`);
  }
  return y4mStreamSource(`y4m:${path}`, createReadStream(path), size, false, () => {});
}

/** A camera through Debian's ffmpeg (v4l2 on Linux), piped as Y4M. */
function cameraSource(device: string, size: FrameSize, fps: number): Source {
  const ff = spawn(
    'ffmpeg',
    [
      '-loglevel',
      'error',
      '-f',
      'v4l2',
      '-framerate',
      String(fps),
      '-i',
      device,
      '-vf',
      `scale=${size.width}:${size.height}`,
      '-pix_fmt',
      'yuv420p',
      '-f',
      'yuv4mpegpipe',
      '-',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stderr = '';
  ff.stderr.on('data', (d) => {
    stderr += d;
  });
  const src = y4mStreamSource(`camera:${device}`, ff.stdout, size, true, () => ff.kill('SIGTERM'));
  ff.on('error', (err) =>
    ff.stdout.emit('error', new Error(`cannot run ffmpeg (apt-get install ffmpeg): ${err.message}`)),
  );
  ff.on('exit', (code) => {
    if (code)
      ff.stdout.emit(
        'error',
        new Error(`ffmpeg exited with ${code}: ${stderr.trim().split('\n').pop() ?? ''}`),
      );
  });
  return src;
}

/** One line per sample; blank lines are skipped. A file loops; stdin ends the stream. */
function textSource(path: string): Source {
  let lines: string[] | undefined;
  let pending: string[] = [];
  let ended = false;
  let wake: (() => void) | undefined;
  if (path === '-') {
    let partial = '';
    process.stdin.setEncoding('utf8');
    process.stdin.on('data', (d: string) => {
      const parts = (partial + d).split('\n');
      partial = parts.pop() ?? '';
      pending.push(...parts.map((l) => l.trim()).filter(Boolean));
      wake?.();
    });
    process.stdin.on('end', () => {
      if (partial.trim()) pending.push(partial.trim());
      ended = true;
      wake?.();
    });
  } else {
    try {
      lines = readFileSync(path, 'utf8')
        .split('\n')
        .map((l) => l.trim())
        .filter(Boolean);
    } catch (err) {
      throw new SourceError(`--source text:${path}: cannot read (${(err as Error).message})`);
    }
    if (lines.length === 0) throw new SourceError(`--source text:${path}: the file has no text lines`);
  }
  let index = 0;
  return {
    description: `text:${path}`,
    modality: 'text',
    async next() {
      const i = index++;
      if (lines) return { index: i, text: lines[i % lines.length]! };
      while (pending.length === 0 && !ended) await new Promise<void>((r) => (wake = r));
      const text = pending.shift();
      pending = pending.slice(-64); // a live pipe that outruns the sender keeps only the newest lines
      return text === undefined ? undefined : { index: i, text };
    },
    close() {},
  };
}

/** Opens a source. Throws SourceError for what cannot be opened, with the reason. */
export function openSource(spec: SourceSpec, size: FrameSize, fps: number): Source {
  switch (spec.kind) {
    case 'synthetic':
      return syntheticSource();
    case 'pattern': {
      let index = 0;
      return {
        description: 'pattern',
        modality: 'image',
        async next() {
          const i = index++;
          return { index: i, image: testPatternFrame(i, size.width, size.height) };
        },
        close() {},
      };
    }
    case 'images':
      return imagesSource(spec.dir, size);
    case 'y4m':
      return y4mSource(spec.path, size);
    case 'camera':
      return cameraSource(spec.device, size, fps);
    case 'text':
      return textSource(spec.path);
  }
}
