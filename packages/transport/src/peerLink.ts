import { BehaviorSubject, type Observable, Subject } from 'rxjs';
import { type Clock, systemClock } from './clock.js';
import { type ControlMessage, decodeControl, encodeControl } from './controlCodec.js';
import {
  CHANNEL_IDS,
  DEFAULT_CONNECT_TIMEOUT_MS,
  DEFAULT_DISCONNECTED_TIMEOUT_MS,
  DEFAULT_EARLY_REPORT_GAP_MS,
  DEFAULT_GATHER_TIMEOUT_MS,
  DEFAULT_LINK_REPORT_INTERVAL_MS,
  DEFAULT_MAX_AGE_MS,
  DEFAULT_MTU_BYTES,
  DEFAULT_OP_BUDGET_BYTES,
  DEFAULT_REASSEMBLY_TIMEOUT_MS,
  DEFAULT_STALE_AFTER_MS,
  DEFAULT_STATS_INTERVAL_MS,
  MALFORMED_LOG_INTERVAL_MS,
  MAX_CONTROL_MESSAGE_BYTES,
  MAX_PACKETS_PER_SAMPLE,
  MAX_SEQ,
  MIN_MTU_BYTES,
  REASSEMBLY_TICK_MS,
  SEND_BUFFER_HIGH_WATERMARK_BYTES,
  SEND_BUFFER_LOW_WATERMARK_BYTES,
} from './defaults.js';
import { ConnectionError, InvalidStateError, MalformedFrameError } from './errors.js';
import {
  decodeFrame,
  encodeFrame,
  isPlainObject,
  isValidStreamId,
  maxPayloadBytesFor,
  packValue,
} from './framer.js';
import { createIceRestartBackoff, type IceRestartPolicy } from './iceRestart.js';
import { Impairment } from './impairment.js';

/** How many wholly lost samples `faultLostSamples()` remembers. */
const FAULT_LOST_MEMORY = 4096;
/** A liveness tick this much later than due means the process stood still, milliseconds (ticks are 50 ms apart). */
const STALL_MS = 250;
/** Period of the host-stall beat (`StallWatch`), ms: a beat 40 ms later than this is a stall. */
const STALL_BEAT_MS = 20;
/** In a browser, whether the page is hidden (its timers throttled); always false in Node. */
const hiddenPage = (): boolean =>
  (globalThis as { document?: { visibilityState?: string } }).document?.visibilityState === 'hidden';

import { LinkMonitor, type MonitorExtras, type QueueSignal, QueueTrend, StallWatch } from './linkMonitor.js';
import { type Logger, silentLogger } from './logger.js';
import { Negotiator, validateSignal } from './negotiator.js';
import { getSharedPacer, immediate, type PacerRegistration } from './pacer.js';
import type { PeerLink, PeerLinkOptions } from './peerLinkTypes.js';
import { Reassembler } from './reassembler.js';
import { ControlSendQueue, SampleSendQueue } from './sendQueue.js';
import type {
  ChannelKind,
  DataChannelLike,
  DropReason,
  LinkReport,
  LinkState,
  LinkStats,
  PeerSignal,
  ReassembledSample,
  SampleChannel,
  SampleInput,
} from './types.js';

const KINDS: readonly ChannelKind[] = ['control', 'public', 'private'];
const SAMPLE_KINDS: readonly SampleChannel[] = ['public', 'private'];

const positiveOption = (name: string, v: number | undefined, fallback: number): number => {
  if (v === undefined) return fallback;
  if (!(typeof v === 'number' && Number.isFinite(v) && v > 0)) {
    throw new TypeError(`${name} must be a positive number, got ${String(v)}`);
  }
  return v;
};

/** Bytes of a received message: Buffer (werift), ArrayBuffer or a view (browsers); undefined for text or Blob. */
function toBytes(data: unknown): Uint8Array | undefined {
  if (data instanceof Uint8Array) return data;
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return undefined;
}

class PeerLinkImpl implements PeerLink {
  readonly role: 'offerer' | 'answerer';
  readonly mtuBytes: number;
  readonly maxPacketPayloadBytes: number;
  readonly connected: Promise<void>;
  readonly state$: Observable<LinkState>;
  readonly control$: Observable<unknown>;
  readonly samples$: Observable<ReassembledSample>;
  readonly stats$: Observable<LinkStats>;
  readonly channels: ReadonlyMap<ChannelKind, DataChannelLike>;

