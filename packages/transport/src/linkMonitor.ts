import { AGE_WINDOW_SAMPLES, DEFAULT_STATS_INTERVAL_MS, SENT_LOG_MS } from './defaults.js';
import type { AgeStats, ChannelKind, ChannelStats, DropReason, LinkReport, LinkStats } from './types.js';

/**
 * Packets a sender numbered and those of them that came, over a run of packet numbers (cumulative; a number
 * far below the run's first starts a new run: the sender restarted). Unlike counting the packets missing from
 * reassembled samples, it sees samples lost whole. Duplicates are counted once (the last
 * {@link PacketCount.DEDUP_WINDOW} numbers are remembered).
 */
export class PacketCount {
  static readonly DEDUP_WINDOW = 1024;
  /** A number at most this far below the run's first is a reordered packet; further below, a new run. */
  static readonly REORDER_SLACK = 64;
  #first: number | undefined;
  #highest = -1;
  #received = 0;
  #recent = new Set<number>();
  #closed = { expected: 0, lost: 0 };

  /** Records one received packet number. */
  observe(pseq: number): void {
    if (this.#first !== undefined && pseq < this.#first && this.#first - pseq <= PacketCount.REORDER_SLACK) {
      this.#first = pseq; // reordered: it was sent before the first that came
    } else if (this.#first === undefined || pseq < this.#first) {
      this.restart();
      this.#first = pseq;
      this.#highest = pseq;
    }
    if (this.#recent.has(pseq)) return;
    this.#recent.add(pseq);
    if (this.#recent.size > PacketCount.DEDUP_WINDOW)
      this.#recent.delete(this.#recent.values().next().value!);
    if (pseq > this.#highest) this.#highest = pseq;
    this.#received++;
  }

  /** Ends the current run (a new subscription): what is missing from it stays counted; the gap to the next is not. */
  restart(): void {
    this.#closed = this.totals();
    this.#first = undefined;
    this.#highest = -1;
    this.#received = 0;
    this.#recent.clear();
  }

  /** Packets numbered so far (first to highest of each run) and of them those that never came. */
  totals(): { expected: number; lost: number } {
    const expected = this.#first === undefined ? 0 : this.#highest - this.#first + 1;
    return {
      expected: this.#closed.expected + expected,
      lost: this.#closed.lost + Math.max(0, expected - this.#received),
    };
  }
}

/**
 * Loss of one unreliable channel from gaps in its packet sequence numbers (pseq), interval by interval.
 * Reordered packets that arrive within the interval are not counted as lost.
 */
export class LossEstimator {
  #base: number | undefined;
  #highest = -1;
  #receivedNew = 0;
  /** Packets lost in closed intervals since the start. */
  lostPackets = 0;

  /** Records one received packet sequence number. */
  observe(pseq: number): void {
    if (this.#base === undefined) {
      // Nothing before the first packet counts as lost.
      this.#base = pseq - 1;
      this.#highest = pseq - 1;
    }
    if (pseq > this.#base) this.#receivedNew++;
    if (pseq > this.#highest) this.#highest = pseq;
  }

  /** Closes the interval: loss 0..1 over it, or undefined when nothing new was expected. */
  closeInterval(): number | undefined {
    const c = this.closeCounts();
    return c && c.expected > 0 ? c.lost / c.expected : undefined;
  }

  /** Closes the interval: packets numbered in it and of them those that never came (undefined before the first packet). */
  closeCounts(): { expected: number; lost: number } | undefined {
    if (this.#base === undefined) return undefined;
    const expected = Math.max(0, this.#highest - this.#base);
    const received = Math.min(this.#receivedNew, expected);
    this.#base = this.#highest;
    this.#receivedNew = 0;
    this.lostPackets += expected - received;
    return { expected, lost: expected - received };
  }
}

/** Nearest-rank percentile of a sorted array. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank]!;
}

/** Ages of the last {@link AGE_WINDOW_SAMPLES} samples of an interval. */
export class AgeWindow {
  #values: number[] = [];
  #count = 0;

  add(ageMs: number): void {
    // Ages come from the estimated clock offset: on a short path its error can make one slightly negative,
    // which the peer's report check (a time is ≥ 0) would refuse along with the whole report. Not NaN either.
    if (!Number.isFinite(ageMs)) return;
    ageMs = Math.max(0, ageMs);
    if (this.#values.length < AGE_WINDOW_SAMPLES) this.#values.push(ageMs);
    else this.#values[this.#count % AGE_WINDOW_SAMPLES] = ageMs;
    this.#count++;
  }

  /** p50/p95 of the interval, then starts a new one. */
  closeInterval(): AgeStats | undefined {
    if (this.#values.length === 0) return undefined;
    const sorted = [...this.#values].sort((a, b) => a - b);
    const out = { p50Ms: percentile(sorted, 50), p95Ms: percentile(sorted, 95), count: this.#count };
    this.#values = [];
    this.#count = 0;
    return out;
  }
}

/** One slice of a {@link ReportWindow}: what arrived between the previous report and this one. */
interface ReportSlice {
  startMs: number;
  bytes: number;
  loss: Record<'public' | 'private', { expected: number; lost: number }>;
  /** The longest outage that ended in the slice, ms (0: none). */
  outageMs: number;
}

/** An arrival gap at least this long, ended by packets that skip this many numbers, is an outage (ReportWindow). */
export const OUTAGE_MIN_GAP_MS = 250;
export const OUTAGE_MIN_LOST_PACKETS = 3;

/**
 * The receive side over a window that slides by report: every report closes a slice (bytes, packets expected and
 * lost per channel) and covers the slices of the last `windowMs`, with the ages of the samples that arrived in
 * them. Reports every 100 ms over a 500 ms window keep the figures' statistics (a window as long as the stats
 * interval) while their sender, deciding on its own interval, gets a report at most 100 ms old instead of up to
 * an interval old.
 */
export class ReportWindow {
  readonly #windowMs: number;
  readonly #loss = { public: new LossEstimator(), private: new LossEstimator() };
  #slices: ReportSlice[] = [];
  #sliceStartMs: number;
  #bytes = 0;
  /** Ages of the samples that arrived in the window, oldest first, at most {@link AGE_WINDOW_SAMPLES}. */
  #ages: { atMs: number; ageMs: number }[] = [];
  /** For outages: the last sample-channel arrival, the highest number per channel, the current slice's longest. */
  #lastArrivalMs: number | undefined;
  readonly #highest: Record<'public' | 'private', number | undefined> = {
    public: undefined,
    private: undefined,
  };
  #outageMs = 0;

  constructor(nowMs: number, windowMs: number) {
    this.#sliceStartMs = nowMs;
    this.#windowMs = windowMs;
  }

  onReceived(bytes: number): void {
    this.#bytes += bytes;
  }

  /**
   * A packet of a sample channel arrived (at `nowMs`, when known). Nothing arriving for {@link OUTAGE_MIN_GAP_MS}
   * and then packets that skip {@link OUTAGE_MIN_LOST_PACKETS} numbers or more is an outage: the path carried nothing
   * for a while and came back. A sender that paused, or a stream this slow, skips no numbers; a host that stalled
   * held the packets in its socket's buffer (it lost none); a path that narrowed still delivers, at its new rate.
   */
  onPacketSeq(kind: 'public' | 'private', pseq: number, nowMs?: number, hostStalled = false): void {
    this.#loss[kind].observe(pseq);
    if (nowMs === undefined) return;
    const gapMs = this.#lastArrivalMs === undefined ? 0 : nowMs - this.#lastArrivalMs;
    const highest = this.#highest[kind];
    if (
      !hostStalled &&
      gapMs >= OUTAGE_MIN_GAP_MS &&
      highest !== undefined &&
      pseq - highest - 1 >= OUTAGE_MIN_LOST_PACKETS
    )
      this.#outageMs = Math.max(this.#outageMs, gapMs);
    this.#lastArrivalMs = Math.max(this.#lastArrivalMs ?? nowMs, nowMs);
    if (highest === undefined || pseq > highest || highest - pseq > PacketCount.REORDER_SLACK)
      this.#highest[kind] = pseq;
  }

  onAge(atMs: number, ageMs: number): void {
    if (!Number.isFinite(ageMs)) return; // as AgeWindow
    this.#ages.push({ atMs, ageMs: Math.max(0, ageMs) });
    if (this.#ages.length > AGE_WINDOW_SAMPLES) this.#ages.shift();
  }

  /**
   * Closes the current slice and returns the figures of the window that ends now: its length (from the start of
   * its oldest slice), bytes/s, loss per channel, the ages' percentiles and the longest outage that ended in it.
   */
  close(
    nowMs: number,
  ): Pick<LinkReport, 'intervalMs' | 'lossRate' | 'receivedBytesPerSec' | 'age' | 'outageMs'> {
    this.#slices.push({
      startMs: this.#sliceStartMs,
      bytes: this.#bytes,
      loss: {
        public: this.#loss.public.closeCounts() ?? { expected: 0, lost: 0 },
        private: this.#loss.private.closeCounts() ?? { expected: 0, lost: 0 },
      },
      outageMs: this.#outageMs,
    });
    this.#sliceStartMs = nowMs;
    this.#bytes = 0;
    this.#outageMs = 0;
    // The window reaches back at least `windowMs` (to the start of the slice holding that time): older slices go,
    // and the newest always stays (a report late by more than the window).
    while (this.#slices.length > 1 && this.#slices[1]!.startMs <= nowMs - this.#windowMs)
      this.#slices.shift();
    const fromMs = this.#slices[0]!.startMs;
    while (this.#ages.length > 0 && this.#ages[0]!.atMs < fromMs) this.#ages.shift();
    const intervalMs = Math.max(1, nowMs - fromMs);
    let bytes = 0;
    let outageMs = 0;
    const expected = { public: 0, private: 0 };
    const lost = { public: 0, private: 0 };
    for (const sl of this.#slices) {
      bytes += sl.bytes;
      outageMs = Math.max(outageMs, sl.outageMs);
      for (const k of ['public', 'private'] as const) {
        expected[k] += sl.loss[k].expected;
        lost[k] += sl.loss[k].lost;
      }
    }
    const rate = (k: 'public' | 'private') => (expected[k] > 0 ? lost[k] / expected[k] : undefined);
    let age: AgeStats | undefined;
    if (this.#ages.length > 0) {
      const sorted = this.#ages.map((a) => a.ageMs).sort((a, b) => a - b);
      age = { p50Ms: percentile(sorted, 50), p95Ms: percentile(sorted, 95), count: sorted.length };
    }
    return {
      intervalMs,
      lossRate: { public: rate('public'), private: rate('private') },
      receivedBytesPerSec: (bytes * 1000) / intervalMs,
      age,
      ...(outageMs > 0 ? { outageMs: Math.round(outageMs) } : {}),
    };
  }
}

/**
 * What this end sent, for the last {@link SENT_LOG_MS}: the bytes in a window of its own clock, to compare with a
 * peer's report of what it received over the same window (moved by the one-way delay).
 */
export class SentLog {
  /** Cumulative bytes after the sends of a 5 ms slot, by the slot's first send, oldest first. */
  #marks: { atMs: number; total: number }[] = [];
  #total = 0;
  /** Cumulative bytes before the first mark kept. */
  #base = 0;
  #sinceMs: number;

  constructor(nowMs: number) {
    this.#sinceMs = nowMs;
  }

  add(nowMs: number, bytes: number): void {
    this.#total += bytes;
    const last = this.#marks.at(-1);
    if (last && nowMs - last.atMs < 5) last.total = this.#total;
    else this.#marks.push({ atMs: nowMs, total: this.#total });
    while (this.#marks.length > 1 && this.#marks[0]!.atMs < nowMs - SENT_LOG_MS) {
      this.#base = this.#marks.shift()!.total;
      this.#sinceMs = this.#marks[0]!.atMs;
    }
  }

  /** Bytes sent before `atMs` (cumulative). */
  #totalAt(atMs: number): number {
    let lo = 0;
    let hi = this.#marks.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.#marks[mid]!.atMs < atMs) lo = mid + 1;
      else hi = mid;
    }
    return lo === 0 ? this.#base : this.#marks[lo - 1]!.total;
  }

  /** Bytes per second sent over [fromMs, toMs); undefined when the log does not reach back to `fromMs`. */
  rate(fromMs: number, toMs: number): number | undefined {
    if (!(toMs > fromMs) || fromMs < this.#sinceMs) return undefined;
    return ((this.#totalAt(toMs) - this.#totalAt(fromMs)) * 1000) / (toMs - fromMs);
  }
}

/** Figures the link adds to a snapshot: live buffer depths and the drop counters its parts keep. */
export interface MonitorExtras {
  bufferedAmountBytes: Record<ChannelKind, number>;
  queuedBytes: Record<ChannelKind, number>;
  drops: Record<DropReason, number>;
  sendDroppedSamples: { backpressure: number; stale: number };
  controlRejected: number;
  samplesComplete: number;
  samplesIncomplete: number;
  faultDrops: { packets: number; samples: number };
  earlyReports: { sent: number; received: number };
  hostStalls: { count: number; maxMs: number; unmeasuredSamples: number; intervalMaxMs: number };
}

const KINDS: readonly ChannelKind[] = ['control', 'public', 'private'];
/** How many recent pongs the clock-offset estimate looks at (it keeps the one with the smallest RTT). */
const OFFSET_WINDOW = 8;

/** The link monitor's pure core: counts bytes, loss, ages and RTT, and turns them into {@link LinkStats}. */
export class LinkMonitor {
  readonly #sent = { control: 0, public: 0, private: 0 };
  readonly #recv = { control: 0, public: 0, private: 0 };
  readonly #sentMessages = { control: 0, public: 0, private: 0 };
  readonly #recvMessages = { control: 0, public: 0, private: 0 };
  readonly #loss = { public: new LossEstimator(), private: new LossEstimator() };
  readonly #ages = new AgeWindow();
  readonly #pongs: { rttMs: number; offsetMs: number }[] = [];
  #intervalStartMs: number;
  #rttMs: number | undefined;
  #clockOffsetMs = 0;
  #remote: LinkReport | undefined;
  /** Whether a snapshot (or an early emission) has carried {@link remote} yet. */
  #remoteCarried = true;
  readonly #window: ReportWindow;
  readonly #sentLog: SentLog;

  /** `reportWindowMs`: what each {@link report} covers (the stats interval). */
  constructor(nowMs: number, reportWindowMs = DEFAULT_STATS_INTERVAL_MS) {
    this.#intervalStartMs = nowMs;
    this.#window = new ReportWindow(nowMs, reportWindowMs);
    this.#sentLog = new SentLog(nowMs);
  }

  /** The last report from the peer. */
  get remote(): LinkReport | undefined {
    return this.#remote;
  }

  /**
   * Takes the peer's report. Several arrive between this end's snapshots (every 100 ms against 500; and the two
   * ends' intervals drift): the ones replaced unseen still give their stall and outage, the longest of each, so
   * neither is lost to the overlap. Their window's figures give way to the newer report's.
   */
  receiveReport(report: LinkReport): LinkReport {
    const prev = this.#remote;
    let kept = report;
    if (prev && !this.#remoteCarried) {
      if ((prev.stallMs ?? 0) > (report.stallMs ?? 0)) kept = { ...kept, stallMs: prev.stallMs };
      if ((prev.outageMs ?? 0) > (report.outageMs ?? 0)) kept = { ...kept, outageMs: prev.outageMs };
    }
    this.#remote = kept;
    this.#remoteCarried = false;
    return kept;
  }

  /** The last report has gone out to the consumer outside a snapshot (an early report's emission). */
  remoteCarried(): void {
    this.#remoteCarried = true;
  }

  /** Estimated remote clock minus local clock, milliseconds. */
  get clockOffsetMs(): number {
    return this.#clockOffsetMs;
  }

  get rttMs(): number | undefined {
    return this.#rttMs;
  }

  /** Bytes handed to a channel; with `nowMs`, also logged for {@link sentOverRemoteWindow}. */
  onSent(kind: ChannelKind, bytes: number, nowMs?: number): void {
    this.#sent[kind] += bytes;
    this.#sentMessages[kind]++;
    if (nowMs !== undefined) this.#sentLog.add(nowMs, bytes);
  }

  onReceived(kind: ChannelKind, bytes: number): void {
    this.#recv[kind] += bytes;
    this.#recvMessages[kind]++;
    this.#window.onReceived(bytes);
  }

  /** A packet's number on an unreliable channel, when it arrived (when known), and whether this host had stalled then. */
  onPacketSeq(kind: 'public' | 'private', pseq: number, nowMs?: number, hostStalled = false): void {
    this.#loss[kind].observe(pseq);
    this.#window.onPacketSeq(kind, pseq, nowMs, hostStalled);
  }

  /**
   * Age of a sample when its first packet arrived, at `arrivalMs` on the link's clock, milliseconds. The
   * arrival places the age in the report's sliding window (an age placed at 0 would leave it at once).
   */
  onAge(ageMs: number, arrivalMs: number): void {
    this.#ages.add(ageMs);
    this.#window.onAge(arrivalMs, ageMs);
  }

  /**
   * This end's receive side over the last report window (sliding: each call closes a slice of it), as sent to the
   * peer in a `link-report`; `stallMs`, the longest host stall within the window.
   */
  report(nowMs: number, drops: Record<DropReason, number>, stallMs: number): LinkReport {
    return {
      timestampMs: nowMs,
      ...this.#window.close(nowMs),
      drops: { ...drops },
      ...(stallMs > 0 ? { stallMs: Math.round(stallMs) } : {}),
    };
  }

  /**
   * Bytes per second this end sent over the window the peer's last report covers, moved back by half the RTT
   * (what left here then is what arrived there in the window): what that report's goodput is to be compared with.
   * Undefined before a report and an RTT, for a report without its window (`intervalMs`), or beyond the log.
   */
  sentOverRemoteWindow(): number | undefined {
    const r = this.#remote;
    if (!r?.intervalMs || this.#rttMs === undefined) return undefined;
    const toMs = r.timestampMs - this.#clockOffsetMs - this.#rttMs / 2;
    return this.#sentLog.rate(toMs - r.intervalMs, toMs);
  }

  /** A pong: `t0` local send time, `t1` the peer's time when it answered, `t2` local arrival time. */
  onPong(t0Ms: number, t1Ms: number, t2Ms: number): void {
    const rttMs = Math.max(0, t2Ms - t0Ms);
    this.#rttMs = rttMs;
    this.#pongs.push({ rttMs, offsetMs: t1Ms - (t0Ms + t2Ms) / 2 });
    if (this.#pongs.length > OFFSET_WINDOW) this.#pongs.shift();
    let best = this.#pongs[0]!;
    for (const p of this.#pongs) if (p.rttMs < best.rttMs) best = p;
    this.#clockOffsetMs = best.offsetMs;
  }

  /** Closes the interval and returns its stats. */
  snapshot(nowMs: number, extras: MonitorExtras): LinkStats {
    const intervalMs = Math.max(1, nowMs - this.#intervalStartMs);
    const perSec = (bytes: number) => (bytes * 1000) / intervalMs;
    const channels = {} as Record<ChannelKind, ChannelStats>;
    let sentTotal = 0;
    let recvTotal = 0;
    for (const k of KINDS) {
      const loss = k === 'control' ? undefined : this.#loss[k];
      channels[k] = {
        sentBytesPerSec: perSec(this.#sent[k]),
        receivedBytesPerSec: perSec(this.#recv[k]),
        sentMessages: this.#sentMessages[k],
        receivedMessages: this.#recvMessages[k],
        bufferedAmountBytes: extras.bufferedAmountBytes[k],
        queuedBytes: extras.queuedBytes[k],
        lossRate: loss?.closeInterval(),
        lostPackets: loss?.lostPackets ?? 0,
      };
      sentTotal += this.#sent[k];
      recvTotal += this.#recv[k];
      this.#sent[k] = 0;
      this.#recv[k] = 0;
    }
    this.#intervalStartMs = nowMs;
    this.#remoteCarried = true;
    return {
      timestampMs: nowMs,
      intervalMs,
      rttMs: this.#rttMs,
      clockOffsetMs: this.#clockOffsetMs,
      channels,
      sentBytesPerSec: perSec(sentTotal),
      receivedBytesPerSec: perSec(recvTotal),
      age: this.#ages.closeInterval(),
      drops: { ...extras.drops },
      sendDroppedSamples: { ...extras.sendDroppedSamples },
      controlRejected: extras.controlRejected,
      samplesComplete: extras.samplesComplete,
      samplesIncomplete: extras.samplesIncomplete,
      faultDrops: { ...extras.faultDrops },
      earlyReports: { ...extras.earlyReports },
      hostStalls: { ...extras.hostStalls },
      remote: this.#remote,
      remoteSentBytesPerSec: this.sentOverRemoteWindow(),
    };
  }
}

/** What {@link QueueTrend} saw: a queue building on the path, from the samples' ages at arrival. */
export interface QueueSignal {
  /** Age of the newest sample above the lowest age of the window, ms: about the queue's delay now. */
  riseMs: number;
  /** Bytes per second that arrived while the queue built: about the path's rate. */
  rateBytesPerSec: number;
  /** Samples in the rising run. */
  samples: number;
}

/** Options of {@link QueueTrend}. */
export interface QueueTrendOptions {
  /** The newest age must exceed the window's lowest by this, and the run must have risen by half of it, ms. Default 100. */
  minRiseMs?: number;
  /** Samples in a run of non-decreasing ages. Default 3. */
  minSamples?: number;
  /** Their first arrivals must span at least this, ms (a burst handled at once is a host stall, not a queue). Default 50. */
  minSpanMs?: number;
  /** Window of the lowest age, ms. Default 10 000. */
  windowMs?: number;
}

/**
 * Tells a queue building on the path from a stalled host, sample by sample, so a receiver can report a
 * bandwidth drop at once instead of at its next interval (RFC 4585's early feedback, on the age signal).
 * A queue makes each sample's age at arrival exceed the previous one's while the samples arrive spread
 * out at the path's rate; a host stall makes samples arrive together, oldest first, so their ages fall.
 * It fires when a run of at least `minSamples` non-decreasing ages, spread over `minSpanMs` of arrivals, with
 * two or more of them above the window's lowest age by `minRiseMs / 4` and still growing by as much, rose by `minRiseMs / 2` and ends
 * `minRiseMs` above that lowest age; then it starts a new run.
 */
export class QueueTrend {
  readonly #minRiseMs: number;
  readonly #minSamples: number;
  readonly #minSpanMs: number;
  readonly #windowMs: number;
  /** Window minimum: a monotonic deque of (arrival, age). */
  readonly #mins: { atMs: number; ageMs: number }[] = [];
  #run: { atMs: number; ageMs: number; bytes: number }[] = [];
  #lastAtMs = Number.NEGATIVE_INFINITY;

  constructor(options: QueueTrendOptions = {}) {
    this.#minRiseMs = options.minRiseMs ?? 100;
    this.#minSamples = options.minSamples ?? 3;
    this.#minSpanMs = options.minSpanMs ?? 50;
    this.#windowMs = options.windowMs ?? 10_000;
  }

  /** One sample: when its first packet arrived and its age then (ms), and its bytes. */
  observe(arrivalMs: number, ageMs: number, bytes: number): QueueSignal | undefined {
    if (!Number.isFinite(arrivalMs) || !Number.isFinite(ageMs)) return undefined;
    // A sample released late from the reassembler's hold says nothing about the order of arrivals.
    if (arrivalMs < this.#lastAtMs) return undefined;
    this.#lastAtMs = arrivalMs;
    while (this.#mins.length > 0 && this.#mins.at(-1)!.ageMs >= ageMs) this.#mins.pop();
    this.#mins.push({ atMs: arrivalMs, ageMs });
    while (this.#mins[0]!.atMs < arrivalMs - this.#windowMs) this.#mins.shift();
    const base = this.#mins[0]!.ageMs;
    // Non-decreasing within a few ms (samples of one frame, the clock's granularity).
    if (this.#run.length > 0 && ageMs < this.#run.at(-1)!.ageMs - 5) this.#run = [];
    this.#run.push({ atMs: arrivalMs, ageMs, bytes });
    // Within the window only: on a steady path ages never fall, and the run grew without end (memory, and a scan
    // of it per sample: 10 % of the CPU at 50 000 samples/s). Trimmed in halves, so the copy is amortised.
    if (this.#run[0]!.atMs < arrivalMs - this.#windowMs) {
      const keep = this.#run.findIndex((x) => x.atMs >= arrivalMs - this.#windowMs);
      if (keep >= this.#run.length / 2) this.#run = this.#run.slice(keep);
    }
    const run = this.#run;
    const first = run[0]!;
    const spanMs = arrivalMs - first.atMs;
    // The cheap tests first: on a path with no queue the age stays near the base, and the scan below is skipped.
    if (
      ageMs - base < this.#minRiseMs ||
      run.length < this.#minSamples ||
      spanMs < this.#minSpanMs ||
      ageMs - first.ageMs < this.#minRiseMs / 2
    )
      return undefined;
    // At least two samples in the run above the base: the first sample of a burst from a stalled host is also
    // old, but the next one is younger.
    // And still growing among those: a path that got longer in one step (ages high but flat) is no queue.
    const above = base + this.#minRiseMs / 4;
    const firstQueued = run.findIndex((x) => x.ageMs > above);
    const secondQueued = firstQueued < 0 ? -1 : run.findIndex((x, i) => i > firstQueued && x.ageMs > above);
    if (secondQueued < 0 || ageMs - run[firstQueued]!.ageMs < this.#minRiseMs / 4) return undefined;
    // The rate: what arrived from the last sample before the queue (age still near the base) to this one, i.e.
    // every sample from there but this one. Earlier samples of the run crossed the path before it narrowed.
    let start = Math.max(0, firstQueued - 1);
    if (arrivalMs - run[start]!.atMs < this.#minSpanMs) start = 0;
    let bytesIn = 0;
    for (let i = start; i < run.length - 1; i++) bytesIn += run[i]!.bytes;
    const rate = (bytesIn * 1000) / (arrivalMs - run[start]!.atMs);
    const signal = { riseMs: ageMs - base, rateBytesPerSec: rate, samples: run.length };
    this.#run = [];
    return signal;
  }
}

/** Options of {@link StallWatch}. */
export interface StallWatchOptions {
  /** How often the host's beat is meant to come (a timer's period), ms. */
  periodMs: number;
  /** A beat later than the period by more than this is a stall, ms. Default 40. */
  minStallMs?: number;
  /**
   * Arrivals this long after a stall ended are uncertain too, ms: every process of a busy host resumes at once and
   * catches up (the sender's backlog, a relay's, the decoder's), and the first samples after a 150–400 ms freeze
   * were measured ~100 ms older than the stall explains. Default 250.
   */
  settleMs?: number;
}

/**
 * Tells which arrivals waited on this host rather than on the path. A receiver stamps a packet's arrival when its
 * event loop reads it; while the host is stalled (the process descheduled or frozen on a busy machine, a long
 * synchronous job, a GC pause) packets wait in the socket's buffer and are stamped late, so their ages read as a
 * queue on the path that is not there (on a shared 2-core host: age rises of 300–450 ms on a clean link, and a
 * step down the path did not ask for). A timer beats every `periodMs`; a beat that comes late by more than
 * `minStallMs` ends a stall. An arrival is uncertain when it was stamped during a stall not yet ended by a beat
 * (the event loop read its I/O before its timers), or within a stall that a beat ended, up to {@link endCatchUp}
 * (the loop ran its timers first: the I/O that waited comes right after the beat, in the same turn), and for
 * `settleMs` after that.
 */
export class StallWatch {
  readonly #periodMs: number;
  readonly #minStallMs: number;
  readonly #settleMs: number;
  #lastBeatMs: number | undefined;
  /** Since a {@link reset} and until the next beat: the beat is late for a reason that holds no I/O back. */
  #suspended = false;
  /**
   * Recent stalls, oldest first: from the last beat before it to the beat that ended it (`beatMs`), how long (`ms`),
   * and `toMs`, Infinity until the turn that ended it has read its I/O.
   */
  readonly #episodes: { fromMs: number; beatMs: number; ms: number; toMs: number }[] = [];
  /** Stalls seen since the start, and the longest, ms. */
  stalls = 0;
  maxStallMs = 0;
  #intervalMaxMs = 0;

  constructor(options: StallWatchOptions) {
    this.#periodMs = options.periodMs;
    this.#minStallMs = options.minStallMs ?? 40;
    this.#settleMs = options.settleMs ?? 250;
  }

  /** The timer's beat. Returns true when it ended a stall: call {@link endCatchUp} once the turn's I/O is read. */
  beat(nowMs: number): boolean {
    const last = this.#lastBeatMs;
    this.#lastBeatMs = nowMs;
    this.#suspended = false;
    if (last === undefined || nowMs - last <= this.#periodMs + this.#minStallMs) return false;
    this.stalls++;
    const stallMs = nowMs - last - this.#periodMs;
    this.maxStallMs = Math.max(this.maxStallMs, stallMs);
    this.#intervalMaxMs = Math.max(this.#intervalMaxMs, stallMs);
    this.#episodes.push({ fromMs: last, beatMs: nowMs, ms: stallMs, toMs: Number.POSITIVE_INFINITY });
    if (this.#episodes.length > MAX_STALL_EPISODES) this.#episodes.shift();
    return true;
  }

  /**
   * The beat is late for a reason that holds no I/O back (a hidden browser tab's timers run at most once a second,
   * its network events do not wait): start again from `nowMs`, with no stall, and forget the one in progress.
   * Until the next {@link beat}, no arrival is uncertain.
   */
  reset(nowMs: number): void {
    this.#lastBeatMs = nowMs;
    this.#suspended = true;
  }

  /** The longest stall since the last call (or the start), ms, 0 when none; `take` starts a new interval. */
  intervalMaxMs(take: boolean): number {
    const v = this.#intervalMaxMs;
    if (take) this.#intervalMaxMs = 0;
    return v;
  }

  /** The longest stall that a beat ended after `fromMs`, ms, 0 when none. */
  maxSinceMs(fromMs: number): number {
    let v = 0;
    for (const e of this.#episodes) if (e.beatMs > fromMs) v = Math.max(v, e.ms);
    return v;
  }

  /** The I/O that waited behind the stall's beat has been read (call it from the next `setImmediate`). */
  endCatchUp(nowMs: number): void {
    const e = this.#episodes.at(-1);
    if (e && e.toMs === Number.POSITIVE_INFINITY) e.toMs = nowMs;
  }

  /** Whether an arrival stamped `arrivalMs` (asked at `nowMs`) may have waited on this host. */
  uncertain(arrivalMs: number, nowMs: number): boolean {
    if (this.#suspended) return false;
    const last = this.#lastBeatMs;
    if (last !== undefined && nowMs - last > this.#periodMs + this.#minStallMs && arrivalMs > last)
      return true;
    for (const e of this.#episodes)
      if (arrivalMs > e.fromMs && arrivalMs <= e.toMs + this.#settleMs) return true;
    return false;
  }
}

/** Stalls {@link StallWatch} remembers: an arrival older than these is long measured. */
const MAX_STALL_EPISODES = 8;
