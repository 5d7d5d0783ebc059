// Goodput of a PeerLink pair, offered from a setImmediate loop so the link's queue never runs dry between
// timer ticks (a 5 ms producer tick caps the unreliable queue — 64 samples — at ~13 MB/s, a bench artifact).
import { createPacer, DEFAULT_PACER_RATE_BYTES_PER_SEC } from '@m4sc/transport';
import { createLoopbackLinkPair } from '@m4sc/transport/node';

const immediate = () => new Promise((r) => setImmediate(r));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
/** The library's default bucket depth, bytes (DEFAULT_PACER_BURST_BYTES). */
const DEFAULT_BURST_BYTES = 32 * 1024;
/** Bucket depth at high rates: 10 ms of the rate, so ≥ 1 ms timer wake-ups do not cap the rate below it. */
const BURST_MS = 10;

/**
 * Received payload bytes/s of one channel kind alone on a fresh link.
 * @param {{ kind: 'reliable' | 'unreliable', durationMs: number, pacerRateBytesPerSec?: number,
 *           offerFactor?: number, sliceWholeBucket?: boolean, createPeerConnection: Function }} o
 *   `pacerRateBytesPerSec`: default 2 MB/s (the library's); `offerFactor`: offered load over the pacer rate,
 *   default 1.2 (Infinity: as fast as the producer loop can go); `sliceWholeBucket`: the pacer may send its
 *   whole bucket in one event-loop turn (default: the library's 16 KiB slice).
 */
export async function measureLinkGoodput(o) {
  const rate = o.pacerRateBytesPerSec ?? DEFAULT_PACER_RATE_BYTES_PER_SEC;
  const offerFactor = o.offerFactor ?? 1.2;
  const burstBytes = Math.max(DEFAULT_BURST_BYTES, (rate * BURST_MS) / 1000);
  const pacer = createPacer({
    rateBytesPerSec: rate,
    burstBytes,
    // The default 16 KiB per event-loop turn keeps werift from large synchronous bursts; libdatachannel queues
    // natively, and one message per turn left its send buffer empty between turns under CPU contention.
    ...(o.sliceWholeBucket ? { sliceBytes: burstBytes } : {}),
  });
  const pair = await createLoopbackLinkPair({
    // Stats every 250 ms rather than 1 s: the drop count is read from the first one after the window.
    link: { pacer, statsIntervalMs: 250 },
    createPeerConnection: o.createPeerConnection,
  });
  try {
    const { offerer: tx, answerer: rx } = pair;
    const reliable = o.kind === 'reliable';
    const size = reliable ? 16 * 1024 : tx.maxPacketPayloadBytes;
    let bytes = 0;
    let messages = 0;
    let counting = true;
    rx.control$.subscribe((m) => {
      if (!counting) return;
      bytes += m.byteLength;
      messages++;
    });
    rx.samples$.subscribe((s) => {
      if (!counting || !s.complete) return;
      bytes += s.packets[0].byteLength;
      messages++;
    });
    const payload = new Uint8Array(size);
    const t0 = performance.now();
    let offered = 0;
    let seq = 0;
    const perTurn = reliable ? 4 : 32; // most messages offered per event-loop turn (~64 KB / ~33 KB)
    for (let now = t0; now - t0 < o.durationMs; now = performance.now()) {
      const allowed = offerFactor === Infinity ? Infinity : ((now - t0) / 1000) * rate * offerFactor;
      let n = 0;
      for (; n < perTurn && offered < allowed; n++) {
        if (reliable) {
          if (!tx.sendControl(payload)) break;
        } else {
          tx.sendSample('public', { seq: seq++, captureTsMs: Date.now(), op: {}, packets: [payload] });
        }
        offered += size;
      }
      // Nothing offered (ahead of the offered rate, or the control queue full): sleep rather than spin, as the
      // raw libdatachannel reference does; a spinning producer takes CPU from the native SCTP threads.
      if (n === 0) await sleep(1);
      else await immediate();
    }
    counting = false;
    const seconds = (performance.now() - t0) / 1000;
    const stats = await new Promise((resolve) => {
      const sub = tx.stats$.subscribe((s) => {
        sub.unsubscribe();
        resolve(s);
      });
    });
    return {
      bytesPerSec: bytes / seconds,
      messages,
      offeredBytesPerSec: offered / seconds,
      senderDropped: stats.sendDroppedSamples.backpressure,
    };
  } finally {
    await pair.close();
  }
}
