import type { DecodeReportMessage } from '@m4sc/semantic-codec';
import { percentile, type ReassembledSample } from '@m4sc/transport';
import { type Observable, Subject } from 'rxjs';
import type { LimitedWarn } from './limitedWarn.js';
import type { DropCounters, ReceiverResult } from './receiverTypes.js';
import { type DecodeOutcome, isPublicStream, layerOf } from './sampleDecoder.js';

/**
 * How long the first layer of a sample waits for the others, milliseconds. The sender sends all layers
 * of a sample back to back, so they arrive within a few ms; a lost layer costs at most this much delay
 * (it decodes masked, like a rate prefix).
 */
const LAYER_HOLD_MS = 60;

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
  /** The tag of the stream that serves our instruction now (`serve.ik`), if any. */
  servedTag(): string | undefined;
  /** True once the receiver is closing: nothing more is decoded or emitted. */
  receiverClosed(): boolean;
  /** The receiver's drop counters, shared with the control handler. */
  dropped: DropCounters;
  warn: LimitedWarn;
}

/**
 * Samples on their way to the decoder: a layered public sample is held until all its layers are in (or
 * {@link LAYER_HOLD_MS}), a private one until the `serve` naming its tag ({@link SERVE_WAIT_MS}); then one
 * decode at a time, dropping the oldest beyond {@link DECODE_QUEUE_MAX}. Every drop is counted.
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
  };

  return {
    results$: results$.asObservable(),
    push(sample) {
      const layer = layerOf(sample);
      if (!layer && !isPublicStream(sample.stream) && (sample.op as { ik?: unknown }).ik !== o.servedTag()) {
        // A result can arrive before the `serve` that says how to decode it (control is another
        // channel): hold it briefly rather than drop it.
        awaitingServe.push({ sample, receivedAt: Date.now() });
        expireAwaiting();
        return;
      }
      if (!layer) return enqueue({ sample, receivedAt: Date.now() });
      // A layered public sample: decode once every layer sent to us is in, or after a short hold.
      let p = layering.get(sample.seq);
      if (!p) {
        const seq = sample.seq;
        p = {
          layers: [],
          expected: layer.n,
          receivedAt: Date.now(),
          timer: setTimeout(() => flushLayers(seq), LAYER_HOLD_MS),
        };
        layering.set(seq, p);
      }
      p.layers.push(sample);
      if (p.layers.length >= p.expected) flushLayers(sample.seq);
    },
    served(ik) {
      const ready = awaitingServe.filter((q) => (q.sample.op as { ik?: unknown }).ik === ik);
      awaitingServe = awaitingServe.filter((q) => !ready.includes(q));
      for (const q of ready) enqueue(q);
    },
    clearLayers,
    takeReport() {
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
