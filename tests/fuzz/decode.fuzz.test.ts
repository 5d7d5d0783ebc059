/**
 * Fuzzing the receiver's decode path with the real bundle (models/default): `codec.decodeSample` with
 * random, mutated and crafted packets (valid CRC, any header) and random operating points. Allowed
 * errors: TypeError, UnsupportedError, PacketError (the codec's documented set). Each case must finish in
 * time; the heap must not grow across the run.
 */
import { PACKET_HEADER_BYTES, PacketError, type SemanticCodec, UnsupportedError } from '@m4sc/semantic-codec';
import { createNodeSemanticCodec } from '@m4sc/semantic-codec/node';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { crc32 } from '../../packages/semantic-codec/src/crc32.js';
import { fcParams, getGc, heapAfterGc, hostileNumber, hostileValue, within } from './helpers.js';

const RUNS = { decode: 300, memoryRounds: 3 };
/** One decode of the default bundle takes ~10–50 ms here; 5 s means a hang or a blow-up. */
const CASE_MS = 5_000;

const BUNDLE_DIR = new URL('../../models/default', import.meta.url).pathname;
let codec: SemanticCodec;
let image: { packets: Uint8Array[]; privatePackets: Uint8Array[]; grid: readonly [number, number] };
let text: Uint8Array[];

beforeAll(async () => {
  codec = await createNodeSemanticCodec({ bundleDir: BUNDLE_DIR });
  const px = new Uint8Array(32 * 32 * 3);
  for (let i = 0; i < px.length; i++) px[i] = (i * 37) % 256;
  const op = codec.operatingPoints[0]!;
  const enc = await codec.encodeSample({ image: { data: px, width: 32, height: 32 } }, op, {
    instructions: [{ task: 'caption' }],
    minPackets: 4,
  });
  image = { packets: enc.public.packets, privatePackets: enc.private[0]!.packets, grid: enc.grid! };
  text = (await codec.encodeSample({ text: 'the quick brown fox' }, op, { minPackets: 3 })).public.packets;
}, 60_000);

afterAll(async () => {
  await codec?.close();
});

function craft(T: number, C: number, r: number, gw: number, count: number, bits: number, scale: number) {
  const n = r * T;
  const m = count >= 1 && count <= n ? Math.floor((n - 1) / count) + 1 : 1;
  const payloadLen = Math.min(Math.ceil((m * bits) / 8), 2048);
  const p = new Uint8Array(PACKET_HEADER_BYTES + payloadLen);
  const v = new DataView(p.buffer);
  p[0] = 0x4d;
  p[1] = 1;
  p[2] = bits;
  v.setUint16(4, T, true);
  v.setUint16(6, C, true);
  v.setUint16(8, r, true);
  v.setUint16(10, gw, true);
  v.setUint16(12, 0, true);
  v.setUint16(14, count, true);
  v.setFloat32(16, scale, true);
  for (let i = PACKET_HEADER_BYTES; i < p.length; i++) p[i] = (i * 131) & 255;
  v.setUint32(20, crc32(p.subarray(PACKET_HEADER_BYTES), crc32(p.subarray(0, 20))), true);
  return p;
}

/** Headers with a valid CRC and any shape the format allows: T up to 65535, image grids of any width. */
const crafted = fc
  .record({
    T: fc.oneof(
      fc.constantFrom(1, 8, 32, 33, 64, 4096, 4097, 16384, 65535),
      fc.integer({ min: 1, max: 65535 }),
    ),
    C: fc.constantFrom(16, 16, 16, 1, 15, 17, 65535),
    rFrac: fc.double({ min: 0, max: 1, noNaN: true }),
    gwPick: fc.constantFrom('one', 'sqrt', 'T', 'zero'),
    countFrac: fc.double({ min: 0, max: 1, noNaN: true }),
    bits: fc.constantFrom(1, 2, 4, 8, 16, 32),
    scale: fc.constantFrom(0, 1, 1e30, 3.4e38),
  })
  .map(({ T, C, rFrac, gwPick, countFrac, bits, scale }) => {
    const r = Math.max(1, Math.ceil(rFrac * C));
    const s = Math.floor(Math.sqrt(T));
    const gw = gwPick === 'one' ? 1 : gwPick === 'T' ? T : gwPick === 'sqrt' && s * s === T ? s : 0;
    // Many packets, so each carries few symbols and the packet stays small whatever T claims.
    const count = Math.max(1, Math.min(65535, r * T, Math.ceil(countFrac * r * T)));
    return craft(T, C, r, gw, Math.max(count, Math.ceil((r * T) / 8000)), bits, scale);
  });

const opArb = fc.oneof(
  { weight: 4, arbitrary: fc.constant(undefined) },
  {
    weight: 1,
    arbitrary: fc.record(
      {
        name: fc.oneof(fc.string({ maxLength: 10 }), hostileValue),
        version: fc.oneof(fc.constant(1), hostileNumber),
        rateSymbols: fc.oneof(fc.integer({ min: 0, max: 20 }), hostileNumber),
        bits: fc.oneof(fc.constantFrom(1, 4, 8, 16, 32, 0, 33), hostileNumber),
        snrDb: hostileNumber,
        lossRate: hostileNumber,
        ik: fc.string({ maxLength: 8 }),
      },
      { requiredKeys: [] },
    ),
  },
);

