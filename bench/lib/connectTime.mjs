// Time to connect a receiver through a real m4sc-signal server and real peer links, in one process: a sender
// streams one 1 KB sample per frame at 30 fps to every connected receiver; receivers join one at a time.
import { connectSignaling, createSignalingServer } from '@m4sc/signaling';
import { createPeerLink } from '@m4sc/transport';
import { sleep } from './report.mjs';

const FRAME_MS = 1000 / 30;

/**
 * @param {{ trials: number, createPeerConnection: () => import('@m4sc/transport').PeerConnectionLike }} o
 * @returns {Promise<{ joinedMs: number, connectedMs: number, firstSampleMs: number, error?: string }[]>} per
 *   trial, from the receiver's `connectSignaling` call: joined the room, link connected (receiver side), first
 *   sample received (NaN, with `error`, when the link failed).
 */
export async function measureConnectTime(o) {
  const server = await createSignalingServer({ port: 0 });
  const room = `bench-${process.pid}`;
  const sender = await connectSignaling({ url: server.url, room, role: 'sender' });
  const links = new Map();
  const senderSub = sender.events$.subscribe((ev) => {
    if (ev.type === 'peer-joined' && ev.role === 'receiver') {
      const link = createPeerLink({
        pc: o.createPeerConnection(),
        role: 'offerer',
        sendSignal: (data) => {
          if (sender.state === 'joined') sender.signal(ev.peerId, data);
        },
      });
      link.connected.catch(() => {});
      links.set(ev.peerId, link);
    } else if (ev.type === 'peer-left') {
      links.get(ev.peerId)?.close();
      links.delete(ev.peerId);
    } else if (ev.type === 'signal') {
      links.get(ev.from)?.handleSignal(ev.data);
    }
  });
  let seq = 0;
  const payload = new Uint8Array(1024);
  const frames = setInterval(() => {
    seq++;
    for (const link of links.values()) {
      if (link.state === 'connected') {
        link.sendSample('public', { seq, captureTsMs: Date.now(), op: {}, packets: [payload] });
      }
    }
  }, FRAME_MS);

  const trials = [];
  try {
    for (let i = 0; i < o.trials; i++) {
      const t0 = performance.now();
      const client = await connectSignaling({ url: server.url, room, role: 'receiver' });
      const joinedMs = performance.now() - t0;
      let link;
      let connectedMs = Number.NaN;
      const first = new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('no sample within 20 s')), 20_000);
        const fail = (error) => {
          clearTimeout(timer);
          reject(error);
        };
        client.events$.subscribe((ev) => {
          if (ev.type !== 'signal') return;
          if (ev.data.type === 'offer') {
            link?.close();
            link = createPeerLink({
              pc: o.createPeerConnection(),
              role: 'answerer',
              sendSignal: (data) => {
                if (client.state === 'joined') client.signal(ev.from, data);
              },
            });
            link.connected.then(() => {
              connectedMs = performance.now() - t0;
            }, fail);
            link.samples$.subscribe(() => {
              clearTimeout(timer);
              resolve(performance.now() - t0);
            });
          }
          link?.handleSignal(ev.data);
        });
      });
      try {
        const firstSampleMs = await first;
        trials.push({ joinedMs, connectedMs, firstSampleMs });
      } catch (error) {
        // A failed connection is a result too: counted, not retried.
        trials.push({
          joinedMs,
          connectedMs,
          firstSampleMs: Number.NaN,
          error: String(error?.message ?? error),
        });
      } finally {
        link?.close();
        client.close();
      }
      await sleep(100); // the sender hears peer-left and closes its side
    }
  } finally {
    clearInterval(frames);
    senderSub.unsubscribe();
    for (const link of links.values()) link.close();
    sender.close();
    await server.close();
  }
  return trials;
}
