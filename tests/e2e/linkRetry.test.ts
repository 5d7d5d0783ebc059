// A receiver whose side of the link fails while it is being set up, with real parts: a real ws signaling
// server, real werift peers over loopback, the real default bundle. The sender's side may never see the
// failure (it keeps connecting until its 20 s timeout): the receiver asks it for a new link.
import { createReceiver, type Receiver, type ReceiverResult } from '@m4sc/receiver';
import type { SemanticCodec } from '@m4sc/semantic-codec';
import { createNodeSemanticCodec } from '@m4sc/semantic-codec/node';
import { createSender, DEFAULT_BUNDLE_DIR, openSource, type Sender } from '@m4sc/sender';
import { createSignalingServer, type SignalingServer } from '@m4sc/signaling';
import type { PeerConnectionLike } from '@m4sc/transport';
import { createWeriftPeerConnection } from '@m4sc/transport/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

let codec: SemanticCodec;
let server: SignalingServer;

beforeAll(async () => {
  codec = await createNodeSemanticCodec({ bundleDir: DEFAULT_BUNDLE_DIR });
  server = await createSignalingServer({ port: 0 });
});
afterAll(async () => {
  await server.close();
  await codec.close();
});

const loopback = () => createWeriftPeerConnection({ mode: 'loopback' });

/**
 * The receiver's first peer connection gets the offer without its ICE candidates: werift's ICE then fails at
 * once on this side, while the sender's side, which has the answer's candidates, goes on trying.
 */
function failingFirst(): { create: () => PeerConnectionLike; created: () => number } {
  let n = 0;
  return {
    created: () => n,
    create: () => {
      const pc = loopback();
      if (n++ > 0) return pc;
      const set = pc.setRemoteDescription.bind(pc);
      pc.setRemoteDescription = (d) =>
        set({ ...d, sdp: d.sdp?.replace(/^a=candidate:.*\r?\n/gm, '') } as typeof d);
      return pc;
    },
  };
}

describe('link set-up failing on the receiver side', () => {
  it('the receiver asks for a new link, and decodes within a few seconds rather than after the sender times out', async () => {
    let sender: Sender | undefined;
    let receiver: Receiver | undefined;
    try {
      sender = await createSender({
        signalUrl: server.url,
        room: 'retry',
        source: openSource({ kind: 'synthetic' }, { width: 32, height: 32 }, 6),
        fps: 6,
        codec,
        createPeerConnection: loopback,
      });
      const pcs = failingFirst();
      const t0 = Date.now();
      receiver = await createReceiver({
        signalUrl: server.url,
        room: 'retry',
        codec,
        createPeerConnection: pcs.create,
        instruction: { task: 'reconstruct' },
      });
      const results: ReceiverResult[] = [];
      receiver.results$.subscribe((x) => results.push(x));
      while (results.length < 3 && Date.now() - t0 < 15_000) await new Promise((r) => setTimeout(r, 50));
      const ms = Date.now() - t0;
      expect(pcs.created()).toBeGreaterThanOrEqual(2);
      expect(results.length).toBeGreaterThanOrEqual(3);
      expect(ms).toBeLessThan(6000);
    } finally {
      await receiver?.close();
      await sender?.close();
    }
  }, 30_000);
});
