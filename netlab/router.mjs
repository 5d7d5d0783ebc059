// The lab's router process. In namespace mode it runs inside the router namespace, which holds one veth end per
// peer namespace (10.77.<link>.1) and does NOT forward IP: the only path between two peers is a relay here.
// In userspace mode it runs on loopback. It runs:
//  - the signaling server (on 127.0.0.1), behind one WebSocket proxy per link (on that link's router address), which
//    learns each client's peer id and rewrites the ICE candidates of every `signal` (SDP and trickled) so that the
//    peer on link j reaches a candidate on link i through a relay listening on link j's router address;
//  - the relays (relay.mjs): delay, jitter and bursty loss per direction (and, in userspace mode, random loss and
//    a rate limit), set live from JSON lines on stdin: {"cmd":"set","link":k,"impairment":{…},"rateKbit":…}.
// With {"passThrough": true} (TURN scenarios) the proxies forward signals unchanged and no relay is made.
// Prints JSON lines on stdout: {"event":"ready","urls":[…]}, {"event":"stats",…} on {"cmd":"stats"}.
import { createInterface } from 'node:readline';
import { createSignalingServer } from '@m4sc/signaling';
import { WebSocket, WebSocketServer } from 'ws';
import { createLabRelay } from './relay.mjs';

const config = JSON.parse(process.argv[2]);
/** @type {{links: {index: number, routerHost: string}[]}} */
const { links } = config;
/** TURN scenarios: signals pass unchanged (the peers' only candidates are their TURN relays). */
const passThrough = config.passThrough === true;
const emit = (o) => process.stdout.write(`${JSON.stringify(o)}\n`);
const logErr = (m) => process.stderr.write(`netlab-router: ${m}\n`);

const server = await createSignalingServer({ host: '127.0.0.1', port: 0 });
const peerLink = new Map(); // peerId → link index
const relays = new Map(); // `${j}|${ip}|${port}` → relay
const relaysByLink = new Map(); // impaired link → relays
const settings = new Map(); // link → current relay settings
let seed = 1;

const routerHost = (k) => links.find((l) => l.index === k).routerHost;

/** Relay through which the peer on link `j` reaches candidate ip:port of the peer on link `i`. */
async function relayFor(i, j, ip, port) {
  const key = `${j}|${ip}|${port}`;
  let r = relays.get(key);
  if (r) return r;
  r = await createLabRelay({
    listenHost: routerHost(j),
    upstreamHost: routerHost(i),
    target: { host: ip, port },
    seed: seed++,
    forwardIsDown: i !== 0,
  });
  relays.set(key, r);
  const k = i !== 0 ? i : j;
  if (!relaysByLink.has(k)) relaysByLink.set(k, []);
  relaysByLink.get(k).push(r);
  const s = settings.get(k);
  if (s) r.set(s);
  return r;
}

async function rewriteCandidate(c, i, j) {
  const f = c.split(' ');
  if (f.length < 8 || f[2].toLowerCase() !== 'udp' || !routerReachable(i, f[4])) return undefined;
  const r = await relayFor(i, j, f[4], Number(f[5]));
  f[4] = r.host;
  f[5] = String(r.port);
  return f.join(' ');
}

/** A candidate address the peer on link i really has (its own namespace address, or loopback). */
function routerReachable(i, ip) {
  const rh = routerHost(i);
  if (rh.startsWith('127.')) return ip === '127.0.0.1';
  return ip === rh.replace(/\.1$/, '.2');
}

async function rewriteSignal(data, i, j) {
  if (data.type === 'candidate') {
    if (!data.candidate) return data;
    const c = await rewriteCandidate(data.candidate.candidate, i, j);
    return c === undefined ? undefined : { ...data, candidate: { ...data.candidate, candidate: c } };
  }
  if (typeof data.sdp !== 'string') return data;
  const lines = [];
  for (const line of data.sdp.split('\r\n')) {
    const m = /^a=(candidate:.*)$/.exec(line);
    if (!m) {
      lines.push(line);
      continue;
    }
    const c = await rewriteCandidate(m[1], i, j);
    if (c !== undefined) lines.push(`a=${c}`);
  }
  return { ...data, sdp: lines.join('\r\n') };
}

const proxies = [];
for (const link of links) {
  const wss = new WebSocketServer({ host: link.routerHost, port: 0 });
  await new Promise((r) => wss.once('listening', r));
  wss.on('connection', (client) => {
    const upstream = new WebSocket(server.url);
    const pending = [];
    let chain = Promise.resolve(); // keeps a candidate behind its description
    upstream.on('open', () => {
      for (const [m, binary] of pending.splice(0)) upstream.send(m, { binary });
    });
    upstream.on('message', (data, isBinary) => {
      if (!isBinary) {
        try {
          const m = JSON.parse(data.toString());
          if (m.type === 'joined') peerLink.set(m.peerId, link.index);
        } catch {}
      }
      if (client.readyState === WebSocket.OPEN) client.send(data, { binary: isBinary });
    });
    client.on('message', (data, isBinary) => {
      chain = chain.then(async () => {
        let out = data;
        if (!isBinary) {
          try {
            const m = JSON.parse(data.toString());
            if (m.type === 'signal' && m.data && !passThrough) {
              const j = peerLink.get(m.to);
              if (j === undefined) logErr(`signal to unknown peer ${m.to}: not rewritten`);
              else {
                const d = await rewriteSignal(m.data, link.index, j);
                if (d === undefined) return;
                out = JSON.stringify({ ...m, data: d });
              }
            }
          } catch (err) {
            logErr(`rewrite failed: ${err.message}`);
          }
        } else logErr('binary (msgpack) signaling frame passed through unrewritten');
        if (upstream.readyState === WebSocket.OPEN) upstream.send(out, { binary: isBinary });
        else pending.push([out, isBinary]);
      });
    });
    const closeBoth = () => {
      client.close();
      upstream.close();
    };
    client.on('close', closeBoth);
    upstream.on('close', closeBoth);
    client.on('error', () => {});
    upstream.on('error', () => {});
  });
  proxies.push(wss);
}

const urls = links.map((l, n) => `ws://${l.routerHost}:${proxies[n].address().port}`);
emit({ event: 'ready', urls });

const shutdown = async () => {
  for (const r of relays.values()) r.close();
  for (const p of proxies) {
    for (const c of p.clients) c.terminate();
    p.close();
  }
  await server.close();
  process.exit(0);
};
createInterface({ input: process.stdin }).on('line', (line) => {
  let c;
  try {
    c = JSON.parse(line);
  } catch {
    return logErr(`bad command ${line}`);
  }
  if (c.cmd === 'set') {
    const s = { impairment: c.impairment ?? {}, rateKbit: c.rateKbit, queueMs: c.queueMs };
    settings.set(c.link, s);
    for (const r of relaysByLink.get(c.link) ?? []) r.set(s);
  } else if (c.cmd === 'stats') {
    const out = {};
    for (const [k, rs] of relaysByLink) {
      out[k] = rs
        .map((r) => r.stats())
        .reduce((a, b) => {
          for (const key of Object.keys(b)) a[key] = (a[key] ?? 0) + b[key];
          return a;
        }, {});
    }
    emit({ event: 'stats', links: out, relays: relays.size });
  } else if (c.cmd === 'quit') void shutdown();
});
process.stdin.on('end', () => void shutdown());
process.on('SIGTERM', () => void shutdown());
