// The same PeerLink behaviours over each Node backend (werift, node-datachannel), and across them (interop):
// real peers over loopback in one process, signals wired directly; no mocks.
import {
  createPeerLink,
  type LinkStats,
  type PeerConnectionLike,
  type PeerLink,
  type PeerSignal,
  type ReassembledSample,
  type SampleChannel,
  splitPayload,
} from '@m4sc/transport';
import {
  createLoopbackLinkPair,
  createNodeDatachannelPeerConnection,
  createWeriftPeerConnection,
  type LoopbackLinkPair,
  type LoopbackPeerOptions,
} from '@m4sc/transport/node';
import { firstValueFrom, lastValueFrom, toArray } from 'rxjs';
import { afterEach, describe, expect, it } from 'vitest';
import { retrySetupRace } from './setupRace.js';

type Backend = 'werift' | 'node-datachannel';
const FACTORIES: Record<Backend, (o: LoopbackPeerOptions) => PeerConnectionLike> = {
  werift: createWeriftPeerConnection,
  'node-datachannel': createNodeDatachannelPeerConnection,
};

const SIZES = [120, 700, 1500, 4000]; // bytes; 1500 and 4000 take two and four packets

/** Deterministic content, so the receiver can check every byte. */
const payloadFor = (seq: number, size: number) => new Uint8Array(size).map((_, i) => (seq * 31 + i) & 0xff);

const until = async (cond: () => boolean, timeoutMs: number) => {
  const t0 = Date.now();
  while (!cond() && Date.now() - t0 < timeoutMs) await new Promise((r) => setTimeout(r, 20));
};

const pairOf = async (
  offerer: Backend,
  answerer: Backend,
  options: Parameters<typeof createLoopbackLinkPair>[0] = {},
  onPeerConnection?: (side: 'offerer' | 'answerer', pc: PeerConnectionLike) => void,
): Promise<LoopbackLinkPair> => {
  const create = () =>
    createLoopbackLinkPair({
      ...options,
      createPeerConnection: (side, o) => {
        const pc = FACTORIES[side === 'offerer' ? offerer : answerer](o);
        onPeerConnection?.(side, pc);
        return pc;
      },
    });
  return retrySetupRace('backends', create);
};

let pair: LoopbackLinkPair | undefined;
afterEach(async () => {
  await pair?.close();
  pair = undefined;
});

/** Sends `n` mixed-size samples (alternating public/private) and as many control messages; checks every byte. */
async function deliverMixed(tx: PeerLink, rx: PeerLink, n: number) {
  const samples = new Map<string, ReassembledSample>();
  const control: { seq: number; bytes: Uint8Array }[] = [];
  rx.samples$.subscribe((s) => samples.set(`${s.channel}:${s.seq}`, s));
  rx.control$.subscribe((m) => control.push(m as { seq: number; bytes: Uint8Array }));
  for (let seq = 0; seq < n; seq++) {
    const size = SIZES[seq % SIZES.length]!;
    const bytes = payloadFor(seq, size);
    const channel: SampleChannel = seq % 2 === 0 ? 'public' : 'private';
    tx.sendSample(channel, {
      seq,
      captureTsMs: Date.now(),
      op: { rate: size, bits: 8 },
      packets: splitPayload(bytes, tx.maxPacketPayloadBytes),
    });
    expect(tx.sendControl({ seq, bytes })).toBe(true);
    // ~400 samples/s (~1.3 MB/s with the control copies): under the pacer's 2 MB/s.
    if (seq % 4 === 3) await new Promise((r) => setTimeout(r, 10));
  }
  await until(() => control.length === n && samples.size === n, 15_000);

  expect(control.map((m) => m.seq)).toEqual([...Array(n).keys()]);
  for (const m of control) {
    expect(Buffer.from(m.bytes)).toEqual(Buffer.from(payloadFor(m.seq, SIZES[m.seq % SIZES.length]!)));
  }
  const complete = [...samples.values()].filter((s) => s.complete);
  expect(complete.length).toBeGreaterThanOrEqual(0.99 * n);
  for (const s of complete) {
    const size = SIZES[s.seq % SIZES.length]!;
    expect(s.channel).toBe(s.seq % 2 === 0 ? 'public' : 'private');
    expect(s.op).toEqual({ rate: size, bits: 8 });
    expect(s.count).toBe(Math.ceil(size / tx.maxPacketPayloadBytes));
    const joined = new Uint8Array(size);
    let at = 0;
    for (const p of s.packets) {
      joined.set(p!, at);
      at += p!.byteLength;
    }
    expect(Buffer.from(joined)).toEqual(Buffer.from(payloadFor(s.seq, size)));
  }
  return { complete: complete.length };
}

