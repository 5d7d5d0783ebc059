import {
  type DecodedSample,
  fromWireOperatingPoint,
  type HelloMessage,
  type InstructionMessage,
  parseSenderMessage,
  type SemanticCodec,
  type ServeMessage,
} from '@m4sc/semantic-codec';
import {
  connectSignaling,
  createExponentialBackoff,
  type Logger,
  type SignalingClient,
} from '@m4sc/signaling/client';
import {
  createPeerLink,
  type LinkStats,
  type PeerConnectionLike,
  type PeerLink,
  type PeerSignal,
  percentile,
  type ReassembledSample,
} from '@m4sc/transport';
import type { LayeredRelaySubscriber, RelaySubscriber } from '@m4sc/transport/janus';
import { type Observable, Subject, type Subscription } from 'rxjs';

/** What the receiver asks the sender for. */
export interface ReceiverInstruction {
  task: string;
  query?: string;
}

/** One decoded sample. */
export interface ReceiverResult {
  /** Sample id (the sender's sample index). */
  seq: number;
  task: string;
  /** Capture on the sender to decoded here, milliseconds (clock-offset corrected). */
  latencyMs: number;
  /** Capture on the sender to the sample's reassembly here (sender encode + network), milliseconds. */
  arrivalAgeMs: number;
  /** Time spent decoding, milliseconds. */
  decodeMs: number;
  /** Packets lost out of `packets`; lost packets are decoded through the erasure mask, never dropped whole. */
  lostPackets: number;
  packets: number;
  /** The stream it came on: `public`, `shared:<tag>`, `private:<peer>`. */
  stream: string;
  /** The sample's operating point as its header carried it (raw samples: the raw-pixel descriptor). */
  op: Readonly<Record<string, unknown>>;
  /** For image results: RGB24. */
  image?: { data: Uint8Array; width: number; height: number };
  /** For text results (caption, class, answer, transmitted text). */
  text?: string;
}

/** Events a user should see, in words. */
export type ReceiverEvent =
  | { type: 'hello'; hello: HelloMessage }
  | { type: 'served'; serve: ServeMessage }
  | { type: 'refused'; code: string; message: string }
  | { type: 'sender-left'; reason: string }
  /** The signaling connection dropped and is being re-established (established peers keep streaming). */
  | { type: 'signaling-lost'; attempt: number; delayMs: number }
  | { type: 'signaling-restored' }
  /** The signaling client gave up (or the server closed it); no new negotiation can happen. */
  | { type: 'signaling-closed'; reason: string }
  | { type: 'connected' }
  /** Nothing arrives from the sender any more (its path or ours changed); the sender restarts ICE. */
  | { type: 'link-lost' }
  /** The link carries traffic again (after an ICE restart, on the same connection), `afterMs` after it went silent. */
  | { type: 'link-restored'; afterMs: number };

/** Options of {@link createReceiver}. */
export interface ReceiverOptions {
  signalUrl: string;
  room: string;
  token?: string;
  /** Creates the RTCPeerConnection for the link to the sender. */
  createPeerConnection: () => PeerConnectionLike;
  /** The semantic codec; needed for semantic streams (the sender says which in `hello`). */
  codec?: SemanticCodec;
  /** What to ask for. Default `{ task: 'reconstruct' }`. */
  instruction?: ReceiverInstruction;
  /** Receive-side fault injection on the sample channels (the transport's `faults`), for demos and tests. */
  faults?: { lossPct?: number; delayMs?: number; jitterMs?: number; seed?: number };
  /**
   * A relay (`createJanusSubscriber`, `--relay`): public samples also come from there; while they do, the
   * receiver tells the sender (`{t:'relay', up}` on control), which then stops sending them directly.
   * Samples that come both ways are decoded once. With a layered subscriber
   * (`createLayeredJanusSubscriber`), the sender's `relay-layers` choice sets how many public layer rooms
   * it takes. The receiver closes it. Default none.
   */
  relay?: RelaySubscriber | LayeredRelaySubscriber;
  logger?: Logger;
}

