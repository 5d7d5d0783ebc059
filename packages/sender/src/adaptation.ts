/**
 * Rate adaptation: from a receiver's link figures to the operating point of its private stream and the
 * public layers it is sent (DESIGN §2 "rate control", STYLE §9: a policy is an interface with a default
 * implementation, so users can swap it).
 *
 * Layers are rate prefixes. The channel coder emits its symbols symbol-major (symbol 0 of every token, then
 * symbol 1, …), so any prefix of `rateSymbols·T` symbols decodes. The public stream is encoded once; it is cut
 * at the layer bounds (default {@link DEFAULT_LAYER_BOUNDS} = [4, 8, 16]: base = symbols 0..3 per token,
 * enh1 = 4..7, enh2 = 8..15) and each receiver is forwarded the prefix of layers its link carries. A
 * receiver's private stream is encoded for it, so it gets its own `rateSymbols` and `bits`.
 *
 * The default policy ({@link createDefaultAdaptationPolicy}) climbs a ladder of levels, cheapest first (each
 * level = rateSymbols and bits; default {@link DEFAULT_ADAPTATION_LADDER}). Per receiver, independently:
 *
 * - **Congestion → step down at once**, at the first figures that show it (figures come every link stats
 *   interval, 500 ms by default, with the receiver's latest report: within ~1 s of a bandwidth drop; counts
 *   of figures below, such as `confirmTicks`, are counts of intervals): the sender's queue for this link grows past a watermark, samples were
 *   dropped by backpressure, the receiver's goodput falls clearly below what was sent once its random loss
 *   is accounted for (a collapse at once, a milder deficit once two figures show it), or the age of samples at arrival rises well above its recent minimum (a queue
 *   building somewhere on the path; alone, for two figures in a row, since a host stall raises it for one). It steps to the highest level whose estimated rate fits in
 *   `fitFraction` of the measured goodput, at least one level down.
 * - **An early report → step down and pause at once**: a receiver whose samples' ages show a queue building
 *   reports it out of the interval (transport `QueueTrend`: ~0.2–0.5 s after a drop instead of up to ~1 s).
 *   It is taken as the path's when its rise is more than the sender's own capture-to-link delay rose
 *   (`senderDelayRiseMs`) and less arrived than was sent (`queueRateRatio`); then the policy steps to what fits
 *   the rate that arrived (at least one level this receiver feels: a public-only receiver skips levels that
 *   differ only in private bits) and **pauses** the receiver for the queue's delay (`Decision.pauseMs`, at most
 *   `maxPauseMs`), so the bottleneck's queue drains at the path's whole rate instead of the new level's spare
 *   rate. Any other step down that finds a queue (age rise, what a goodput collapse left queued, or what a level
 *   found short of the goodput while the last step drained sent beyond it) pauses too.
 * - **Headroom → step up slowly, by probing**: after `upHoldMs` of clean figures it tries one level up. If
 *   congestion shows within `probeWindowMs`, it returns and doubles the hold before the next probe of that
 *   level (up to `maxUpHoldMs`); a level that held for `probeWindowMs` resets the backoff. So a link whose
 *   capacity sits between two levels probes ever more rarely instead of oscillating.
 * - **An outage is not the path's rate**: a blackout (a handover) shows as a goodput collapse and steps down; once
 *   the path is back, what it held back arrives, and a report made after the step whose goodput reaches what the
 *   level before the drop sent (less the `fitFraction` margin) restores up to that level (not as a probe: the
 *   goodput showed the path carries it). A bottleneck that narrowed delivers less than that, and restores nothing.
 * - **A host stall is not congestion either**: a process descheduled or frozen on a busy machine reads the
 *   packets that waited meanwhile late and together. The receiver leaves the samples it read during its own
 *   stall out of its age figures (transport `StallWatch`) and reports the interval's longest stall; figures
 *   with a stall of `stallAffectsMs` or more at either end (`LinkFigures.hostStallMs`) make no goodput
 *   decision, and their age rise (or an early report's) counts only beyond the stall.
 * - **Random loss is not congestion**: the receiver's reported loss (smoothed) only moves the coder's
 *   conditioning `lossRate`, on a grid ({@link DEFAULT_LOSS_GRID}) with a hysteresis band, so noise around a
 *   grid point does not flip it. Congestion signals are read against the link's background loss (the median of
 *   its loss figures over the last 5 s, `lossFloorWindowMs`): a collapse is measured against what survives it, a
 *   loss signal is the loss beyond it (and only where the loss is more than a few kbit/s), the goodput fit counts
 *   what it took as the path's. On a link with 5 % or more (`lossyLinkRate`; once lossy, until below 2.5 %), where
 *   SCTP stalls now and then whatever the rate, a collapse or a growing send queue must show in two figures in a
 *   row, and an early report's rise must be twice `ageRiseMs`. A 20 %-loss link so keeps its full rate, where the
 *   erasure-trained decoder gives up 0.3 dB, instead of falling to the base layer (−2.5 dB) on the swings of its
 *   figures.
 *
 * Pure and deterministic: time comes from `ctx.nowMs`, there is no randomness, no I/O.
 */
import { type OperatingPoint, quantiserSnrDb } from '@m4sc/semantic-codec';
import type { LinkStats } from '@m4sc/transport';

/** One rung of the ladder: symbols per token kept and bits per symbol. */
export interface AdaptationLevel {
  readonly rateSymbols: number;
  readonly bits: number;
}

/** What the policy knows of one receiver's link, once per stats interval. Build it with {@link linkFiguresFromStats}. */
export interface LinkFigures {
  /** Control-channel round-trip time, ms; undefined before the first pong. */
  readonly rttMs: number | undefined;
  /** Loss the receiver reports on the channels that serve it (link-report), 0..1; undefined before a report. */
  readonly lossRate: number | undefined;
  /** Bytes per second the sender handed to this link over the interval. */
  readonly sentBytesPerSec: number;
  /** Bytes per second the receiver reports receiving (goodput, link-report); undefined before a report. */
  readonly goodputBytesPerSec: number | undefined;
  /**
   * Bytes per second the sender handed to this link over the window the goodput's report covers (moved back by
   * half the RTT, transport `LinkStats.remoteSentBytesPerSec`): what the goodput is compared with. Undefined when
   * not known (a report without its window, no RTT yet): then the policy compares with `sentBytesPerSec`.
   */
  readonly reportSentBytesPerSec?: number | undefined;
  /** Bytes waiting for this link on the sample channels: its own queue plus the channels' bufferedAmount. */
  readonly queuedBytes: number;
  /** p95 age of samples at arrival at the receiver (link-report), ms; undefined before a report. */
  readonly ageP95Ms: number | undefined;
  /** Whole samples the sender dropped for this link (backpressure, stale) since the previous figures. */
  readonly droppedSamples: number;
  /**
   * A queue building on the path, from the receiver's early report (transport `QueueTrend`): how far the age
   * of its newest samples rose above the lowest, ms, and the rate that arrived meanwhile, bytes/s. Only in
   * the figures the early report triggered, undefined otherwise.
   */
  readonly queue?: { readonly riseMs: number; readonly rateBytesPerSec: number } | undefined;
  /**
   * The longest host stall either end saw over these figures' interval, ms (the receiver's `LinkReport.stallMs`,
   * the sender's own `LinkStats.hostStalls.intervalMaxMs`); 0 or undefined when none. A stall ages the samples
   * it held back by up to its length and moves bytes between intervals, whatever the path.
   */
  readonly hostStallMs?: number | undefined;
  /**
   * The longest outage within the report's window (transport `LinkReport.outageMs`: nothing arrived for 250 ms or
   * more, then packets that skipped numbers: the path carried nothing, then came back), ms; undefined when none.
   * The figures' loss, goodput and age are then the outage's, not the path's rate: the policy takes them as a host
   * stall of that length, and leaves their loss out of the loss conditioning and of the congestion signals.
   */
  readonly outageMs?: number | undefined;
  /**
   * Whether the receiver's report behind `goodputBytesPerSec`, `lossRate` and `ageP95Ms` is new in these figures
   * (the previous figures did not carry it). Undefined: not known, taken as new.
   */
  readonly reportNew?: boolean | undefined;
}

