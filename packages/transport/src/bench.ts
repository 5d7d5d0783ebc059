// Benchmarks for a bench runner: in-process werift peers over loopback. Functions return numbers; nothing prints.
import { percentile } from './linkMonitor.js';
import { createLoopbackLinkPair, type LoopbackLinkPairOptions } from './loopbackPair.js';
import { createPacer } from './pacer.js';
import type { ChannelKind } from './types.js';

/** Options of {@link measureLatency}. */
export interface LatencyBenchOptions {
  /** How long to send, milliseconds. Default 3000. */
  durationMs?: number;
  /** Messages per second per channel. Default 30. */
  rateHz?: number;
  /** Message size, bytes. Default 1024. */
  messageBytes?: number;
  /** Peer connections of the pair (see `createLoopbackLinkPair`). Default werift on both sides. */
  createPeerConnection?: LoopbackLinkPairOptions['createPeerConnection'];
}

/** One-way latency of one channel kind, milliseconds. */
export interface LatencyResult {
  sent: number;
  received: number;
  p50Ms: number;
  p95Ms: number;
  maxMs: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * One-way latency of `messageBytes` messages at `rateHz` on each of control, public and private, all three at
 * once on one link (send to receive callback, `performance.now()` in one process).
 */
export async function measureLatency(
  options: LatencyBenchOptions = {},
): Promise<Record<ChannelKind, LatencyResult>> {
  const durationMs = options.durationMs ?? 3000;
  const rateHz = options.rateHz ?? 30;
  const size = options.messageBytes ?? 1024;
  const pair = await createLoopbackLinkPair({ createPeerConnection: options.createPeerConnection });
  try {
    const { offerer: tx, answerer: rx } = pair;
    const lat: Record<ChannelKind, number[]> = { control: [], public: [], private: [] };
    rx.control$.subscribe((m) => lat.control.push(performance.now() - (m as { t: number }).t));
    rx.samples$.subscribe((s) => {
      const p = s.packets[0];
      if (s.complete && p !== undefined) {
        lat[s.channel].push(performance.now() - new DataView(p.buffer, p.byteOffset, 8).getFloat64(0));
      }
    });
    const n = Math.max(1, Math.round((durationMs / 1000) * rateHz));
    const pad = new Uint8Array(Math.max(0, size - 16));
    for (let i = 0; i < n; i++) {
      const payload = new Uint8Array(Math.max(8, size));
      const t = performance.now();
      new DataView(payload.buffer).setFloat64(0, t);
      tx.sendControl({ t, pad });
      tx.sendSample('public', { seq: i, captureTsMs: Date.now(), op: {}, packets: [payload] });
      tx.sendSample('private', { seq: i, captureTsMs: Date.now(), op: {}, packets: [payload] });
      await sleep(1000 / rateHz);
    }
    await sleep(300);
    const out = {} as Record<ChannelKind, LatencyResult>;
    for (const k of ['control', 'public', 'private'] as const) {
      const sorted = [...lat[k]].sort((a, b) => a - b);
      out[k] = {
        sent: n,
        received: sorted.length,
        p50Ms: percentile(sorted, 50),
        p95Ms: percentile(sorted, 95),
        maxMs: sorted.at(-1) ?? Number.NaN,
      };
    }
    return out;
  } finally {
    await pair.close();
  }
}

/** Options of {@link measureGoodput}. */
export interface GoodputBenchOptions {
  /** How long to send on each channel kind, milliseconds. Default 3000. */
  durationMs?: number;
  /** Pacer rate for the run, bytes/s. Default 2,000,000 (the library default). */
  pacerRateBytesPerSec?: number;
  /** Peer connections of the pair (see `createLoopbackLinkPair`). Default werift on both sides. */
  createPeerConnection?: LoopbackLinkPairOptions['createPeerConnection'];
}

/** Received payload goodput of one run. */
export interface GoodputResult {
  /** Application bytes received per second. */
  bytesPerSec: number;
  /** Messages received. */
  messages: number;
  /** Samples the sender dropped for backpressure (unreliable only). */
  senderDropped: number;
}

/**
 * Maximum goodput of the reliable `control` channel versus the unreliable `public` channel, each alone on a
 * fresh link for `durationMs`, offered ~20% above the pacer rate. Payload bytes only (headers excluded).
 */
export async function measureGoodput(
  options: GoodputBenchOptions = {},
): Promise<{ reliable: GoodputResult; unreliable: GoodputResult }> {
  const durationMs = options.durationMs ?? 3000;
  const rate = options.pacerRateBytesPerSec ?? 2_000_000;
  const run = async (reliable: boolean): Promise<GoodputResult> => {
    const pair = await createLoopbackLinkPair({
      link: { pacer: createPacer({ rateBytesPerSec: rate }) },
      createPeerConnection: options.createPeerConnection,
    });
    try {
      const { offerer: tx, answerer: rx } = pair;
      const size = reliable ? 16 * 1024 : tx.maxPacketPayloadBytes;
      let bytes = 0;
      let messages = 0;
      let counting = true;
      rx.control$.subscribe((m) => {
        if (!counting) return;
        bytes += (m as Uint8Array).byteLength;
        messages++;
      });
      rx.samples$.subscribe((s) => {
        if (!counting || !s.complete) return;
        bytes += s.packets[0]!.byteLength;
        messages++;
      });
      const payload = new Uint8Array(size);
      const tickMs = 5;
      const perTick = Math.max(1, Math.ceil((rate * 1.2 * tickMs) / 1000 / size));
      const t0 = performance.now();
      let seq = 0;
      while (performance.now() - t0 < durationMs) {
        for (let i = 0; i < perTick; i++) {
          if (reliable) {
            if (!tx.sendControl(payload)) break;
          } else {
            tx.sendSample('public', { seq: seq++, captureTsMs: Date.now(), op: {}, packets: [payload] });
          }
        }
        await sleep(tickMs);
      }
      counting = false;
      const seconds = (performance.now() - t0) / 1000;
      let senderDropped = 0;
      if (!reliable) {
        const stats = await new Promise<{ backpressure: number }>((resolve) => {
          const sub = tx.stats$.subscribe((s) => {
            sub.unsubscribe();
            resolve(s.sendDroppedSamples);
          });
        });
        senderDropped = stats.backpressure;
      }
      return { bytesPerSec: bytes / seconds, messages, senderDropped };
    } finally {
      await pair.close();
    }
  };
  const reliable = await run(true);
  const unreliable = await run(false);
  return { reliable, unreliable };
}