describe.each(['werift', 'node-datachannel'] as const)('PeerLink over %s', (backend) => {
  it('delivers 1,000 mixed-size samples: all intact on control, ≥ 99% on public/private', async () => {
    pair = await pairOf(backend, backend, { link: { statsIntervalMs: 250 } });
    const { offerer: tx, answerer: rx } = pair;
    await deliverMixed(tx, rx, 1000);
    const stats = await firstValueFrom(tx.stats$);
    expect(stats.rttMs).toBeGreaterThanOrEqual(0);
    expect(stats.remote).toBeDefined();
    expect(stats.drops.backpressure).toBe(0);
  }, 90_000);

  it('drops and counts a garbage byte string on each channel and keeps delivering', async () => {
    pair = await pairOf(backend, backend, { answerer: { statsIntervalMs: 100 } });
    const { offerer: tx, answerer: rx } = pair;
    const received: ReassembledSample[] = [];
    const control: unknown[] = [];
    rx.samples$.subscribe((s) => received.push(s));
    rx.control$.subscribe((m) => control.push(m));
    const garbage = [
      new Uint8Array([0xde, 0xad, 0xbe, 0xef]),
      new Uint8Array([0x93, 0x02, 0x00, 0xc0]), // valid msgpack [2, 0, nil]: unknown version, wrong shape
      new Uint8Array([0xff]),
    ];
    for (const kind of ['control', 'public', 'private'] as const) {
      const raw = tx.channels.get(kind)!;
      for (const g of garbage) raw.send(g);
      (raw as unknown as { send(s: string): void }).send('not binary');
    }
    tx.sendControl({ after: true });
    tx.sendSample('public', { seq: 1, captureTsMs: Date.now(), op: {}, packets: [new Uint8Array([7])] });
    await until(() => control.length === 1 && received.length === 1, 5000);
    expect(control).toEqual([{ after: true }]);
    expect(received[0]).toMatchObject({ seq: 1, complete: true });
    const stats = await firstValueFrom(rx.stats$);
    expect(stats.drops.malformed).toBe(12);
    expect(rx.state).toBe('connected');
  });

  it('close() completes every observable, and the peer closes too', async () => {
    pair = await pairOf(backend, backend, { link: { statsIntervalMs: 50 } });
    const link = pair.offerer;
    const stats = lastValueFrom(link.stats$.pipe(toArray()));
    const samples = lastValueFrom(link.samples$.pipe(toArray()));
    const control = lastValueFrom(link.control$.pipe(toArray()));
    const states = lastValueFrom(link.state$.pipe(toArray()));
    await new Promise((r) => setTimeout(r, 120));
    link.close();
    link.close(); // idempotent
    const emitted: LinkStats[] = await stats;
    expect(emitted.length).toBeGreaterThan(0);
    await expect(samples).resolves.toEqual([]);
    await expect(control).resolves.toEqual([]);
    await expect(states).resolves.toEqual(['connected', 'closed']);
    await until(() => pair!.answerer.state === 'closed', 5000);
    expect(pair.answerer.state).toBe('closed');
  });
});

describe.each([
  ['werift', 'node-datachannel'],
  ['node-datachannel', 'werift'],
] as const)('interop: %s offerer ↔ %s answerer', (offerer, answerer) => {
  it('connects and delivers both ways: control intact, ≥ 99% of samples', async () => {
    pair = await pairOf(offerer, answerer);
    await deliverMixed(pair.offerer, pair.answerer, 200);
    await deliverMixed(pair.answerer, pair.offerer, 200);
  });
});

