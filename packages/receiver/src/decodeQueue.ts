import type { DecodeReportMessage } from '@m4sc/semantic-codec';
import { percentile, type ReassembledSample } from '@m4sc/transport';
import { type Observable, Subject } from 'rxjs';
import type { LimitedWarn } from './limitedWarn.js';
import type { DropCounters, ReceiverResult } from './receiverTypes.js';
import { type DecodeOutcome, isPublicStream, layerOf } from './sampleDecoder.js';

/**
 * How long the first layer of a sample waits for the others, at least, milliseconds. Sent directly, all
 * layers of a sample go back to back on one link and arrive within a few ms; a lost layer costs at most
 * this much delay (it decodes masked, like a rate prefix).
 */
const LAYER_HOLD_MS = 60;
/**
 * The most the hold grows to. Through a relay each layer takes its own connection (one Janus room per
 * layer), and under load their skew can pass {@link LAYER_HOLD_MS}: the hold follows the skew measured
 * over the last {@link SKEW_WINDOW} samples (1.5 × its maximum + 10 ms), up to this.
 */
const LAYER_HOLD_MAX_MS = 250;
const SKEW_WINDOW = 32;
/** Samples whose layers were handed to the decoder are remembered this long, so a late layer is known. */
const FLUSHED_KEEP_MS = 2_000;
const FLUSHED_MAX = 64;

/**
 * How long a private or shared sample waits for the `serve` that names its tag, ms: `serve` goes on the
 * reliable control channel right before the first such sample, so it is at most a round trip behind.
 * Samples whose tag never comes (an old instruction's) are then dropped as not-for-me.
 */
const SERVE_WAIT_MS = 500;
const AWAITING_SERVE_MAX = 16;

/** Samples waiting to be decoded; beyond this the oldest is dropped (a stale result is worth nothing). */
const DECODE_QUEUE_MAX = 4;

/** A sample to decode: one reassembled sample, or the layers of a layered public sample. */
type Queued = { sample: ReassembledSample; receivedAt: number; layers?: ReassembledSample[] };

/** What {@link createDecodeQueue} needs. */
export interface DecodeQueueOptions {
  /** Decodes one sample (with its layers). */
  decode(sample: ReassembledSample, receivedAt: number, layers?: ReassembledSample[]): Promise<DecodeOutcome>;
  /** True when a `serve` of our current instruction named tag `ik` (the latest, or one of those just before it). */
  isServed(ik: unknown): boolean;
  /** True once the receiver is closing: nothing more is decoded or emitted. */
  receiverClosed(): boolean;
  /** The receiver's drop counters, shared with the control handler. */
  dropped: DropCounters;
  warn: LimitedWarn;
}

/**
 * Samples on their way to the decoder: a layered public sample is held until all its layers are in (or
 * a hold that follows the measured skew between layers, {@link LAYER_HOLD_MS}..{@link LAYER_HOLD_MAX_MS}),
 * a private one until the `serve` naming its tag ({@link SERVE_WAIT_MS}); then one decode at a time, dropping
 * the oldest beyond {@link DECODE_QUEUE_MAX}. A layer that comes after its sample went to the decoder is
 * dropped (`late-layer`), never decoded on its own. Every drop is counted.
 */
export interface DecodeQueue {
  /** Decoded samples. Completes on close. */
  readonly results$: Observable<ReceiverResult>;
  /** Takes one reassembled sample (already deduplicated across the link and the relay). */
  push(sample: ReassembledSample): void;
  /** A `serve` named tag `ik`: the samples held for it go to the decoder. */
  served(ik: string): void;
  /** Forgets layered samples still waiting for layers (their link is gone). */
  clearLayers(): void;
  /** How long the first layer of a sample waits for the others now, ms. */
  readonly layerHoldMs: number;
  /** The decode figures since the last call, as the `decode-report` sent to the sender. */
  takeReport(): DecodeReportMessage;
  /** Clears the timers and completes `results$`. Idempotent. */
  close(): void;
}

