// The reference for the node-datachannel backend: libdatachannel through node-datachannel's own (non-W3C) API,
// two peers in this process on loopback, sending fixed-size messages as fast as the send buffer allows —
// no polyfill, no framing, no pacer, no queues.
import nodeDataChannel from 'node-datachannel';
import { sleep } from './report.mjs';

const { PeerConnection } = nodeDataChannel;

/**
 * Received goodput of one data channel, bytes/s.
 * @param {{ reliable: boolean, messageBytes: number, durationMs: number, mtu: number,
 *           highWatermarkBytes: number, lowWatermarkBytes: number }} o
 */
export async function measureRawGoodput(o) {
  const config = { iceServers: [], bindAddress: '127.0.0.1', mtu: o.mtu };
  const a = new PeerConnection('raw-a', config);
  const b = new PeerConnection('raw-b', config);
  let closed = false;
  // A native callback that throws aborts the process: never let a late candidate or description throw.
  const guard =
    (fn) =>
    (...args) => {
      if (closed) return;
      try {
        fn(...args);
      } catch {}
    };
  a.onLocalDescription(guard((sdp, type) => b.setRemoteDescription(sdp, type)));
  a.onLocalCandidate(guard((c, mid) => b.addRemoteCandidate(c, mid)));
  b.onLocalDescription(guard((sdp, type) => a.setRemoteDescription(sdp, type)));
  b.onLocalCandidate(guard((c, mid) => a.addRemoteCandidate(c, mid)));
  let bytes = 0;
  let messages = 0;
  let counting = false;
  const received = new Promise((resolve) => {
    b.onDataChannel((dc) => {
      dc.onMessage((m) => {
        if (!counting) return;
        bytes += typeof m === 'string' ? m.length : m.byteLength;
        messages++;
      });
      resolve(dc);
    });
  });
  const tx = a.createDataChannel('raw', o.reliable ? {} : { unordered: true, maxRetransmits: 0 });
  try {
    await new Promise((resolve, reject) => {
      const t = setTimeout(
        () => reject(new Error('raw libdatachannel pair did not connect in 10 s')),
        10_000,
      );
      tx.onOpen(() => {
        clearTimeout(t);
        resolve();
      });
    });
    await received;
    const payload = Buffer.alloc(o.messageBytes, 0x5a);
    let running = true;
    const fill = () => {
      while (running && tx.isOpen() && tx.bufferedAmount() < o.highWatermarkBytes)
        tx.sendMessageBinary(payload);
    };
    tx.setBufferedAmountLowThreshold(o.lowWatermarkBytes);
    tx.onBufferedAmountLow(fill);
    counting = true;
    const t0 = performance.now();
    // The low-threshold callback drives sending; the timer only restarts it should a callback be missed.
    while (performance.now() - t0 < o.durationMs) {
      fill();
      await sleep(5);
    }
    counting = false;
    running = false;
    const seconds = (performance.now() - t0) / 1000;
    return { bytesPerSec: bytes / seconds, messages };
  } finally {
    closed = true;
    try {
      tx.close();
    } catch {}
    a.close();
    b.close();
  }
}
