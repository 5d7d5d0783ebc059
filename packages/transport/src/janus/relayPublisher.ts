import { BehaviorSubject } from 'rxjs';
import {
  DEFAULT_MTU_BYTES,
  MAX_SEQ,
  SEND_BUFFER_HIGH_WATERMARK_BYTES,
  SEND_BUFFER_LOW_WATERMARK_BYTES,
} from '../defaults.js';
import { InvalidStateError } from '../errors.js';
import { encodeFrame, maxPayloadBytesFor } from '../framer.js';
import { silentLogger } from '../logger.js';
import { getSharedPacer, type PacerRegistration } from '../pacer.js';
import { SampleSendQueue } from '../sendQueue.js';
import type { DataChannelLike, PeerConnectionLike } from '../types.js';
import { type CascadeLink, startCascade } from './cascade.js';
import { connectJanus, type JanusHandle, type JanusSession } from './janusSession.js';
import {
  channelOpen,
  connectionLost,
  filterCandidates,
  gathered,
  newFeedId,
  openLossyChannel,
} from './negotiate.js';
import { createBackoffPolicy } from './reconnect.js';
import { parseRelayUrl } from './relayUrl.js';
import type { JanusPublisherOptions, RelayPublisher, RelayPublisherStats, RelayState } from './types.js';
import { ensureRoom, VIDEOROOM } from './videoroom.js';

/** The data channel's label on the uplink (receivers accept any label: Janus relabels cascaded data). */
export const RELAY_CHANNEL_LABEL = 'public';
/** Default display name of the sender's feed: how subscribers find it in the room. */
export const DEFAULT_FEED_DISPLAY = 'm4sc-sender';
const GATHER_TIMEOUT_MS = 3000;

interface Attempt {
  session: JanusSession;
  handle: JanusHandle;
  pc: PeerConnectionLike;
  dc: DataChannelLike;
  feedId: string;
  cascades: CascadeLink[];
  teardown(): Promise<void>;
}

/**
 * Publishes the public stream once to a Janus VideoRoom as a data-only feed, and keeps it there: when the
 * connection to Janus is lost (Janus restarted, network), it says so on `state$`, reconnects by its policy,
 * creates the room again if needed and republishes under a new feed id. With `cascade`, each further Janus
 * gets the feed by Janus's own forwarding, so the upload stays one stream whatever the fan-out.
 */
