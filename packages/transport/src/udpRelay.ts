import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { isIP } from 'node:net';
import { InvalidStateError } from './errors.js';
import { Impairment, type ImpairmentOptions } from './impairment.js';

/** Options of {@link createUdpRelay}. */
export interface UdpRelayOptions extends ImpairmentOptions {
  /** Where packets that arrive at the relay's port are forwarded. Must be a loopback address. Required. */
  target: { host: string; port: number };
  /** Address the relay listens on. Default `127.0.0.1`. Must be loopback. */
  host?: string;
  /** Seed of the loss and jitter draws. Default 1. */
  seed?: number;
}

/** Packet counters of a relay, per direction (`forward`: client → target, `reverse`: target → client). */
export interface UdpRelayStats {
  forwardPackets: number;
  forwardDropped: number;
  reversePackets: number;
  reverseDropped: number;
}

/** A userspace UDP relay that impairs traffic in both directions (this kernel has no netem). */
export interface UdpRelay {
  /** The address clients send to (put it in the candidate the other peer sees). */
  readonly host: string;
  readonly port: number;
  /** Changes loss, delay and jitter from now on (e.g. connect clean, then impair). */
  setImpairment(options: ImpairmentOptions): void;
  /** Counters so far. */
  stats(): UdpRelayStats;
  /** Closes both sockets and drops held packets. Idempotent. */
  close(): Promise<void>;
}

const isLoopback = (host: string) =>
  host === 'localhost' || host === '::1' || (isIP(host) === 4 && host.startsWith('127.'));

const bind = (socket: Socket, host: string) =>
  new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(0, host, () => {
      socket.off('error', reject);
      resolve();
    });
  });

/**
 * Starts a relay: packets from any client to `host:port` go to `target` from a second socket, and replies
 * from the target go back to the client that spoke last. Each direction draws its own loss and delay.
 * Only loopback addresses are accepted, so the relay cannot send traffic off this machine.
 */
export async function createUdpRelay(options: UdpRelayOptions): Promise<UdpRelay> {
  const host = options.host ?? '127.0.0.1';
  const { target } = options;
  if (!isLoopback(host)) throw new TypeError(`relay host must be a loopback address, got ${host}`);
  if (!target || !isLoopback(target.host)) {
    throw new TypeError(`relay target must be a loopback address, got ${target?.host}`);
  }
  if (!Number.isInteger(target.port) || target.port <= 0 || target.port > 65535) {
    throw new TypeError(`relay target port must be 1..65535, got ${target.port}`);
  }
  const seed = options.seed ?? 1;
  const forward = new Impairment(options, seed);
  const reverse = new Impairment(options, seed ^ 0x5bd1e995);
  const family = isIP(host) === 6 ? 'udp6' : 'udp4';
  const listen = createSocket(family);
  const upstream = createSocket(isIP(target.host) === 6 ? 'udp6' : 'udp4');
  await bind(listen, host);
  await bind(upstream, isIP(target.host) === 6 ? '::1' : '127.0.0.1');
  const counters: UdpRelayStats = {
    forwardPackets: 0,
    forwardDropped: 0,
    reversePackets: 0,
    reverseDropped: 0,
  };
  const timers = new Set<ReturnType<typeof setTimeout>>();
  let client: RemoteInfo | undefined;
  let closed = false;

  const deliver = (socket: Socket, msg: Buffer, port: number, address: string, delayMs: number) => {
    if (delayMs <= 0) {
      socket.send(msg, port, address);
      return;
    }
    const t = setTimeout(() => {
      timers.delete(t);
      if (!closed) socket.send(msg, port, address);
    }, delayMs);
    timers.add(t);
  };

  listen.on('message', (msg, rinfo) => {
    client = rinfo;
    counters.forwardPackets++;
    const fate = forward.next();
    if (fate.drop) counters.forwardDropped++;
    else deliver(upstream, msg, target.port, target.host, fate.delayMs);
  });
  upstream.on('message', (msg) => {
    if (client === undefined) return;
    counters.reversePackets++;
    const fate = reverse.next();
    if (fate.drop) counters.reverseDropped++;
    else deliver(listen, msg, client.port, client.address, fate.delayMs);
  });
  // A send to a closed port raises ICMP errors on some systems; the relay is lossy by design, so it ignores them.
  listen.on('error', () => {});
  upstream.on('error', () => {});

  const address = listen.address();
  return {
    host,
    port: address.port,
    setImpairment(o) {
      if (closed) throw new InvalidStateError('udp relay is closed');
      forward.set(o);
      reverse.set(o);
    },
    stats: () => ({ ...counters }),
    async close() {
      if (closed) return;
      closed = true;
      for (const t of timers) clearTimeout(t);
      timers.clear();
      await Promise.all([
        new Promise<void>((r) => listen.close(() => r())),
        new Promise<void>((r) => upstream.close(() => r())),
      ]);
    },
  };
}
