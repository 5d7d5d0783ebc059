import { BehaviorSubject, Subject } from 'rxjs';
import { decodeFrame } from '../framer.js';
import { PacketCount } from '../linkMonitor.js';
import { silentLogger } from '../logger.js';
import { Reassembler } from '../reassembler.js';
import type { DataChannelLike, PeerConnectionLike, ReassembledSample } from '../types.js';
import { connectJanus, JanusError, type JanusHandle, type JanusSession } from './janusSession.js';
import {
  channelOpen,
  connectionLost,
  feedTime,
  filterCandidates,
  gathered,
  openLossyChannel,
} from './negotiate.js';
import { createBackoffPolicy } from './reconnect.js';
import { DEFAULT_FEED_DISPLAY } from './relayPublisher.js';
import { parseRelayUrl } from './relayUrl.js';
import type { JanusSubscriberOptions, RelayState, RelaySubscriber, RelaySubscriberStats } from './types.js';
import { listPublishers, VIDEOROOM, VIDEOROOM_ERROR } from './videoroom.js';

const GATHER_TIMEOUT_MS = 3000;
/** How often to look for the sender's feed while it is not in the room yet, milliseconds. */
const FEED_POLL_MS = 250;
/** Deadlines are run this often while samples are pending, milliseconds (the link's reassembly tick). */
const TICK_MS = 50;
/** While idle, how often to look at the room's feeds, milliseconds. */
const IDLE_POLL_MS = 250;

interface Attempt {
  session: JanusSession;
  handle: JanusHandle;
  pc: PeerConnectionLike;
  feedId: string;
  teardown(): Promise<void>;
}

/**
 * Subscribes to the sender's feed in a Janus VideoRoom and reassembles the public stream from it. Finds
 * the feed by its display name (the newest, when a restarted sender left an old one behind), waits for it
 * when the sender is not there yet, and reconnects by its policy when Janus or the feed goes away.
 *
 * Janus sends a feed's data on a channel labelled with the feed id (also in a cascaded room, where the
 * remote feed keeps the id). This side opens that channel itself, unordered and without retransmissions
 * like the link's `public` channel, and Janus uses it; should Janus open its own first (reliable, ordered),
 * that one is read too: every data channel is read, whatever its label.
 */