/** A running receiver. */
export interface Receiver {
  readonly peerId: string;
  /** Decoded samples. Completes on close. */
  readonly results$: Observable<ReceiverResult>;
  /** Things the user should know: the sender's hello, how the task is served, refusals. */
  readonly events$: Observable<ReceiverEvent>;
  /** Link figures of the current sender link. Completes on close. */
  readonly stats$: Observable<LinkStats>;
  /** Counters of samples not decoded, by reason. */
  readonly dropped: Readonly<Record<'bad-control' | 'not-for-me' | 'undecodable' | 'decoder-busy', number>>;
  /** Samples the `faults` injector dropped entirely (sample numbers, all streams), for loss accounting. */
  faultLostSeqs(): number[];
  /** Switches task; takes effect with the next sample the sender encodes. */
  setInstruction(instruction: ReceiverInstruction): void;
  close(): Promise<void>;
}

const silent: Logger = { debug() {}, info() {}, warn() {}, error() {} };

/** Public streams: `public` (unlayered, or its base layer) and `public.<k>` (enhancement layer k). */
const isPublicStream = (stream: string) => stream === 'public' || stream.startsWith('public.');

/** A layered public sample's place: layer `k` of `n` sent to this receiver (header fields ly, ln). */
function layerOf(sample: ReassembledSample): { k: number; n: number } | undefined {
  if (!isPublicStream(sample.stream)) return undefined;
  const o = sample.op as { ly?: unknown; ln?: unknown; ls?: unknown };
  const k = o.ly;
  const n = o.ln;
  if (!Number.isInteger(k) || !Number.isInteger(n) || !Number.isInteger(o.ls)) return undefined;
  return (k as number) >= 0 && (n as number) >= 1 && (n as number) <= 16
    ? { k: k as number, n: n as number }
    : undefined;
}

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

/**
 * Signaling heartbeat, ms: a ping unanswered by the next one means the path to the signaling server died (a
 * path change leaves TCP open for minutes), and the client rejoins; the sender's ICE restart needs it back.
 */
const SIGNALING_HEARTBEAT_MS = 2_000;
/** Longest wait between rejoin attempts, ms, so that signaling is back about a second after the network is. */
const SIGNALING_RETRY_MAX_DELAY_MS = 1_000;
/** Rejoin attempts before giving up: about five minutes at the 1 s ceiling. */
const SIGNALING_RETRY_MAX_ATTEMPTS = 300;

/** Samples waiting to be decoded; beyond this the oldest is dropped (a stale result is worth nothing). */
const DECODE_QUEUE_MAX = 4;

/** Relay frames older than this mean the relay path is not working (a few frame intervals at least), ms. */
const RELAY_STALE_MS = 1000;

interface RawRgbOp {
  kind: 'raw-rgb';
  width: number;
  height: number;
  packetBytes: number;
}

function isRawRgbOp(op: unknown): op is RawRgbOp {
  const o = op as Partial<RawRgbOp> | null;
  return (
    !!o &&
    o.kind === 'raw-rgb' &&
    Number.isInteger(o.width) &&
    Number.isInteger(o.height) &&
    Number.isInteger(o.packetBytes) &&
    o.width! > 0 &&
    o.height! > 0 &&
    o.width! * o.height! <= 4096 * 4096 &&
    o.packetBytes! > 0
  );
}

/** Raw RGB sample → pixels; missing packets become zeros at their offsets. `undefined` if not raw. */
export function rawFrameFromSample(
  sample: ReassembledSample,
): { data: Uint8Array; width: number; height: number; lost: number } | undefined {
  if (!isRawRgbOp(sample.op)) return undefined;
  const { width, height, packetBytes } = sample.op;
  const data = new Uint8Array(width * height * 3);
  if (Math.ceil(data.byteLength / packetBytes) !== sample.count) return undefined;
  let lost = 0;
  sample.packets.forEach((p, i) => {
    if (!p) {
      lost++;
      return;
    }
    const offset = i * packetBytes;
    data.set(p.subarray(0, Math.max(0, Math.min(p.byteLength, data.byteLength - offset))), offset);
  });
  return { data, width, height, lost };
}

