import type { Logger } from '../logger.js';
import { connectJanus, type JanusHandle, type JanusSession } from './janusSession.js';
import { createBackoffPolicy } from './reconnect.js';
import type { RelayAddress } from './relayUrl.js';
import type { JanusPublisherOptions } from './types.js';
import { ensureRoom, listPublishers, VIDEOROOM } from './videoroom.js';

/** One downstream Janus fed from the upstream one by Janus's own forwarding. */
export interface CascadeLink {
  readonly target: RelayAddress;
  /** True while the downstream room holds the remote feed and the upstream forwards to it. */
  readonly up: boolean;
  /** Stops forwarding and removes the remote feed downstream. Idempotent, never throws. */
  close(): Promise<void>;
}

interface CascadeArgs {
  upstream: JanusHandle;
  upstreamRoom: string;
  feedId: string;
  display: string;
  target: RelayAddress;
  options: JanusPublisherOptions;
  log: Logger;
}

const isIpv4 = (h: string) => /^\d{1,3}(\.\d{1,3}){3}$/.test(h);

/**
 * Chains `target` behind the upstream Janus (VideoRoom remote publishers, Janus ≥ 1.1):
 *  1. on the target: `add_remote_publisher` with the same feed id and display and one data stream
 *     (mindex 0, as the publisher's data-only offer); Janus opens a UDP port for it;
 *  2. on the upstream: `publish_remotely` to that host:port. Janus then forwards every data-channel message
 *     of the feed as one UDP datagram (a 12-byte RTP envelope whose payload type says binary), and the
 *     target relays it to its own subscribers' data channels.
 * Keeps a session to the target; when it is lost (the target restarted) the chain is rebuilt by the
 * publisher's reconnect policy, and remote feeds left over from earlier chains are removed first.
 */
export function startCascade(args: CascadeArgs): CascadeLink {
  const { upstream, upstreamRoom, feedId, display, target, options, log } = args;
  const policy = options.reconnect ?? createBackoffPolicy();
  const remoteId = `m4sc-cascade-${target.host}-${target.port}`;
  let closed = false;
  let up = false;
  let session: JanusSession | undefined;
  let handle: JanusHandle | undefined;
  let wake: (() => void) | undefined;

  const unpublishRemotely = async () => {
    try {
      await upstream.request({
        request: 'unpublish_remotely',
        room: upstreamRoom,
        publisher_id: feedId,
        remote_id: remoteId,
      });
    } catch {}
  };

  const once = async () => {
    session = await connectJanus({
      wsUrl: target.wsUrl,
      timeoutMs: options.timeoutMs ?? 5000,
      logger: log,
      ...(options.createWebSocket ? { createWebSocket: options.createWebSocket } : {}),
    });
    handle = await session.attach(VIDEOROOM);
    await ensureRoom(handle, target.room);
    for (const p of await listPublishers(handle, target.room)) {
      if (p.display !== display) continue;
      // A remote feed from an earlier chain (this sender before a restart of either Janus).
      try {
        await handle.request({ request: 'remove_remote_publisher', room: target.room, id: p.id });
      } catch {}
    }
    const { data } = await handle.request({
      request: 'add_remote_publisher',
      room: target.room,
      id: feedId,
      display,
      ...(isIpv4(target.host) ? { iface: target.host } : {}),
      streams: [{ type: 'data', mindex: 0, mid: '0' }],
    });
    const port = Number(data.port);
    if (!(port > 0)) throw new Error(`add_remote_publisher on ${target.href} returned no port`);
    await unpublishRemotely();
    await upstream.request({
      request: 'publish_remotely',
      room: upstreamRoom,
      publisher_id: feedId,
      remote_id: remoteId,
      host: target.host,
      port,
    });
  };

  const run = async () => {
    let attempt = 0;
    let since = Date.now();
    let everUp = false;
    while (!closed) {
      try {
        await once();
        if (closed) break;
        up = true;
        log.info(
          `relay: cascade ${everUp ? 're-established' : 'up'}: ${target.href} fed by Janus forwarding of ${feedId}`,
          { target: target.href },
        );
        everUp = true;
        attempt = 0;
        const reason = await session!.closed;
        up = false;
        since = Date.now();
        if (closed) break;
        log.warn(`relay: cascade to ${target.href} lost (${reason}); rebuilding`, { target: target.href });
      } catch (err) {
        up = false;
        await session?.destroy();
        if (closed) break;
        if (attempt % 10 === 0)
          log.warn(`relay: cannot cascade to ${target.href}: ${(err as Error).message}; retrying`, {
            target: target.href,
          });
      }
      const delay = policy.nextRetryDelayMs({ attempt, elapsedMs: Date.now() - since, lastError: undefined });
      attempt++;
      if (delay === null) break;
      await new Promise<void>((r) => {
        const t = setTimeout(r, delay);
        wake = () => {
          clearTimeout(t);
          r();
        };
      });
    }
  };
  void run();

  return {
    target,
    get up() {
      return up;
    },
    async close() {
      if (closed) return;
      closed = true;
      up = false;
      wake?.();
      await unpublishRemotely();
      if (handle) {
        try {
          await handle.request({ request: 'remove_remote_publisher', room: target.room, id: feedId });
        } catch {}
      }
      await session?.destroy();
    },
  };
}
