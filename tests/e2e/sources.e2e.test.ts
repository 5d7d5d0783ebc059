// Sources through the real CLIs: ffmpeg's testsrc piped as Y4M, a ViSP grey sequence from Debian's
// visp-images-data (as an image folder and through ffmpeg as a Y4M file), text lines; and clear errors.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { BIN, type Proc, run } from '../cli/helpers.js';

const VISP_CUBE = '/usr/share/visp-images-data/ViSP-images/cube';
const procs: Proc[] = [];
const start = (bin: string, args: string[], stdin?: 'pipe') => {
  const p = run(bin, args, stdin ? { stdin } : {});
  procs.push(p);
  return p;
};
afterEach(() => {
  for (const p of procs.splice(0)) if (p.child.exitCode === null) p.child.kill('SIGKILL');
});

/** Starts a sender with `args`, joins one receiver for `seconds`, returns the receiver's result lines. */
async function stream(args: string[], recvArgs: string[], seconds = 5) {
  const sender = start(BIN.send, ['--signal-port', '0', '--fps', '5', '--quiet', ...args]);
  const [, url] = await sender.waitFor(/listening on (ws:\/\/\S+)/, 30_000);
  const recv = start(BIN.recv, ['--signal', url!, '--duration', String(seconds), '--quiet', ...recvArgs]);
  expect(await recv.exited, recv.stderr()).toBe(0);
  sender.child.kill('SIGINT');
  return {
    sender,
    recv,
    lines: recv
      .stdout()
      .trim()
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { seq: number; task: string; result?: string; file?: string }),
  };
}

describe('sources', () => {
  it("streams ffmpeg's testsrc piped as Y4M (m4sc-send --source y4m:-)", async () => {
    const ff = spawn(
      'ffmpeg',
      [
        '-loglevel',
        'error',
        '-re',
        '-f',
        'lavfi',
        '-i',
        'testsrc=size=128x96:rate=5',
        '-t',
        '12',
        '-pix_fmt',
        'yuv420p',
        '-f',
        'yuv4mpegpipe',
        '-',
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const sender = start(
      BIN.send,
      ['--signal-port', '0', '--fps', '5', '--quiet', '--source', 'y4m:-'],
      'pipe',
    );
    ff.stdout.pipe(sender.child.stdin!);
    const [, url] = await sender.waitFor(/listening on (ws:\/\/\S+)/, 30_000);
    const dir = mkdtempSync(join(tmpdir(), 'm4sc-y4m-'));
    const recv = start(BIN.recv, ['--signal', url!, '--duration', '5', '--quiet', '--out', dir]);
    expect(await recv.exited, recv.stderr()).toBe(0);
    ff.kill();
    const lines = recv.stdout().trim().split('\n').filter(Boolean);
    expect(lines.length, recv.stderr()).toBeGreaterThan(5);
    // Scaled to the default 64×64 model input.
    const f = JSON.parse(lines.at(-1)!) as { file: string };
    const { info } = await (await import('sharp')).default(f.file).toBuffer({ resolveWithObject: true });
    expect([info.width, info.height]).toEqual([64, 64]);
  }, 60_000);

  it.runIf(existsSync(VISP_CUBE))(
    'streams a ViSP grey sequence as an image folder and as a Y4M file',
    async () => {
      const a = await stream(['--source', `images:${VISP_CUBE}`], ['--task', 'reconstruct'], 4);
      expect(a.lines.length, a.recv.stderr()).toBeGreaterThan(5);
      // Natural images: --image-path auto sends them with the public image code, and says so.
      expect(a.sender.stderr()).toMatch(
        /images' public stream: the public image code \(auto: images frames are natural images\)/,
      );
      const y4m = join(mkdtempSync(join(tmpdir(), 'm4sc-visp-')), 'cube.y4m');
      execFileSync('ffmpeg', [
        '-loglevel',
        'error',
        '-i',
        join(VISP_CUBE, 'image.%04d.pgm'),
        '-frames:v',
        '40',
        '-pix_fmt',
        'yuv420p',
        '-f',
        'yuv4mpegpipe',
        y4m,
      ]);
      const b = await stream(['--source', `y4m:${y4m}`], ['--task', 'reconstruct'], 4);
      expect(b.lines.length, b.recv.stderr()).toBeGreaterThan(5);
    },
    90_000,
  );

  it('transmits text lines (m4sc-send --source text:FILE, m4sc-recv --task transmit)', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'm4sc-text-')), 'lines.txt');
    // 'schiphol' is outside the bundle's vocabulary: it travels as a literal beside the symbols.
    writeFileSync(file, 'the cat sat on the mat .\nwe land at schiphol at one .\n');
    const { lines, recv } = await stream(['--source', `text:${file}`], ['--task', 'transmit'], 4);
    expect(lines.length, recv.stderr()).toBeGreaterThan(5);
    expect(
      lines.every((l) => l.task === 'transmit' && typeof l.result === 'string' && l.result.length > 0),
    ).toBe(true);
    expect(lines.some((l) => String(l.result).split(' ')[3] === 'schiphol')).toBe(true);
    expect(lines.every((l) => !String(l.result).includes('<unk>'))).toBe(true);
  }, 60_000);

  it('refuses a task that does not fit the source, in words', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'm4sc-text-')), 'lines.txt');
    writeFileSync(file, 'hello world\n');
    const { recv, lines } = await stream(['--source', `text:${file}`], ['--task', 'caption'], 3);
    expect(recv.stderr()).toMatch(
      /the sender refused: task 'caption' needs an image source; this sender streams text/,
    );
    expect(lines).toEqual([]);
  }, 60_000);

  it('an unreadable source or an unsupported pixel format gets a clear error and exit 1', async () => {
    const missing = start(BIN.send, ['--signal-port', '0', '--source', 'y4m:/nonexistent/clip.y4m']);
    expect(await missing.exited).toBe(1);
    expect(missing.stderr()).toMatch(/y4m:\/nonexistent\/clip\.y4m: cannot open/);
    const y4m = join(mkdtempSync(join(tmpdir(), 'm4sc-p10-')), 'p10.y4m');
    execFileSync('ffmpeg', [
      '-loglevel',
      'error',
      '-f',
      'lavfi',
      '-i',
      'testsrc=size=64x64:rate=5',
      '-frames:v',
      '2',
      '-pix_fmt',
      'yuv420p10le',
      '-strict',
      '-1',
      '-f',
      'yuv4mpegpipe',
      y4m,
    ]);
    const p10 = start(BIN.send, ['--signal-port', '0', '--source', `y4m:${y4m}`]);
    expect(await p10.exited).toBe(1);
    expect(p10.stderr()).toMatch(/unsupported Y4M pixel format C420p10/);
    const empty = start(BIN.send, [
      '--signal-port',
      '0',
      '--source',
      `images:${tmpdir()}/definitely-missing-dir`,
    ]);
    expect(await empty.exited).toBe(1);
    expect(empty.stderr()).toMatch(/cannot read the directory|not a directory/);
  }, 60_000);
});
