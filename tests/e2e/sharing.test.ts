// Semantic sharing and shared encoding, in one process with real parts: a real ws signaling server,
// real werift peers over loopback, the real default bundle on onnxruntime-node.
import { createReceiver, type Receiver, type ReceiverResult } from '@m4sc/receiver';
import type { SemanticCodec } from '@m4sc/semantic-codec';
import { createNodeSemanticCodec } from '@m4sc/semantic-codec/node';
import {
  createDefaultAdaptationPolicy,
  createSender,
  DEFAULT_BUNDLE_DIR,
  openSource,
  type Sender,
  type SenderStats,
} from '@m4sc/sender';
import { createSignalingServer, type SignalingServer } from '@m4sc/signaling';
import { createWeriftPeerConnection } from '@m4sc/transport/node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

let codec: SemanticCodec;
let server: SignalingServer;
let sender: Sender | undefined;
let receivers: Receiver[] = [];

beforeAll(async () => {
  codec = await createNodeSemanticCodec({ bundleDir: DEFAULT_BUNDLE_DIR });
  server = await createSignalingServer({ port: 0 });
});
afterAll(async () => {
  await server.close();
  await codec.close();
});
afterEach(async () => {
  for (const r of receivers) await r.close();
  receivers = [];
  await sender?.close();
  sender = undefined;
});

const loopback = () => createWeriftPeerConnection({ mode: 'loopback' });

async function startSender(room: string, sharing?: 'naive', adapt?: { privateOp: string }) {
  const stats: SenderStats[] = [];
  sender = await createSender({
    signalUrl: server.url,
    room,
    source: openSource({ kind: 'synthetic' }, { width: 32, height: 32 }, 6),
    fps: 6,
    codec,
    createPeerConnection: loopback,
    statsIntervalMs: 250,
    // Sharing is counted at one operating point: adaptation (tested on its own) would split groups by link.
    adaptation: adapt ? createDefaultAdaptationPolicy() : false,
    ...(adapt ? { privateOp: codec.operatingPoint(adapt.privateOp) } : {}),
    ...(sharing ? { sharing } : {}),
  });
  sender.stats$.subscribe((s) => stats.push(s));
  return stats;
}

async function join(room: string, task: string, query?: string) {
  const r = await createReceiver({
    signalUrl: server.url,
    room,
    codec,
    createPeerConnection: loopback,
    instruction: { task, ...(query ? { query } : {}) },
  });
  const results: ReceiverResult[] = [];
  r.results$.subscribe((x) => results.push(x));
  receivers.push(r);
  return results;
}

const until = async (cond: () => boolean, timeoutMs: number) => {
  const t0 = Date.now();
  while (!cond() && Date.now() - t0 < timeoutMs) await new Promise((r) => setTimeout(r, 50));
  return cond();
};

