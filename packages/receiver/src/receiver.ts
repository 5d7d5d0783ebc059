import { connectSignaling, type Logger, type SignalingClient } from '@m4sc/signaling';
import {
  createPeerLink,
  type LinkStats,
  type PeerLink,
  type PeerSignal,
  type ReassembledSample,
} from '@m4sc/transport';
import { type Observable, Subject, type Subscription } from 'rxjs';

/** A frame as the receiver got it; `lostPackets` > 0 means parts were filled with zeros. */
export interface ReceivedFrame {
  seq: number;
  captureTsMs: number;
  /** Capture-to-arrival age, milliseconds (clock-offset corrected by the transport). */
  ageMs: number;
  width: number;
  height: number;
  /** RGB24 pixels. */
  data: Uint8Array;
  lostPackets: number;
  packetCount: number;
}

/** Options of {@link createReceiver}. */
export interface ReceiverOptions {
  signalUrl: string;
  room: string;
  token?: string;
  /** Creates the RTCPeerConnection for the link to the sender. */
  createPeerConnection: () => unknown;
  logger?: Logger;
}

/** A running receiver. */
export interface Receiver {
  readonly peerId: string;
  /** Frames as they are reassembled (with holes zero-filled). Completes on close. */
  readonly frames$: Observable<ReceivedFrame>;
  /** Link figures of the current sender link. Completes on close. */
  readonly stats$: Observable<LinkStats>;
  /** Samples that could not be turned into frames (bad operating point), counted. */
  readonly undecodable: number;
  close(): Promise<void>;
}

const silent: Logger = { debug() {}, info() {}, warn() {}, error() {} };

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

/** Turns a reassembled raw-RGB sample into a frame; missing packets become zeros at their offsets. */
export function frameFromSample(sample: ReassembledSample): ReceivedFrame | undefined {
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
  return {
    seq: sample.seq,
    captureTsMs: sample.captureTsMs,
    ageMs: sample.ageMs,
    width,
    height,
    data,
    lostPackets: lost,
    packetCount: sample.count,
  };
}

/** Joins `room` as a receiver; answers the sender's offer and reassembles what it streams. */
export async function createReceiver(options: ReceiverOptions): Promise<Receiver> {
  const log = options.logger ?? silent;
  const client: SignalingClient = await connectSignaling({
    url: options.signalUrl,
    room: options.room,
    role: 'receiver',
    reconnect: true,
    ...(options.token ? { token: options.token } : {}),
  });
  const frames$ = new Subject<ReceivedFrame>();
  const stats$ = new Subject<LinkStats>();
  let link: PeerLink | undefined;
  let linkFrom: string | undefined;
  let linkSubs: Subscription[] = [];
  let undecodable = 0;
  let closed = false;

  const dropLink = () => {
    for (const s of linkSubs) s.unsubscribe();
    linkSubs = [];
    link?.close();
    link = undefined;
    linkFrom = undefined;
  };

  const newLink = (from: string) => {
    dropLink();
    const l = createPeerLink({
      pc: options.createPeerConnection() as never,
      role: 'answerer',
      sendSignal: (data: PeerSignal) => {
        if (client.state === 'joined') client.signal(from, data as never);
      },
    });
    link = l;
    linkFrom = from;
    linkSubs.push(
      l.samples$.subscribe((sample) => {
        const frame = frameFromSample(sample);
        if (frame) frames$.next(frame);
        else {
          undecodable++;
          log.warn('undecodable sample dropped', { seq: sample.seq });
        }
      }),
      l.stats$.subscribe((s) => stats$.next(s)),
    );
    l.connected.then(
      () => log.info('connected to sender', { sender: from }),
      (err: unknown) => log.warn('connection to sender failed', { error: String(err) }),
    );
    return l;
  };

  const sub = client.events$.subscribe((ev) => {
    if (ev.type === 'signal') {
      const data = ev.data as unknown as PeerSignal;
      // A new offer from the sender (first join, or the sender restarted) starts a fresh link.
      const l = data.type === 'offer' || ev.from !== linkFrom ? newLink(ev.from) : link;
      try {
        l?.handleSignal(data);
      } catch (err) {
        log.warn('bad signal dropped', { error: String(err) });
      }
    } else if (ev.type === 'peer-left' && ev.peerId === linkFrom) {
      log.info('sender left', { reason: ev.reason });
      dropLink();
    } else if (ev.type === 'error') {
      log.warn('signaling error', { code: ev.code, message: ev.message });
    }
  });

  return {
    peerId: client.peerId,
    frames$: frames$.asObservable(),
    stats$: stats$.asObservable(),
    get undecodable() {
      return undecodable;
    },
    async close() {
      if (closed) return;
      closed = true;
      sub.unsubscribe();
      dropLink();
      client.close();
      frames$.complete();
      stats$.complete();
    },
  };
}