export function createJanusSubscriber(options: JanusSubscriberOptions): RelaySubscriber {
  const address = parseRelayUrl(options.url);
  const log = options.logger ?? silentLogger;
  const policy = options.reconnect ?? createBackoffPolicy();
  const timeoutMs = options.timeoutMs ?? 5000;
  const display = options.display ?? DEFAULT_FEED_DISPLAY;
  const idleCheckMs = options.idleCheckMs ?? 1000;
  const state$ = new BehaviorSubject<RelayState>('connecting');
  const samples$ = new Subject<ReassembledSample>();
  const reassembler = new Reassembler({
    channel: 'public',
    ...(options.reassemblyTimeoutMs ? { reassemblyTimeoutMs: options.reassemblyTimeoutMs } : {}),
    ...(options.maxAgeMs ? { maxAgeMs: options.maxAgeMs } : {}),
  });
  const counters = { messages: 0, bytes: 0, malformed: 0, samples: 0, reconnects: 0, lastMessageAtMs: 0 };
  const packets = new PacketCount();
  let current: Attempt | undefined;
  let closed = false;
  let wakeSleep: (() => void) | undefined;
  let lastMalformedLogMs = 0;

  const setState = (s: RelayState) => {
    if (state$.value !== s && state$.value !== 'closed') state$.next(s);
  };
  let tick: ReturnType<typeof setTimeout> | undefined;
  const emit = (out: ReassembledSample[]) => {
    for (const s of out) {
      counters.samples++;
      samples$.next(s);
    }
    // Deadlines only matter while something is pending: no timer per subscriber otherwise (128 of them).
    if (tick === undefined && !closed && reassembler.pendingCount > 0) {
      tick = setTimeout(() => {
        tick = undefined;
        emit(reassembler.tick(Date.now()));
      }, TICK_MS);
    }
  };

  const onMessage = (data: unknown) => {
    const now = Date.now();
    counters.messages++;
    counters.lastMessageAtMs = now;
    const bytes =
      data instanceof Uint8Array
        ? data
        : data instanceof ArrayBuffer
          ? new Uint8Array(data)
          : ArrayBuffer.isView(data)
            ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength)
            : undefined;
    if (!bytes) {
      counters.malformed++;
      return;
    }
    counters.bytes += bytes.byteLength;
    try {
      const frame = decodeFrame(bytes);
      packets.observe(frame.pseq);
      emit(reassembler.process(frame, now));
    } catch (err) {
      counters.malformed++;
      if (now - lastMalformedLogMs > 1000) {
        lastMalformedLogMs = now;
        log.warn('relay: malformed frame dropped', { relay: address.href, error: (err as Error).message });
      }
    }
  };

  const listen = (ch: DataChannelLike) => {
    ch.binaryType = 'arraybuffer';
    ch.addEventListener('message', (e) => onMessage((e as { data?: unknown }).data));
  };

  /** The newest feed with our display name, polling until there is one. */
  const findFeed = async (session: JanusSession, handle: JanusHandle): Promise<string> => {
    let logged = false;
    for (;;) {
      const feeds = (await listPublishers(handle, address.room)).filter((p) => p.display === display);
      if (feeds.length > 0) return feeds.sort((a, b) => feedTime(b.id) - feedTime(a.id))[0]!.id;
      if (!logged) {
        log.info(`relay: waiting for the sender's feed in ${address.href}`, { relay: address.href });
        logged = true;
      }
      const r = await Promise.race([session.closed, new Promise((res) => setTimeout(res, FEED_POLL_MS))]);
      if (typeof r === 'string') throw new Error(r);
      if (closed) throw new Error('closed');
    }
  };

  const connectOnce = async (): Promise<Attempt> => {
    const session = await connectJanus({
      wsUrl: address.wsUrl,
      timeoutMs,
      logger: log,
      ...(options.createWebSocket ? { createWebSocket: options.createWebSocket } : {}),
    });
    let pc: PeerConnectionLike | undefined;
    const teardown = async () => {
      try {
        pc?.close();
      } catch {}
      await session.destroy();
    };
    try {
      const handle = await session.attach(VIDEOROOM);
      const feedId = await findFeed(session, handle);
      const reply = await handle.request({
        request: 'join',
        ptype: 'subscriber',
        room: address.room,
        streams: [{ feed: feedId }],
      });
      if (reply.jsep?.type !== 'offer') throw new Error('Janus attached without an SDP offer');
      pc = options.createPeerConnection();
      pc.addEventListener('datachannel', (e) => listen((e as { channel: DataChannelLike }).channel));
      // Janus relays a feed's data on a channel labelled with the feed id, opening a reliable ordered one
      // unless the subscriber already has one by that label: offer it unordered without retransmissions.
      const own = openLossyChannel(pc, feedId);
      listen(own);
      await pc.setRemoteDescription({ type: 'offer', sdp: reply.jsep.sdp });
      await pc.setLocalDescription(await pc.createAnswer());
      await gathered(pc, GATHER_TIMEOUT_MS);
      await handle.request(
        { request: 'start' },
        { type: 'answer', sdp: filterCandidates(pc.localDescription!.sdp, options.localCandidateFilter) },
      );
      handle.trickleCompleted();
      await channelOpen(own, timeoutMs);
      return { session, handle, pc, feedId, teardown };
    } catch (err) {
      await teardown();
      throw err;
    }
  };

  /** Resolves when there is a newer feed than ours, or ours is gone (checked only while idle). */
  const feedReplaced = (a: Attempt): { promise: Promise<string>; cancel(): void } => {
    let timer: ReturnType<typeof setInterval> | undefined;
    const promise = new Promise<string>((resolve) => {
      let checking = false;
      timer = setInterval(async () => {
        if (checking || Date.now() - counters.lastMessageAtMs < idleCheckMs) return;
        checking = true;
        try {
          const feeds = (await listPublishers(a.handle, address.room)).filter((p) => p.display === display);
          const newest = feeds.sort((x, y) => feedTime(y.id) - feedTime(x.id))[0];
          if (!feeds.some((p) => p.id === a.feedId)) resolve(`feed ${a.feedId} left the room`);
          else if (newest && newest.id !== a.feedId && feedTime(newest.id) > feedTime(a.feedId))
            resolve(`newer feed ${newest.id}`);
        } catch {}
        checking = false;
      }, IDLE_POLL_MS);
    });
    return { promise, cancel: () => clearInterval(timer) };
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
        packets.restart();
        if (wasUp) counters.reconnects++;
        log.info(
          wasUp
            ? `relay: reconnected to ${address.href} after ${Date.now() - since} ms, subscribed to ${a.feedId}`
            : `relay: subscribed to ${a.feedId} in ${address.href}`,
          { relay: address.href, feedId: a.feedId },
        );
        wasUp = true;
        attempt = 0;
        lastError = undefined;
        setState('up');
        const lost = connectionLost(a.pc);
        const replaced = feedReplaced(a);
        const reason = await Promise.race([
          a.session.closed,
          lost.promise,
          replaced.promise,
          new Promise<string>((r) =>
            a.handle.events$.subscribe((ev) => {
              log.debug('relay: janus event', { janus: ev.janus, data: JSON.stringify(ev.data ?? {}) });
              if (ev.janus === 'hangup' || ev.janus === 'detached')
                r(`Janus ${ev.janus}${ev.reason ? `: ${ev.reason}` : ''}`);
            }),
          ),
        ]);
        lost.cancel();
        replaced.cancel();
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
        const quiet = err instanceof JanusError && err.code === VIDEOROOM_ERROR.noSuchFeed;
        if (!quiet && (attempt === 0 || attempt % 10 === 0))
          log.warn(`relay: cannot subscribe at ${address.href}: ${lastError.message}; retrying`, {
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
    get state() {
      return state$.value;
    },
    state$: state$.asObservable(),
    samples$: samples$.asObservable(),
    get feedId() {
      return current?.feedId;
    },
    get clockOffsetMs() {
      return reassembler.clockOffsetMs;
    },
    set clockOffsetMs(v: number) {
      if (Number.isFinite(v)) reassembler.clockOffsetMs = v;
    },
    stats(): RelaySubscriberStats {
      const p = packets.totals();
      return {
        state: state$.value,
        feedId: current?.feedId,
        ...counters,
        packetsExpected: p.expected,
        lostPackets: p.lost,
      };
    },
    async close() {
      if (closed) return;
      closed = true;
      wakeSleep?.();
      clearTimeout(tick);
      const a = current;
      current = undefined;
      if (a) {
        try {
          await a.handle.request({ request: 'leave' });
        } catch {}
        await a.teardown();
      }
      state$.next('closed');
      state$.complete();
      samples$.complete();
    },
  };
}
