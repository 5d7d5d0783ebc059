import {
  DEFAULT_HOLE_GRACE_MS,
  DEFAULT_MAX_AGE_MS,
  DEFAULT_NEWER_SAMPLES_FLUSH,
  DEFAULT_REASSEMBLY_TIMEOUT_MS,
  LATE_MEMORY_SAMPLES,
  MAX_PENDING_SAMPLES,
  MAX_STREAMS_PER_CHANNEL,
} from './defaults.js';
import type { Frame, OperatingPoint, ReassembledSample, SampleChannel } from './types.js';

/** Options of {@link Reassembler}. */
export interface ReassemblerOptions {
  /** The channel the frames came from; copied into every sample. Required. */
  channel: SampleChannel;
  /** Wait for missing packets this long after a sample's first packet, milliseconds. Default 150. */
  reassemblyTimeoutMs?: number;
  /** Drop samples older than this (local now + clock offset − capture time), milliseconds. Default 1000. */
  maxAgeMs?: number;
  /** Emit a pending sample with holes once a sample this many numbers newer arrives. Default 4. */
  newerSamplesFlush?: number;
  /**
   * Emit a pending sample with holes once a newer sample of its stream has begun to arrive and none of its own
   * packets came for this long, milliseconds: its missing packets were sent before the newer sample's and are lost
   * (nothing is retransmitted on these channels) unless the path reorders by more than this. The starting value:
   * a packet that still arrives after its sample went out so widens it (to 1.5× how late it was, at most
   * `reassemblyTimeoutMs`), and each sample emitted so narrows it by 2% back towards this. Default 30.
   */
  holeGraceMs?: number;
  /** Most samples pending per stream; the oldest is emitted with holes beyond it. Default 64. */
  maxPendingSamples?: number;
}

/** Counters of a reassembler since it was made; packet counts unless named otherwise. */
export interface ReassemblerCounters {
  /** Packets dropped for being older than `maxAgeMs`. */
  stale: number;
  /** Packets of samples already emitted. */
  late: number;
  /** Packets received twice. */
  duplicate: number;
  /** Packets whose header contradicts earlier packets of the same sample (count, capture time). */
  malformed: number;
  /** Samples emitted complete / with holes. */
  complete: number;
  incomplete: number;
}

/** How many samples {@link Reassembler.staleSamples} remembers. */
const STALE_MEMORY = 4096;

interface Pending {
  stream: string;
  seq: number;
  captureTsMs: number;
  op: OperatingPoint;
  count: number;
  packets: (Uint8Array | undefined)[];
  received: number;
  firstArrivalMs: number;
  /** When its latest packet arrived. */
  lastArrivalMs: number;
  /** Whether a packet of a newer sample of the stream has arrived since. */
  newerSeen: boolean;
}

interface StreamState {
  pending: Map<number, Pending>;
  emitted: Set<number>;
  /** Samples emitted by the hole rule, by number: when their latest packet had arrived. */
  holeEmitted: Map<number, number>;
  emittedOrder: number[];
  maxSeen: number;
}

const positive = (name: string, v: number | undefined, fallback: number): number => {
  if (v === undefined) return fallback;
  if (!(typeof v === 'number' && Number.isFinite(v) && v > 0)) {
    throw new TypeError(`${name} must be a positive number, got ${v}`);
  }
  return v;
};

const bySeq = (a: ReassembledSample, b: ReassembledSample) =>
  a.stream === b.stream ? a.seq - b.seq : a.stream < b.stream ? -1 : 1;

/**
 * Puts packets back together into samples: the pure core of the receive path. Time comes only from the
 * `nowMs` arguments, so tests drive it deterministically.
 *
 * A sample is emitted as soon as it is complete; with holes (`undefined` packets) when its deadline passes,
 * when a much newer sample arrives, when a newer sample has begun and its own packets stopped `holeGraceMs` ago
 * (the sender sends a sample's packets before the next sample's, and nothing is retransmitted, so those are
 * lost: at 5 % loss this took the 18 % of 4-packet samples with a hole from ~180–200 ms to about a frame
 * interval), or when too many are pending. A lost packet therefore never stalls later samples. Sequence numbers are compared without wrap-around (uint32: years at 30 samples/s).
 */
