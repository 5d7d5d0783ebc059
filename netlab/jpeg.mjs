#!/usr/bin/env node
// The lab's baseline: JPEG frames (sharp, quality 75) of the same synthetic scenes, over the link's reliable,
// ordered control channel (sendControl), at the same frame rate: what a plain "reliable video over a data
// channel" app does. Same signaling, same peer links, same impairment as the M4SC peers.
//
//   node netlab/jpeg.mjs send --signal URL --room R --fps 15 [--size 64] [--network] [--duration S]
//   node netlab/jpeg.mjs recv --signal URL --room R [--size 64] [--network] [--duration S]
// The receiver prints one JSON line per frame on stdout: {seq, latencyMs, psnr, bytes}.
import { parseArgs } from 'node:util';
import { psnr, SCENE_SIZE } from '@m4sc/semantic-codec';
import { connectSignaling } from '@m4sc/signaling';
import { createPeerLink } from '@m4sc/transport';
import { createWeriftPeerConnection } from '@m4sc/transport/node';
import sharp from 'sharp';
import { sceneFrame } from './frames.mjs';

const { positionals, values: v } = parseArgs({
  allowPositionals: true,
  options: {
    signal: { type: 'string' },
    room: { type: 'string', default: 'lab-jpeg' },
    fps: { type: 'string', default: '15' },
    quality: { type: 'string', default: '75' },
    network: { type: 'boolean' },
    duration: { type: 'string' },
    size: { type: 'string', default: String(SCENE_SIZE) },
  },
});
const role = positionals[0];
if ((role !== 'send' && role !== 'recv') || !v.signal) {
  process.stderr.write('usage: jpeg.mjs send|recv --signal URL [--room R] [--fps N] [--network]\n');
  process.exit(2);
}
const size = Number(v.size);
const pc = () => createWeriftPeerConnection(v.network ? { mode: 'network' } : { mode: 'loopback' });
const client = await connectSignaling({
  url: v.signal,
  room: v.room,
  role: role === 'send' ? 'sender' : 'receiver',
});
const links = new Map();
const stop = () => {
  for (const l of links.values()) l.close();
  client.close();
  setTimeout(() => process.exit(0), 100);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
if (v.duration) setTimeout(stop, Number(v.duration) * 1000);

/** Connection attempts per receiver: a link that fails to connect is offered again (the M4SC CLIs restart ICE). */
const MAX_ATTEMPTS = 3;
const attempts = new Map();
const open = (peerId, linkRole) => {
  links.get(peerId)?.close();
  const link = createPeerLink({
    pc: pc(),
    role: linkRole,
    sendSignal: (data) => {
      if (client.state === 'joined') client.signal(peerId, data);
    },
  });
  links.set(peerId, link);
  link.connected.catch((err) => {
    process.stderr.write(`jpeg: ${peerId} failed: ${err.message}\n`);
    const n = (attempts.get(peerId) ?? 1) + 1;
    if (linkRole !== 'offerer' || links.get(peerId) !== link || n > MAX_ATTEMPTS) return;
    attempts.set(peerId, n);
    process.stderr.write(`jpeg: offering ${peerId} again (attempt ${n} of ${MAX_ATTEMPTS})\n`);
    setTimeout(() => {
      if (links.get(peerId) === link) open(peerId, 'offerer');
    }, 500);
  });
  return link;
};

client.events$.subscribe((ev) => {
  if (ev.type === 'peer-joined' && role === 'send' && ev.role === 'receiver') open(ev.peerId, 'offerer');
  else if (ev.type === 'peer-left') {
    links.get(ev.peerId)?.close();
    links.delete(ev.peerId);
  } else if (ev.type === 'signal') {
    let link = links.get(ev.from);
    if (role === 'recv' && (ev.data.type === 'offer' || !link)) link = onOffer(ev.from);
    try {
      link?.handleSignal(ev.data);
    } catch (err) {
      process.stderr.write(`jpeg: bad signal: ${err.message}\n`);
    }
  }
});

function onOffer(from) {
  const link = open(from, 'answerer');
  link.control$.subscribe(async (m) => {
    if (m?.t !== 'jpeg') return;
    const arrived = Date.now();
    const { data, info } = await sharp(Buffer.from(m.data)).raw().toBuffer({ resolveWithObject: true });
    const truth = sceneFrame(m.seq, size);
    const rgb = info.channels === 3 ? data : data.filter((_, i) => i % info.channels < 3);
    process.stdout.write(
      `${JSON.stringify({ seq: m.seq, latencyMs: arrived - m.ts, psnr: Math.round(psnr(truth, rgb) * 100) / 100, bytes: m.data.byteLength })}\n`,
    );
  });
  return link;
}

if (role === 'send') {
  for (const p of client.peers) if (p.role === 'receiver') open(p.peerId, 'offerer');
  let seq = 0;
  setInterval(async () => {
    const s = seq++;
    const ts = Date.now();
    const jpeg = await sharp(Buffer.from(sceneFrame(s, size)), {
      raw: { width: size, height: size, channels: 3 },
    })
      .jpeg({ quality: Number(v.quality) })
      .toBuffer();
    for (const l of links.values())
      if (l.state === 'connected') l.sendControl({ t: 'jpeg', seq: s, ts, data: new Uint8Array(jpeg) });
  }, 1000 / Number(v.fps));
}