const caseArb = fc.record({
  stream: fc.constantFrom('public', 'public', 'private'),
  modality: fc.oneof(fc.constantFrom('image', 'text'), hostileValue),
  source: fc.constantFrom('image', 'text', 'private'),
  ops: fc.array(
    fc.oneof(
      fc.constant('keep'),
      fc.constant('drop'),
      fc.constant('mutate'),
      fc.constant('crafted'),
      fc.constant('random'),
      fc.constant('swap'),
    ),
    { maxLength: 8 },
  ),
  mutations: fc.array(fc.uint8Array({ maxLength: 2 }), { maxLength: 8 }),
  extra: fc.array(fc.oneof(crafted, fc.uint8Array({ maxLength: 80 })), { maxLength: 3 }),
  op: opArb,
  grid: fc.option(fc.tuple(fc.oneof(fc.nat(9), hostileNumber), fc.oneof(fc.nat(9), hostileNumber)), {
    nil: undefined,
  }),
  query: fc.option(fc.oneof(fc.string({ maxLength: 40 }), hostileValue), { nil: undefined }),
  task: fc.constantFrom('caption', 'classify', 'answer', 'reconstruct', 'bogus'),
  seed: fc.nat(),
});

/** Applies random ops to a real packet list: keep, drop (hole), mutate bytes, replace by crafted or random, swap. */
type Case = typeof caseArb extends fc.Arbitrary<infer X> ? X : never;

function buildPackets(base: Uint8Array[], k: Case): (Uint8Array | undefined | null)[] {
  const out: (Uint8Array | undefined | null)[] = base.map((p) => p.slice());
  k.ops.forEach((op, i) => {
    const j = (k.seed + i * 7) % Math.max(1, out.length);
    const p = out[j];
    if (op === 'drop') out[j] = i % 2 ? undefined : null;
    else if (op === 'mutate' && p) {
      const m = p.slice();
      const edit = k.mutations[i] ?? Uint8Array.of(0);
      m[(k.seed + i * 13) % m.length] ^= (edit[0] ?? 1) | 1;
      out[j] = m;
    } else if (op === 'crafted' || op === 'random')
      out[j] = k.extra[i % Math.max(1, k.extra.length)] ?? new Uint8Array(3);
    else if (op === 'swap' && out.length > 1) [out[0], out[j]] = [out[j]!, out[0]!];
  });
  return [...out, ...k.extra.slice(0, 1)];
}

async function decodeCase(k: Case): Promise<string> {
  const base = k.source === 'image' ? image.packets : k.source === 'text' ? text : image.privatePackets;
  const packets = buildPackets(base, k);
  const op = k.op ?? codec.operatingPoints[0]!;
  const input =
    k.stream === 'private'
      ? {
          stream: 'private' as const,
          instruction: { task: k.task, ...(k.query !== undefined ? { query: k.query as string } : {}) },
          packets,
          op,
        }
      : {
          stream: 'public' as const,
          modality: k.modality as 'image',
          packets,
          op,
          ...(k.grid ? { grid: k.grid as [number, number] } : {}),
        };
  try {
    const r = await within(CASE_MS, 'decodeSample', codec.decodeSample(input as never));
    if (r.kind === 'image') {
      expect(r.image.width * r.image.height).toBeGreaterThan(0);
      for (const v of r.image.data) expect(Number.isFinite(v)).toBe(true);
    } else expect(typeof r.text.text).toBe('string');
    return 'ok';
  } catch (e) {
    if (e instanceof TypeError || e instanceof UnsupportedError || e instanceof PacketError) return e.name;
    throw e;
  }
}

describe('fuzz: codec.decodeSample (receiver decode path, real bundle)', () => {
  it('returns a result or a typed error for random packets, holes, crafted headers and operating points', async () => {
    const outcomes: Record<string, number> = {};
    await fc.assert(
      fc.asyncProperty(caseArb, async (k) => {
        const o = await decodeCase(k);
        outcomes[o] = (outcomes[o] ?? 0) + 1;
      }),
      fcParams(RUNS.decode, 31),
    );
    // Both kinds of outcome must occur, or the generator tests nothing.
    expect(outcomes.ok ?? 0).toBeGreaterThan(0);
    expect(Object.keys(outcomes).length).toBeGreaterThan(1);
  }, 120_000);

  it('heapUsed after gc does not grow across repeated decode rounds', async () => {
    const gc = getGc();
    const round = (seed: number) =>
      fc.assert(
        fc.asyncProperty(caseArb, async (k) => {
          await decodeCase(k);
        }),
        fcParams(15, 200 + seed),
      );
    await round(0);
    const before = await heapAfterGc(gc);
    for (let i = 1; i <= RUNS.memoryRounds; i++) await round(i);
    const after = await heapAfterGc(gc);
    expect(after - before).toBeLessThan(16 * 1024 * 1024);
  }, 120_000);
});
