import type { Logger, SignalingClient } from '@m4sc/signaling/client';
import {
  createPeerLink,
  type LinkStats,
  type PeerConnectionLike,
  type PeerLink,
  type PeerSignal,
  type ReassembledSample,
  type ReconnectRequest,
  sdpSessionId,
} from '@m4sc/transport';
import type { LayeredRelaySubscriber, RelaySubscriber } from '@m4sc/transport/janus';
import { type Observable, Subject, Subscription } from 'rxjs';
import type { DecodeQueue } from './decodeQueue.js';
import type { ReceiverEvent } from './receiverTypes.js';
import { createRelayReporter } from './relayReporter.js';
import type { SenderControl } from './senderControl.js';

/** What {@link createSenderLink} needs. */
export interface SenderLinkOptions {
  /** The room, through which the sender's offers and candidates come. */
  client: SignalingClient;
  /** Creates the RTCPeerConnection of each new link. */
  createPeerConnection: () => PeerConnectionLike;
  /** Receive-side fault injection on the sample channels. */
  faults: { lossPct?: number; delayMs?: number; jitterMs?: number; seed?: number } | undefined;
  /** The relay subscriber, if any: its public samples join the link's. */
  relay: RelaySubscriber | LayeredRelaySubscriber | undefined;
  /** Where samples go. */
  queue: DecodeQueue;
  /** Where control messages go; it is reset with each link. */
  control: SenderControl;
  /** Tells the user. */
  emit(event: ReceiverEvent): void;
  log: Logger;
}

/**
 * The link to the sender: a new one for each offer from a sender (first join, or the sender restarted),
 * kept through ICE restarts (the path changed), dropped when the sender leaves. Samples from it (and the
 * relay) go to the decode queue once each, control to the control handler.
 */
export interface SenderLink {
  /** Link figures of the current link. Completes on close. */
  readonly stats$: Observable<LinkStats>;
  /** The current link, if any. */
  current(): PeerLink | undefined;
  /** Handles a signaling message from `from`: an ICE restart goes to the link it restarts, any other offer starts a new link. */
  signal(from: string, data: PeerSignal): void;
  /** A peer left the room: if it is our sender, its link is dropped. */
  peerLeft(peerId: string, reason: string): void;
  /** Samples the fault injector dropped entirely, on every link so far. */
  faultLostSeqs(): number[];
  /** Samples the links dropped packets of, or whole, for their age (sample numbers, all streams, links included that are gone). */
  staleSeqs(): number[];
  /** Drops the current link, if any. */
  drop(): void;
  /** Drops the link and completes `stats$`. */
  close(): void;
}

