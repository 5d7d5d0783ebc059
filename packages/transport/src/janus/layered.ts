import { Subject, type Subscription } from 'rxjs';
import { InvalidStateError } from '../errors.js';
import type { ReassembledSample } from '../types.js';
import { createJanusPublisher } from './relayPublisher.js';
import { createJanusSubscriber } from './relaySubscriber.js';
import { parseRelayUrl } from './relayUrl.js';
import type {
  JanusPublisherOptions,
  JanusSubscriberOptions,
  RelayPublisher,
  RelayPublisherStats,
  RelaySubscriber,
  RelaySubscriberStats,
} from './types.js';

/** The numeric fields of `T`. */
type CounterOf<T> = { [K in keyof T]: T[K] extends number ? K : never }[keyof T];

/** The first layer's stats (its state and feed) with each of `counters` summed over every layer's. */
function summedOver<T>(all: readonly T[], counters: readonly CounterOf<T>[]): T {
  const out = { ...all[0]! };
  for (const k of counters) (out[k] as number) = all.reduce((n, s) => n + (s[k] as number), 0);
  return out;
}

/**
 * Janus forwards a feed to every subscriber alike: it cannot drop an enhancement layer for one receiver.
 * So each public layer gets its own VideoRoom room, and a receiver subscribes to the prefix of layers its
 * link can take: layer 0 (the base, stream `public`) in `ROOM`, layer k (stream `public.<k>`) in
 * `ROOM.layer<k>`. The sender still uploads every layer once.
 */
export const MAX_RELAY_LAYERS = 16;

/** The relay address of public layer `k` of the relay `url` (`k = 0`: `url` itself). */
export function layerRelayUrl(url: string, k: number): string {
  if (!(Number.isInteger(k) && k >= 0 && k < MAX_RELAY_LAYERS))
    throw new RangeError(`layer must be an integer in 0..${MAX_RELAY_LAYERS - 1}, got ${k}`);
  const a = parseRelayUrl(url);
  if (k === 0) return a.href;
  const scheme = a.href.slice(0, a.href.indexOf('://'));
  const host = a.host.includes(':') ? `[${a.host}]` : a.host;
  return parseRelayUrl(`${scheme}://${host}:${a.port}/${a.room}.layer${k}`).href;
}

/** The layer a public stream id carries: `public` → 0, `public.<k>` → k; undefined for anything else. */
export function publicLayerOf(stream: string | undefined): number | undefined {
  if (stream === undefined || stream === 'public') return 0;
  const m = /^public\.(\d{1,2})$/.exec(stream);
  const k = m ? Number(m[1]) : Number.NaN;
  return k >= 1 && k < MAX_RELAY_LAYERS ? k : undefined;
}

/**
 * A relay publisher for a layered public stream: one Janus publisher per layer room (created when the
 * first sample of that layer comes), each cascaded like the base. `state`, `feedId` and the payload size
 * are the base layer's; `stats()` sums the layers (`cascades`: the base's).
 */
export function createLayeredJanusPublisher(options: JanusPublisherOptions): RelayPublisher {
  const base = createJanusPublisher(options);
  const layers: RelayPublisher[] = [base];
  const forLayer = (k: number): RelayPublisher => {
    let p = layers[k];
    if (!p) {
      for (let i = layers.length; i <= k; i++) {
        layers[i] = createJanusPublisher({
          ...options,
          url: layerRelayUrl(options.url, i),
          ...(options.cascade ? { cascade: options.cascade.map((c) => layerRelayUrl(c, i)) } : {}),
        });
      }
      p = layers[k]!;
    }
    return p;
  };
  let closed = false;
  return {
    address: base.address,
    maxPacketPayloadBytes: base.maxPacketPayloadBytes,
    get state() {
      return base.state;
    },
    state$: base.state$,
    get feedId() {
      return base.feedId;
    },
    stats(): RelayPublisherStats {
      return summedOver(
        layers.map((p) => p.stats()),
        [
          'samples',
          'packets',
          'bytes',
          'droppedNotUp',
          'droppedBackpressure',
          'droppedStale',
          'queuedBytes',
          'reconnects',
        ],
      );
    },
    sendSample(sample) {
      if (closed) throw new InvalidStateError('sendSample() called on a closed relay publisher');
      const k = publicLayerOf(sample.stream);
      if (k === undefined) throw new TypeError(`not a public stream: '${String(sample.stream)}'`);
      return forLayer(k).sendSample(sample);
    },
    async close() {
      if (closed) return;
      closed = true;
      await Promise.all(layers.map((p) => p.close()));
    },
  };
}

/** A relay subscriber that takes a prefix of the public layers, changeable while it runs. */
export interface LayeredRelaySubscriber extends RelaySubscriber {
  /** Layers subscribed to (the base, then enhancements in order). */
  readonly layers: number;
  /**
   * Subscribes to layers 0..n−1, leaving the others. A sample's `op.ln` (layers to wait for) is capped to
   * the layers subscribed, so the receiver never waits for one it does not take.
   */
  setLayers(n: number): void;
  /**
   * What the relay path delivered since the previous call (or since start): the receiver reports it so the
   * sender's adaptation can pick this receiver's layers from the path they actually take.
   */
  takeFigures(nowMs?: number): RelayPathFigures;
}

