import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { testPatternFrame } from '@m4sc/sender';
import sharp from 'sharp';
import { afterEach, describe, expect, it } from 'vitest';
import { BIN, type Proc, run } from './helpers.js';

const procs: Proc[] = [];
const start = (bin: string, args: string[]) => {
  const p = run(bin, args);
  procs.push(p);
  return p;
};
afterEach(() => {
  for (const p of procs.splice(0)) if (p.child.exitCode === null) p.child.kill('SIGKILL');
});

describe('CLI flag validation', () => {
  it.each([
    [BIN.send, ['--bogus'], /Unknown option '--bogus'/],
    [BIN.send, ['--fps', 'fast'], /--fps must be/],
    [BIN.send, ['--source', 'webcam9'], /unknown --source 'webcam9'/],
    [BIN.send, ['--codec', 'raw', '--source', 'text:x.txt'], /--codec raw streams images/],
    [BIN.send, ['--sharing', 'maybe'], /--sharing must be on or naive/],
    [BIN.send, ['--width', '30'], /--width must be a multiple of 4/],
    [
      BIN.send,
      ['--codec', 'raw', '--image-code'],
      /--image-path and --image-code apply to --codec semantic only/,
    ],
    [BIN.send, ['--image-path', 'jpeg'], /--image-path must be auto, code or learned, got 'jpeg'/],
    [
      BIN.send,
      ['--image-code', '--image-path', 'learned'],
      /--image-code is --image-path code; it contradicts/,
    ],
    [
      BIN.send,
      ['--image-path', 'code', '--source', 'y4m:-', '--width', '40', '--height', '40'],
      /multiples of 16/,
    ],
    [BIN.send, ['--image-code', '--source', 'pattern', '--width', '40', '--height', '40'], /multiples of 16/],
    [BIN.recv, ['--signal', 'ws://127.0.0.1:1', '--task', 'dance'], /unknown --task 'dance'/],
    [BIN.recv, ['--signal', 'ws://127.0.0.1:1', '--task', 'answer'], /--task answer needs --query/],
    [BIN.send, ['--signal', 'http://x', '--secret', 's'], /embedded server only/],
    [BIN.recv, [], /--signal URL is required/],
    [BIN.recv, ['--signal', 'localhost:1'], /must be a ws:\/\/ or wss:\/\/ URL/],
    [BIN.recv, ['--signal', 'ws://127.0.0.1:1', '--duration=-3'], /--duration must be/],
  ])('%s %j exits 2 with a clear message', async (bin, args, message) => {
    const p = start(bin, args);
    expect(await p.exited).toBe(2);
    expect(p.stderr()).toMatch(message);
    expect(p.stderr()).toMatch(/--help/);
  });

  it('--help prints usage and exits 0', async () => {
    for (const bin of [BIN.send, BIN.recv]) {
      const p = start(bin, ['--help']);
      expect(await p.exited).toBe(0);
      expect(p.stdout()).toMatch(/Usage: m4sc-(send|recv)/);
    }
  });

  it('m4sc-recv says clearly when the signaling server is unreachable', async () => {
    const p = start(BIN.recv, ['--signal', 'ws://127.0.0.1:9', '--quiet']);
    expect(await p.exited).toBe(1);
    expect(p.stderr()).toMatch(/m4sc-recv: cannot reach ws:\/\/127\.0\.0\.1:9/);
  });
});

describe('m4sc-send with two m4sc-recv in one room', () => {
  it('both receivers write the frames the sender streamed, pixel for pixel', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'm4sc-cli-'));
    const sender = start(BIN.send, [
      '--signal-port',
      '0',
      '--fps',
      '15',
      '--room',
      'cli-test',
      '--codec',
      'raw',
      '--source',
      'pattern',
    ]);
    const [, url] = await sender.waitFor(/listening on (ws:\/\/\S+)/);
    const recvs = ['a', 'b'].map((n) =>
      start(BIN.recv, ['--signal', url!, '--room', 'cli-test', '--out', join(dir, n), '--duration', '6']),
    );
    const codes = await Promise.all(recvs.map((r) => r.exited));
    expect(codes).toEqual([0, 0]);
    for (const [i, n] of ['a', 'b'].entries()) {
      const files = readdirSync(join(dir, n)).sort();
      // 4 s at 15 fps, minus connection set-up: well over 20 frames.
      expect(files.length, recvs[i]!.stderr()).toBeGreaterThan(20);
      // Live stats were printed.
      expect(recvs[i]!.stderr()).toMatch(
        /recv fps=\d+(\.\d)? kbit\/s=[\d.]+ rtt=[\d.]+ms loss=[\d.]+% latency p50=[\d.]+ms p95=[\d.]+ms/,
      );
      for (const f of [files[0]!, files[files.length - 1]!]) {
        const seq = Number(/frame-(\d+)\.png/.exec(f)![1]);
        const { data, info } = await sharp(join(dir, n, f))
          .raw()
          .toBuffer({ resolveWithObject: true });
        expect([info.width, info.height, info.channels]).toEqual([64, 64, 3]);
        expect(Buffer.compare(data, Buffer.from(testPatternFrame(seq, 64, 64).data))).toBe(0);
      }
    }
    sender.child.kill('SIGINT');
    expect(await sender.exited).toBe(0);
  }, 40_000);
});