/** The input of one decision. */
export interface AdaptationContext {
  /** The receiver; the default policy keeps independent state per peer. */
  readonly peerId: string;
  /** Now, ms, from the caller's (injectable) clock. */
  readonly nowMs: number;
  /** This receiver's link figures. */
  readonly link: LinkFigures;
  /**
   * How much the sender's own processing (encode, a busy host) delays samples now above its usual, ms: part
   * of any age rise a receiver reports, whatever its path. Default 0.
   */
  readonly senderDelayRiseMs?: number;
  /** The stream's current rates: what each public layer costs as encoded (index = layer, bytes/s, whether or
   * not this receiver is sent it) and what this receiver's private stream costs at its current point (0 if none). */
  readonly stream: {
    readonly publicLayerBytesPerSec: readonly number[];
    readonly privateBytesPerSec: number;
  };
}

/** The output: how to serve this receiver from now on. */
export interface Decision {
  /** Index of the ladder level, 0 = cheapest. */
  readonly level: number;
  /** Operating point of the receiver's private stream (rate, bits, conditioning [snrDb, lossRate]). */
  readonly privateOp: OperatingPoint;
  /** Public layers forwarded to it: layers 0..publicLayers−1 (≥ 1: the base layer is always sent). */
  readonly publicLayers: number;
  /** Symbols per token those public layers carry (the layer bound of the last one). */
  readonly publicRateSymbols: number;
  /** Bits per symbol of the private stream (the public stream keeps the bits it was encoded at). */
  readonly bits: number;
  /** The loss rate the channel coder is conditioned on, 0..1. */
  readonly lossRate: number;
  /** Whether this decision differs from the previous one for this receiver. */
  readonly changed: boolean;
  /** Why, in words: for logs and the lab report (e.g. 'queue 48 KiB growing: down 5→2'). */
  readonly reason: string;
  /**
   * Send this receiver nothing for this long from now, ms (0: send as usual): after a step down on a queue
   * building on the path, so the queue drains at the path's full rate instead of at the new level's spare.
   */
  readonly pauseMs: number;
}

/** Decides a receiver's operating point (STYLE §9). Swap it through the sender's options. */
export interface AdaptationPolicy {
  /** Called once per stats interval per receiver. */
  decide(ctx: AdaptationContext): Decision;
  /** Drops what the policy keeps about a receiver that left. */
  forget(peerId: string): void;
}

/** Layer bounds, cumulative symbols per token: base = 0..3, enh1 = 4..7, enh2 = 8..15 (C = 16). */
export const DEFAULT_LAYER_BOUNDS: readonly number[] = [4, 8, 16];

/** Default ladder, cheapest first: rate·bits = 16, 32, 48, 64, 96, 128 bits per token (×2 between the ends of a layer). */
export const DEFAULT_ADAPTATION_LADDER: readonly AdaptationLevel[] = [
  { rateSymbols: 4, bits: 4 },
  { rateSymbols: 4, bits: 8 },
  { rateSymbols: 8, bits: 6 },
  { rateSymbols: 8, bits: 8 },
  { rateSymbols: 16, bits: 6 },
  { rateSymbols: 16, bits: 8 },
];

/** Loss rates the coder is conditioned on; the bundle is trained over 0..0.3 erasure. */
export const DEFAULT_LOSS_GRID: readonly number[] = [0, 0.05, 0.1, 0.2, 0.3];

