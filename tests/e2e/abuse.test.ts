// A hostile receiver floods the sender's control channel: the sender refuses beyond its rate limit,
// counts it, disconnects the flooder after sustained abuse, and keeps serving the well-behaved receiver.
import { createReceiver, type ReceiverResult } from '@m4sc/receiver';
import type { SemanticCodec } from '@m4sc/semantic-codec';
import { createNodeSemanticCodec } from '@m4sc/semantic-codec/node';
import { createSender, DEFAULT_BUNDLE_DIR, openSource, type Sender } from '@m4sc/sender';
import { connectSignaling, createSignalingServer, type SignalingServer } from '@m4sc/signaling';
import { createPeerLink, type PeerSignal } from '@m4sc/transport';
import { createWeriftPeerConnection } from '@m4sc/transport/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

let codec: SemanticCodec;
let server: SignalingServer;
let sender: Sender;
beforeAll(async () => {
  codec = await createNodeSemanticCodec({ bundleDir: DEFAULT_BUNDLE_DIR });
  server = await createSignalingServer({ port: 0 });
  sender = await createSender({
    signalUrl: server.url,
    room: 'abuse',
    source: openSource({ kind: 'synthetic' }, { width: 32, height: 32 }, 6),
    fps: 6,
    codec,
    adaptation: false,
    createPeerConnection: () => createWeriftPeerConnection({ mode: 'loopback' }),
    statsIntervalMs: 250,
  });
});
afterAll(async () => {
  await sender.close();
  await server.close();
  await codec.close();
});

const until = async (cond: () => boolean, timeoutMs: number) => {
  const t0 = Date.now();
  while (!cond() && Date.now() - t0 < timeoutMs) await new Promise((r) => setTimeout(r, 50));
  return cond();
};

describe('a control-channel flood', () => {
  it('is refused and counted, and the flooder is disconnected; the good receiver keeps its results', async () => {
    const good = await createReceiver({
      signalUrl: server.url,
      room: 'abuse',
      codec,
      instruction: { task: 'caption' },
      createPeerConnection: () => createWeriftPeerConnection({ mode: 'loopback' }),
    });
    const results: ReceiverResult[] = [];
    good.results$.subscribe((r) => results.push(r));
    expect(await until(() => results.length > 3, 20_000)).toBe(true);

    // The flooder: a real signaling client and peer link, answering the sender's offer, then flooding.
    const client = await connectSignaling({ url: server.url, room: 'abuse', role: 'receiver' });
    let link: ReturnType<typeof createPeerLink> | undefined;
    client.events$.subscribe((ev) => {
      if (ev.type !== 'signal') return;
      link ??= createPeerLink({
        pc: createWeriftPeerConnection({ mode: 'loopback' }),
        role: 'answerer',
        sendSignal: (d: PeerSignal) => client.signal(ev.from, d as never),
      });
      link.handleSignal(ev.data as unknown as PeerSignal);
    });
    expect(await until(() => link?.state === 'connected', 20_000)).toBe(true);
    const flooderId = client.peerId;
    const me = () => sender.receivers().find((r) => r.peerId === flooderId);
    let refused = 0;
    const floodUntil = Date.now() + 12_000;
    while (Date.now() < floodUntil && link!.state === 'connected') {
      for (let i = 0; i < 20; i++) link!.sendControl({ t: 'instruction', id: i, task: 'caption' });
      refused = Math.max(refused, me()?.controlRefused ?? 0);
      await new Promise((r) => setTimeout(r, 20));
    }
    // ~1000 messages/s against a 20/s limit: most were refused, and counted.
    expect(refused).toBeGreaterThan(1000);
    // Disconnected for flooding: its session is gone (or closed) within the abuse window.
    expect(await until(() => me() === undefined, 5_000)).toBe(true);
    const before = results.length;
    expect(await until(() => results.length > before + 3, 10_000)).toBe(true);
    link?.close();
    client.close();
    await good.close();
  }, 60_000);
});