describe('--peer backends', () => {
  it('a werift sender streams to a node-datachannel receiver', async () => {
    const sender = start(BIN.send, [
      '--signal-port',
      '0',
      '--codec',
      'raw',
      '--source',
      'pattern',
      '--quiet',
    ]);
    const [, url] = await sender.waitFor(/listening on (ws:\/\/\S+)/);
    const recv = start(BIN.recv, [
      '--signal',
      url!,
      '--peer',
      'node-datachannel',
      '--duration',
      '4',
      '--quiet',
    ]);
    expect(await recv.exited).toBe(0);
    expect(recv.stdout().trim().split('\n').length, recv.stderr()).toBeGreaterThan(15);
    sender.child.kill('SIGINT');
  }, 40_000);

  it("--adapt-log writes each receiver's link figures and the decision taken on them, one JSON line each", async () => {
    const log = join(mkdtempSync(join(tmpdir(), 'm4sc-adapt-')), 'adapt.jsonl');
    const sender = start(BIN.send, [
      '--signal-port',
      '0',
      '--source',
      'pattern',
      '--quiet',
      '--adapt-log',
      log,
    ]);
    const [, url] = await sender.waitFor(/listening on (ws:\/\/\S+)/);
    const recv = start(BIN.recv, ['--signal', url!, '--duration', '4', '--quiet']);
    expect(await recv.exited, recv.stderr()).toBe(0);
    sender.child.kill('SIGINT');
    await sender.exited;
    const lines = readFileSync(log, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    // Figures every 500 ms once connected: several in 4 s, each with its decision (adaptation is on by default).
    expect(lines.length).toBeGreaterThanOrEqual(3);
    for (const l of lines) {
      expect(l.wallMs).toBeGreaterThan(0);
      expect(typeof l.ctx.peerId).toBe('string');
      expect(l.ctx.link.sentBytesPerSec).toBeGreaterThanOrEqual(0);
      expect(l.decision.level).toBeGreaterThanOrEqual(0);
      expect(l.decision.op).toMatch(/^adapt-r\d+b\d+/);
      expect(typeof l.decision.reason).toBe('string');
    }
    expect(lines.some((l) => l.ctx.link.sentBytesPerSec > 0 && l.ctx.link.goodputBytesPerSec > 0)).toBe(true);
  }, 60_000);

  it('a wrong --peer is a flag error', async () => {
    const p = start(BIN.recv, ['--signal', 'ws://127.0.0.1:1', '--peer', 'libwebrtc']);
    expect(await p.exited).toBe(2);
    expect(p.stderr()).toMatch(/--peer must be werift or node-datachannel, got 'libwebrtc'/);
  });
});

describe('three processes: m4sc-signal, m4sc-send, m4sc-recv', () => {
  it('stream through a standalone signaling server with token auth; a wrong token is refused', async () => {
    const signal = start(BIN.signal, ['--port', '0', '--secret', 'test-secret']);
    const [, url] = await signal.waitFor(/(ws:\/\/127\.0\.0\.1:\d+)/);
    const mint = (role: string) => {
      const p = start(BIN.signal, [
        'token',
        '--secret',
        'test-secret',
        '--room',
        'r3',
        '--role',
        role,
        '--ttl',
        '60',
      ]);
      return p.exited.then(() => p.stdout().trim());
    };
    const [sendToken, recvToken] = await Promise.all([mint('sender'), mint('receiver')]);
    expect(recvToken).toMatch(/^[\w-]+\.[\w-]+$/);

    const refused = start(BIN.recv, ['--signal', url!, '--room', 'r3', '--token', sendToken, '--quiet']);
    expect(await refused.exited).toBe(1);
    expect(refused.stderr()).toMatch(/token-role-mismatch|role/);

    const sender = start(BIN.send, [
      '--signal',
      url!,
      '--room',
      'r3',
      '--token',
      sendToken,
      '--codec',
      'raw',
      '--source',
      'pattern',
    ]);
    await sender.waitFor(/streaming 'pattern'/);
    const recv = start(BIN.recv, ['--signal', url!, '--room', 'r3', '--token', recvToken, '--duration', '5']);
    expect(await recv.exited).toBe(0);
    expect(recv.stdout(), recv.stderr()).not.toBe('');
    const lines = recv
      .stdout()
      .trim()
      .split('\n')
      .map(
        (l) =>
          JSON.parse(l) as {
            seq: number;
            task: string;
            packets: number;
            lostPackets: number;
            latencyMs: number;
          },
      );
    expect(lines.length).toBeGreaterThan(15);
    // 64×64×3 raw bytes split under the 1200-byte MTU: a dozen packets per frame.
    expect(lines.every((l) => l.task === 'raw' && l.packets >= 12 && l.packets <= 14)).toBe(true);
    // Loopback without impairment: nothing lost, latency far below a frame interval on average.
    expect(lines.filter((l) => l.lostPackets > 0).length).toBeLessThanOrEqual(1);
    const ages = lines.map((l) => l.latencyMs).sort((a, b) => a - b);
    expect(ages[Math.floor(ages.length / 2)]!).toBeLessThan(100);
    sender.child.kill('SIGINT');
    signal.child.kill('SIGINT');
    expect(await sender.exited).toBe(0);
  }, 40_000);
});