describe('semantic sharing', () => {
  it('N receivers asking the same question get one private encode per sample, shared on the public channel', async () => {
    const stats = await startSender('share-same');
    const queries = [
      'how many shapes are there ?',
      'How many shapes are there?',
      'how many shapes are there',
      'HOW MANY SHAPES ARE THERE ?',
    ];
    const results = await Promise.all(queries.map((q) => join('share-same', 'answer', q)));
    expect(await until(() => results.every((r) => r.length >= 6), 25_000)).toBe(true);
    const before = stats[stats.length - 1]!;
    // A receiver that joined before the others with its question was alone for a sample or two, and was rightly
    // served on its own private channel then (one 88-byte sample in one CI run); from here on, with all four in,
    // nothing more may go private.
    const privateBefore = new Map(sender!.receivers().map((r) => [r.peerId, r.bytes.private]));
    await until(() => results.every((r) => r.length >= 12), 15_000);
    const after = stats[stats.length - 1]!;
    const samples = after.publicEncodes - before.publicEncodes;
    expect(samples).toBeGreaterThan(2);
    // One public and one private encode per sample, whatever N.
    expect(after.privateEncodes - before.privateEncodes).toBe(samples);
    // Every receiver is served by the shared stream; the private channels carry nothing.
    const rs = sender!.receivers();
    expect(rs).toHaveLength(4);
    for (const r of rs) {
      expect(r.stream).toMatch(/^shared:[0-9a-f]{8}\|/);
      expect(r.bytes.private).toBe(privateBefore.get(r.peerId));
      expect(r.bytes.shared).toBeGreaterThan(0);
    }
    // All four got the same result for the same sample (one encode, decoded alike).
    const seq = results[0]!.at(-1)!.seq;
    const texts = results.map((r) => r.find((x) => x.seq === seq)?.text).filter((t) => t !== undefined);
    expect(new Set(texts).size).toBe(1);
    expect(results.every((r) => r.every((x) => x.stream.startsWith('shared:')))).toBe(true);
  }, 60_000);

  it('encodes each sample once whatever the number of receivers, and once more per distinct instruction', async () => {
    const stats = await startSender('share-mixed');
    const results = [
      await join('share-mixed', 'reconstruct'),
      await join('share-mixed', 'caption'),
      await join('share-mixed', 'classify'),
      await join('share-mixed', 'answer', 'what colour is the circle ?'),
      await join('share-mixed', 'answer', 'what colour is the circle ?'),
    ];
    expect(await until(() => results.every((r) => r.length >= 4), 30_000)).toBe(true);
    const before = stats[stats.length - 1]!;
    await until(() => results.every((r) => r.length >= 10), 15_000);
    const after = stats[stats.length - 1]!;
    const samples = after.publicEncodes - before.publicEncodes;
    expect(samples).toBeGreaterThan(2);
    // 3 distinct private instructions (caption, classify, the shared question) per sample.
    expect(after.privateEncodes - before.privateEncodes).toBe(3 * samples);
    const byTask = new Map(sender!.receivers().map((r) => [r.task, r]));
    expect(byTask.get('reconstruct')!.stream).toMatch(/^public\|/);
    expect(byTask.get('caption')!.stream).toMatch(/^private:/);
    expect(results[0]!.every((x) => x.image && x.image.width === 32)).toBe(true);
    expect(results[1]!.every((x) => typeof x.text === 'string')).toBe(true);
  }, 60_000);

  it('the naive baseline encodes everything once per receiver', async () => {
    const stats = await startSender('naive', 'naive');
    const results = [await join('naive', 'caption'), await join('naive', 'caption')];
    expect(await until(() => results.every((r) => r.length >= 4), 25_000)).toBe(true);
    const before = stats[stats.length - 1]!;
    await until(() => results.every((r) => r.length >= 8), 15_000);
    const after = stats[stats.length - 1]!;
    const pub = after.publicEncodes - before.publicEncodes;
    expect(pub).toBeGreaterThan(2);
    expect(after.privateEncodes - before.privateEncodes).toBe(pub);
    expect(sender!.receivers().every((r) => r.bytes.public > 0 && r.bytes.private > 0)).toBe(true);
  }, 60_000);

  it("reports the point a private stream is coded at: the adaptation's decision capped at the sender's point", async () => {
    await startSender('coded-op', undefined, { privateOp: 'q4-full' });
    const results = [await join('coded-op', 'caption'), await join('coded-op', 'reconstruct')];
    expect(await until(() => results.every((r) => r.length >= 4), 25_000)).toBe(true);
    // A clean loopback link: the adaptation holds its top level, dearer than q4-full, so q4-full is what is coded.
    const byTask = new Map(sender!.receivers().map((r) => [r.task, r]));
    expect(byTask.get('caption')!.op).toMatchObject({ name: 'q4-full', lossRate: 0 });
    expect(byTask.get('caption')!.stream).toMatch(/^private:/);
    // A public task has no private stream: it reports the decision's point.
    expect(byTask.get('reconstruct')!.op!.name).toMatch(/^adapt-r\d+b\d+$/);
  }, 60_000);

  it('refuses an adaptation option that is not a policy, before it joins the room (a TypeError, not a crash later)', async () => {
    const bad = (adaptation: unknown) =>
      createSender({
        signalUrl: server.url,
        room: 'bad-adapt',
        source: openSource({ kind: 'synthetic' }, { width: 32, height: 32 }, 6),
        codec,
        createPeerConnection: loopback,
        adaptation: adaptation as false,
      });
    await expect(bad(true)).rejects.toThrow(/adaptation must be an AdaptationPolicy .* got true/);
    await expect(bad({ decide: () => undefined })).rejects.toThrow(/an object without them/);
  });

  it('a receiver switching task is served the new task within a sample or two', async () => {
    await startSender('switch');
    const r = await createReceiver({
      signalUrl: server.url,
      room: 'switch',
      codec,
      createPeerConnection: loopback,
      instruction: { task: 'caption' },
    });
    receivers.push(r);
    const got: ReceiverResult[] = [];
    r.results$.subscribe((x) => got.push(x));
    expect(await until(() => got.length >= 3, 25_000)).toBe(true);
    r.setInstruction({ task: 'reconstruct' });
    const switchedAt = got.at(-1)!.seq;
    expect(await until(() => got.some((x) => x.task === 'reconstruct'), 10_000)).toBe(true);
    const first = got.find((x) => x.task === 'reconstruct')!;
    // At 6 fps with encode in flight: the first reconstructed sample is at most 3 samples later.
    expect(first.seq - switchedAt).toBeLessThanOrEqual(3);
    // Once closed, a switch is a typed state error, not a plain Error.
    await r.close();
    expect(() => r.setInstruction({ task: 'caption' })).toThrow(
      expect.objectContaining({
        name: 'InvalidStateError',
        message: expect.stringMatching(/closed receiver/),
      }),
    );
  }, 60_000);
});