/** The relay path's figures over one interval, as {@link LayeredRelaySubscriber.takeFigures} measures them. */
export interface RelayPathFigures {
  /** Frame bytes received from Janus per second, all subscribed layers. */
  bytesPerSec: number;
  /**
   * Packets lost on the relay path, 0..1, from the packet numbers of every subscribed layer's feed (so samples
   * lost whole count too); undefined: no packet numbered in the interval.
   */
  lossRate: number | undefined;
  /** p95 age of the samples at reassembly (clock offset corrected), ms; undefined: none. */
  ageP95Ms: number | undefined;
  /** Samples reassembled over the interval. */
  samples: number;
}

/**
 * Subscribes to the base layer's room (`options.url`) and, after `setLayers(n)`, to enhancement layer
 * rooms 1..n−1 too. Samples of every subscribed layer come out of one `samples$`. `state`, `feedId` and
 * `stats().lastMessageAtMs` are the base layer's (the receiver's "is the relay working" test).
 */
export function createLayeredJanusSubscriber(
  options: JanusSubscriberOptions & { layers?: number },
): LayeredRelaySubscriber {
  const samples$ = new Subject<ReassembledSample>();
  const subs: { sub: RelaySubscriber; pipe: Subscription }[] = [];
  let wanted = 0;
  let clockOffsetMs = 0;
  let closed = false;
  const removed: RelaySubscriberStats[] = [];

  const window = { startMs: Date.now(), bytes: 0, expected: 0, lost: 0, ages: [] as number[] };
  const capLayers = (s: ReassembledSample): ReassembledSample => {
    const ln = (s.op as { ln?: unknown }).ln;
    if (typeof ln !== 'number' || ln <= wanted) return s;
    return { ...s, op: { ...s.op, ln: wanted } };
  };
  const add = (k: number) => {
    const sub = createJanusSubscriber({ ...options, url: layerRelayUrl(options.url, k) });
    sub.clockOffsetMs = clockOffsetMs;
    const pipe = sub.samples$.subscribe({
      next: (s) => {
        // A layer above the current prefix (in flight while it is left) is not passed on.
        const layer = publicLayerOf(s.stream);
        if (layer === undefined || layer >= wanted) return;
        if (window.ages.length < 4096) window.ages.push(s.ageMs);
        samples$.next(capLayers(s));
      },
    });
    subs[k] = { sub, pipe };
  };
  const setLayers = (n: number) => {
    if (closed) throw new InvalidStateError('setLayers() called on a closed relay subscriber');
    if (!(Number.isInteger(n) && n >= 1 && n <= MAX_RELAY_LAYERS))
      throw new RangeError(`layers must be an integer in 1..${MAX_RELAY_LAYERS}, got ${n}`);
    wanted = n;
    for (let k = subs.length; k < n; k++) add(k);
    while (subs.length > n) {
      const { sub, pipe } = subs.pop()!;
      pipe.unsubscribe();
      removed.push(sub.stats());
      void sub.close();
    }
  };
  setLayers(options.layers ?? 1);
  const base = subs[0]!.sub;
  /** The base layer's state and feed, the counters summed over every layer (those left too). */
  const stats = (): RelaySubscriberStats =>
    summedOver(
      [...subs.map(({ sub }) => sub.stats()), ...removed],
      ['messages', 'bytes', 'malformed', 'samples', 'reconnects', 'packetsExpected', 'lostPackets'],
    );

  return {
    address: base.address,
    get state() {
      return base.state;
    },
    // The base layer's subscriber lives as long as this one (setLayers keeps at least it): its state is ours.
    state$: base.state$,
    samples$: samples$.asObservable(),
    get feedId() {
      return base.feedId;
    },
    get layers() {
      return subs.length;
    },
    setLayers,
    takeFigures(nowMs = Date.now()): RelayPathFigures {
      const { bytes, packetsExpected: expected, lostPackets: lost } = stats();
      const seconds = Math.max(0.001, (nowMs - window.startMs) / 1000);
      const ages = window.ages.sort((a, b) => a - b);
      const newlyExpected = expected - window.expected;
      const out: RelayPathFigures = {
        bytesPerSec: Math.max(0, bytes - window.bytes) / seconds,
        lossRate:
          newlyExpected > 0 ? Math.min(1, Math.max(0, (lost - window.lost) / newlyExpected)) : undefined,
        ageP95Ms: ages.length
          ? ages[Math.min(ages.length - 1, Math.ceil(0.95 * ages.length) - 1)]
          : undefined,
        samples: ages.length,
      };
      Object.assign(window, { startMs: nowMs, bytes, expected, lost, ages: [] });
      return out;
    },
    get clockOffsetMs() {
      return clockOffsetMs;
    },
    set clockOffsetMs(v: number) {
      if (!Number.isFinite(v)) return;
      clockOffsetMs = v;
      for (const { sub } of subs) sub.clockOffsetMs = v;
    },
    stats,
    async close() {
      if (closed) return;
      closed = true;
      await Promise.all(
        subs.map(async ({ sub, pipe }) => {
          pipe.unsubscribe();
          await sub.close();
        }),
      );
      samples$.complete();
    },
  };
}