function toRgb8(img: { data: Float32Array | Uint8Array | Uint8ClampedArray }): Uint8Array {
  if (img.data instanceof Uint8Array) return img.data;
  const out = new Uint8Array(img.data.length);
  for (let i = 0; i < out.length; i++) out[i] = Math.max(0, Math.min(255, Math.round(img.data[i]! * 255)));
  return out;
}

/** Joins `room` as a receiver, asks for its task over `control`, and decodes what the sender streams. */
export async function createReceiver(options: ReceiverOptions): Promise<Receiver> {
  const log = options.logger ?? silent;
  const codec = options.codec;
  const client: SignalingClient = await connectSignaling({
    url: options.signalUrl,
    room: options.room,
    role: 'receiver',
    reconnect: createExponentialBackoff({
      maxDelayMs: SIGNALING_RETRY_MAX_DELAY_MS,
      maxAttempts: SIGNALING_RETRY_MAX_ATTEMPTS,
    }),
    heartbeatMs: SIGNALING_HEARTBEAT_MS,
    ...(options.token ? { token: options.token } : {}),
  });
  const results$ = new Subject<ReceiverResult>();
  const events$ = new Subject<ReceiverEvent>();
  const stats$ = new Subject<LinkStats>();
  const dropped = { 'bad-control': 0, 'not-for-me': 0, undecodable: 0, 'decoder-busy': 0 };
  let instruction: ReceiverInstruction = options.instruction ?? { task: 'reconstruct' };
  let requestId = 0;
  let hello: HelloMessage | undefined;
  let serve: ServeMessage | undefined;
  let link: PeerLink | undefined;
  let linkFrom: string | undefined;
  let linkSubs: Subscription[] = [];
  let closed = false;
  /** A sample to decode: one reassembled sample, or the layers of a layered public sample. */
  type Queued = { sample: ReassembledSample; receivedAt: number; layers?: ReassembledSample[] };
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
  let decoding = false;
  let decodeTimes: number[] = [];
  let latencies: number[] = [];
  let decodedCount = 0;
  let errorCount = 0;

  const sendInstruction = () => {
    if (link?.state !== 'connected' || hello?.codec !== 'semantic') return;
    requestId++;
    const msg: InstructionMessage = {
      t: 'instruction',
      id: requestId,
      task: instruction.task,
      ...(instruction.query ? { query: instruction.query } : {}),
    };
    link.sendControl(msg);
  };

  const decodeOne = async (
    sample: ReassembledSample,
    receivedAt: number,
    layers?: ReassembledSample[],
  ): Promise<ReceiverResult | undefined> => {
    const t0 = performance.now();
    const packets = sample.packets;
    const all = layers ?? [sample];
    // A layer of which no packet arrived is only known by the count the others carry (`ln`): it counts as
    // one lost packet (its real count never reached us).
    const missingLayers = layers ? Math.max(0, (layerOf(layers[0]!)?.n ?? layers.length) - layers.length) : 0;
    const base = {
      seq: sample.seq,
      stream: sample.stream,
      op: sample.op,
      packets: all.reduce((n, l) => n + l.count, 0) + missingLayers,
      lostPackets: all.reduce((n, l) => n + l.count - l.received, 0) + missingLayers,
      arrivalAgeMs: sample.ageMs,
    };
    const raw = rawFrameFromSample(sample);
    if (raw) {
      const decodeMs = performance.now() - t0;
      return {
        ...base,
        task: 'raw',
        image: { data: raw.data, width: raw.width, height: raw.height },
        decodeMs,
        latencyMs: sample.ageMs + (Date.now() - receivedAt),
      };
    }
    if (!codec || !hello || hello.codec !== 'semantic') {
      dropped.undecodable++;
      return undefined;
    }
    const op = fromWireOperatingPoint(sample.op, { C: codec.manifest.dims.C });
    let decoded: DecodedSample;
    let task: string;
    if (
      isPublicStream(sample.stream) &&
      (instruction.task === 'reconstruct' || instruction.task === 'transmit')
    ) {
      task = instruction.task;
      decoded = layers
        ? await codec.decodeSample({
            stream: 'public',
            modality: hello.modality,
            layers: layers.map((l) => ({ start: Number((l.op as { ls?: unknown }).ls), packets: l.packets })),
            op: { ...op, rateSymbols: codec.manifest.dims.C },
          })
        : await codec.decodeSample({ stream: 'public', modality: hello.modality, packets, op });
    } else if (!isPublicStream(sample.stream) && serve && (sample.op as { ik?: unknown }).ik === serve.ik) {
      task = serve.instruction.task;
      decoded = await codec.decodeSample({
        stream: 'private',
        instruction: {
          task: serve.instruction.task,
          modality: serve.instruction.modality,
          output: serve.instruction.output,
          ...(serve.instruction.query ? { query: serve.instruction.query } : {}),
        },
        packets,
        op,
      });
    } else {
      dropped['not-for-me']++;
      return undefined;
    }
    const decodeMs = performance.now() - t0;
    const latencyMs = sample.ageMs + (Date.now() - receivedAt);
    if (decoded.kind === 'image') {
      const img = decoded.image;
      return {
        ...base,
        task,
        decodeMs,
        latencyMs,
        image: { data: toRgb8(img), width: img.width, height: img.height },
      };
    }
    return { ...base, task, decodeMs, latencyMs, text: decoded.text.text };
  };

  /** Private/shared samples that came before the `serve` naming their tag (see SERVE_WAIT_MS). */
  let awaitingServe: Queued[] = [];
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
      while (queue.length > 0 && !closed) {
        const { sample, receivedAt, layers } = queue.shift()!;
        try {
          const r = await decodeOne(sample, receivedAt, layers);
          if (r && !closed) {
            decodedCount++;
            decodeTimes.push(r.decodeMs);
            latencies.push(r.latencyMs);
            results$.next(r);
          }
        } catch (err) {
          errorCount++;
          dropped.undecodable++;
          warnLimited('undecodable', 'sample not decodable', {
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

  /** At most one log line a second per kind of drop (all are counted in `dropped`): a hostile or broken sender cannot flood the log. */
  const lastWarnMs = new Map<string, number>();
  const warnLimited = (kind: string, message: string, context: Record<string, unknown>) => {
    const now = Date.now();
    if (now - (lastWarnMs.get(kind) ?? 0) < 1000) return;
    lastWarnMs.set(kind, now);
    log.warn(message, context);
  };

  const onControl = (raw: unknown) => {
    const m = parseSenderMessage(raw);
    if (!m) {
      dropped['bad-control']++;
      warnLimited('bad-control', 'bad control message from the sender dropped', {
        total: dropped['bad-control'],
      });
      return;
    }
    if (m.t === 'hello') {
      hello = m;
      if (
        m.codec === 'semantic' &&
        codec &&
        m.bundle &&
        (m.bundle.name !== codec.manifest.name || m.bundle.version !== codec.manifest.version)
      ) {
        log.warn('the sender uses another bundle; results may be wrong', {
          sender: `${m.bundle.name} ${m.bundle.version}`,
          receiver: `${codec.manifest.name} ${codec.manifest.version}`,
        });
      }
      if (m.codec === 'semantic' && !codec)
        log.error('the sender streams semantic symbols but this receiver has no codec');
      events$.next({ type: 'hello', hello: m });
      if (m.codec === 'semantic') sendInstruction(); // a raw stream carries pixels only: nothing to ask for
    } else if (m.t === 'serve') {
      if (m.ref !== requestId) return; // an answer to an older request
      serve = m;
      events$.next({ type: 'served', serve: m });
      const ready = awaitingServe.filter((q) => (q.sample.op as { ik?: unknown }).ik === m.ik);
      awaitingServe = awaitingServe.filter((q) => !ready.includes(q));
      for (const q of ready) enqueue(q);
    } else if (m.t === 'relay-layers') {
      // The adaptation's layer choice for us, through the relay: subscribe to that many layer rooms.
      const r = options.relay;
      if (!r || !('setLayers' in r) || r.layers === m.n) return;
      log.info('relay layers', { from: r.layers, to: m.n });
      r.setLayers(m.n);
    } else {
      if (m.ref !== undefined && m.ref !== requestId) return;
      log.warn('the sender refused', { code: m.code, message: m.message });
      events$.next({ type: 'refused', code: m.code, message: m.message });
    }
  };

  /** Wholly lost samples of links already closed (a sender restart starts a new link). */
  const faultLost: number[] = [];
  const dropLink = () => {
    if (link) faultLost.push(...link.faultLostSamples().map((x) => x.seq));
    for (const p of layering.values()) clearTimeout(p.timer);
    layering.clear();
    for (const s of linkSubs) s.unsubscribe();
    linkSubs = [];
    link?.close();
    link = undefined;
    linkFrom = undefined;
    hello = undefined;
    serve = undefined;
  };

  const newLink = (from: string) => {
    dropLink();
    const l = createPeerLink({
      pc: options.createPeerConnection(),
      role: 'answerer',
      sendSignal: (data: PeerSignal) => {
        if (client.state === 'joined') client.signal(from, data as never);
      },
      opBudgetBytes: 128,
      logger: log,
      ...(options.faults ? { faults: options.faults } : {}),
    });
    link = l;
    linkFrom = from;
    /** Samples seen on this link or the relay, so one that comes both ways is decoded once. */
    const recent = new Set<string>();
    const relay = options.relay;
    let relayReported: boolean | undefined;
    /** Tells the sender whether the public stream reaches us through the relay (when that changes). */
    const reportRelay = () => {
      if (!relay || l.state !== 'connected') return;
      const staleMs = Math.max(RELAY_STALE_MS, 3000 / (hello?.fps ?? 1));
      const up = relay.state === 'up' && Date.now() - relay.stats().lastMessageAtMs < staleMs;
      if (up !== relayReported && l.sendControl({ t: 'relay', up })) {
        relayReported = up;
        log.info(up ? 'public stream arrives through the relay' : 'public stream direct from the sender', {
          relay: relay.address.href,
        });
      }
    };
    const onSample = (sample: ReassembledSample) => {
      const key = `${sample.stream}|${sample.seq}`;
      if (recent.has(key)) return;
      recent.add(key);
      if (recent.size > 512) recent.delete(recent.values().next().value as string);
      const layer = layerOf(sample);
      if (!layer && !isPublicStream(sample.stream) && (sample.op as { ik?: unknown }).ik !== serve?.ik) {
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
    };
    linkSubs.push(
      l.samples$.subscribe(onSample),
      ...(relay
        ? [
            relay.samples$.subscribe((sample) => {
              if (!isPublicStream(sample.stream)) return; // only the public stream is relayed
              onSample(sample);
              if (relayReported !== true) reportRelay();
            }),
            relay.state$.subscribe(() => reportRelay()),
          ]
        : []),
      l.control$.subscribe(onControl),
      l.stats$.subscribe((s) => {
        stats$.next(s);
        if (relay) {
          relay.clockOffsetMs = s.clockOffsetMs;
          reportRelay();
          // While the relay serves us, what it delivered, once a second: the sender picks our layers on it.
          if (relayReported === true && 'takeFigures' in relay && l.state === 'connected') {
            const f = relay.takeFigures();
            l.sendControl({
              t: 'relay-report',
              layers: relay.layers,
              bytesPerSec: Math.round(f.bytesPerSec),
              samples: f.samples,
              ...(f.lossRate !== undefined ? { lossRate: f.lossRate } : {}),
              ...(f.ageP95Ms !== undefined ? { ageP95Ms: Math.round(f.ageP95Ms) } : {}),
            });
          }
        }
        const d = [...decodeTimes].sort((a, b) => a - b);
        const a = [...latencies].sort((x, y) => x - y);
        if (l.state === 'connected' && hello?.codec === 'semantic') {
          l.sendControl({
            t: 'decode-report',
            samples: decodedCount,
            decodeMsP50: d.length ? percentile(d, 50) : 0,
            decodeMsP95: d.length ? percentile(d, 95) : 0,
            latencyMsP50: a.length ? percentile(a, 50) : 0,
            latencyMsP95: a.length ? percentile(a, 95) : 0,
            errors: errorCount,
          });
        }
        decodeTimes = [];
        latencies = [];
      }),
    );
    let silentSinceMs: number | undefined;
    linkSubs.push(
      l.state$.subscribe((state) => {
        if (state === 'disconnected') {
          silentSinceMs = Date.now();
          log.warn('link to the sender silent (path change?); waiting for its ICE restart', { sender: from });
          events$.next({ type: 'link-lost' });
        } else if (state === 'connected' && silentSinceMs !== undefined) {
          const afterMs = Date.now() - silentSinceMs;
          silentSinceMs = undefined;
          log.info('ice restart after path change: link to the sender restored', {
            sender: from,
            afterMs,
            iceRestarts: l.iceRestarts,
          });
          events$.next({ type: 'link-restored', afterMs });
        }
      }),
    );
    l.connected.then(
      () => {
        log.info('connected to sender', { sender: from });
        events$.next({ type: 'connected' });
      },
      (err: unknown) => log.warn('connection to sender failed', { error: String(err) }),
    );
    return l;
  };

  const sub = client.events$.subscribe((ev) => {
    if (ev.type === 'signal') {
      const data = ev.data as unknown as PeerSignal;
      // An ICE restart (the path changed) goes to the link it restarts; any other offer (first join, or the
      // sender restarted) starts a fresh link.
      const restart =
        data.type === 'offer' && data.restart === true && ev.from === linkFrom && link !== undefined;
      if (restart) log.info('ice restart after path change: answering the sender', { sender: ev.from });
      const l = restart ? link : data.type === 'offer' || ev.from !== linkFrom ? newLink(ev.from) : link;
      try {
        l?.handleSignal(data);
      } catch (err) {
        log.warn('bad signal dropped', { error: String(err) });
      }
    } else if (ev.type === 'peer-left' && ev.peerId === linkFrom) {
      log.info('sender left', { reason: ev.reason });
      events$.next({ type: 'sender-left', reason: ev.reason });
      dropLink();
    } else if (ev.type === 'error') {
      log.warn('signaling error', { code: ev.code, message: ev.message });
    } else if (ev.type === 'reconnecting') {
      events$.next({ type: 'signaling-lost', attempt: ev.attempt, delayMs: ev.delayMs });
    } else if (ev.type === 'reconnected') {
      events$.next({ type: 'signaling-restored' });
    } else if (ev.type === 'closed' && !closed) {
      events$.next({ type: 'signaling-closed', reason: ev.reason || ev.error?.message || `code ${ev.code}` });
    }
  });

  return {
    peerId: client.peerId,
    results$: results$.asObservable(),
    events$: events$.asObservable(),
    stats$: stats$.asObservable(),
    dropped,
    faultLostSeqs() {
      return [...new Set([...faultLost, ...(link?.faultLostSamples() ?? []).map((x) => x.seq)])];
    },
    setInstruction(next) {
      if (closed) throw new Error('receiver is closed');
      if (!next || typeof next.task !== 'string') throw new TypeError('instruction.task must be a string');
      instruction = { ...next };
      sendInstruction();
    },
    async close() {
      if (closed) return;
      closed = true;
      sub.unsubscribe();
      dropLink();
      await options.relay?.close();
      client.close();
      results$.complete();
      events$.complete();
      stats$.complete();
    },
  };
}