/** Options of {@link createDefaultAdaptationPolicy}. Every field is optional. */
export interface DefaultAdaptationOptions {
  /** The ladder, cheapest first. Default {@link DEFAULT_ADAPTATION_LADDER}. */
  ladder?: readonly AdaptationLevel[];
  /** Cumulative layer bounds in symbols per token, increasing, the last = C. Default {@link DEFAULT_LAYER_BOUNDS}. */
  layerBounds?: readonly number[];
  /** Level a new receiver starts at. Default the top (the stream starts at full quality and steps down at once if it must). */
  initialLevel?: number;
  /** Clean figures needed before probing one level up, ms. Default 3000. */
  upHoldMs?: number;
  /** Upper bound of the probe backoff, ms. Default 30 000. */
  maxUpHoldMs?: number;
  /** A probe that shows congestion within this time is undone (and the hold doubled), ms. Default 3000. */
  probeWindowMs?: number;
  /** After a step down, congestion signals are ignored this long while the queue built before it drains, ms. Default 2000. */
  drainMs?: number;
  /** Queue watermark: congestion when queued bytes exceed this many ms of the current send rate and grew. Default 150. */
  queueMs?: number;
  /** Queued bytes always tolerated (a sample in flight), bytes. Default 16 384. */
  queueFloorBytes?: number;
  /** Congestion when goodput < (1 − loss) · sent · this. Default 0.8. */
  goodputRatio?: number;
  /**
   * …and the deficit exceeds this, bytes/s. Default 4000 (32 kbit/s): a private stream is a few kbit/s, and
   * the receiver's report and the sender's count cover windows a sample apart, which alone can look like a
   * 20% deficit at such rates.
   */
  goodputMinDeficitBytesPerSec?: number;
  /**
   * A goodput below sent · this (whatever the loss) is a collapse and steps down at the first figures; a
   * deficit short of it (goodput < (1 − loss) · sent · `goodputRatio`) must also show over the last two
   * figures summed (one figure alone is skewed by the sender's and receiver's windows being a few samples
   * apart). Default 0.65.
   */
  goodputCollapseRatio?: number;
  /**
   * After a receiver's first figures, weak congestion signals are ignored this long, ms: its first reports
   * cover the connection set-up, not the path. Default 3000.
   */
  warmupMs?: number;
  /**
   * Weak signals (goodput deficit, age rise, loss) must persist this many consecutive figures before a step
   * down; strong ones (the queue growing, samples dropped by backpressure) act at once. Default 1 (act on
   * the first: the issue asks for a step down within 1 s); raise it on links with noisy reports.
   */
  confirmTicks?: number;
  /** Congestion when age p95 exceeds its minimum over `ageWindowMs` by more than this, ms. Default 100. */
  ageRiseMs?: number;
  /**
   * An age rise with no other signal must persist this many consecutive figures (at least `confirmTicks`).
   * Default 2: a stall of the sender's or receiver's host (encode or decode late, a busy event loop) raises
   * the age of every sample for about one interval and says nothing about the link, while a queue that
   * builds on the path keeps the age high. A real drop still steps down within one interval: it also shows
   * a goodput deficit, a growing send queue or dropped samples. Within `probeWindowMs` of a probe up, one
   * figure is enough.
   */
  ageConfirmTicks?: number;
  /** Reported loss at or above this is treated as congestion too (a full bottleneck queue drops; the coder is
   * trained up to 0.3 erasure, so more is worth a lower rate either way). Default 0.3. */
  congestionLossRate?: number;
  /** Window of the age baseline, ms. Default 10 000. */
  ageWindowMs?: number;
  /**
   * When a step down finds a queue on the path (an early report's rise, `LinkFigures.queue`; else the age
   * figures' rise, or what a goodput collapse left queued; less the sender's own delay; at least
   * `ageRiseMs / 2`), pause this receiver's samples for the queue's delay plus this, ms, so the queue drains
   * at the path's whole rate before the new level starts. Default 50.
   */
  pausePadMs?: number;
  /**
   * An early report counts only when the rate that arrived was below this fraction of what the sender sent
   * (its last figures' rate): else the ages rose for another reason than the path. Default 0.9: a stream only a
   * little above the path's rate (~0.82 measured) builds a queue as surely, if slower; a late host measured
   * 0.95–1.0.
   */
  queueRateRatio?: number;
  /**
   * Figures whose interval held a host stall (`LinkFigures.hostStallMs`) this long or longer say too little of
   * the path for a goodput decision (the stall moved that much of the stream's bytes from one interval's count
   * to the next), and their age rise, or an early report's, is taken less the stall. Shorter stalls are left
   * alone: they can neither raise an age past `ageRiseMs` nor move a fifth of a 500 ms interval's bytes, which a
   * collapse needs (a milder deficit must hold over two figures anyway). Strong signals (a growing send queue,
   * dropped samples) act whatever the stall. ms. Default 100 (`ageRiseMs`): on a quiet host the beat sees
   * stalls of 40–45 ms now and then; a busy 2-core host froze every process for 150–400 ms in CI.
   */
  stallAffectsMs?: number;
  /** How often figures come, ms (the links' stats interval): for the queue a goodput collapse implies. Default 500. */
  figuresIntervalMs?: number;
  /** Longest such pause, ms (a stall the receiver sees: keep it well under a second). Default 500. */
  maxPauseMs?: number;
  /** Figures up to this long after a pause cover it (goodput and sent rate fall with it): no goodput decisions on them, ms. Default 700. */
  pauseSettleMs?: number;
  /** After congestion, pick the level whose estimated rate fits in this fraction of the goodput. Default 0.85. */
  fitFraction?: number;
  /**
   * The link's background loss is the median of the loss reported over this window, ms: the loss the link shows
   * in a typical interval, random loss rather than a queue overflowing (a queue that overflows is acted on long
   * before it fills half the window). Congestion signals are read against it: a goodput collapse is measured
   * against what survives the background loss, a loss signal is the loss beyond it; and on a link with a
   * background loss of `lossyLinkRate` or more, where SCTP holds the association for a while whenever it waits to
   * give up on a lost chunk, a collapse or a growing send queue must show in two figures in a row and an early
   * report's rise must be twice `ageRiseMs`. On a clean link it is 0 and every rule is as before. Default 5000
   * (ten figures; at least four are needed).
   */
  lossFloorWindowMs?: number;
  /**
   * A background loss of this or more makes a link lossy (see `lossFloorWindowMs`), 0..1; it stays lossy until its
   * background falls below half of this, so a link whose background wavers around this value flips less often
   * between the two rule sets. Default 0.05.
   */
  lossyLinkRate?: number;
  /** Smoothing of the reported loss (EWMA weight of the newest figure). Default 0.5. */
  lossAlpha?: number;
  /** The conditioning grid. Default {@link DEFAULT_LOSS_GRID}. */
  lossGrid?: readonly number[];
  /** Name prefix of the operating points. Default 'adapt'. */
  namePrefix?: string;
  /** Bundle's quantiser SNR table (manifest `channel.quantiserSnrDb`) for the snrDb conditioning. Default the rule of thumb. */
  quantiserSnrDb?: Readonly<Record<string, number>>;
}

interface PeerState {
  level: number;
  lossRate: number;
  lossEwma: number | undefined;
  /** When the figures were last clean since (start of the current headroom run), ms. */
  cleanSinceMs: number;
  /** Probe in progress: the level we came from and when. */
  probe: { from: number; atMs: number } | undefined;
  /** Per level: hold before the next probe into it, ms. */
  holdMs: Map<number, number>;
  lastQueuedBytes: number;
  /** When the first figures came, ms (warm-up), and how many consecutive figures carried weak signals. */
  firstAtMs: number;
  weakTicks: number;
  /** The previous figures' goodput and what was expected of it (sent less random loss), bytes/s. */
  lastGoodput: { goodput: number; expected: number } | undefined;
  /** The previous figures' sent bytes/s. */
  lastSent: number | undefined;
  /**
   * The level the last step down left (the first of a drop's steps), until it has drained: a goodput that shows
   * the path carries more again restores up to it. Not after a failed probe.
   */
  dropFrom: number | undefined;
  /** New receiver reports in regular figures since the last step down: a restore needs one made after it. */
  reportsSinceDrop: number;
  /** Consecutive figures with an age rise. */
  ageTicks: number;
  /** When it last stepped down, ms. */
  downAtMs: number | undefined;
  /** When the last pause ends, ms. */
  pauseEndMs: number | undefined;
  /** The last host stall of `stallAffectsMs` or more (the longest while they overlap), and until when figures are its, ms. */
  stall: { ms: number; untilMs: number } | undefined;
  ages: { atMs: number; p95Ms: number }[];
  /** The loss reported over the last `lossFloorWindowMs`, for the background loss. */
  losses: { atMs: number; loss: number }[];
  /** Whether the background loss made the link lossy (kept until it falls below half of `lossyLinkRate`). */
  lossy: boolean;
  /** Consecutive figures with the send queue over its limit and growing, and with a goodput collapse. */
  queueTicks: number;
  collapseTicks: number;
  last: Decision | undefined;
}

