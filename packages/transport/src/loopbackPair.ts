import type { ImpairmentOptions } from './impairment.js';
import { createPeerLink } from './peerLink.js';
import type { PeerLink, PeerLinkOptions } from './peerLinkTypes.js';
import type { PeerConnectionLike, PeerSignal } from './types.js';
import { createUdpRelay, type UdpRelay } from './udpRelay.js';
import { createWeriftPeerConnection } from './werift.js';

/** Options of {@link createLoopbackLinkPair}. */
export interface LoopbackLinkPairOptions {
  /** Options for both links (`pc`, `role` and `sendSignal` are the pair's). Default none. */
  link?: Omit<Partial<PeerLinkOptions>, 'pc' | 'role' | 'sendSignal'>;
  /** Per-side overrides on top of `link`. */
  offerer?: Omit<Partial<PeerLinkOptions>, 'pc' | 'role' | 'sendSignal'>;
  answerer?: Omit<Partial<PeerLinkOptions>, 'pc' | 'role' | 'sendSignal'>;
  /**
   * Route every ICE candidate through a userspace UDP relay that applies this impairment in both directions
   * (`setImpairment` changes it later, e.g. after connecting clean). Default: direct, no relay.
   */
  impairment?: ImpairmentOptions;
  /** Seed of the relays' draws. Default 1. */
  seed?: number;
  /**
   * Makes each side's peer connection, in loopback mode with the given `mtuBytes` (e.g.
   * `createNodeDatachannelPeerConnection`, or one backend per side for interop). Default werift on both sides.
   */
  createPeerConnection?: (side: 'offerer' | 'answerer', options: LoopbackPeerOptions) => PeerConnectionLike;
}

/** What {@link LoopbackLinkPairOptions.createPeerConnection} is asked for. */
export interface LoopbackPeerOptions {
  mode: 'loopback';
  /** The side's `mtuBytes`, when one was set. */
  mtuBytes?: number;
}

/** Two connected links in this process over loopback. */
export interface LoopbackLinkPair {
  offerer: PeerLink;
  answerer: PeerLink;
  /** The relays, when `impairment` was given (one per relayed candidate). */
  relays: readonly UdpRelay[];
  /** Changes the impairment of every relay. */
  setImpairment(options: ImpairmentOptions): void;
  /** Closes both links and the relays. Idempotent. */
  close(): Promise<void>;
}

const CANDIDATE_LINE = /^a=(candidate:.*)$/;

/**
 * Creates two peers on loopback (werift unless `createPeerConnection` says otherwise), wires their signals to
 * each other (asynchronously and in order, as a signaling server would) and waits until both links are
 * connected. For tests and benchmarks.
 */
export async function createLoopbackLinkPair(
  options: LoopbackLinkPairOptions = {},
): Promise<LoopbackLinkPair> {
  const relays: UdpRelay[] = [];
  const relayed = options.impairment !== undefined;
  let seed = options.seed ?? 1;

  // Rewrites `candidate:… <ip> <port> typ …` to point at a relay in front of <ip>:<port>; drops non-loopback ones.
  const viaRelay = async (candidate: string): Promise<string | undefined> => {
    const f = candidate.split(' ');
    if (f.length < 8 || f[4] !== '127.0.0.1') return undefined;
    const relay = await createUdpRelay({
      ...options.impairment,
      target: { host: '127.0.0.1', port: Number(f[5]) },
      seed: seed++,
    });
    relays.push(relay);
    f[5] = String(relay.port);
    return f.join(' ');
  };
  const rewrite = async (s: PeerSignal): Promise<PeerSignal | undefined> => {
    if (!relayed) return s;
    if (s.type === 'candidate') {
      if (s.candidate === null) return s;
      const c = await viaRelay(s.candidate.candidate);
      return c === undefined ? undefined : { type: 'candidate', candidate: { ...s.candidate, candidate: c } };
    }
    const lines: string[] = [];
    for (const line of s.sdp.split('\r\n')) {
      const m = CANDIDATE_LINE.exec(line);
      if (m === null) {
        lines.push(line);
        continue;
      }
      const c = await viaRelay(m[1]!);
      if (c !== undefined) lines.push(`a=${c}`);
    }
    return { ...s, sdp: lines.join('\r\n') };
  };

  const makePc =
    options.createPeerConnection ??
    ((_side: 'offerer' | 'answerer', o: LoopbackPeerOptions) => createWeriftPeerConnection(o));
  const pcOptions = (mtuBytes: number | undefined): LoopbackPeerOptions =>
    mtuBytes === undefined ? { mode: 'loopback' } : { mode: 'loopback', mtuBytes };

  let offerer: PeerLink | undefined;
  let answerer: PeerLink | undefined;
  // One ordered queue per direction: a candidate must never overtake its description.
  const wire = (to: () => PeerLink | undefined) => {
    let chain = Promise.resolve();
    return (signal: PeerSignal) => {
      chain = chain.then(async () => {
        const s = await rewrite(signal);
        const target = to();
        if (s !== undefined && target !== undefined && target.state !== 'closed') target.handleSignal(s);
      });
    };
  };
  answerer = createPeerLink({
    ...options.link,
    ...options.answerer,
    pc: makePc('answerer', pcOptions(options.answerer?.mtuBytes ?? options.link?.mtuBytes)),
    role: 'answerer',
    sendSignal: wire(() => offerer),
  });
  offerer = createPeerLink({
    ...options.link,
    ...options.offerer,
    pc: makePc('offerer', pcOptions(options.offerer?.mtuBytes ?? options.link?.mtuBytes)),
    role: 'offerer',
    sendSignal: wire(() => answerer),
  });
  const a = answerer;
  const o = offerer;
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    o.close();
    a.close();
    await Promise.all(relays.map((r) => r.close()));
  };
  try {
    await Promise.all([o.connected, a.connected]);
  } catch (error) {
    await close();
    throw error;
  }
  return {
    offerer: o,
    answerer: a,
    relays,
    setImpairment(impairment) {
      for (const r of relays) r.setImpairment(impairment);
    },
    close,
  };
}
