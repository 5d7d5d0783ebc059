import {
  connectSignaling,
  createExponentialBackoff,
  type Logger,
  type SignalingClient,
} from '@m4sc/signaling/client';
import { InvalidStateError, type PeerSignal } from '@m4sc/transport';
import { Subject } from 'rxjs';
import { createDecodeQueue } from './decodeQueue.js';
import { createLimitedWarn } from './limitedWarn.js';
import {
  emptyDropCounters,
  type Receiver,
  type ReceiverEvent,
  type ReceiverOptions,
} from './receiverTypes.js';
import { decodeSample } from './sampleDecoder.js';
import { createSenderControl } from './senderControl.js';
import { createSenderLink } from './senderLink.js';

export { rawFrameFromSample } from './rawFrame.js';
export type {
  Receiver,
  ReceiverEvent,
  ReceiverInstruction,
  ReceiverOptions,
  ReceiverResult,
} from './receiverTypes.js';

const silent: Logger = { debug() {}, info() {}, warn() {}, error() {} };

/**
 * Signaling heartbeat, ms: a ping unanswered by the next one means the path to the signaling server died (a
 * path change leaves TCP open for minutes), and the client rejoins; the sender's ICE restart needs it back.
 */
const SIGNALING_HEARTBEAT_MS = 2_000;
/** Longest wait between rejoin attempts, ms, so that signaling is back about a second after the network is. */
const SIGNALING_RETRY_MAX_DELAY_MS = 1_000;
/** Rejoin attempts before giving up: about five minutes at the 1 s ceiling. */
const SIGNALING_RETRY_MAX_ATTEMPTS = 300;

/**
 * Joins `room` as a receiver, asks for its task over `control`, and decodes what the sender streams.
 *
 * A facade over its managers: the link to the sender (senderLink.ts, with relayReporter.ts), the control
 * conversation (senderControl.ts) and the decode queue (decodeQueue.ts over sampleDecoder.ts).
 */
export async function createReceiver(options: ReceiverOptions): Promise<Receiver> {
  const log = options.logger ?? silent;
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
  const events$ = new Subject<ReceiverEvent>();
  const emit = (ev: ReceiverEvent) => events$.next(ev);
  const dropped = emptyDropCounters();
  const warn = createLimitedWarn(log);
  let closed = false;

  const control = createSenderControl({
    codec: options.codec,
    instruction: options.instruction ?? { task: 'reconstruct' },
    link: () => link.current(),
    relay: options.relay,
    onServed: (ik) => queue.served(ik),
    emit,
    dropped,
    warn,
    log,
  });
  const queue = createDecodeQueue({
    decode: (sample, receivedAt, layers) => decodeSample(control, sample, receivedAt, layers),
    isServed: (ik) => control.serveFor(ik) !== undefined,
    receiverClosed: () => closed,
    dropped,
    warn,
  });
  const link = createSenderLink({
    client,
    createPeerConnection: options.createPeerConnection,
    faults: options.faults,
    relay: options.relay,
    queue,
    control,
    emit,
    log,
  });

  const sub = client.events$.subscribe((ev) => {
    if (ev.type === 'signal') {
      link.signal(ev.from, ev.data as unknown as PeerSignal);
    } else if (ev.type === 'peer-left') {
      link.peerLeft(ev.peerId, ev.reason);
    } else if (ev.type === 'error') {
      log.warn('signaling error', { code: ev.code, message: ev.message });
    } else if (ev.type === 'reconnecting') {
      emit({ type: 'signaling-lost', attempt: ev.attempt, delayMs: ev.delayMs });
    } else if (ev.type === 'reconnected') {
      emit({ type: 'signaling-restored' });
    } else if (ev.type === 'closed' && !closed) {
      emit({ type: 'signaling-closed', reason: ev.reason || ev.error?.message || `code ${ev.code}` });
    }
  });

  return {
    peerId: client.peerId,
    results$: queue.results$,
    events$: events$.asObservable(),
    stats$: link.stats$,
    dropped,
    faultLostSeqs: () => link.faultLostSeqs(),
    staleSeqs: () => link.staleSeqs(),
    setInstruction(next) {
      if (closed) throw new InvalidStateError('setInstruction() called on a closed receiver');
      if (!next || typeof next.task !== 'string') throw new TypeError('instruction.task must be a string');
      control.setInstruction(next);
    },
    async close() {
      if (closed) return;
      closed = true;
      sub.unsubscribe();
      link.drop();
      await options.relay?.close();
      client.close();
      queue.close();
      events$.complete();
      link.close();
    },
  };
}
