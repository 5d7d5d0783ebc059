import type { DataChannelLike, PeerConnectionLike } from '../types.js';

/** Resolves when ICE gathering is complete, or after `timeoutMs` (the SDP then carries what was found). */
export function gathered(pc: PeerConnectionLike, timeoutMs: number): Promise<void> {
  if (pc.iceGatheringState === 'complete') return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      pc.removeEventListener('icegatheringstatechange', check);
      resolve();
    };
    const check = () => {
      if (pc.iceGatheringState === 'complete') done();
    };
    const timer = setTimeout(done, timeoutMs);
    pc.addEventListener('icegatheringstatechange', check);
  });
}

/**
 * A DCEP (in-band) data channel: Janus opens and accepts channels by label, it does not do negotiated ids.
 * Unordered and without retransmission, as the link's `public` channel.
 */
export function openLossyChannel(pc: PeerConnectionLike, label: string): DataChannelLike {
  const ch = (
    pc.createDataChannel as unknown as (
      l: string,
      init: { ordered: boolean; maxRetransmits: number },
    ) => unknown
  ).call(pc, label, { ordered: false, maxRetransmits: 0 }) as DataChannelLike;
  ch.binaryType = 'arraybuffer';
  return ch;
}

/** Resolves when `ch` is open; rejects when it closes first or after `timeoutMs`. */
export function channelOpen(ch: DataChannelLike, timeoutMs: number): Promise<void> {
  if (ch.readyState === 'open') return Promise.resolve();
  return new Promise((resolve, reject) => {
    const cleanup = () => {
      clearTimeout(timer);
      ch.removeEventListener('open', onOpen);
      ch.removeEventListener('close', onClose);
    };
    const onOpen = () => {
      cleanup();
      resolve();
    };
    const onClose = () => {
      cleanup();
      reject(new Error(`data channel '${ch.label}' closed before it opened`));
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`data channel '${ch.label}' did not open within ${timeoutMs} ms`));
    }, timeoutMs);
    ch.addEventListener('open', onOpen);
    ch.addEventListener('close', onClose);
  });
}

/** Resolves with a reason when the connection fails or closes. */
export function connectionLost(pc: PeerConnectionLike): { promise: Promise<string>; cancel(): void } {
  let cancel = () => {};
  const promise = new Promise<string>((resolve) => {
    const check = () => {
      const s = pc.connectionState;
      if (s === 'failed' || s === 'closed' || s === 'disconnected') {
        pc.removeEventListener('connectionstatechange', check);
        resolve(`peer connection ${s}`);
      }
    };
    pc.addEventListener('connectionstatechange', check);
    cancel = () => pc.removeEventListener('connectionstatechange', check);
  });
  return { promise, cancel };
}

/** A fresh feed id: the time makes the newest publisher easy to pick, the random part makes it unique. */
export function newFeedId(): string {
  return `m4sc-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
}

/** Sorts feed ids newest first (ids from {@link newFeedId}; others after them, by name). */
export function feedTime(id: string): number {
  const m = /^m4sc-([0-9a-z]+)-/.exec(id);
  return m ? Number.parseInt(m[1]!, 36) : -1;
}

/** Drops `a=candidate` lines whose address fails `keep` (Janus would otherwise check them all). */
export function filterCandidates(sdp: string, keep: ((address: string) => boolean) | undefined): string {
  if (!keep) return sdp;
  return sdp
    .split('\r\n')
    .filter((line) => {
      if (!line.startsWith('a=candidate:')) return true;
      const address = line.split(' ')[4];
      return address !== undefined && keep(address);
    })
    .join('\r\n');
}