/** The decode queue of one receiver. */
export function createDecodeQueue(o: DecodeQueueOptions): DecodeQueue {
  const { dropped, warn } = o;
  const results$ = new Subject<ReceiverResult>();
  const queue: Queued[] = [];
  /** Layers of public samples still expected, by sample number. */
  const layering = new Map<
    number,
    {
      layers: ReassembledSample[];
      expected: number;
      receivedAt: number;
      timer: ReturnType<typeof setTimeout>;
    }
  >();
  /** Arrival spread (first to last layer, ms) of recent layered samples, newest last. */
  const skews: number[] = [];
  /** Layered samples already handed to the decoder: sample number → when its first layer came. */
  const flushed = new Map<number, number>();
  const noteSkew = (ms: number) => {
    skews.push(ms);
    if (skews.length > SKEW_WINDOW) skews.shift();
  };
  const layerHoldMs = () =>
    Math.min(LAYER_HOLD_MAX_MS, Math.max(LAYER_HOLD_MS, Math.ceil(1.5 * Math.max(0, ...skews)) + 10));
  /** Private/shared samples that came before the `serve` naming their tag (see SERVE_WAIT_MS). */
  let awaitingServe: Queued[] = [];
  let decoding = false;
  let decodeTimes: number[] = [];
  let latencies: number[] = [];
  let decodedCount = 0;
  let errorCount = 0;

  const expireAwaiting = () => {
    const now = Date.now();
    const keep = awaitingServe.filter((q) => now - q.receivedAt <= SERVE_WAIT_MS).slice(-AWAITING_SERVE_MAX);
    // Counted, not warned: after our instruction changes, the old one's last samples end here routinely.
    dropped['not-for-me'] += awaitingServe.length - keep.length;
    awaitingServe = keep;
  };

  const enqueue = (q: Queued) => {
    queue.push(q);
    while (queue.length > DECODE_QUEUE_MAX) {
      queue.shift();
      dropped['decoder-busy']++;
    }
    void pump();
  };

  const flushLayers = (seq: number) => {
    const p = layering.get(seq);
    if (!p) return;
    layering.delete(seq);
    clearTimeout(p.timer);
    const now = Date.now();
    if (p.layers.length >= p.expected) noteSkew(now - p.receivedAt);
    flushed.set(seq, p.receivedAt);
    for (const [k, t] of flushed) {
      if (flushed.size <= FLUSHED_MAX && now - t <= FLUSHED_KEEP_MS) break;
      flushed.delete(k);
    }
    const layers = [...p.layers].sort((a, b) => layerOf(a)!.k - layerOf(b)!.k);
    enqueue({ sample: layers[0]!, receivedAt: p.receivedAt, layers });
  };

  const pump = async () => {
    if (decoding) return;
    decoding = true;
    try {
      while (queue.length > 0 && !o.receiverClosed()) {
        const { sample, receivedAt, layers } = queue.shift()!;
        try {
          const r = await o.decode(sample, receivedAt, layers);
          if (r === 'undecodable' || r === 'not-for-me') dropped[r]++;
          else if (!o.receiverClosed()) {
            decodedCount++;
            decodeTimes.push(r.decodeMs);
            latencies.push(r.latencyMs);
            results$.next(r);
          }
        } catch (err) {
          errorCount++;
          dropped.undecodable++;
          warn('undecodable', 'sample not decodable', {
            seq: sample.seq,
            stream: sample.stream,
            error: (err as Error).message,
            total: dropped.undecodable,
          });
        }
      }
    } finally {
      decoding = false;
    }
  };

  const clearLayers = () => {
    for (const p of layering.values()) clearTimeout(p.timer);
    layering.clear();
    flushed.clear();
  };

  return {
    results$: results$.asObservable(),
    push(sample) {
      const layer = layerOf(sample);
      if (!layer && !isPublicStream(sample.stream) && !o.isServed((sample.op as { ik?: unknown }).ik)) {
        // A result can arrive before the `serve` that says how to decode it (control is another
        // channel): hold it briefly rather than drop it.
        awaitingServe.push({ sample, receivedAt: Date.now() });
        expireAwaiting();
        return;
      }
      if (!layer) return enqueue({ sample, receivedAt: Date.now() });
      // A layered public sample: decode once every layer sent to us is in, or after a short hold.
      let p = layering.get(sample.seq);
      const firstAt = flushed.get(sample.seq);
      if (!p && firstAt !== undefined) {
        // Its sample was decoded without it: the hold learns the skew, the layer is dropped (decoded alone
        // it would be a second, worse result for the same sample).
        noteSkew(Date.now() - firstAt);
        dropped['late-layer']++;
        warn('late-layer', 'public layer came after its sample was decoded', {
          seq: sample.seq,
          layer: layer.k,
          lateMs: Date.now() - firstAt,
          holdMs: layerHoldMs(),
          total: dropped['late-layer'],
        });
        return;
      }
      if (!p) {
        const seq = sample.seq;
        p = {
          layers: [],
          expected: layer.n,
          receivedAt: Date.now(),
          timer: setTimeout(() => flushLayers(seq), layerHoldMs()),
        };
        layering.set(seq, p);
      }
      p.layers.push(sample);
      if (p.layers.length >= p.expected) flushLayers(sample.seq);
    },
    served(ik) {
      expireAwaiting();
      const ready = awaitingServe.filter((q) => (q.sample.op as { ik?: unknown }).ik === ik);
      awaitingServe = awaitingServe.filter((q) => !ready.includes(q));
      for (const q of ready) enqueue(q);
    },
    clearLayers,
    get layerHoldMs() {
      return layerHoldMs();
    },
    takeReport() {
      expireAwaiting(); // counted even when no later sample comes to wait
      const d = [...decodeTimes].sort((a, b) => a - b);
      const a = [...latencies].sort((x, y) => x - y);
      decodeTimes = [];
      latencies = [];
      return {
        t: 'decode-report',
        samples: decodedCount,
        decodeMsP50: d.length ? percentile(d, 50) : 0,
        decodeMsP95: d.length ? percentile(d, 95) : 0,
        latencyMsP50: a.length ? percentile(a, 50) : 0,
        latencyMsP95: a.length ? percentile(a, 95) : 0,
        errors: errorCount,
      };
    },
    close() {
      clearLayers();
      results$.complete();
    },
  };
}
