import { RTCPeerConnection, type RTCPeerConnectionConfig } from 'werift';
import {
  DTLS_CLIENT_DELAY_MS,
  SCTP_CWND_FLOOR_MTUS,
  SCTP_DATA_OVERHEAD_BYTES,
  SCTP_RTO_MIN_MS,
  UNRELIABLE_MAX_QUEUE_MS,
} from './defaults.js';
import { checkPeerConnectionOptions } from './peerOptions.js';
import type { PeerConnectionLike } from './types.js';

/** A STUN or TURN server, as in W3C `RTCIceServer`. */
export interface IceServer {
  /** `stun:host:port`, `turn:host:port?transport=udp|tcp`, `turns:…`. */
  urls: string | string[];
  username?: string;
  credential?: string;
}

/** Options of {@link createWeriftPeerConnection}. Each field states its default. */
export interface WeriftPeerConnectionOptions {
  /**
   * `loopback`: host candidates on 127.0.0.1 only, no STUN or TURN, pairs with non-loopback addresses refused —
   * for tests and same-host processes. `network`: every interface and the given `iceServers`. Default `network`.
   */
  mode?: 'loopback' | 'network';
  /** STUN/TURN servers for `network` mode. Default none: no server is contacted unless listed (werift would otherwise use stun.l.google.com). Rejected in `loopback` mode. */
  iceServers?: IceServer[];
  /** Use only TURN relays (`network` mode). Default false. */
  relayOnly?: boolean;
  /** UDP port range for host candidates, [min, max]. Default any. */
  portRange?: [number, number];
  /** Gather IPv6 candidates (`network` mode). Default true. */
  ipv6?: boolean;
  /** The link's `mtuBytes`: werift's SCTP MTU is set so one framed message is one DATA chunk. Default 1200. */
  mtuBytes?: number;
  /** Unreliable messages that waited longer than this in werift's SCTP send queue, held back by the congestion window, are dropped unsent, ms; 0 never. Default {@link UNRELIABLE_MAX_QUEUE_MS} (150). */
  unreliableMaxQueueMs?: number;
  /** How long werift's DTLS client waits before its ClientHello, ms (patch item 13; werift's own wait is 100). Default {@link DTLS_CLIENT_DELAY_MS} (10). */
  dtlsClientDelayMs?: number;
  /** Floor of werift's SCTP retransmission timeout, ms (patch item 11; werift's own is 1000). Keep it above the peer's delayed-SACK time (browsers: 200 ms). Default {@link SCTP_RTO_MIN_MS} (250). */
  rtoMinMs?: number;
  /** Floor of werift's SCTP congestion window, in MTUs (patch item 15; werift's own is 4 after a loss, 1 after T3-rtx); 0 for werift's. Default {@link SCTP_CWND_FLOOR_MTUS} (8). */
  cwndFloorMtus?: number;
}

const LOOPBACK = '127.0.0.1';

/** `v` when it is a number of milliseconds in [min, max]; a TypeError naming the option otherwise. */
function msInRange(name: string, v: number, min: number, max: number): number {
  if (!Number.isFinite(v) || v < min || v > max) {
    throw new TypeError(`${name} must be a number of milliseconds in [${min}, ${max}], got ${v}`);
  }
  return v;
}

/**
 * A werift RTCPeerConnection for Node, configured for the link. This is the only module that imports werift;
 * browsers pass their native RTCPeerConnection to `createPeerLink` instead.
 *
 * Requires the werift patch in `patches/` (partial reliability, the STUN default, the send-queue age cap and the RTO floor; see the README).
 */
export function createWeriftPeerConnection(options: WeriftPeerConnectionOptions = {}): PeerConnectionLike {
  const { mode, mtuBytes, iceServers } = checkPeerConnectionOptions(options);
  const unreliableMaxQueueMs = options.unreliableMaxQueueMs ?? UNRELIABLE_MAX_QUEUE_MS;
  if (!Number.isFinite(unreliableMaxQueueMs) || unreliableMaxQueueMs < 0) {
    throw new TypeError(`unreliableMaxQueueMs must be a non-negative number, got ${unreliableMaxQueueMs}`);
  }
  const rtoMinMs = msInRange('rtoMinMs', options.rtoMinMs ?? SCTP_RTO_MIN_MS, 10, 60_000);
  const cwndFloorMtus = options.cwndFloorMtus ?? SCTP_CWND_FLOOR_MTUS;
  if (!Number.isInteger(cwndFloorMtus) || cwndFloorMtus < 0 || cwndFloorMtus > 64) {
    throw new TypeError(`cwndFloorMtus must be an integer in [0, 64], got ${cwndFloorMtus}`);
  }
  const dtlsClientDelayMs = msInRange(
    'dtlsClientDelayMs',
    options.dtlsClientDelayMs ?? DTLS_CLIENT_DELAY_MS,
    0,
    10_000,
  );
  const config: RTCPeerConnectionConfig = {
    iceServers,
    sctp: { mtu: mtuBytes + SCTP_DATA_OVERHEAD_BYTES, unreliableMaxQueueMs, rtoMinMs, cwndFloorMtus },
    icePortRange: options.portRange,
    // Patch item 13: a 10 ms wait before the ClientHello instead of werift's 100 (as answerer werift is always the
    // DTLS client, whatever the offer says); see DTLS_CLIENT_DELAY_MS.
    dtlsClientDelayMs,
  };
  if (mode === 'loopback') {
    if (iceServers.length > 0 || options.relayOnly) {
      throw new TypeError(
        'loopback mode takes no iceServers or relayOnly: it uses host candidates on 127.0.0.1 only',
      );
    }
    Object.assign(config, {
      // werift skips loopback when it enumerates interfaces; add it, and bind there.
      iceAdditionalHostAddresses: [LOOPBACK],
      iceInterfaceAddresses: { udp4: LOOPBACK },
      iceUseIpv6: false,
      // The enumeration still adds the host's other addresses; never pair with them.
      iceFilterCandidatePair: (pair: {
        remoteCandidate: { host: string };
        localCandidate?: { host: string };
      }) => pair.remoteCandidate.host === LOOPBACK && (pair.localCandidate?.host ?? LOOPBACK) === LOOPBACK,
    });
  } else {
    Object.assign(config, {
      iceUseIpv6: options.ipv6 ?? true,
      iceTransportPolicy: options.relayOnly ? 'relay' : 'all',
    });
  }
  return new RTCPeerConnection(config) as unknown as PeerConnectionLike;
}
