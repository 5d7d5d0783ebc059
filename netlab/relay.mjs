// A UDP relay for the lab: the transport's seeded Impairment (loss, Gilbert-Elliott bursts, delay, jitter) per
// direction, plus an optional token-bucket rate limit (the userspace stand-in for tc tbf). Unlike the transport's
// createUdpRelay it may listen on the lab's namespace addresses, so it only accepts loopback and 10.77.0.0/16
// (the addresses this lab creates inside its own namespaces): it can never send traffic anywhere else.
import { createSocket } from 'node:dgram';
import { isIP } from 'node:net';
import { Impairment } from '@m4sc/transport/node';

/** Addresses the lab may bind and send to. */
export function isLabAddress(host) {
  return isIP(host) === 4 && (host.startsWith('127.') || /^10\.77\.\d{1,3}\.\d{1,3}$/.test(host));
}

/** A token bucket with a FIFO of held packets: drop-tail beyond `queueMs` of the rate (what tbf's `latency` does). */
class RateLimiter {
  #rateBytesPerMs = Infinity;
  #queueLimitBytes = Infinity;
  #queue = [];
  #queued = 0;
  #timer;
  #nextFreeMs = 0;
  constructor(send) {
    this.send = send;
  }
  set(rateKbit, queueMs) {
    if (!rateKbit) {
      this.#rateBytesPerMs = Infinity;
      this.#queueLimitBytes = Infinity;
    } else {
      this.#rateBytesPerMs = (rateKbit * 1000) / 8 / 1000;
      this.#queueLimitBytes = Math.max(3000, this.#rateBytesPerMs * (queueMs ?? 200));
    }
  }
  push(msg, port, address) {
    if (this.#rateBytesPerMs === Infinity && this.#queue.length === 0) return this.send(msg, port, address);
    if (this.#queued + msg.length > this.#queueLimitBytes) return false; // tail drop
    this.#queue.push([msg, port, address]);
    this.#queued += msg.length;
    this.#pump();
    return true;
  }
  #pump() {
    if (this.#timer) return;
    const now = performance.now();
    while (this.#queue.length > 0 && this.#nextFreeMs <= now) {
      const [msg, port, address] = this.#queue.shift();
      this.#queued -= msg.length;
      this.send(msg, port, address);
      this.#nextFreeMs = Math.max(this.#nextFreeMs, now) + msg.length / this.#rateBytesPerMs;
    }
    if (this.#queue.length > 0) {
      this.#timer = setTimeout(
        () => {
          this.#timer = undefined;
          this.#pump();
        },
        Math.max(1, this.#nextFreeMs - now),
      );
    }
  }
  close() {
    clearTimeout(this.#timer);
    this.#queue = [];
  }
}

const bind = (socket, host) =>
  new Promise((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(0, host, () => {
      socket.off('error', reject);
      resolve();
    });
  });

/**
 * Starts a relay: a client's packets to `listenHost:port` go from `upstreamHost` to `target`; replies go back to
 * the client that spoke last. `forwardIsDown` says which direction is the receiver's downlink.
 * @param {{listenHost: string, upstreamHost: string, target: {host: string, port: number}, seed: number,
 *   forwardIsDown: boolean}} o
 */
export async function createLabRelay(o) {
  for (const h of [o.listenHost, o.upstreamHost, o.target.host])
    if (!isLabAddress(h)) throw new TypeError(`netlab relay: ${h} is not a lab address (127/8, 10.77/16)`);
  const listen = createSocket('udp4');
  const upstream = createSocket('udp4');
  await bind(listen, o.listenHost);
  await bind(upstream, o.upstreamHost);
  const down = new Impairment({}, o.seed);
  const up = new Impairment({}, o.seed ^ 0x5bd1e995);
  const fwd = o.forwardIsDown ? down : up;
  const rev = o.forwardIsDown ? up : down;
  const downRate = new RateLimiter((m, p, a) => (o.forwardIsDown ? upstream : listen).send(m, p, a));
  const counters = { down: 0, downDropped: 0, up: 0, upDropped: 0 };
  const timers = new Set();
  let client;
  let closed = false;
  const out = (socket, isDown, msg, port, address, delayMs) => {
    const go = () => (isDown ? downRate.push(msg, port, address) : socket.send(msg, port, address));
    if (delayMs <= 0) return go();
    const t = setTimeout(() => {
      timers.delete(t);
      if (!closed) go();
    }, delayMs);
    timers.add(t);
  };
  const handle = (isDown, fate) => {
    counters[isDown ? 'down' : 'up']++;
    if (fate.drop) counters[isDown ? 'downDropped' : 'upDropped']++;
    return !fate.drop;
  };
  listen.on('message', (msg, rinfo) => {
    client = rinfo;
    const fate = fwd.next();
    if (handle(o.forwardIsDown, fate))
      out(upstream, o.forwardIsDown, msg, o.target.port, o.target.host, fate.delayMs);
  });
  upstream.on('message', (msg) => {
    if (!client) return;
    const fate = rev.next();
    if (handle(!o.forwardIsDown, fate))
      out(listen, !o.forwardIsDown, msg, client.port, client.address, fate.delayMs);
  });
  listen.on('error', () => {});
  upstream.on('error', () => {});
  return {
    host: o.listenHost,
    port: listen.address().port,
    /** @param {{impairment: object, rateKbit?: number, queueMs?: number}} s */
    set(s) {
      down.set(s.impairment);
      up.set(s.impairment);
      downRate.set(s.rateKbit, s.queueMs);
    },
    stats: () => ({ ...counters }),
    close() {
      if (closed) return;
      closed = true;
      for (const t of timers) clearTimeout(t);
      downRate.close();
      listen.close();
      upstream.close();
    },
  };
}