/** The sender link manager of one receiver. */
export function createSenderLink(o: SenderLinkOptions): SenderLink {
  const { client, queue, control, emit, log } = o;
  const stats$ = new Subject<LinkStats>();
  let link: PeerLink | undefined;
  let linkFrom: string | undefined;
  let linkSubs: Subscription[] = [];
  /**
   * The sample numbers links already closed listed (a sender restart starts a new link): wholly lost to the fault
   * injector, and dropped (in part or whole) for their age.
   */
  const closedLinks = { faultLost: [] as number[], stale: [] as number[] };
  const read = { faultLost: (l: PeerLink) => l.faultLostSamples(), stale: (l: PeerLink) => l.staleSamples() };
  /** The sample numbers of one list, over closed links and the current one, each once. */
  const seqs = (kind: keyof typeof read) => [
    ...new Set([...closedLinks[kind], ...(link ? read[kind](link) : []).map((x) => x.seq)]),
  ];

  const dropLink = () => {
    if (link) for (const kind of ['faultLost', 'stale'] as const) closedLinks[kind] = seqs(kind);
    queue.clearLayers();
    for (const s of linkSubs) s.unsubscribe();
    linkSubs = [];
    link?.close();
    link = undefined;
    linkFrom = undefined;
    control.reset();
  };

  const newLink = (from: string, offer: string | undefined) => {
    dropLink();
    const l = createPeerLink({
      pc: o.createPeerConnection(),
      role: 'answerer',
      sendSignal: (data: PeerSignal) => {
        if (client.state === 'joined') client.signal(from, data as never);
      },
      opBudgetBytes: 128,
      logger: log,
      ...(o.faults ? { faults: o.faults } : {}),
    });
    link = l;
    linkFrom = from;
    /** Samples seen on this link or the relay, so one that comes both ways is decoded once. */
    const recent = new Set<string>();
    const onSample = (sample: ReassembledSample) => {
      const key = `${sample.stream}|${sample.seq}`;
      if (recent.has(key)) return;
      recent.add(key);
      if (recent.size > 512) recent.delete(recent.values().next().value as string);
      queue.push(sample);
    };
    const reporter = o.relay
      ? createRelayReporter({ relay: o.relay, link: l, fps: () => control.hello?.fps, onSample, log })
      : undefined;
    linkSubs.push(
      l.samples$.subscribe(onSample),
      ...(reporter ? [new Subscription(() => reporter.close())] : []),
      l.control$.subscribe((m) => control.handle(m)),
      l.stats$.subscribe((s) => {
        stats$.next(s);
        reporter?.onLinkStats(s);
        const report = queue.takeReport();
        if (l.state === 'connected' && control.hello?.codec === 'semantic') l.sendControl(report);
      }),
    );
    let silentSinceMs: number | undefined;
    linkSubs.push(
      l.state$.subscribe((state) => {
        if (state === 'disconnected') {
          silentSinceMs = Date.now();
          log.warn('link to the sender silent (path change?); waiting for its ICE restart', { sender: from });
          emit({ type: 'link-lost' });
        } else if (state === 'connected' && silentSinceMs !== undefined) {
          const afterMs = Date.now() - silentSinceMs;
          silentSinceMs = undefined;
          log.info('ice restart after path change: link to the sender restored', {
            sender: from,
            afterMs,
            iceRestarts: l.iceRestarts,
          });
          emit({ type: 'link-restored', afterMs });
        }
      }),
    );
    l.connected.then(
      () => {
        log.info('connected to sender', { sender: from });
        emit({ type: 'connected' });
        control.linkConnected();
      },
      (err: unknown) => {
        // Our side failed while connecting; the sender's may not have (ICE that failed at once here goes on
        // trying there until its 20 s timeout): ask it for a new link, unless this one was replaced meanwhile.
        const asked = link === l && client.state === 'joined';
        log.warn('connection to sender failed', {
          error: String(err),
          ...(asked ? { next: 'asking the sender for a new link' } : {}),
        });
        if (asked) {
          const request: ReconnectRequest = { type: 'reconnect', reason: String(err), offer };
          client.signal(from, request as never);
        }
      },
    );
    return l;
  };

  return {
    stats$: stats$.asObservable(),
    current: () => link,
    signal(from, data) {
      // An ICE restart (the path changed) goes to the link it restarts; any other offer (first join, or the
      // sender restarted) starts a fresh link.
      const restart =
        data.type === 'offer' && data.restart === true && from === linkFrom && link !== undefined;
      if (restart) log.info('ice restart after path change: answering the sender', { sender: from });
      const l = restart
        ? link
        : data.type === 'offer' || from !== linkFrom
          ? newLink(from, data.type === 'offer' ? sdpSessionId(data.sdp) : undefined)
          : link;
      try {
        l?.handleSignal(data);
      } catch (err) {
        log.warn('bad signal dropped', { error: String(err) });
      }
    },
    peerLeft(peerId, reason) {
      if (peerId !== linkFrom) return;
      log.info('sender left', { reason });
      emit({ type: 'sender-left', reason });
      dropLink();
    },
    faultLostSeqs: () => seqs('faultLost'),
    staleSeqs: () => seqs('stale'),
    drop: dropLink,
    close() {
      dropLink();
      stats$.complete();
    },
  };
}