describe('DTLS roles', () => {
  it('node-datachannel answers as the DTLS server (setup:passive), so its ClientHello never races the offerer; werift answers active', async () => {
    // As the DTLS client, libdatachannel's answerer (ICE up first) sent its ClientHello before the offerer's DTLS
    // transport existed; OpenSSL resent it after 1 s: ~1 in 3 loopback connects took ~1005 ms instead of ~5 ms.
    // werift answers active whatever the offer says (as answerer it is always the client; RFC 5763 would have it
    // answer passive to an active offer); its ClientHello no longer waits a fixed 100 ms (patch item 13).
    for (const offerer of ['werift', 'node-datachannel'] as const) {
      for (const answerer of ['werift', 'node-datachannel'] as const) {
        const pcs: PeerConnectionLike[] = [];
        pair = await pairOf(offerer, answerer, {}, (side, pc) => {
          pcs[side === 'offerer' ? 0 : 1] = pc;
        });
        const sdp = (d: unknown) => (d as { sdp: string }).sdp;
        const [offererPc, answererPc] = pcs as [PeerConnectionLike, PeerConnectionLike];
        const setup = (s: string) => s.split(/\r?\n/).filter((l) => l.startsWith('a=setup:'));
        const answered = answerer === 'node-datachannel' ? 'a=setup:passive' : 'a=setup:active';
        const what = `${offerer} → ${answerer}`;
        expect(setup(sdp(offererPc.localDescription)), what).toEqual(['a=setup:actpass']);
        expect(setup(sdp(answererPc.localDescription)), what).toEqual([answered]);
        expect(setup(sdp(offererPc.remoteDescription)), what).toEqual([answered]);
        await deliverMixed(pair.offerer, pair.answerer, 8); // and DTLS came up in those roles
        await pair.close();
        pair = undefined;
      }
    }
  });
});

describe('createNodeDatachannelPeerConnection', () => {
  it('rejects conflicting or malformed options with TypeError', () => {
    expect(() =>
      createNodeDatachannelPeerConnection({ mode: 'loopback', iceServers: [{ urls: 'stun:x:3478' }] }),
    ).toThrow(TypeError);
    expect(() => createNodeDatachannelPeerConnection({ mode: 'lan' as never })).toThrow(TypeError);
    expect(() => createNodeDatachannelPeerConnection({ iceServers: [{ urls: 'http://x' }] })).toThrow(
      TypeError,
    );
    expect(() => createNodeDatachannelPeerConnection({ iceServers: [{ urls: 'turn:x:3478' }] })).toThrow(
      'username and credential',
    );
    expect(() => createNodeDatachannelPeerConnection({ portRange: [5000, 4000] })).toThrow(TypeError);
    expect(() => createNodeDatachannelPeerConnection({ mode: 'loopback', bindAddress: '10.0.0.1' })).toThrow(
      'bindAddress',
    );
    expect(() => createNodeDatachannelPeerConnection({ bindAddress: 'localhost' })).toThrow(TypeError);
  });

  it('in loopback mode offers only a 127.0.0.1 host candidate and contacts no server', async () => {
    const signals: PeerSignal[] = [];
    const link = createPeerLink({
      pc: createNodeDatachannelPeerConnection({ mode: 'loopback' }),
      role: 'offerer',
      sendSignal: (s) => signals.push(s),
    });
    try {
      await until(() => signals.some((s) => s.type === 'offer'), 5000);
      const offer = signals.find((s) => s.type === 'offer') as { sdp: string };
      const candidates = offer.sdp.split('\r\n').filter((l) => l.startsWith('a=candidate:'));
      expect(candidates.length).toBeGreaterThan(0);
      for (const c of candidates) {
        expect(c.split(' ')[4]).toBe('127.0.0.1');
        expect(c).toContain('typ host');
      }
    } finally {
      link.close();
    }
  });
});
