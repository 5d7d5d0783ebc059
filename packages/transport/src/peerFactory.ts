import { createNodeDatachannelPeerConnection } from './nodeDatachannel.js';
import type { PeerConnectionLike } from './types.js';
import { createWeriftPeerConnection } from './werift.js';

/** What the CLIs' network flags describe: `--peer`, `--network`, `--ice-server`, `--ice-username/--ice-credential`, `--ice-policy`. */
export interface PeerFactoryOptions {
  /** WebRTC implementation. Default `werift`. */
  peer?: string;
  /** The signaling URL: a loopback one (with no ICE servers and no `network`) keeps peers on 127.0.0.1. */
  signalUrl: string;
  /** Offer every interface's address even with loopback signaling. Default false. */
  network?: boolean;
  /** STUN/TURN URLs; `username`/`credential` apply to each. */
  iceServerUrls?: readonly string[];
  username?: string;
  credential?: string;
  /** Use TURN relays only (`iceTransportPolicy: 'relay'`); needs a `turn:`/`turns:` URL. Default false. */
  relayOnly?: boolean;
}

/** The peer-connection flags m4sc-send and m4sc-recv share, as `node:util` parseArgs gives them. */
export interface PeerCliFlags {
  peer?: string | undefined;
  network?: boolean | undefined;
  'ice-server'?: string[] | undefined;
  'ice-username'?: string | undefined;
  'ice-credential'?: string | undefined;
  'ice-policy'?: string | undefined;
}

/**
 * {@link PeerFactoryOptions} from the CLIs' shared flags. Throws TypeError naming the flag for an
 * `--ice-policy` other than `all` or `relay`.
 */
export function peerFactoryOptionsFromFlags(signalUrl: string, v: PeerCliFlags): PeerFactoryOptions {
  const icePolicy = v['ice-policy'] ?? 'all';
  if (icePolicy !== 'all' && icePolicy !== 'relay')
    throw new TypeError(`--ice-policy must be all or relay, got '${icePolicy}'`);
  return {
    signalUrl,
    ...(v.peer ? { peer: v.peer } : {}),
    ...(v.network ? { network: true } : {}),
    iceServerUrls: v['ice-server'] ?? [],
    ...(v['ice-username'] ? { username: v['ice-username'] } : {}),
    ...(v['ice-credential'] ? { credential: v['ice-credential'] } : {}),
    ...(icePolicy === 'relay' ? { relayOnly: true } : {}),
  };
}

/** Whether a ws:// URL points at this host's loopback. */
export function isLoopbackUrl(url: string): boolean {
  try {
    const host = new URL(url).hostname;
    return host === 'localhost' || host.startsWith('127.') || host === '[::1]';
  } catch {
    return false;
  }
}

/**
 * The peer-connection factory the CLIs hand to the sender and receiver: loopback-only candidates when the
 * signaling server is on loopback and nothing asks for more, else every interface plus the ICE servers.
 * Throws TypeError for an unknown `peer`, or `relayOnly` without a TURN server.
 */
export function createPeerConnectionFactory(options: PeerFactoryOptions): () => PeerConnectionLike {
  const peer = options.peer ?? 'werift';
  if (peer !== 'werift' && peer !== 'node-datachannel') {
    throw new TypeError(`--peer must be werift or node-datachannel, got '${peer}'`);
  }
  const iceServers = (options.iceServerUrls ?? []).map((urls) => ({
    urls,
    ...(options.username ? { username: options.username } : {}),
    ...(options.credential ? { credential: options.credential } : {}),
  }));
  if (options.relayOnly && !iceServers.some((s) => /^turns?:/.test(s.urls))) {
    throw new TypeError('--ice-policy relay needs a TURN server (--ice-server turn:HOST:PORT)');
  }
  const loopback = !options.network && isLoopbackUrl(options.signalUrl) && iceServers.length === 0;
  const make = peer === 'node-datachannel' ? createNodeDatachannelPeerConnection : createWeriftPeerConnection;
  const relayOnly = options.relayOnly === true;
  return () =>
    make(
      loopback ? { mode: 'loopback' } : { mode: 'network', iceServers, ...(relayOnly ? { relayOnly } : {}) },
    );
}