/** Builds {@link LinkFigures} from two consecutive `link.stats$` emissions of one receiver's link (pass the previous one for the drop delta). */
export function linkFiguresFromStats(stats: LinkStats, previous?: LinkStats): LinkFigures {
  const r = stats.remote;
  const losses = r ? [r.lossRate.public, r.lossRate.private].filter((x): x is number => x !== undefined) : [];
  const dropped = (s: LinkStats | undefined) =>
    s ? s.sendDroppedSamples.backpressure + s.sendDroppedSamples.stale : 0;
  const ch = stats.channels;
  // Whether the report is news: the previous figures did not carry it (an early report's queue, a stall, a restore
  // count it once).
  const reportNew = r !== undefined && r !== previous?.remote;
  return {
    rttMs: stats.rttMs,
    lossRate: losses.length ? Math.max(...losses) : undefined,
    sentBytesPerSec: stats.sentBytesPerSec,
    goodputBytesPerSec: r?.receivedBytesPerSec,
    reportSentBytesPerSec: r ? stats.remoteSentBytesPerSec : undefined,
    queuedBytes:
      ch.public.queuedBytes +
      ch.public.bufferedAmountBytes +
      ch.private.queuedBytes +
      ch.private.bufferedAmountBytes,
    ageP95Ms: r?.age?.p95Ms,
    droppedSamples: Math.max(0, dropped(stats) - dropped(previous)),
    // An early report is news once: the next figures may carry the same report again.
    queue: reportNew && r.queue ? r.queue : undefined,
    hostStallMs:
      Math.max(reportNew && r.stallMs ? r.stallMs : 0, stats.hostStalls?.intervalMaxMs ?? 0) || undefined,
    outageMs: r?.outageMs,
    reportNew,
  };
}

const fmtRate = (bps: number) => `${((bps * 8) / 1000).toFixed(0)} kbit/s`;

/**
 * The default {@link AdaptationPolicy}: immediate step-down on congestion, probing step-up with backoff,
 * loss conditioning on a grid with hysteresis. See the module doc. Throws TypeError on bad options.
 */
