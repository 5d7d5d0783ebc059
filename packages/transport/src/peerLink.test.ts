// Real werift peers over loopback, in one process, signals wired directly; no mocks.
import { firstValueFrom, lastValueFrom, toArray } from 'rxjs';
import { afterEach, describe, expect, it } from 'vitest';
import { ConnectionError, InvalidStateError } from './errors.js';
import { splitPayload } from './framer.js';
import type { Logger } from './logger.js';
import { createLoopbackLinkPair, type LoopbackLinkPair } from './loopbackPair.js';
import { createPeerLink } from './peerLink.js';
import type { LinkStats, ReassembledSample, SampleChannel } from './types.js';
import { createWeriftPeerConnection } from './werift.js';

const SIZES = [120, 700, 1500, 4000]; // bytes; 1500 and 4000 take two and four packets

/** Deterministic content, so the receiver can check every byte. */
const payloadFor = (seq: number, size: number) => new Uint8Array(size).map((_, i) => (seq * 31 + i) & 0xff);

const until = async (cond: () => boolean, timeoutMs: number) => {
  const t0 = Date.now();
  while (!cond() && Date.now() - t0 < timeoutMs) await new Promise((r) => setTimeout(r, 20));
};

const recordingLogger = () => {
  const lines: { level: string; message: string; context?: Record<string, unknown> }[] = [];
  const at = (level: string) => (message: string, context?: Record<string, unknown>) => {
    lines.push({ level, message, context });
  };
  const logger: Logger = { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
  return { logger, lines };
};

let pair: LoopbackLinkPair | undefined;
afterEach(async () => {
  await pair?.close();
  pair = undefined;
});

describe('PeerLink over loopback', () => {
  it('reports a queue building at once (an early link-report), and the sender decides on it without waiting for the interval', async () => {
    // Long intervals, so only an early report can arrive within the test's first seconds.
    pair = await createLoopbackLinkPair({ link: { statsIntervalMs: 1000 } });
    const { offerer: tx, answerer: rx } = pair;
    const early: LinkStats[] = [];
    tx.stats$.subscribe((st) => {
      if (st.remote?.queue) early.push(st);
    });
    // Wait for the receiver's first regular report (an early one repeats its figures) and a clock offset.
    await new Promise((r) => setTimeout(r, 1300));
    // 15 samples/s whose ages grow by 80 ms each: what a narrowing path does to them.
    for (let k = 0; k < 12 && early.length === 0; k++) {
      tx.sendSample('public', {
        seq: k,
        captureTsMs: Date.now() - 20 - (k >= 3 ? (k - 2) * 80 : 0),
        op: { rate: 4, bits: 8 },
        packets: splitPayload(payloadFor(k, 1200), tx.maxPacketPayloadBytes),
      });
      await new Promise((r) => setTimeout(r, 66));
    }
    await until(() => early.length > 0, 2000);
    expect(early.length).toBeGreaterThan(0);
    const q = early[0]!.remote!.queue!;
    expect(q.riseMs).toBeGreaterThanOrEqual(100);
    expect(q.rateBytesPerSec).toBeGreaterThan(0);
    expect(early[0]!.earlyReports.received).toBeGreaterThanOrEqual(1);
    // The receiver counted what it sent, and its own figures' interval was not cut short.
    const rxStats = await firstValueFrom(rx.stats$);
    expect(rxStats.earlyReports.sent).toBeGreaterThanOrEqual(1);
  });

  it('reports every 100 ms over the last interval, and the sender compares each with what it sent over its window', async () => {
    pair = await createLoopbackLinkPair({ link: { statsIntervalMs: 500, linkReportIntervalMs: 100 } });
    const { offerer: tx } = pair;
    const figures: LinkStats[] = [];
    tx.stats$.subscribe((st) => {
      if (st.remote && st.rttMs !== undefined) figures.push(st);
    });
    await new Promise((r) => setTimeout(r, 700));
    // A stream that triples its rate halfway: ~9 kB/s, then ~27 kB/s.
    for (let k = 0; k < 60; k++) {
      tx.sendSample('public', {
        seq: k,
        captureTsMs: Date.now(),
        op: { rate: 4, bits: 8 },
        packets: splitPayload(payloadFor(k, k < 30 ? 300 : 900), tx.maxPacketPayloadBytes),
      });
      await new Promise((r) => setTimeout(r, 33));
    }
    const during = figures.filter((f) => f.remote!.receivedBytesPerSec > 2000);
    expect(during.length).toBeGreaterThanOrEqual(3);
    const median = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    // How old the report was when the sender's figure took it: at most a report period, plus the host's delays.
    const ages = during.map((f) => f.timestampMs - (f.remote!.timestampMs - f.clockOffsetMs));
    expect(median(ages)).toBeLessThanOrEqual(150);
    for (const f of during) expect(f.remote!.intervalMs).toBeGreaterThanOrEqual(450);
    // What was sent over each report's window matches what arrived in it (loopback: nothing lost), through the
    // rate change too, where this interval's own sent rate does not.
    const off = during.map((f) => Math.abs(f.remoteSentBytesPerSec! / f.remote!.receivedBytesPerSec - 1));
    expect(median(off)).toBeLessThanOrEqual(0.15);
  });

  it('setLinkReportInterval changes the reports’ period within 1..statsIntervalMs, and refuses the rest', async () => {
    pair = await createLoopbackLinkPair({ link: { statsIntervalMs: 500 } });
    const { offerer: tx, answerer: rx } = pair;
    for (const bad of [0, -1, 501, Number.NaN])
      expect(() => rx.setLinkReportInterval(bad)).toThrow(TypeError);
    await until(() => rx.state === 'connected' && tx.state === 'connected', 5000);
    // What the receiver puts on its control channel (pings, pongs and reports), counted over 2 s.
    const control = rx.channels.get('control')!;
    const send = control.send.bind(control);
    let sent = 0;
    control.send = (d: Uint8Array) => {
      sent++;
      return send(d);
    };
    const countFor2s = async () => {
      sent = 0;
      await new Promise((r) => setTimeout(r, 2000));
      return sent;
    };
    rx.setLinkReportInterval(100);
    const at100 = await countFor2s(); // ~20 reports, 4 pings and 4 pongs
    rx.setLinkReportInterval(500);
    const at500 = await countFor2s(); // ~4 reports (the default)
    expect(at100).toBeGreaterThanOrEqual(20);
    expect(at500).toBeLessThanOrEqual(14);
    rx.close();
    expect(() => rx.setLinkReportInterval(100)).toThrow(InvalidStateError);
  });

  it('sends no early report when the ages stay flat, nor with earlyReport: false', async () => {
    for (const [earlyReport, rising] of [
      [undefined, false],
      [false, true],
    ] as const) {
      pair = await createLoopbackLinkPair({
        link: { statsIntervalMs: 1000, ...(earlyReport === false ? { earlyReport } : {}) },
      });
      const { offerer: tx, answerer: rx } = pair;
      await new Promise((r) => setTimeout(r, 1300));
      for (let k = 0; k < 12; k++) {
        tx.sendSample('public', {
          seq: k,
          captureTsMs: Date.now() - 20 - (rising ? k * 80 : 0),
          op: { rate: 4, bits: 8 },
          packets: splitPayload(payloadFor(k, 1200), tx.maxPacketPayloadBytes),
        });
        await new Promise((r) => setTimeout(r, 66));
      }
      const rxStats = await firstValueFrom(rx.stats$);
      expect(rxStats.samplesComplete).toBeGreaterThanOrEqual(10);
      expect(rxStats.earlyReports.sent).toBe(0);
      await pair.close();
      pair = undefined;
    }
  });

  it('a sample read after a host stall is decoded but not measured; the report carries the stall', async () => {
    pair = await createLoopbackLinkPair({ link: { statsIntervalMs: 1000 } });
    const { offerer: tx, answerer: rx } = pair;
    const reports: LinkStats[] = [];
    tx.stats$.subscribe((st) => {
      if (st.remote?.stallMs) reports.push(st);
    });
    const received: number[] = [];
    rx.samples$.subscribe((x) => received.push(x.seq));
    await new Promise((r) => setTimeout(r, 1300));
    const send = (seq: number) =>
      tx.sendSample('public', {
        seq,
        captureTsMs: Date.now() - 20,
        op: { rate: 4, bits: 8 },
        packets: splitPayload(payloadFor(seq, 1200), tx.maxPacketPayloadBytes),
      });
    for (let k = 0; k < 6; k++) {
      send(k);
      await new Promise((r) => setTimeout(r, 66));
    }
    // Sample 6 leaves, then this process (both ends) stands still for 300 ms before it is read: its age at
    // arrival would read ~320 ms, a queue that is not on the path.
    send(6);
    // The pacer sends in a setImmediate; this continuation runs after it, before the event loop polls again.
    await new Promise((r) => setImmediate(r));
    const t0 = Date.now();
    while (Date.now() - t0 < 300) {
      /* the host stall */
    }
    for (let k = 7; k < 12; k++) {
      await new Promise((r) => setTimeout(r, 66));
      send(k);
    }
    // A loaded host can stall on its own before the 300 ms one (84 ms in a CI run): the report of this
    // stall is the first to carry 250 ms or more, not necessarily the first to carry any.
    const big = () => reports.find((r) => r.remote!.stallMs! >= 250);
    // The stall's report leaves at the receiver's first interval after it, or the one after when its beat came
    // second in the turn that ended the stall; the sender emits it at its own next interval: up to ~3 s after the
    // loop above, more on a loaded host (a CI run once gave up at 3 s).
    await until(() => big() !== undefined && received.length >= 12, 8000);
    expect(received).toContain(6);
    const rxStats = await firstValueFrom(rx.stats$);
    expect(rxStats.hostStalls.count).toBeGreaterThanOrEqual(1);
    expect(rxStats.hostStalls.maxMs).toBeGreaterThanOrEqual(250);
    expect(rxStats.hostStalls.unmeasuredSamples).toBeGreaterThanOrEqual(1);
    expect(
      big()?.remote?.stallMs,
      JSON.stringify(reports.map((r) => r.remote!.stallMs)),
    ).toBeGreaterThanOrEqual(250);
    // The ages the receiver reported stayed those of the path (loopback: tens of ms), and no early report.
    for (const r of reports) expect(r.remote!.age?.p95Ms ?? 0).toBeLessThan(150);
    expect(rxStats.earlyReports.sent).toBe(0);
  });

  it('delivers 1,000 mixed-size samples: all intact on control, ≥ 99% on public/private', async () => {
    pair = await createLoopbackLinkPair({ link: { statsIntervalMs: 250 } });
    const { offerer: tx, answerer: rx } = pair;
    const N = 1000;
    const samples = new Map<string, ReassembledSample>();
    const control: { seq: number; bytes: Uint8Array }[] = [];
    rx.samples$.subscribe((s) => samples.set(`${s.channel}:${s.seq}`, s));
    rx.control$.subscribe((m) => control.push(m as { seq: number; bytes: Uint8Array }));
    for (let seq = 0; seq < N; seq++) {
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
    await until(() => control.length === N && samples.size === N, 15_000);

    expect(control.map((m) => m.seq)).toEqual([...Array(N).keys()]);
    for (const m of control)
      expect(Buffer.from(m.bytes)).toEqual(Buffer.from(payloadFor(m.seq, SIZES[m.seq % SIZES.length]!)));

    const complete = [...samples.values()].filter((s) => s.complete);
    expect(complete.length).toBeGreaterThanOrEqual(0.99 * N);
    for (const s of complete) {
      const size = SIZES[s.seq % SIZES.length]!;
      expect(s.channel).toBe(s.seq % 2 === 0 ? 'public' : 'private');
      expect(s.stream).toBe(s.channel);
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
    // The sender's monitor hears the receiver's view through link reports.
    const stats = await firstValueFrom(tx.stats$);
    expect(stats.rttMs).toBeGreaterThanOrEqual(0);
    expect(stats.remote).toBeDefined();
    expect(stats.drops.backpressure).toBe(0);
  });

  it('drops, counts and logs a garbage byte string on each channel and keeps delivering', async () => {
    const { logger, lines } = recordingLogger();
    pair = await createLoopbackLinkPair({ answerer: { logger, statsIntervalMs: 100 } });
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
    // Not an empty message: werift 0.25.2 sends no chunk for it but still consumes an SSN, stalling an
    // ordered channel for good (a werift bug; the link never sends empty messages).
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
    const logged = lines.filter((l) => l.message === 'malformed message dropped');
    expect(new Set(logged.map((l) => l.context?.channel))).toEqual(new Set(['control', 'public', 'private']));
  });

  it('close() completes stats$, samples$, control$ and state$, and later calls throw InvalidStateError', async () => {
    pair = await createLoopbackLinkPair({ link: { statsIntervalMs: 50 } });
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
    expect(() => link.sendControl({})).toThrow(InvalidStateError);
    expect(() =>
      link.sendSample('public', { seq: 0, captureTsMs: 0, op: {}, packets: [new Uint8Array(1)] }),
    ).toThrow(InvalidStateError);
    expect(() => link.handleSignal({ type: 'candidate', candidate: null })).toThrow(InvalidStateError);
    // The peer notices: its channels close, and so does it.
    await until(() => pair!.answerer.state === 'closed', 5000);
    expect(pair.answerer.state).toBe('closed');
  });

  it('carries several streams on one channel when a sample names its stream', async () => {
    pair = await createLoopbackLinkPair();
    const got: ReassembledSample[] = [];
    const sub = pair.answerer.samples$.subscribe((s) => got.push(s));
    const packets = [payloadFor(1, 300)];
    // Same seq on two streams of the public channel: they must not be merged.
    pair.offerer.sendSample('public', { seq: 7, captureTsMs: Date.now(), op: { k: 1 }, packets });
    pair.offerer.sendSample('public', {
      seq: 7,
      captureTsMs: Date.now(),
      op: { k: 2 },
      packets,
      stream: 'shared:abc',
    });
    await until(() => got.length >= 2, 5000);
    sub.unsubscribe();
    expect(got.map((s) => [s.stream, s.seq, s.op]).sort()).toEqual([
      ['public', 7, { k: 1 }],
      ['shared:abc', 7, { k: 2 }],
    ]);
    expect(() =>
      pair!.offerer.sendSample('public', { seq: 8, captureTsMs: 0, op: {}, packets, stream: '' }),
    ).toThrow(TypeError);
  });

  it('faults.lossPct drops incoming public/private messages, seeded; control is untouched', async () => {
    pair = await createLoopbackLinkPair({ answerer: { faults: { lossPct: 30, seed: 7 } } });
    const got: ReassembledSample[] = [];
    const ctl: unknown[] = [];
    const subs = [
      pair.answerer.samples$.subscribe((s) => got.push(s)),
      pair.answerer.control$.subscribe((m) => ctl.push(m)),
    ];
    for (let seq = 0; seq < 200; seq++) {
      pair.offerer.sendSample('public', {
        seq,
        captureTsMs: Date.now(),
        op: {},
        packets: [payloadFor(seq, 100)],
      });
      pair.offerer.sendControl({ seq });
      await new Promise((r) => setTimeout(r, 2));
    }
    await until(() => ctl.length >= 200, 10_000);
    await new Promise((r) => setTimeout(r, 400));
    for (const s of subs) s.unsubscribe();
    expect(ctl).toHaveLength(200);
    // 30% ± 4σ of 200 Bernoulli draws (σ ≈ 3.2%).
    expect(got.length).toBeGreaterThan(200 * 0.57);
    expect(got.length).toBeLessThan(200 * 0.83);
    // Every missing sample is explained by the injector (one packet per sample here).
    const stats = await firstValueFrom(pair.answerer.stats$);
    expect(stats.faultDrops.samples).toBe(200 - got.length);
    expect(stats.faultDrops.packets).toBe(200 - got.length);
    expect(() =>
      createPeerLink({
        pc: createWeriftPeerConnection({ mode: 'loopback' }),
        role: 'offerer',
        sendSignal() {},
        faults: { lossPct: 150 },
      }),
    ).toThrow(TypeError);
  });

  it('drops and counts an oversized message on each channel without decoding it', async () => {
    pair = await createLoopbackLinkPair({ link: { statsIntervalMs: 100 } });
    const got: ReassembledSample[] = [];
    const sub = pair.answerer.samples$.subscribe((s) => got.push(s));
    // A valid frame, but larger than the link's MTU (werift sends it; it is not ours to accept).
    const { encodeFrame } = await import('./framer.js');
    const big = encodeFrame({
      stream: 'public',
      pseq: 0,
      seq: 1,
      index: 0,
      count: 1,
      captureTsMs: Date.now(),
      op: {},
      payload: new Uint8Array(3000),
    });
    pair.offerer.channels.get('public')!.send(big);
    pair.offerer.channels.get('control')!.send(new Uint8Array(62 * 1024)); // over the 60 KiB control cap
    pair.offerer.sendSample('public', {
      seq: 2,
      captureTsMs: Date.now(),
      op: {},
      packets: [payloadFor(2, 100)],
    });
    await until(() => got.length >= 1, 5000);
    await new Promise((r) => setTimeout(r, 250));
    sub.unsubscribe();
    expect(got.map((s) => s.seq)).toEqual([2]);
    const stats = await firstValueFrom(pair.answerer.stats$);
    expect(stats.drops.malformed).toBeGreaterThanOrEqual(2);
  });

  it('rejects a packet that cannot fit the MTU and a bad signal with TypeError', async () => {
    pair = await createLoopbackLinkPair();
    const link = pair.offerer;
    const big = new Uint8Array(link.mtuBytes);
    expect(() => link.sendSample('public', { seq: 0, captureTsMs: 0, op: {}, packets: [big] })).toThrow(
      TypeError,
    );
    expect(() => link.sendSample('public', { seq: -1, captureTsMs: 0, op: {}, packets: [] })).toThrow(
      TypeError,
    );
    expect(() => link.handleSignal({ type: 'bogus' } as never)).toThrow(TypeError);
    expect(() => link.sendControl(new Uint8Array(70 * 1024))).toThrow(TypeError);
  });

  it('connected rejects with ConnectionError(timeout) when the peer never answers', async () => {
    const link = createPeerLink({
      pc: createWeriftPeerConnection({ mode: 'loopback' }),
      role: 'offerer',
      sendSignal: () => {},
      connectTimeoutMs: 300,
    });
    const error = await link.connected.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConnectionError);
    expect((error as ConnectionError).reason).toBe('timeout');
    expect(link.state).toBe('failed');
  });

  it('a peer connection that closes itself while the link connects fails the link, naming the set-up', async () => {
    // libdatachannel closes its peer connection when the DTLS handshake fails during set-up; here a real werift
    // peer connection is closed under the connecting link the same way.
    const pc = createWeriftPeerConnection({ mode: 'loopback' });
    const link = createPeerLink({ pc, role: 'offerer', sendSignal: () => {}, connectTimeoutMs: 10_000 });
    const states = lastValueFrom(link.state$.pipe(toArray()));
    await new Promise((r) => setTimeout(r, 50));
    await pc.close();
    const error = await link.connected.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConnectionError);
    expect((error as ConnectionError).reason).toBe('failed');
    expect((error as Error).message).toMatch(/closed itself while connecting/);
    await expect(states).resolves.toEqual(['connecting', 'failed']);
  });
});