export class Reassembler {
  /** Estimated remote clock minus local clock, milliseconds; the link updates it from ping/pong. */
  clockOffsetMs = 0;
  readonly #channel: SampleChannel;
  readonly #timeoutMs: number;
  readonly #maxAgeMs: number;
  readonly #newerFlush: number;
  readonly #baseHoleGraceMs: number;
  #holeGraceMs: number;
  readonly #maxPending: number;
  readonly #streams = new Map<string, StreamState>();
  /** Samples that lost packets (or all of themselves) to `maxAgeMs`, by `stream|seq`, oldest first. */
  readonly #stale = new Map<string, { stream: string; seq: number }>();
  readonly #counters: ReassemblerCounters = {
    stale: 0,
    late: 0,
    duplicate: 0,
    malformed: 0,
    complete: 0,
    incomplete: 0,
  };

  constructor(options: ReassemblerOptions) {
    if (options.channel !== 'public' && options.channel !== 'private') {
      throw new TypeError(`channel must be 'public' or 'private', got ${String(options.channel)}`);
    }
    this.#channel = options.channel;
    this.#timeoutMs = positive(
      'reassemblyTimeoutMs',
      options.reassemblyTimeoutMs,
      DEFAULT_REASSEMBLY_TIMEOUT_MS,
    );
    this.#maxAgeMs = positive('maxAgeMs', options.maxAgeMs, DEFAULT_MAX_AGE_MS);
    this.#newerFlush = Math.floor(
      positive('newerSamplesFlush', options.newerSamplesFlush, DEFAULT_NEWER_SAMPLES_FLUSH),
    );
    this.#baseHoleGraceMs = positive('holeGraceMs', options.holeGraceMs, DEFAULT_HOLE_GRACE_MS);
    this.#holeGraceMs = this.#baseHoleGraceMs;
    this.#maxPending = Math.floor(
      positive('maxPendingSamples', options.maxPendingSamples, MAX_PENDING_SAMPLES),
    );
  }

  /** A copy of the counters. */
  get counters(): ReassemblerCounters {
    return { ...this.#counters };
  }

  /**
   * Samples of which this reassembler dropped a packet, or the whole sample, for being older than `maxAgeMs`,
   * oldest first (at most 4096): for exact loss accounting (the soak test). A sample listed here may still have
   * been emitted, from its packets that were in time.
   */
  staleSamples(): { stream: string; seq: number }[] {
    return [...this.#stale.values()].map((x) => ({ ...x }));
  }

  /** The hole rule's current grace, milliseconds (see `holeGraceMs`). */
  get holeGraceMs(): number {
    return this.#holeGraceMs;
  }

  /** Samples waiting for packets, over all streams. */
  get pendingCount(): number {
    let n = 0;
    for (const s of this.#streams.values()) n += s.pending.size;
    return n;
  }

  /** Takes one decoded frame that arrived at `nowMs`; returns the samples it completes or pushes out. */
  process(frame: Frame, nowMs: number): ReassembledSample[] {
    if (this.#ageMs(frame.captureTsMs, nowMs) > this.#maxAgeMs) {
      this.#counters.stale++;
      this.#noteStale(frame.stream, frame.seq);
      return [];
    }
    const out: ReassembledSample[] = [];
    const state = this.#stream(frame.stream, nowMs, out);
    let p = state.pending.get(frame.seq);
    if (p === undefined) {
      if (state.emitted.has(frame.seq) || frame.seq + LATE_MEMORY_SAMPLES < state.maxSeen) {
        this.#counters.late++;
        const last = state.holeEmitted.get(frame.seq);
        if (last !== undefined) {
          // The hole rule called this packet lost and the path reordered it instead: wait longer from now on.
          this.#holeGraceMs = Math.min(this.#timeoutMs, Math.max(this.#holeGraceMs, 1.5 * (nowMs - last)));
        }
        return out;
      }
      if (state.pending.size >= this.#maxPending) {
        const oldest = Math.min(...state.pending.keys());
        this.#emit(state, state.pending.get(oldest)!, nowMs, out);
      }
      p = {
        stream: frame.stream,
        seq: frame.seq,
        captureTsMs: frame.captureTsMs,
        op: frame.op,
        count: frame.count,
        packets: new Array<Uint8Array | undefined>(frame.count).fill(undefined),
        received: 0,
        firstArrivalMs: nowMs,
        lastArrivalMs: nowMs,
        newerSeen: false,
      };
      state.pending.set(frame.seq, p);
    } else if (p.count !== frame.count || p.captureTsMs !== frame.captureTsMs) {
      this.#counters.malformed++;
      return out;
    }
    if (p.packets[frame.index] !== undefined) {
      this.#counters.duplicate++;
      return out;
    }
    p.packets[frame.index] = frame.payload;
    p.received++;
    p.lastArrivalMs = nowMs;
    if (p.received === p.count) this.#emit(state, p, nowMs, out);
    if (frame.seq > state.maxSeen) state.maxSeen = frame.seq;
    for (const [seq, older] of state.pending) {
      if (seq >= frame.seq) continue;
      older.newerSeen = true;
      if (seq + this.#newerFlush <= frame.seq) this.#emit(state, older, nowMs, out);
      else if (this.#holeIsLoss(older, nowMs)) this.#emitHole(state, older, nowMs, out);
    }
    return out.length > 1 ? out.sort(bySeq) : out;
  }

  /**
   * Runs deadlines: emits, with holes, every sample whose first packet is `reassemblyTimeoutMs` old, or that a
   * newer sample has overtaken and that got no packet for `holeGraceMs`.
   */
  tick(nowMs: number): ReassembledSample[] {
    const out: ReassembledSample[] = [];
    for (const state of this.#streams.values()) {
      for (const p of state.pending.values()) {
        if (nowMs - p.firstArrivalMs >= this.#timeoutMs) this.#emit(state, p, nowMs, out);
        else if (this.#holeIsLoss(p, nowMs)) this.#emitHole(state, p, nowMs, out);
      }
    }
    return out.length > 1 ? out.sort(bySeq) : out;
  }

  /** A newer sample has begun and this one got nothing for `holeGraceMs`: what it lacks is lost, not late. */
  #holeIsLoss(p: Pending, nowMs: number): boolean {
    return p.newerSeen && nowMs - p.lastArrivalMs >= this.#holeGraceMs;
  }

  #emitHole(state: StreamState, p: Pending, nowMs: number, out: ReassembledSample[]): void {
    state.holeEmitted.set(p.seq, p.lastArrivalMs);
    this.#holeGraceMs = Math.max(this.#baseHoleGraceMs, 0.98 * this.#holeGraceMs);
    this.#emit(state, p, nowMs, out);
  }

  #noteStale(stream: string, seq: number): void {
    const key = `${stream}|${seq}`;
    if (this.#stale.has(key)) return;
    this.#stale.set(key, { stream, seq });
    if (this.#stale.size > STALE_MEMORY) this.#stale.delete(this.#stale.keys().next().value!);
  }

  #ageMs(captureTsMs: number, nowMs: number): number {
    return nowMs + this.clockOffsetMs - captureTsMs;
  }

  /**
   * The state of `stream`, made when new. Beyond MAX_STREAMS_PER_CHANNEL the least recently used stream is
   * forgotten; its pending samples go out first, with their holes, into `out` (never dropped uncounted).
   */
  #stream(stream: string, nowMs: number, out: ReassembledSample[]): StreamState {
    let state = this.#streams.get(stream);
    if (state !== undefined) {
      // Re-insert so the Map's order is least recently used first.
      this.#streams.delete(stream);
      this.#streams.set(stream, state);
      return state;
    }
    if (this.#streams.size >= MAX_STREAMS_PER_CHANNEL) {
      const [lru, evicted] = this.#streams.entries().next().value as [string, StreamState];
      for (const p of [...evicted.pending.values()]) this.#emit(evicted, p, nowMs, out);
      this.#streams.delete(lru);
    }
    state = { pending: new Map(), emitted: new Set(), holeEmitted: new Map(), emittedOrder: [], maxSeen: 0 };
    this.#streams.set(stream, state);
    return state;
  }

  #emit(state: StreamState, p: Pending, nowMs: number, out: ReassembledSample[]): void {
    state.pending.delete(p.seq);
    state.emitted.add(p.seq);
    state.emittedOrder.push(p.seq);
    if (state.emittedOrder.length > LATE_MEMORY_SAMPLES) {
      const forgotten = state.emittedOrder.shift()!;
      state.emitted.delete(forgotten);
      state.holeEmitted.delete(forgotten);
    }
    const ageMs = this.#ageMs(p.captureTsMs, nowMs);
    if (ageMs > this.#maxAgeMs) {
      this.#counters.stale += p.received;
      this.#noteStale(p.stream, p.seq);
      return;
    }
    const complete = p.received === p.count;
    if (complete) this.#counters.complete++;
    else this.#counters.incomplete++;
    out.push({
      channel: this.#channel,
      stream: p.stream,
      seq: p.seq,
      captureTsMs: p.captureTsMs,
      op: p.op,
      packets: p.packets,
      received: p.received,
      count: p.count,
      complete,
      firstArrivalMs: p.firstArrivalMs,
      ageMs,
    });
  }
}