export function createJanusPublisher(options: JanusPublisherOptions): RelayPublisher {
  const address = parseRelayUrl(options.url);
  const cascadeTargets = (options.cascade ?? []).map(parseRelayUrl);
  const log = options.logger ?? silentLogger;
  const policy = options.reconnect ?? createBackoffPolicy();
  const timeoutMs = options.timeoutMs ?? 5000;
  const display = options.display ?? DEFAULT_FEED_DISPLAY;
  const mtuBytes = options.mtuBytes ?? DEFAULT_MTU_BYTES;
  const maxPacketPayloadBytes = maxPayloadBytesFor(mtuBytes, options.opBudgetBytes ?? 128);
  const state$ = new BehaviorSubject<RelayState>('connecting');
  const queue = new SampleSendQueue();
  const counters = { samples: 0, packets: 0, bytes: 0, droppedNotUp: 0, reconnects: 0 };
  let current: Attempt | undefined;
  let closed = false;
  let pseq = 0;
  let wakeSleep: (() => void) | undefined;

  const setState = (s: RelayState) => {
    if (state$.value !== s && state$.value !== 'closed') state$.next(s);
  };

  const registration: PacerRegistration = (options.pacer ?? getSharedPacer()).register({
    pump() {
      const a = current;
      if (!a || state$.value !== 'up' || a.dc.readyState !== 'open') return 0;
      if (a.dc.bufferedAmount >= SEND_BUFFER_HIGH_WATERMARK_BYTES) return 0;
      const p = queue.shift(Date.now());
      if (!p) return 0;
      const frame = encodeFrame({ ...p, stream: p.stream ?? 'public', pseq });
      pseq = pseq === MAX_SEQ ? 0 : pseq + 1;
      try {
        a.dc.send(frame);
      } catch (err) {
        log.warn('relay: send failed', { relay: address.href, error: String(err) });
        return 0;
      }
      counters.packets++;
      counters.bytes += frame.byteLength;
      return frame.byteLength;
    },
  });

  const connectOnce = async (): Promise<Attempt> => {
    const session = await connectJanus({
      wsUrl: address.wsUrl,
      timeoutMs,
      logger: log,
      ...(options.createWebSocket ? { createWebSocket: options.createWebSocket } : {}),
    });
    let pc: PeerConnectionLike | undefined;
    const cascades: CascadeLink[] = [];
    const teardown = async () => {
      for (const c of cascades) await c.close();
      try {
        pc?.close();
      } catch {}
      await session.destroy();
    };
    try {
      const handle = await session.attach(VIDEOROOM);
      await ensureRoom(handle, address.room);
      const feedId = newFeedId();
      await handle.request({ request: 'join', ptype: 'publisher', room: address.room, id: feedId, display });
      pc = options.createPeerConnection();
      const dc = openLossyChannel(pc, RELAY_CHANNEL_LABEL);
      dc.bufferedAmountLowThreshold = SEND_BUFFER_LOW_WATERMARK_BYTES;
      dc.addEventListener('bufferedamountlow', () => registration.wake());
      await pc.setLocalDescription(await pc.createOffer());
      await gathered(pc, GATHER_TIMEOUT_MS);
      const offer = pc.localDescription!;
      const reply = await handle.request(
        { request: 'publish' },
        { type: 'offer', sdp: filterCandidates(offer.sdp, options.localCandidateFilter) },
      );
      if (!reply.jsep) throw new Error('Janus answered publish without an SDP answer');
      await pc.setRemoteDescription({ type: 'answer', sdp: reply.jsep.sdp });
      handle.trickleCompleted();
      await channelOpen(dc, timeoutMs);
      for (const target of cascadeTargets) {
        cascades.push(
          startCascade({
            upstream: handle,
            upstreamRoom: address.room,
            feedId,
            display,
            target,
            options,
            log,
          }),
        );
      }
      return { session, handle, pc, dc, feedId, cascades, teardown };
    } catch (err) {
      await teardown();
      throw err;
    }
  };

  const sleep = (ms: number) =>
    new Promise<void>((r) => {
      const t = setTimeout(r, ms);
      wakeSleep = () => {
        clearTimeout(t);
        r();
      };
    });

  const run = async () => {
    let attempt = 0;
    let since = Date.now();
    let lastError: Error | undefined;
    let wasUp = false;
    while (!closed) {
      try {
        const a = await connectOnce();
        if (closed) {
          await a.teardown();
          break;
        }
        current = a;
        if (wasUp) counters.reconnects++;
        log.info(
          wasUp
            ? `relay: reconnected to ${address.href} after ${Date.now() - since} ms, publishing as ${a.feedId}`
            : `relay: publishing the public stream to ${address.href} as ${a.feedId}`,
          {
            relay: address.href,
            feedId: a.feedId,
            cascade: cascadeTargets.map((t) => t.href).join(' ') || undefined,
          },
        );
        wasUp = true;
        attempt = 0;
        lastError = undefined;
        setState('up');
        registration.wake();
        const lost = connectionLost(a.pc);
        const reason = await Promise.race([
          a.session.closed,
          lost.promise,
          new Promise<string>((r) => a.dc.addEventListener('close', () => r('data channel closed'))),
          new Promise<string>((r) =>
            a.handle.events$.subscribe((ev) => {
              if (ev.janus === 'hangup' || ev.janus === 'detached')
                r(`Janus ${ev.janus}${ev.reason ? `: ${ev.reason}` : ''}`);
            }),
          ),
        ]);
        lost.cancel();
        current = undefined;
        since = Date.now();
        if (!closed) {
          log.warn(`relay: connection to ${address.href} lost (${reason}); reconnecting`, {
            relay: address.href,
            reason,
          });
          setState('down');
        }
        await a.teardown();
      } catch (err) {
        lastError = err as Error;
        if (closed) break;
        if (attempt === 0 || attempt % 10 === 0)
          log.warn(`relay: cannot publish to ${address.href}: ${lastError.message}; retrying`, {
            relay: address.href,
            attempt,
          });
        if (state$.value === 'up') setState('down');
      }
      if (closed) break;
      const delay = policy.nextRetryDelayMs({ attempt, elapsedMs: Date.now() - since, lastError });
      attempt++;
      if (delay === null) {
        log.error(`relay: giving up on ${address.href}`, { relay: address.href, error: lastError?.message });
        setState('closed');
        break;
      }
      await sleep(delay);
    }
  };
  void run();

  return {
    address,
    maxPacketPayloadBytes,
    get state() {
      return state$.value;
    },
    state$: state$.asObservable(),
    get feedId() {
      return current?.feedId;
    },
    stats(): RelayPublisherStats {
      return {
        state: state$.value,
        feedId: current?.feedId,
        ...counters,
        droppedBackpressure: queue.droppedBackpressure,
        droppedStale: queue.droppedStale,
        queuedBytes: queue.queuedBytes,
        cascades: current?.cascades.filter((c) => c.up).length ?? 0,
      };
    },
    sendSample(sample) {
      if (closed) throw new InvalidStateError('sendSample() called on a closed relay publisher');
      if (state$.value !== 'up') {
        counters.droppedNotUp++;
        return false;
      }
      queue.push(sample);
      counters.samples++;
      registration.wake();
      return true;
    },
    async close() {
      if (closed) return;
      closed = true;
      wakeSleep?.();
      registration.unregister();
      queue.clear();
      const a = current;
      current = undefined;
      if (a) {
        try {
          await a.handle.request({ request: 'unpublish' });
        } catch {}
        await a.teardown();
      }
      state$.next('closed');
      state$.complete();
    },
  };
}