  readonly #o: PeerLinkOptions;
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #opBudgetBytes: number;
  readonly #highWatermarkBytes: number;
  readonly #streamIds: Record<SampleChannel, string>;
  /** Receive-side fault injection on the unreliable channels (`faults` option), if any. */
  readonly #faults: Impairment | undefined;
  /** What the fault injector dropped; `pending` counts dropped packets per (stream, seq) until a sample is wholly lost. */
  readonly #faultDrops = {
    packets: 0,
    samples: 0,
    pending: new Map<string, number>(),
    /** The most recent wholly lost samples (bounded), for exact loss accounting in soak tests. */
    lost: [] as { stream: string; seq: number }[],
  };
  readonly #channels = new Map<ChannelKind, DataChannelLike>();
  readonly #listeners: (() => void)[] = [];
  readonly #state$: BehaviorSubject<LinkState>;
  readonly #control$ = new Subject<unknown>();
  readonly #samples$ = new Subject<ReassembledSample>();
  readonly #stats$ = new Subject<LinkStats>();
  readonly #negotiator: Negotiator;
  readonly #monitor: LinkMonitor;
  readonly #reassemblers: Record<SampleChannel, Reassembler>;
  /** Early reports (undefined: off): the queue detector and when the last early report went, ms. */
  readonly #early: { trend: QueueTrend; gapMs: number; lastMs: number } | undefined;
  /** Early reports sent and received. */
  #earlyReports = { sent: 0, received: 0 };
  /** This host's stalls: for the samples whose arrival stamps they made late, and the link report's `stallMs`. */
  readonly #stalls = new StallWatch({ periodMs: STALL_BEAT_MS });
  #unmeasuredSamples = 0;
  /** The last report this end sent (an early report waits for the first), and the last stats it emitted (the peer's early report repeats them). */
  #lastReport: LinkReport | undefined;
  /** What each link report covers: the stats interval, ms. */
  readonly #reportWindowMs: number;
  /** The report timer and its period (none with `autoLinkReport: false`). */
  #reportTimer: ReturnType<typeof setInterval> | undefined;
  #reportIntervalMs = 0;
  #lastStats: LinkStats | undefined;
  readonly #sampleQueues: Record<SampleChannel, SampleSendQueue>;
  readonly #controlQueue: ControlSendQueue;
  readonly #pseq = { public: 0, private: 0 };
  readonly #malformed = {
    count: 0,
    lastLogMs: { control: -Infinity, public: -Infinity, private: -Infinity },
  };
  readonly #pacer: PacerRegistration;
  readonly #timers: ReturnType<typeof setInterval>[] = [];
  #connectTimer: ReturnType<typeof setTimeout> | undefined;
  #resolveConnected!: () => void;
  #rejectConnected!: (e: ConnectionError) => void;
  #controlRejected = 0;
  #nextSampleKind = 0;
  #closed = false;
  /** When anything last arrived on any channel (clock ms): the liveness signal behind `disconnected`. */
  #lastInboundMs = 0;
  /** When the liveness check last ran (clock ms), to tell a stalled process from a silent path. */
  #lastLivenessMs: number | undefined;
  readonly #staleAfterMs: number;
  readonly #disconnectedTimeoutMs: number;
  readonly #restartPolicy: IceRestartPolicy | undefined;
  /** While `disconnected`: since when, ICE restarts started in this episode, and the next one's timer. */
  #outage:
    | { sinceMs: number; attempts: number; timer: ReturnType<typeof setTimeout> | undefined }
    | undefined;

  constructor(o: PeerLinkOptions) {
    if (typeof o !== 'object' || o === null) throw new TypeError('createPeerLink: options are required');
    if (o.role !== 'offerer' && o.role !== 'answerer') {
      throw new TypeError(`role must be 'offerer' or 'answerer', got ${String(o.role)}`);
    }
    if (typeof o.sendSignal !== 'function') throw new TypeError('sendSignal must be a function');
    if (typeof o.pc?.createDataChannel !== 'function') throw new TypeError('pc must be an RTCPeerConnection');
    this.#o = o;
    this.role = o.role;
    this.#clock = o.clock ?? systemClock;
    this.#logger = o.logger ?? silentLogger;
    this.mtuBytes = Math.floor(positiveOption('mtuBytes', o.mtuBytes, DEFAULT_MTU_BYTES));
    this.#opBudgetBytes = Math.floor(
      positiveOption('opBudgetBytes', o.opBudgetBytes, DEFAULT_OP_BUDGET_BYTES),
    );
    this.maxPacketPayloadBytes = maxPayloadBytesFor(this.mtuBytes, this.#opBudgetBytes);
    if (this.mtuBytes < MIN_MTU_BYTES || this.maxPacketPayloadBytes < 64) {
      throw new TypeError(
        `mtuBytes ${this.mtuBytes} leaves ${this.maxPacketPayloadBytes} payload bytes with opBudgetBytes ${this.#opBudgetBytes}`,
      );
    }
    this.#highWatermarkBytes = positiveOption(
      'sendBufferHighWatermarkBytes',
      o.sendBufferHighWatermarkBytes,
      SEND_BUFFER_HIGH_WATERMARK_BYTES,
    );
    const low = positiveOption(
      'sendBufferLowWatermarkBytes',
      o.sendBufferLowWatermarkBytes,
      SEND_BUFFER_LOW_WATERMARK_BYTES,
    );
    if (low >= this.#highWatermarkBytes) {
      throw new TypeError(
        `sendBufferLowWatermarkBytes (${low}) must be below the high watermark (${this.#highWatermarkBytes})`,
      );
    }
    this.#streamIds = { public: o.streamIds?.public ?? 'public', private: o.streamIds?.private ?? 'private' };
    this.#faults = o.faults ? new Impairment(o.faults, o.faults.seed ?? 1) : undefined;
    for (const k of SAMPLE_KINDS) {
      if (!isValidStreamId(this.#streamIds[k]))
        throw new TypeError(`streamIds.${k} must be a 1..48 byte string`);
    }
    const maxAgeMs = positiveOption('maxAgeMs', o.maxAgeMs, DEFAULT_MAX_AGE_MS);
    const reassemblyTimeoutMs = positiveOption(
      'reassemblyTimeoutMs',
      o.reassemblyTimeoutMs,
      DEFAULT_REASSEMBLY_TIMEOUT_MS,
    );
    const statsIntervalMs = positiveOption('statsIntervalMs', o.statsIntervalMs, DEFAULT_STATS_INTERVAL_MS);
    const connectTimeoutMs = positiveOption(
      'connectTimeoutMs',
      o.connectTimeoutMs,
      DEFAULT_CONNECT_TIMEOUT_MS,
    );
    const gatherTimeoutMs = positiveOption('gatherTimeoutMs', o.gatherTimeoutMs, DEFAULT_GATHER_TIMEOUT_MS);
    this.#staleAfterMs = positiveOption('staleAfterMs', o.staleAfterMs, DEFAULT_STALE_AFTER_MS);
    if (this.#staleAfterMs <= statsIntervalMs) {
      throw new TypeError(
        `staleAfterMs (${this.#staleAfterMs}) must be above statsIntervalMs (${statsIntervalMs}): pings come that often`,
      );
    }
    this.#disconnectedTimeoutMs = positiveOption(
      'disconnectedTimeoutMs',
      o.disconnectedTimeoutMs,
      DEFAULT_DISCONNECTED_TIMEOUT_MS,
    );
    if (
      o.iceRestart !== undefined &&
      o.iceRestart !== false &&
      typeof o.iceRestart?.nextRestartDelayMs !== 'function'
    )
      throw new TypeError('iceRestart must be an IceRestartPolicy (nextRestartDelayMs) or false');
    this.#restartPolicy = o.iceRestart === false ? undefined : (o.iceRestart ?? createIceRestartBackoff());

    this.#reassemblers = {
      public: new Reassembler({ channel: 'public', reassemblyTimeoutMs, maxAgeMs }),
      private: new Reassembler({ channel: 'private', reassemblyTimeoutMs, maxAgeMs }),
    };
    const queueOptions = { maxBytes: o.sampleQueueMaxBytes, maxSamples: o.sampleQueueMaxSamples, maxAgeMs };
    this.#sampleQueues = {
      public: new SampleSendQueue(queueOptions),
      private: new SampleSendQueue(queueOptions),
    };
    this.#controlQueue = new ControlSendQueue({ maxMessages: o.controlQueueMaxMessages });
    const reportIntervalMs =
      o.linkReportIntervalMs === undefined
        ? Math.min(DEFAULT_LINK_REPORT_INTERVAL_MS, statsIntervalMs)
        : positiveOption('linkReportIntervalMs', o.linkReportIntervalMs, DEFAULT_LINK_REPORT_INTERVAL_MS);
    if (reportIntervalMs > statsIntervalMs)
      throw new TypeError(
        `linkReportIntervalMs (${reportIntervalMs}) must be at most statsIntervalMs (${statsIntervalMs}): each report covers one stats interval`,
      );
    this.#reportWindowMs = statsIntervalMs;
    this.#monitor = new LinkMonitor(this.#clock.nowMs(), statsIntervalMs);
    if (o.earlyReport !== false && o.autoLinkReport !== false) {
      const e = o.earlyReport ?? {};
      this.#early = {
        trend: new QueueTrend(e),
        gapMs: positiveOption('earlyReport.minGapMs', e.minGapMs, DEFAULT_EARLY_REPORT_GAP_MS),
        lastMs: Number.NEGATIVE_INFINITY,
      };
    }

    this.#state$ = new BehaviorSubject<LinkState>('connecting');
    this.state$ = this.#state$.asObservable();
    this.control$ = this.#control$.asObservable();
    this.samples$ = this.#samples$.asObservable();
    this.stats$ = this.#stats$.asObservable();
    this.channels = this.#channels;

    this.connected = new Promise<void>((resolve, reject) => {
      this.#resolveConnected = resolve;
      this.#rejectConnected = reject;
    });
    // Marked handled here; callers that await it still see the rejection.
    this.connected.catch(() => {});
    this.#connectTimer = setTimeout(
      () => this.#fail(new ConnectionError('timeout', `link not connected after ${connectTimeoutMs} ms`)),
      connectTimeoutMs,
    );

    this.#pacer = (o.pacer ?? getSharedPacer()).register({ pump: () => this.#pump() });
    this.#openChannels(o);
    this.#listen(o.pc, 'connectionstatechange', () => {
      const s = o.pc.connectionState;
      // A peer connection that closes by itself while the link connects failed its set-up (libdatachannel goes
      // `failed` → `closed` at once when its DTLS handshake fails, and the event may read `closed` only).
      if (s === 'closed' && this.state === 'connecting')
        this.#fail(
          new ConnectionError(
            'failed',
            'peer connection closed itself while connecting (ICE or DTLS set-up failed)',
          ),
        );
      else if (s === 'closed') this.close();
      else if ((s === 'failed' || s === 'disconnected') && this.state === 'connected')
        this.#onSilent(`peer connection ${s}`);
      // A failed ICE restart while `disconnected` is retried by the restart policy.
      else if (s === 'failed' && this.state === 'connecting')
        this.#fail(new ConnectionError('failed', 'peer connection failed'));
    });
    this.#negotiator = new Negotiator({
      pc: o.pc,
      role: o.role,
      sendSignal: o.sendSignal,
      gatherTimeoutMs,
      logger: this.#logger,
      onFatal: (e) => this.#fail(e),
    });
    this.#timers.push(
      setInterval(() => this.#tick(), Math.min(REASSEMBLY_TICK_MS, reassemblyTimeoutMs / 3)),
      setInterval(() => this.#statsTick(), statsIntervalMs),
      setInterval(() => this.#stallBeat(), STALL_BEAT_MS),
    );
    if (o.autoLinkReport !== false) this.#scheduleReports(reportIntervalMs);
    this.#negotiator.start();
  }

  get state(): LinkState {
    return this.#state$.value;
  }

  get iceRestarts(): number {
    return this.#negotiator.restarts;
  }

  restartIce(reason: string): void {
    this.#assertOpen('restartIce');
    if (this.role !== 'offerer')
      throw new InvalidStateError(
        'restartIce() on the answerer: the offerer restarts ICE, the answerer answers',
      );
    if (this.state !== 'connected' && this.state !== 'disconnected')
      throw new InvalidStateError(`restartIce() on a ${this.state} link`);
    this.#restart(reason);
  }

  handleSignal(signal: PeerSignal): void {
    this.#assertOpen('handleSignal');
    this.#negotiator.handle(validateSignal(signal));
  }

  sendControl(message: unknown): boolean {
    this.#assertOpen('sendControl');
    let bytes: Uint8Array;
    try {
      bytes = encodeControl({ kind: 'user', body: message });
    } catch (cause) {
      throw new TypeError('control message is not msgpack-encodable', { cause });
    }
    if (bytes.byteLength > MAX_CONTROL_MESSAGE_BYTES) {
      throw new TypeError(
        `control message is ${bytes.byteLength} bytes; the limit is ${MAX_CONTROL_MESSAGE_BYTES}`,
      );
    }
    if (!this.#controlQueue.push(bytes)) {
      this.#controlRejected++;
      return false;
    }
    this.#pacer.wake();
    return true;
  }

  sendSample(channel: SampleChannel, sample: SampleInput): void {
    this.#assertOpen('sendSample');
    if (channel !== 'public' && channel !== 'private') {
      throw new TypeError(`channel must be 'public' or 'private', got ${String(channel)}`);
    }
    this.#validateSample(channel, sample);
    this.#sampleQueues[channel].push({
      ...(sample.stream !== undefined ? { stream: sample.stream } : {}),
      seq: sample.seq,
      captureTsMs: sample.captureTsMs,
      op: sample.op,
      packets: [...sample.packets],
    });
    this.#pacer.wake();
  }

  faultLostSamples(): { stream: string; seq: number }[] {
    return this.#faultDrops.lost.map((x) => ({ ...x }));
  }

  staleSamples(): { stream: string; seq: number }[] {
    return SAMPLE_KINDS.flatMap((k) => this.#reassemblers[k].staleSamples());
  }

  sendLinkReport(): void {
    this.#assertOpen('sendLinkReport');
    this.#sendReport();
  }

  setLinkReportInterval(ms: number): void {
    this.#assertOpen('setLinkReportInterval');
    if (!(Number.isFinite(ms) && ms > 0 && ms <= this.#reportWindowMs))
      throw new TypeError(
        `link report interval must be 1..${this.#reportWindowMs} ms (statsIntervalMs), got ${ms}`,
      );
    if (this.#reportTimer !== undefined && ms !== this.#reportIntervalMs) this.#scheduleReports(ms);
  }

  /** Sends link reports every `ms` from now on. */
  #scheduleReports(ms: number): void {
    clearInterval(this.#reportTimer);
    this.#reportIntervalMs = ms;
    this.#reportTimer = setInterval(() => this.#reportTick(), ms);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#connectTimer);
    clearTimeout(this.#outage?.timer);
    for (const t of this.#timers) clearInterval(t);
    clearInterval(this.#reportTimer);
    this.#pacer.unregister();
    this.#negotiator.close();
    for (const off of this.#listeners) off();
    this.#controlQueue.clear();
    for (const k of SAMPLE_KINDS) this.#sampleQueues[k].clear();
    for (const [kind, ch] of this.#channels) {
      try {
        ch.close();
      } catch (cause) {
        this.#logger.debug('channel close threw', { kind, cause });
      }
    }
    try {
      Promise.resolve(this.#o.pc.close()).catch(() => {});
    } catch (cause) {
      this.#logger.debug('pc.close threw', { cause });
    }
    this.#rejectConnected(new ConnectionError('closed', 'link closed before it connected'));
    if (this.#state$.value !== 'failed') this.#state$.next('closed');
    this.#state$.complete();
    this.#control$.complete();
    this.#samples$.complete();
    this.#stats$.complete();
  }

  #assertOpen(what: string): void {
    if (this.#closed) throw new InvalidStateError(`${what}() called on a closed link`);
  }

  #fail(error: ConnectionError): void {
    if (this.#closed) return;
    this.#logger.warn('link failed', { reason: error.reason, message: error.message });
    this.#rejectConnected(error);
    this.#state$.next('failed');
    this.close();
  }

  #listen(target: DataChannelLike | PeerLinkOptions['pc'], type: string, fn: (event: unknown) => void): void {
    target.addEventListener(type, fn);
    this.#listeners.push(() => target.removeEventListener(type, fn));
  }

  #openChannels(o: PeerLinkOptions): void {
    for (const kind of KINDS) {
      const init =
        kind === 'control'
          ? { negotiated: true, id: CHANNEL_IDS[kind] }
          : { negotiated: true, id: CHANNEL_IDS[kind], ordered: false, maxRetransmits: 0 };
      const ch = o.pc.createDataChannel(kind, init) as DataChannelLike;
      // Browsers hand Blobs by default; werift ignores the field.
      ch.binaryType = 'arraybuffer';
      ch.bufferedAmountLowThreshold = positiveOption(
        'sendBufferLowWatermarkBytes',
        o.sendBufferLowWatermarkBytes,
        SEND_BUFFER_LOW_WATERMARK_BYTES,
      );
      this.#channels.set(kind, ch);
      this.#listen(ch, 'open', () => this.#onOpen());
      this.#listen(ch, 'bufferedamountlow', () => this.#pacer.wake());
      this.#listen(ch, 'message', (e) => this.#onMessage(kind, (e as { data?: unknown }).data));
      this.#listen(ch, 'close', () => {
        if (this.state === 'connected' || this.state === 'disconnected') {
          this.#logger.info('data channel closed by the peer', { kind });
          this.close();
        }
      });
    }
    this.#onOpen();
  }

  #onOpen(): void {
    if (this.#closed || this.state !== 'connecting') return;
    for (const ch of this.#channels.values()) if (ch.readyState !== 'open') return;
    if (this.#channels.size !== KINDS.length) return;
    clearTimeout(this.#connectTimer);
    this.#lastInboundMs = this.#clock.nowMs();
    this.#state$.next('connected');
    this.#resolveConnected();
    this.#sendPing();
    this.#pacer.wake();
  }

  /** `connected` → `disconnected` after `staleAfterMs` of silence; a long outage fails the link. */
  #checkLiveness(now: number): void {
    // A process that did not run (CPU starvation, a long GC, SIGSTOP) received nothing because it read nothing:
    // the time it stood still is not silence of the path.
    const stalledMs = now - (this.#lastLivenessMs ?? now) - REASSEMBLY_TICK_MS;
    this.#lastLivenessMs = now;
    if (stalledMs > STALL_MS) this.#lastInboundMs += stalledMs;
    if (this.state === 'connected' && now - this.#lastInboundMs > this.#staleAfterMs) {
      this.#onSilent(`nothing received for ${Math.round(now - this.#lastInboundMs)} ms`);
    } else if (this.#outage && now - this.#outage.sinceMs > this.#disconnectedTimeoutMs) {
      this.#fail(
        new ConnectionError(
          'failed',
          `disconnected for ${Math.round(now - this.#outage.sinceMs)} ms (${this.#outage.attempts} ICE restarts)`,
        ),
      );
    }
  }

  /** The path went silent: `disconnected`; the offerer restarts ICE per its policy, the answerer waits for it. */
  #onSilent(why: string): void {
    if (this.#closed || this.state !== 'connected') return;
    this.#outage = { sinceMs: this.#clock.nowMs(), attempts: 0, timer: undefined };
    this.#logger.warn('link disconnected', { why, role: this.role });
    this.#state$.next('disconnected');
    if (this.role === 'offerer') this.#scheduleRestart();
  }

  /** A ping sent while `disconnected` came back: the path works again, both ways. */
  #onRoundTrip(): void {
    const outage = this.#outage;
    if (!outage) return;
    clearTimeout(outage.timer);
    this.#outage = undefined;
    this.#logger.info('link recovered', {
      role: this.role,
      disconnectedMs: Math.round(this.#clock.nowMs() - outage.sinceMs),
      iceRestarts: outage.attempts,
    });
    this.#state$.next('connected');
    this.#pacer.wake();
  }

  #scheduleRestart(): void {
    const outage = this.#outage;
    if (!outage || !this.#restartPolicy || this.#closed) return;
    clearTimeout(outage.timer);
    const delayMs = this.#restartPolicy.nextRestartDelayMs({
      attempt: outage.attempts + 1,
      disconnectedForMs: this.#clock.nowMs() - outage.sinceMs,
    });
    if (delayMs === null || delayMs === undefined) {
      this.#fail(
        new ConnectionError('failed', `disconnected; gave up after ${outage.attempts} ICE restarts`),
      );
      return;
    }
    outage.timer = setTimeout(() => this.#restart('no traffic'), Math.max(0, delayMs));
  }

  /** Offerer: new ICE credentials now; while still `disconnected`, the next restart is scheduled by the policy. */
  #restart(reason: string): void {
    if (this.#closed) return;
    const outage = this.#outage;
    if (outage) {
      clearTimeout(outage.timer);
      outage.attempts++;
    }
    this.#logger.info('ICE restart', {
      reason,
      attempt: outage?.attempts ?? 1,
      disconnectedMs: outage ? Math.round(this.#clock.nowMs() - outage.sinceMs) : 0,
    });
    this.#negotiator.restart();
    this.#scheduleRestart();
  }

  #validateSample(channel: SampleChannel, s: SampleInput): void {
    if (typeof s !== 'object' || s === null) throw new TypeError('sample must be an object');
    if (!Number.isInteger(s.seq) || s.seq < 0 || s.seq > MAX_SEQ)
      throw new TypeError(`sample seq must be a uint32, got ${s.seq}`);
    if (!(Number.isFinite(s.captureTsMs) && s.captureTsMs >= 0)) {
      throw new TypeError(`sample captureTsMs must be a finite non-negative number, got ${s.captureTsMs}`);
    }
    if (!isPlainObject(s.op)) throw new TypeError('sample op must be a plain object');
    const opBytes = packValue(s.op).byteLength;
    if (opBytes > this.#opBudgetBytes) {
      throw new TypeError(`sample op encodes to ${opBytes} bytes; opBudgetBytes is ${this.#opBudgetBytes}`);
    }
    if (!Array.isArray(s.packets) || s.packets.length < 1 || s.packets.length > MAX_PACKETS_PER_SAMPLE) {
      throw new TypeError(`sample packets must be an array of 1..${MAX_PACKETS_PER_SAMPLE} Uint8Array`);
    }
    if (s.stream !== undefined && !isValidStreamId(s.stream)) {
      throw new TypeError('sample stream must be a 1..48 byte string');
    }
    const stream = s.stream ?? this.#streamIds[channel];
    for (const [index, payload] of s.packets.entries()) {
      if (!(payload instanceof Uint8Array)) throw new TypeError(`sample packet ${index} is not a Uint8Array`);
      if (payload.byteLength <= this.maxPacketPayloadBytes) continue;
      // Larger than the guaranteed budget: accept only if this op and stream still fit the MTU.
      const size = encodeFrame({
        stream,
        pseq: MAX_SEQ,
        seq: s.seq,
        index,
        count: s.packets.length,
        captureTsMs: s.captureTsMs,
        op: s.op,
        payload,
      }).byteLength;
      if (size > this.mtuBytes) {
        throw new TypeError(`sample packet ${index} frames to ${size} bytes, over mtuBytes ${this.mtuBytes}`);
      }
    }
  }

  /** Sends at most one message: control first, then the sample channels in turn. Returns bytes sent. */
  #pump(): number {
    // While `disconnected` too: SCTP holds what it cannot deliver (unreliable messages are abandoned, pings are
    // retransmitted), so the first retransmission after an ICE restart ends the outage on the far side.
    if (this.#closed || (this.state !== 'connected' && this.state !== 'disconnected')) return 0;
    const control = this.#channels.get('control')!;
    if (this.#controlQueue.length > 0 && control.bufferedAmount < this.#highWatermarkBytes) {
      const bytes = this.#controlQueue.shift()!;
      return this.#send('control', control, bytes);
    }
    for (let i = 0; i < SAMPLE_KINDS.length; i++) {
      const kind = SAMPLE_KINDS[(this.#nextSampleKind + i) % SAMPLE_KINDS.length]!;
      // An empty queue first: `bufferedAmount` is a native call on node-datachannel (5.5 % of the sender's CPU
      // with 128 control-only links, most of them with nothing queued).
      if (this.#sampleQueues[kind].length === 0) continue;
      const ch = this.#channels.get(kind)!;
      if (ch.bufferedAmount >= this.#highWatermarkBytes) continue;
      const packet = this.#sampleQueues[kind].shift(this.#clock.nowMs());
      if (packet === undefined) continue;
      this.#nextSampleKind = (this.#nextSampleKind + i + 1) % SAMPLE_KINDS.length;
      const pseq = this.#pseq[kind];
      this.#pseq[kind] = pseq === MAX_SEQ ? 0 : pseq + 1;
      const { stream, ...rest } = packet;
      return this.#send(kind, ch, encodeFrame({ stream: stream ?? this.#streamIds[kind], pseq, ...rest }));
    }
    return 0;
  }

  #send(kind: ChannelKind, ch: DataChannelLike, bytes: Uint8Array): number {
    try {
      ch.send(bytes);
    } catch (cause) {
      this.#logger.warn('data channel send failed', { kind, cause });
      return 0;
    }
    this.#monitor.onSent(kind, bytes.byteLength, this.#clock.nowMs());
    return bytes.byteLength;
  }

  #onMessage(kind: ChannelKind, data: unknown): void {
    if (this.#closed) return;
    // Anything that arrived shows the path from the peer works, also what the fault injector then drops.
    this.#lastInboundMs = this.#clock.nowMs();
    if (this.#faults && kind !== 'control') {
      const fate = this.#faults.next();
      if (fate.drop) {
        this.#countFaultDrop(data);
        return;
      }
      if (fate.delayMs > 0) {
        setTimeout(() => this.#receive(kind, data), fate.delayMs);
        return;
      }
    }
    this.#receive(kind, data);
  }

  /** Accounts a message the fault injector dropped: a whole sample is lost once all its packets were. */
  #countFaultDrop(data: unknown): void {
    const d = this.#faultDrops;
    d.packets++;
    const bytes = toBytes(data);
    if (!bytes) return;
    try {
      const f = decodeFrame(bytes);
      const key = `${f.stream}|${f.seq}`;
      const n = (d.pending.get(key) ?? 0) + 1;
      if (n >= f.count) {
        d.pending.delete(key);
        d.samples++;
        d.lost.push({ stream: f.stream, seq: f.seq });
        if (d.lost.length > FAULT_LOST_MEMORY) d.lost.shift();
      } else d.pending.set(key, n);
      // Bounded: keys of samples that were only partly dropped are forgotten oldest first.
      if (d.pending.size > 1024) d.pending.delete(d.pending.keys().next().value!);
    } catch {
      // Not a frame: counted as a packet only.
    }
  }

  #receive(kind: ChannelKind, data: unknown): void {
    if (this.#closed) return;
    const bytes = toBytes(data);
    const size = bytes?.byteLength ?? (typeof data === 'string' ? data.length : 0);
    this.#monitor.onReceived(kind, size);
    try {
      if (bytes === undefined) throw new MalformedFrameError('bytes', 'message is not binary');
      // werift bounds only what it sends: a peer may send anything up to SCTP's limits. Frames larger than
      // this link's MTU (or a control message over its cap) are not ours, whatever they decode to.
      const limit = kind === 'control' ? MAX_CONTROL_MESSAGE_BYTES : this.mtuBytes;
      if (bytes.byteLength > limit) {
        throw new MalformedFrameError(
          'bytes',
          `message of ${bytes.byteLength} bytes exceeds the ${limit}-byte limit of ${kind}`,
        );
      }
      if (kind === 'control') {
        this.#onControl(decodeControl(bytes));
        return;
      }
      const frame = decodeFrame(bytes);
      // A gap in arrivals that this host's stall explains is no outage of the path (the sender's SCTP may have
      // abandoned aged packets meanwhile, on a congested path: numbers skipped after a gap it did not make).
      const now = this.#clock.nowMs();
      this.#monitor.onPacketSeq(kind, frame.pseq, now, this.#stalls.uncertain(now, now));
      this.#emit(this.#reassemblers[kind].process(frame, this.#clock.nowMs()));
    } catch (error) {
      if (!(error instanceof MalformedFrameError)) {
        // A bug, not bad input; still never thrown into the data channel's event loop.
        this.#logger.error('receive path failed', { channel: kind, cause: error });
        return;
      }
      this.#malformed.count++;
      const now = this.#clock.nowMs();
      if (now - this.#malformed.lastLogMs[kind] >= MALFORMED_LOG_INTERVAL_MS) {
        this.#malformed.lastLogMs[kind] = now;
        this.#logger.warn('malformed message dropped', {
          channel: kind,
          field: error.field,
          reason: error.message,
          bytes: size,
          totalMalformed: this.#malformed.count,
        });
      }
    }
  }

  #onControl(m: ControlMessage): void {
    const now = this.#clock.nowMs();
    switch (m.kind) {
      case 'user':
        this.#control$.next(m.body);
        return;
      case 'ping':
        this.#controlQueue.pushUrgent(encodeControl({ kind: 'pong', t0Ms: m.t0Ms, t1Ms: now }));
        this.#pacer.wake();
        return;
      case 'pong':
        // Only a pong to a ping sent during the outage ends it: it went there and back on the path as it is now.
        // Traffic from the peer alone does not: mid-restart the peer's packets reach us while ours cannot reach
        // it, and an old pong may have waited in SCTP's retransmission queue.
        if (this.#outage && m.t0Ms >= this.#outage.sinceMs) this.#onRoundTrip();
        this.#monitor.onPong(m.t0Ms, m.t1Ms, now);
        for (const k of SAMPLE_KINDS) this.#reassemblers[k].clockOffsetMs = this.#monitor.clockOffsetMs;
        return;
      case 'link-report': {
        const report = this.#monitor.receiveReport(m.report);
        // An early report says a queue is building: decide on it now, not at the next interval.
        if (report.queue) {
          this.#earlyReports.received++;
          this.#emitEarly(report);
        }
        return;
      }
    }
  }

  #emit(samples: ReassembledSample[]): void {
    for (const s of samples) {
      const ageMs = s.firstArrivalMs + this.#monitor.clockOffsetMs - s.captureTsMs;
      // Stamped while this host stalled: its age includes the stall, which says nothing about the path.
      if (this.#stalls.uncertain(s.firstArrivalMs, this.#clock.nowMs())) this.#unmeasuredSamples++;
      else this.#measure(s, ageMs);
      this.#samples$.next(s);
    }
  }

  /** A sample's age at arrival into the interval's figures and the early queue report. */
  #measure(s: ReassembledSample, ageMs: number): void {
    this.#monitor.onAge(ageMs, s.firstArrivalMs);
    if (!this.#early) return;
    let bytes = 0;
    for (const p of s.packets) bytes += p?.byteLength ?? 0;
    const q = this.#early.trend.observe(s.firstArrivalMs, ageMs, bytes);
    if (q) this.#sendEarlyReport(q);
  }

  /**
   * The beat of {@link StallWatch}: a timer that comes late says the host stalled. The I/O that waited behind it
   * is read in the same turn of the event loop, before `setImmediate`'s callbacks (Node): the stall ends there.
   */
  #stallBeat(): void {
    const now = this.#clock.nowMs();
    // A hidden page's timers are throttled (to once a second or less) while its I/O is not: no stall to see.
    if (hiddenPage()) this.#stalls.reset(now);
    else if (this.#stalls.beat(now)) immediate(() => this.#stalls.endCatchUp(this.#clock.nowMs()));
  }

  /**
   * Reports now, out of the interval, that a queue is building. The interval is not closed: the report repeats
   * the last regular one's figures (so the peer's goodput and loss keep their interval) with the queue added.
   */
  #sendEarlyReport(q: QueueSignal): void {
    const e = this.#early!;
    const now = this.#clock.nowMs();
    if (now - e.lastMs < e.gapMs || this.state !== 'connected' || !this.#lastReport) return;
    e.lastMs = now;
    this.#earlyReports.sent++;
    // The window's figures up to now (the report closes a slice of it, as a regular one), with the queue.
    this.#sendReport({ riseMs: q.riseMs, rateBytesPerSec: q.rateBytesPerSec });
  }

  /**
   * The peer's early report: emits `stats$` at once so the adaptation decides on it, repeating this end's last
   * figures (the interval is not closed) with the new report as `remote`.
   */
  #emitEarly(report: LinkReport): void {
    if (this.#closed || !this.#lastStats) return;
    const stats: LinkStats = {
      ...this.#lastStats,
      timestampMs: this.#clock.nowMs(),
      earlyReports: { ...this.#earlyReports },
      remote: report,
      remoteSentBytesPerSec: this.#monitor.sentOverRemoteWindow(),
    };
    this.#monitor.remoteCarried();
    this.#stats$.next(stats);
  }

  #tick(): void {
    if (this.#closed) return;
    const now = this.#clock.nowMs();
    this.#checkLiveness(now);
    if (this.#closed) return;
    for (const k of SAMPLE_KINDS) this.#emit(this.#reassemblers[k].tick(now));
  }

  #sendPing(): void {
    this.#controlQueue.pushUrgent(encodeControl({ kind: 'ping', t0Ms: this.#clock.nowMs() }));
    this.#pacer.wake();
  }

  #reportTick(): void {
    if (this.#closed) return;
    // As pings: on while `disconnected`, so the peer learns at once what came through.
    if (this.state === 'connected' || this.state === 'disconnected') this.#sendReport();
  }

  /**
   * Sends the receive side over the last stats interval, a window that slides by report (every 500 ms by default,
   * 100 ms when an adapting sender asks): the peer decides on its own interval, with the latest report, so reports
   * once an interval can be up to an interval behind its figures (docs/NETLAB.md, "Reports that slide"). The stall is the window's longest (the
   * queue's rise of an early report may hold one: samples that arrived just after it).
   */
  #sendReport(queue?: LinkReport['queue']): void {
    const now = this.#clock.nowMs();
    const report = this.#monitor.report(
      now,
      this.#counters().drops,
      this.#stalls.maxSinceMs(now - this.#reportWindowMs),
    );
    if (queue) report.queue = queue;
    this.#lastReport = report;
    this.#controlQueue.pushUrgent(encodeControl({ kind: 'link-report', report }));
    this.#pacer.wake();
  }

  /** The drop and sample counters of the link's parts. */
  #counters(): Pick<MonitorExtras, 'drops' | 'sendDroppedSamples' | 'samplesComplete' | 'samplesIncomplete'> {
    const drops: Record<DropReason, number> = {
      stale: 0,
      late: 0,
      duplicate: 0,
      malformed: this.#malformed.count,
      backpressure: 0,
    };
    let complete = 0;
    let incomplete = 0;
    for (const k of SAMPLE_KINDS) {
      const c = this.#reassemblers[k].counters;
      drops.stale += c.stale;
      drops.late += c.late;
      drops.duplicate += c.duplicate;
      drops.malformed += c.malformed;
      complete += c.complete;
      incomplete += c.incomplete;
    }
    const q = this.#sampleQueues;
    const sendDroppedSamples = {
      backpressure: q.public.droppedBackpressure + q.private.droppedBackpressure,
      stale: q.public.droppedStale + q.private.droppedStale,
    };
    drops.backpressure = sendDroppedSamples.backpressure;
    drops.stale += sendDroppedSamples.stale;
    return { drops, sendDroppedSamples, samplesComplete: complete, samplesIncomplete: incomplete };
  }

  #snapshot(): LinkStats {
    const { drops, sendDroppedSamples, samplesComplete, samplesIncomplete } = this.#counters();
    const buffered = (k: ChannelKind) => this.#channels.get(k)?.bufferedAmount ?? 0;
    const q = this.#sampleQueues;
    return this.#monitor.snapshot(this.#clock.nowMs(), {
      bufferedAmountBytes: {
        control: buffered('control'),
        public: buffered('public'),
        private: buffered('private'),
      },
      queuedBytes: {
        control: this.#controlQueue.queuedBytes,
        public: q.public.queuedBytes,
        private: q.private.queuedBytes,
      },
      drops,
      sendDroppedSamples,
      controlRejected: this.#controlRejected,
      samplesComplete,
      samplesIncomplete,
      faultDrops: { packets: this.#faultDrops.packets, samples: this.#faultDrops.samples },
      earlyReports: { ...this.#earlyReports },
      hostStalls: {
        count: this.#stalls.stalls,
        maxMs: this.#stalls.maxStallMs,
        unmeasuredSamples: this.#unmeasuredSamples,
        intervalMaxMs: this.#stalls.intervalMaxMs(true),
      },
    });
  }

  #statsTick(): void {
    if (this.#closed) return;
    const stats = this.#snapshot();
    // Pings go on while `disconnected`: the first one through (or its pong) ends the outage.
    if (this.state === 'connected' || this.state === 'disconnected') {
      this.#sendPing();
    }
    this.#lastStats = stats;
    this.#stats$.next(stats);
  }
}

/**
 * Creates a link over `pc`: three negotiated data channels (`control` reliable and ordered; `public` and
 * `private` unordered with `maxRetransmits: 0`), signaling through `sendSignal`/`handleSignal`, paced and
 * backpressured sends, reassembly and a link monitor. The offerer starts negotiating at once.
 */
export function createPeerLink(options: PeerLinkOptions): PeerLink {
  return new PeerLinkImpl(options);
}