export function createDefaultAdaptationPolicy(options: DefaultAdaptationOptions = {}): AdaptationPolicy {
  const ladder = options.ladder ?? DEFAULT_ADAPTATION_LADDER;
  const bounds = options.layerBounds ?? DEFAULT_LAYER_BOUNDS;
  if (ladder.length === 0) throw new TypeError('ladder must have at least one level');
  for (const [i, l] of ladder.entries()) {
    if (!Number.isInteger(l.rateSymbols) || l.rateSymbols < 1)
      throw new TypeError(`ladder[${i}].rateSymbols must be a positive integer, got ${l.rateSymbols}`);
    if (!Number.isInteger(l.bits) || l.bits < 1 || l.bits > 32)
      throw new TypeError(`ladder[${i}].bits must be an integer in 1..32, got ${l.bits}`);
    if (i > 0 && cost(l) <= cost(ladder[i - 1]!))
      throw new TypeError(`ladder must be cheapest first: level ${i} costs no more than level ${i - 1}`);
  }
  if (
    bounds.length === 0 ||
    bounds.some((b, i) => !Number.isInteger(b) || b < 1 || (i > 0 && b <= bounds[i - 1]!))
  )
    throw new TypeError(`layerBounds must be increasing positive integers, got [${bounds.join(', ')}]`);
  if (ladder.some((l) => l.rateSymbols > bounds[bounds.length - 1]!))
    throw new TypeError(`a ladder rate exceeds the last layer bound ${bounds[bounds.length - 1]}`);
  const top = ladder.length - 1;
  const initialLevel = options.initialLevel ?? top;
  if (!Number.isInteger(initialLevel) || initialLevel < 0 || initialLevel > top)
    throw new TypeError(`initialLevel must be 0..${top}, got ${initialLevel}`);
  const upHoldMs = options.upHoldMs ?? 3000;
  const maxUpHoldMs = options.maxUpHoldMs ?? 30_000;
  const probeWindowMs = options.probeWindowMs ?? 3000;
  const drainMs = options.drainMs ?? 2000;
  const queueMs = options.queueMs ?? 150;
  const queueFloorBytes = options.queueFloorBytes ?? 16_384;
  const goodputRatio = options.goodputRatio ?? 0.8;
  const goodputMinDeficit = options.goodputMinDeficitBytesPerSec ?? 4000;
  const goodputCollapseRatio = options.goodputCollapseRatio ?? 0.65;
  const warmupMs = options.warmupMs ?? 3000;
  const confirmTicks = options.confirmTicks ?? 1;
  const ageRiseMs = options.ageRiseMs ?? 100;
  const ageConfirmTicks = options.ageConfirmTicks ?? 2;
  const congestionLossRate = options.congestionLossRate ?? 0.3;
  const ageWindowMs = options.ageWindowMs ?? 10_000;
  const pausePadMs = options.pausePadMs ?? 50;
  const maxPauseMs = options.maxPauseMs ?? 500;
  const pauseSettleMs = options.pauseSettleMs ?? 700;
  const queueRateRatio = options.queueRateRatio ?? 0.9;
  const stallAffectsMs = options.stallAffectsMs ?? ageRiseMs;
  const figuresIntervalMs = options.figuresIntervalMs ?? 500;
  const fitFraction = options.fitFraction ?? 0.85;
  const lossAlpha = options.lossAlpha ?? 0.5;
  const lossFloorWindowMs = options.lossFloorWindowMs ?? 5000;
  if (!(Number.isFinite(lossFloorWindowMs) && lossFloorWindowMs > 0))
    throw new TypeError(`lossFloorWindowMs must be a positive number of ms, got ${lossFloorWindowMs}`);
  const lossyLinkRate = options.lossyLinkRate ?? 0.05;
  if (!(lossyLinkRate >= 0 && lossyLinkRate <= 1))
    throw new TypeError(`lossyLinkRate must be in 0..1, got ${lossyLinkRate}`);
  const grid = options.lossGrid ?? DEFAULT_LOSS_GRID;
  const prefix = options.namePrefix ?? 'adapt';
  const peers = new Map<string, PeerState>();

  /** Public layers a level gets: those wholly inside its rate, at least the base. */
  const layersFor = (level: number) =>
    Math.max(1, bounds.filter((b) => b <= ladder[level]!.rateSymbols).length);

  /** Estimated bytes/s of a level, scaled from what the current level costs now. */
  const estimate = (level: number, from: number, ctx: AdaptationContext) => {
    const pub = ctx.stream.publicLayerBytesPerSec;
    const publicBytes = pub.slice(0, layersFor(level)).reduce((a, b) => a + b, 0);
    const priv = ctx.stream.privateBytesPerSec * (cost(ladder[level]!) / cost(ladder[from]!));
    return publicBytes + priv;
  };

  /** The highest level up to `upTo` whose estimated rate × `pace` fits `budget` bytes/s; 0 if none. */
  const fitLevel = (upTo: number, from: number, ctx: AdaptationContext, budget: number, pace = 1) => {
    let fit = 0;
    for (let l = 0; l <= upTo; l++) if (estimate(l, from, ctx) * pace <= budget) fit = l;
    return fit;
  };

  /**
   * One level down that this receiver would feel, from `from` whose rate is `now`: levels that differ only in the
   * private stream's bits cost a public-only receiver the same (levels 2 and 3 both take two public layers).
   */
  const feltStepDown = (from: number, now: number, ctx: AdaptationContext) => {
    let target = from - 1;
    while (target > 0 && now > 0 && estimate(target, from, ctx) >= 0.99 * now) target--;
    return target;
  };

  /**
   * The background loss of a receiver's link (see `lossFloorWindowMs`): the median of its loss figures over the
   * window, 0 with fewer than four, at most 0.5; and whether that makes the link lossy: from `lossyLinkRate` up,
   * and once lossy until it falls below half of it (a band, as the loss grid has, so that a link whose background
   * wavers around `lossyLinkRate` flips less often between the two rule sets).
   */
  const background = (s: PeerState): { floor: number; lossy: boolean } => {
    if (s.losses.length < 4) {
      s.lossy = false;
      return { floor: 0, lossy: false };
    }
    const sorted = s.losses.map((x) => x.loss).sort((a, b) => a - b);
    const floor = Math.min(0.5, sorted[Math.floor(sorted.length / 2)]!);
    s.lossy = floor >= lossyLinkRate || (s.lossy && floor >= lossyLinkRate / 2);
    return { floor, lossy: s.lossy };
  };
  const fmtLoss = (x: number) => `${(x * 100).toFixed(0)}%`;

  /**
   * A step down from `from`: the level a restore may return to is the one the drop's first step left (a step while
   * the last one drains is the same drop), none after a failed probe; reports count from here.
   */
  const markDrop = (s: PeerState, from: number, draining: boolean, probeFailed: boolean) => {
    s.dropFrom = probeFailed ? undefined : draining ? (s.dropFrom ?? from) : from;
    s.reportsSinceDrop = 0;
  };

  /** A probe up to `level` failed: double the hold before the next probe of it (up to `maxUpHoldMs`). */
  const backOff = (s: PeerState, level: number) =>
    s.holdMs.set(level, Math.min(maxUpHoldMs, 2 * (s.holdMs.get(level) ?? upHoldMs)));

  const snapLoss = (current: number, ewma: number): number => {
    // Hysteresis: leave the current grid point only when the smoothed loss is past the midpoint to a
    // neighbour by a quarter of the gap, so noise around a midpoint does not flip it.
    let i = grid.indexOf(current);
    if (i < 0) i = 0;
    while (i + 1 < grid.length && ewma > grid[i]! + 0.75 * (grid[i + 1]! - grid[i]!)) i++;
    while (i > 0 && ewma < grid[i]! - 0.75 * (grid[i]! - grid[i - 1]!)) i--;
    return grid[i]!;
  };

  const makeDecision = (s: PeerState, changed: boolean, reason: string, pauseMs = 0): Decision => {
    const l = ladder[s.level]!;
    const layers = layersFor(s.level);
    // Named by rate and bits only: the conditioning (`lossRate`, carried on the wire as the packets' `l`) moves
    // with the loss estimate, and a name that carried it would move a shared group's stream with it (the name is
    // part of the instruction tag), losing the samples in flight at each switch.
    const name = `${prefix}-r${l.rateSymbols}b${l.bits}`;
    const privateOp: OperatingPoint = Object.freeze({
      name,
      version: 1,
      rateSymbols: l.rateSymbols,
      bits: l.bits,
      snrDb: quantiserSnrDb(l.bits, options.quantiserSnrDb),
      lossRate: s.lossRate,
    });
    return Object.freeze({
      level: s.level,
      privateOp,
      publicLayers: layers,
      publicRateSymbols: bounds[layers - 1]!,
      bits: l.bits,
      lossRate: s.lossRate,
      changed,
      reason,
      pauseMs,
    });
  };

  /**
   * Figures an early report triggered (transport `QueueTrend`): only its queue is news; the rest repeats the
   * last figures, already decided on. It is the path's when (1) its rise is more than the sender's own delay rose
   * (a slow encode ages every sample, whatever its path) and (2) less arrived than was sent (a bottleneck's queue
   * grows because the path carries less than it is given; a late host sends and delivers alike). Then: down to
   * what fits the rate that arrived, at least one level this receiver feels, and a pause while the queue drains.
   * Not while the queue of a previous step drains, nor during warm-up (connection set-up fills queues too).
   * `stallMs`: a recent host stall (`stallAffectsMs` or more) at either end, which aged the samples it held back:
   * no more of the rise than that is the path's either.
   */
  const early = (
    s: PeerState,
    ctx: AdaptationContext,
    q: { riseMs: number; rateBytesPerSec: number },
    draining: boolean,
    warm: boolean,
    stall: number,
  ): Decision => {
    const { link, nowMs } = ctx;
    const senderRise = ctx.senderDelayRiseMs ?? 0;
    const pathRise = q.riseMs - Math.max(senderRise, stall);
    // On a link with background loss, a sample behind a lost chunk waits for SCTP to give up on it (a gap report
    // or T3-rtx, 250 ms): runs of rising ages come without a queue. Only a rise twice the usual is the path's, and
    // what arrived is compared with what survives the loss.
    const { floor, lossy } = background(s);
    const minRise = (lossy ? 2 : 1) * ageRiseMs;
    const hold = () => (s.last = makeDecision(s, false, `hold level ${s.level}`));
    // While the queue of the last step drains, ages fall and no early report comes; one that comes once the
    // pause has ended and its last samples arrived says the queue grows again: the step was not enough.
    const regrowing = draining && s.pauseEndMs !== undefined && nowMs >= s.pauseEndMs + EARLY_AFTER_PAUSE_MS;
    if (
      (draining && !regrowing) ||
      !warm ||
      pathRise < minRise ||
      !(
        link.sentBytesPerSec > 0 && q.rateBytesPerSec < queueRateRatio * (1 - floor) * link.sentBytesPerSec
      ) ||
      // A deficit of a few kbit/s (a private stream of small samples, the rate figures' noise) fills no queue.
      link.sentBytesPerSec - q.rateBytesPerSec <= goodputMinDeficit
    )
      return hold();
    const from = s.level;
    // Fitted at the nominal rates (a sender slowed by its host now may not be in a second), to the rate that
    // arrived (which can include samples from before the path narrowed: an upper bound).
    const fit = fitLevel(from, from, ctx, (q.rateBytesPerSec / (1 - floor)) * fitFraction);
    let target = Math.max(0, Math.min(feltStepDown(from, estimate(from, from, ctx), ctx), fit));
    const probeFailed = s.probe !== undefined && nowMs - s.probe.atMs <= probeWindowMs;
    if (probeFailed) {
      backOff(s, from);
      target = Math.min(target, s.probe!.from);
    }
    s.probe = undefined;
    s.cleanSinceMs = nowMs;
    if (target >= from) return hold();
    // The queue kept growing after the report left: the sender sent at its old rate until now, and what the link
    // and SCTP already hold still goes. At S sent into a path of C, the queue's delay grows by (S / C − 1) per ms:
    // count ~100 ms of that (the report's way back, the sender's queues).
    const growth = Math.max(0, link.sentBytesPerSec / q.rateBytesPerSec - 1) * PAUSE_GROWTH_MS;
    const pauseMs = Math.round(Math.min(maxPauseMs, pathRise + growth + pausePadMs));
    s.pauseEndMs = nowMs + pauseMs;
    markDrop(s, from, draining, probeFailed);
    s.level = target;
    s.downAtMs = nowMs;
    s.ageTicks = 0;
    const reason =
      `queue building on the path: age +${q.riseMs.toFixed(0)} ms${senderRise ? ` (sender +${senderRise.toFixed(0)})` : ''}` +
      `${stall ? ` (host stall ${stall.toFixed(0)} ms)` : ''}` +
      ` at ${fmtRate(q.rateBytesPerSec)}: down ${from} → ${target}, pause ${pauseMs.toFixed(0)} ms`;
    s.last = makeDecision(s, true, reason, pauseMs);
    return s.last;
  };

  /** What waits in the path's queue after an interval of `sent` bytes/s into a path that carried `goodput`, ms. */
  const queuedBeyond = (sent: number, goodput: number) =>
    (Math.max(0, sent - goodput) / goodput) * figuresIntervalMs;

  /**
   * The pause of a step down that found a queue of `queuedMs` on the path: its delay less what the sender's own
   * delay explains, plus `pausePadMs`, at most `maxPauseMs`; none under `ageRiseMs / 2`, nor where this receiver's
   * own stream is too small to fill a queue (a few kbit/s of private samples). Sets `s.pauseEndMs`.
   */
  const drainPause = (s: PeerState, nowMs: number, queuedMs: number, ctx: AdaptationContext): number => {
    const queued = queuedMs - (ctx.senderDelayRiseMs ?? 0);
    if (queued < ageRiseMs / 2 || ctx.link.sentBytesPerSec <= goodputMinDeficit) return 0;
    const pauseMs = Math.min(maxPauseMs, queued + pausePadMs);
    s.pauseEndMs = nowMs + pauseMs;
    return pauseMs;
  };

  return {
    decide(ctx) {
      const { link, nowMs } = ctx;
      let s = peers.get(ctx.peerId);
      if (!s) {
        s = {
          level: initialLevel,
          lossRate: 0,
          lossEwma: undefined,
          cleanSinceMs: nowMs,
          probe: undefined,
          dropFrom: undefined,
          reportsSinceDrop: 0,
          holdMs: new Map(),
          lastQueuedBytes: 0,
          firstAtMs: nowMs,
          weakTicks: 0,
          ageTicks: 0,
          lastGoodput: undefined,
          lastSent: undefined,
          downAtMs: undefined,
          pauseEndMs: undefined,
          stall: undefined,
          ages: [],
          losses: [],
          lossy: false,
          queueTicks: 0,
          collapseTicks: 0,
          last: undefined,
        };
        peers.set(ctx.peerId, s);
      }
      const reasons: string[] = [];
      let pauseMs = 0;
      const before = { level: s.level, lossRate: s.lossRate };
      const draining = s.downAtMs !== undefined && nowMs - s.downAtMs < drainMs;
      const warm = nowMs - s.firstAtMs >= warmupMs;
      // A host stall shows in the figures of its interval and of the next (the bytes and samples it held back
      // are counted there, and the sender's own stall reaches it only in the receiver's next report).
      // An outage the path came back from moved bytes and aged samples as a stall of its length does (and lost
      // what was sent meanwhile): no goodput decision on it either.
      // So is a report over which nothing at all arrived of what was sent (not even a ping): an outage the receiver
      // cannot see end yet. A path that carries nothing is down, not narrow, and a lower level would not help; a
      // growing send queue still steps down, and the link's liveness check ends a path that stays dead.
      const silent =
        link.goodputBytesPerSec === 0 &&
        link.reportNew !== false &&
        (link.reportSentBytesPerSec ?? link.sentBytesPerSec) > goodputMinDeficit;
      const outageMs = Math.max(link.outageMs ?? 0, silent ? figuresIntervalMs : 0);
      const outage = outageMs > 0;
      const hostStall = Math.max(link.hostStallMs ?? 0, outageMs);
      if (hostStall >= stallAffectsMs) {
        const ms = s.stall && nowMs < s.stall.untilMs ? Math.max(s.stall.ms, hostStall) : hostStall;
        s.stall = { ms, untilMs: nowMs + pauseSettleMs };
      }
      const stall = s.stall && nowMs < s.stall.untilMs ? s.stall.ms : 0;
      if (link.queue !== undefined) return early(s, ctx, link.queue, draining, warm, stall);

      // Loss conditioning (not on an outage's loss: what was sent while the path carried nothing, now over).
      if (link.lossRate !== undefined && !outage) {
        s.lossEwma =
          s.lossEwma === undefined ? link.lossRate : lossAlpha * link.lossRate + (1 - lossAlpha) * s.lossEwma;
        s.losses.push({ atMs: nowMs, loss: link.lossRate });
        while (s.losses[0]!.atMs < nowMs - lossFloorWindowMs) s.losses.shift();
        const next = snapLoss(s.lossRate, s.lossEwma);
        if (next !== s.lossRate) {
          reasons.push(`loss ${(s.lossEwma * 100).toFixed(1)}%: conditioning ${s.lossRate} → ${next}`);
          s.lossRate = next;
        }
      }

      // Figures that cover a pause: the sender sent this receiver nothing for a while, so its sent rate and the
      // goodput fell with it; they say nothing of the path.
      const pauseAffected = s.pauseEndMs !== undefined && nowMs < s.pauseEndMs + pauseSettleMs;
      // Figures whose interval held a host stall: its bytes moved between intervals, and its samples aged by it.
      const stallAffected = stall > 0;
      // Congestion signals: strong ones act at once, weak ones once confirmed (confirmTicks).
      const strong: string[] = [];
      const weak: string[] = [];
      // Whether the signals say what the path carries (goodput, a full queue, drops): then the step goes to the
      // level that fits the goodput; an age rise alone says a queue builds, not how fast: one level down.
      let capacityShown = false;
      const queueLimit = Math.max(queueFloorBytes, (link.sentBytesPerSec * queueMs) / 1000);
      // The link's background loss: what every figure shows whatever the rate (random loss), not a queue overflowing.
      const { floor, lossy } = background(s);
      // The stream's rates (ctx.stream) assume the nominal frame rate; a sender slowed by its own host sends less
      // at every level. Scale the levels' estimates by what the current level actually sent, unless the sender's
      // own queue limited it (then the shortfall is the link's).
      const nominal = estimate(s.level, s.level, ctx);
      const pace =
        !pauseAffected &&
        !stallAffected &&
        nominal > 0 &&
        link.sentBytesPerSec > 0 &&
        link.droppedSamples === 0 &&
        link.queuedBytes <= queueLimit
          ? Math.max(0.1, Math.min(1, link.sentBytesPerSec / nominal))
          : 1;
      // On a lossy link SCTP holds the send queue while it waits to give up on a lost chunk (a gap report, or
      // T3-rtx after 250 ms), so one figure's queue says little there: it must grow in two in a row.
      s.queueTicks =
        link.queuedBytes > queueLimit && link.queuedBytes > s.lastQueuedBytes ? s.queueTicks + 1 : 0;
      if (s.queueTicks >= (lossy ? 2 : 1))
        strong.push(`queue ${(link.queuedBytes / 1024).toFixed(0)} KiB growing`);
      s.lastQueuedBytes = link.queuedBytes;
      if (link.droppedSamples > 0) strong.push(`${link.droppedSamples} samples dropped by backpressure`);
      const loss = link.lossRate ?? 0;
      const probing = s.probe !== undefined && nowMs - s.probe.atMs <= probeWindowMs;
      if (link.reportNew !== false) s.reportsSinceDrop++;
      const goodput = link.goodputBytesPerSec;
      // What was sent, as the goodput is compared with it: over the window the receiver's report covers, when the
      // transport knows it (docs/NETLAB.md, "Reports that slide"). Otherwise the lower of this interval's and the
      // previous one's: such a report lags the sender's count by up to an interval, so a burst the sender just
      // caught up on (its host stalled, then sent three frames at once) is not yet in the goodput; a path that fell
      // shows against both intervals' rates alike. (Right after a probe up the rise is expected: this interval's
      // rate. That judges a probe on a report that may still cover the time before it: on a long path, healthy
      // probes read as a collapse, docs/NETLAB.md, "Outages and lagging reports".)
      const sent =
        link.reportSentBytesPerSec !== undefined
          ? link.reportSentBytesPerSec
          : s.lastSent !== undefined && !probing
            ? Math.min(link.sentBytesPerSec, s.lastSent)
            : link.sentBytesPerSec;
      s.lastSent = link.sentBytesPerSec;
      const expected = (1 - loss) * sent;
      // A collapse (goodput well below what was sent, loss or not: a full bottleneck drops, and that loss is
      // no excuse) acts at once. Only the link's background loss is taken off first: what every figure loses, at
      // any rate, is not a queue overflowing (on a clean link it is 0).
      // On a lossy link it must show in two figures in a row (SCTP stalls there for up to a second now and then
      // whatever the rate: a collapse of one figure; right after a probe up, one is enough).
      const collapseNow =
        goodput !== undefined &&
        goodput < sent * goodputCollapseRatio * (1 - floor) &&
        sent - goodput > goodputMinDeficit;
      s.collapseTicks = collapseNow && !pauseAffected && !stallAffected ? s.collapseTicks + 1 : 0;
      const collapse = collapseNow && (!lossy || probing || s.collapseTicks >= 2);
      if (pauseAffected || stallAffected) {
        s.cleanSinceMs = nowMs; // not clean either: no probing on them
      } else if (
        goodput !== undefined &&
        sent > 0 &&
        (collapse || (goodput < expected * goodputRatio && expected - goodput > goodputMinDeficit))
      ) {
        // A milder deficit must show over the last two figures together too: the receiver's window and the
        // sender's are a few samples apart, and on a busy host that alone skews one figure by 20–30% either
        // way. Right after a probe up, one figure is enough.
        const prev = s.lastGoodput;
        if (
          collapse ||
          probing ||
          (prev !== undefined && goodput + prev.goodput < (expected + prev.expected) * goodputRatio)
        ) {
          weak.push(`goodput ${fmtRate(goodput)} < sent ${fmtRate(sent)}`);
          capacityShown = true;
        } else s.cleanSinceMs = nowMs; // not clean either: no probing on it
      }
      s.lastGoodput = goodput !== undefined && !stallAffected ? { goodput, expected } : undefined;
      const goodputCollapsed = collapse && sent > 0 && !pauseAffected && !stallAffected;
      // Loss beyond the background (on a clean link, all of it): a queue overflowing. One interval's loss figure
      // of a randomly lossy link swings widely (30 packets at 20%: ±7 points, 36–43% seen), so only its excess
      // counts; and, as for a goodput deficit, only where what was lost is more than a few kbit/s (a private stream
      // of ~8 packets an interval reads 0–55% at 20% loss, and fills no queue).
      if (
        link.lossRate !== undefined &&
        !outage &&
        link.lossRate - floor >= congestionLossRate &&
        link.lossRate * link.sentBytesPerSec > goodputMinDeficit
      ) {
        weak.push(`loss ${fmtLoss(link.lossRate)}${floor > 0 ? ` (background ${fmtLoss(floor)})` : ''}`);
        capacityShown = true;
      }
      // How far the age at arrival rose above its recent minimum: about the queue on the path now.
      let ageRise = 0;
      if (link.ageP95Ms !== undefined) {
        s.ages.push({ atMs: nowMs, p95Ms: link.ageP95Ms });
        while (s.ages.length > 0 && s.ages[0]!.atMs < nowMs - ageWindowMs) s.ages.shift();
        const base = Math.min(...s.ages.map((a) => a.p95Ms));
        // Less the longest host stall of the interval: it aged the samples it held back by up to its length.
        ageRise = Math.max(0, link.ageP95Ms - stall - base);
        // While the queue built before a step down drains, its age says nothing about the new level.
        s.ageTicks = ageRise > ageRiseMs && !draining ? s.ageTicks + 1 : 0;
        // Alone, an age rise counts once it persisted (ageConfirmTicks); beside another signal, or right after a
        // probe up (when a queue is what to expect, and undoing the probe is cheap), at once.
        if (
          s.ageTicks > 0 &&
          (weak.length > 0 || strong.length > 0 || probing || s.ageTicks >= ageConfirmTicks)
        )
          weak.push(
            `age p95 ${link.ageP95Ms.toFixed(0)} ms (base ${base.toFixed(0)}${stall ? `, host stall ${stall.toFixed(0)} ms` : ''})`,
          );
        else if (s.ageTicks > 0) s.cleanSinceMs = nowMs; // not clean either: no probing on it
      }
      s.weakTicks = weak.length > 0 ? s.weakTicks + 1 : 0;
      // Strong signals count even while warming up: a growing queue or dropped samples are never noise.
      const signals = [...strong, ...(warm && s.weakTicks >= confirmTicks ? weak : [])];
      if (signals.length === 0 && (!warm || weak.length > 0)) {
        s.cleanSinceMs = nowMs; // not clean either: no probing on unconfirmed or warm-up figures
      }

      // While draining, queue and age signals are the old queue's; but a goodput clearly below what the current
      // level itself needs (< goodputRatio of it) says the last step was not enough (the path fell further than
      // the first figures showed): step again, to the goodput fit.
      const shortOfLevel =
        draining &&
        !pauseAffected &&
        !stallAffected &&
        goodput !== undefined &&
        goodput > 0 &&
        s.level > 0 &&
        goodput < nominal * pace * goodputRatio * (1 - floor);
      // A drop that was an outage, not the path's rate: what the path held back arrives once it is back, and the
      // goodput then shows it carries more than the level the drop went to (bytes that arrived in an interval are
      // at most what the path can carry in it; a pause's goodput is what drains). Back up to the level the goodput
      // fits (with the `fitFraction` margin the step used), at most the one before the drop. Not as a probe: the
      // goodput has shown the path carries it, and a probe is judged on the next figure at its own rate, against a
      // report that may still cover the time before it (on lte-handover that undid every restore, with a 500 ms
      // pause); the usual rules step down again if the path does not carry it. A bottleneck that narrowed drains at
      // its new rate, which the step already fitted, so it restores nothing (without the margin it would: a level
      // at exactly the new rate "fits").
      // (netlab's lte-handover, a 0.5 s blackout, fell 5 → 0 and took the rest of the run to climb back 3 s a level.)
      // Only on a report made after the drop: the figures right after an early report's step repeat the regular
      // report from before it (netlab's bandwidth-drop restored 0 → 3 on one, and fell again 0.4 s later). And only
      // when the goodput reaches what the level before the drop sends (less the margin): an outage's catch-up
      // delivers all of that, a path that narrowed below it cannot, though a report made after the step may still
      // cover the time before the path narrowed (bandwidth-drop: 305 kbit/s against the 530 the level before sent,
      // restored 1 → 3, and the queue that built cost 0.7 s of latency).
      const restore =
        draining &&
        s.dropFrom !== undefined &&
        s.reportsSinceDrop > 0 &&
        !stallAffected &&
        goodput !== undefined &&
        goodput > 0 &&
        goodput / (1 - floor) >= estimate(s.dropFrom, s.level, ctx) * fitFraction
          ? fitLevel(s.dropFrom, s.level, ctx, (goodput / (1 - floor)) * fitFraction)
          : 0;
      if (restore > s.level && !shortOfLevel) {
        reasons.unshift(
          `goodput ${fmtRate(goodput!)} after the drop carries level ${restore}: back ${s.level} → ${restore}`,
        );
        s.probe = undefined;
        s.level = restore;
        s.dropFrom = undefined;
        s.downAtMs = undefined;
        s.cleanSinceMs = nowMs;
      } else if (signals.length > 0 && draining && !shortOfLevel) {
        // The queue built before the last step down is still draining: neither step again nor probe.
        s.cleanSinceMs = nowMs;
      } else if (shortOfLevel) {
        s.cleanSinceMs = nowMs;
        const fit = fitLevel(s.level - 1, s.level, ctx, (goodput / (1 - floor)) * fitFraction, pace);
        // The level it leaves sent more than the path carried for an interval: that much waits in the bottleneck's
        // queue, (sent − goodput) / goodput of an interval, on top of what the last step left (the age figures'
        // rise). Pause while it drains, as the first step did, else it drains at the new level's spare rate only.
        pauseMs = drainPause(s, nowMs, Math.max(ageRise, queuedBeyond(link.sentBytesPerSec, goodput)), ctx);
        reasons.unshift(
          `goodput ${fmtRate(goodput)} < level ${s.level}'s ${fmtRate(nominal * pace)}: down ${s.level} → ${fit}` +
            `${pauseMs > 0 ? `, pause ${pauseMs.toFixed(0)} ms` : ''}`,
        );
        markDrop(s, s.level, draining, false);
        s.level = fit;
        s.downAtMs = nowMs;
        s.ageTicks = 0;
        s.probe = undefined;
      } else if (signals.length > 0) {
        s.cleanSinceMs = nowMs;
        let target = feltStepDown(s.level, nominal, ctx);
        if (
          (capacityShown || strong.length > 0) &&
          goodput !== undefined &&
          goodput > 0 &&
          !pauseAffected &&
          !stallAffected
        )
          // What the path carries for this stream: the goodput and what its background loss took.
          target = Math.min(
            target,
            fitLevel(s.level, s.level, ctx, (goodput / (1 - floor)) * fitFraction, pace),
          );
        const probeFailed = s.probe !== undefined && nowMs - s.probe.atMs <= probeWindowMs;
        if (probeFailed) {
          // The probe failed: back off before trying that level again.
          backOff(s, s.level);
          // The level it came from was fine, and a goodput measured while probing says nothing more — unless it
          // collapsed: then the path itself fell (a drop during the probe) and the goodput fit stands.
          target = goodputCollapsed ? Math.min(s.probe!.from, target) : s.probe!.from;
        }
        s.probe = undefined;
        target = Math.max(0, target);
        if (target < s.level) {
          // Where a queue built on the path (the age figures' rise, or what a goodput collapse left queued; less
          // what the sender's own delay explains), pause too: the queue then drains at the path's whole rate, not at the
          // spare rate of the new level (a 200 ms queue at a level using 3/4 of the path would take 800 ms).
          // A collapse says a queue is full too, before any age figure can: what was sent beyond the goodput over
          // an interval waits there (or was dropped), for (sent − goodput) / goodput of an interval.
          const excessMs =
            goodputCollapsed && goodput !== undefined && goodput > 0 ? queuedBeyond(sent, goodput) : 0;
          pauseMs = drainPause(s, nowMs, Math.max(ageRise, excessMs), ctx);
          reasons.unshift(
            `${signals.join(', ')}: down ${s.level} → ${target}${pauseMs > 0 ? `, pause ${pauseMs.toFixed(0)} ms` : ''}`,
          );
          markDrop(s, s.level, draining, probeFailed);
          s.level = target;
          s.downAtMs = nowMs;
          s.ageTicks = 0;
        }
      } else {
        if (s.probe !== undefined && nowMs - s.probe.atMs > probeWindowMs) {
          s.holdMs.delete(s.level); // the probed level held: forget its backoff
          s.probe = undefined;
        }
        const next = s.level + 1;
        const hold = s.holdMs.get(next) ?? upHoldMs;
        if (next <= top && s.probe === undefined && nowMs - s.cleanSinceMs >= hold) {
          reasons.push(
            `headroom for ${((nowMs - s.cleanSinceMs) / 1000).toFixed(0)} s: probe up ${s.level} → ${next}`,
          );
          s.probe = { from: s.level, atMs: nowMs };
          s.level = next;
          s.cleanSinceMs = nowMs;
        }
      }

      const changed = s.last === undefined || before.level !== s.level || before.lossRate !== s.lossRate;
      const reason =
        reasons.length > 0
          ? reasons.join('; ')
          : s.last === undefined
            ? `start at level ${s.level}`
            : `hold level ${s.level}`;
      s.last = makeDecision(s, changed, reason, pauseMs);
      return s.last;
    },
    forget(peerId) {
      peers.delete(peerId);
    },
  };
}

/** How long a queue keeps growing after an early report left the receiver, for its pause, ms (see `early`). */
const PAUSE_GROWTH_MS = 100;
/** After a pause, samples sent before it may still arrive aged this long; an early report after that is news, ms. */
const EARLY_AFTER_PAUSE_MS = 300;

function cost(l: AdaptationLevel): number {
  return l.rateSymbols * l.bits;
}
