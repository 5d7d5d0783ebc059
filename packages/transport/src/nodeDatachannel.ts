import { createRequire } from 'node:module';
import { DEFAULT_MTU_BYTES, SCTP_DATA_OVERHEAD_BYTES } from './defaults.js';
import type { PeerConnectionLike } from './types.js';
import type { IceServer } from './werift.js';

/** Options of {@link createNodeDatachannelPeerConnection}. Each field states its default. */
export interface NodeDatachannelPeerConnectionOptions {
  /**
   * `loopback`: bind ICE to 127.0.0.1, so the only host candidate is on loopback, no STUN or TURN — for tests
   * and same-host processes. `network`: every interface and the given `iceServers`. Default `network`.
   */
  mode?: 'loopback' | 'network';
  /** STUN/TURN servers for `network` mode. Default none: no server is contacted unless listed. Rejected in `loopback` mode. */
  iceServers?: IceServer[];
  /** Use only TURN relays (`network` mode). Default false. */
  relayOnly?: boolean;
  /** UDP port range for host candidates, [min, max]. Default any. */
  portRange?: [number, number];
  /** The link's `mtuBytes`: libdatachannel's MTU is set so one framed message is one DATA chunk. Default 1200. */
  mtuBytes?: number;
}

/**
 * Bytes libdatachannel subtracts from its configured `mtu` before SCTP sees it: DTLS (48), UDP (8) and IPv6 (40)
 * headers (its `SctpTransport`: `pmtu = mtu − 12 − 48 − 8 − 40`, the 12 being SCTP's common header, which
 * {@link SCTP_DATA_OVERHEAD_BYTES} already counts).
 */
const LIBDATACHANNEL_LOWER_LAYER_BYTES = 48 + 8 + 40;

const LOOPBACK = '127.0.0.1';

type RTCPeerConnectionCtor = new (config: Record<string, unknown>) => PeerConnectionLike;
let polyfill: RTCPeerConnectionCtor | undefined;

/** Loads the native module on first use, so importing `@m4sc/transport/node` never needs it. */
function loadPolyfill(): RTCPeerConnectionCtor {
  if (polyfill !== undefined) return polyfill;
  try {
    const mod = createRequire(import.meta.url)('node-datachannel/polyfill') as {
      RTCPeerConnection: RTCPeerConnectionCtor;
    };
    polyfill = mod.RTCPeerConnection;
    return polyfill;
  } catch (cause) {
    throw new Error(
      'node-datachannel could not be loaded (it ships prebuilt binaries for linux/darwin/win32 x64 and arm64 ' +
        'as optional dependencies; is the one for this platform installed?)',
      { cause },
    );
  }
}

/**
 * An RTCPeerConnection from node-datachannel (libdatachannel, C++) through its W3C polyfill, configured for the
 * link: the alternative to `createWeriftPeerConnection` when werift's throughput (~2.5–3 MB/s per process) or
 * CPU cost is the limit. Node only. The native module is loaded on the first call.
 *
 * The link's ICE, partial reliability and negotiated channels work unchanged; the peer on the other end may be
 * werift, node-datachannel or a browser.
 */
export function createNodeDatachannelPeerConnection(
  options: NodeDatachannelPeerConnectionOptions = {},
): PeerConnectionLike {
  const mode = options.mode ?? 'network';
  if (mode !== 'loopback' && mode !== 'network')
    throw new TypeError(`mode must be loopback or network, got ${String(mode)}`);
  const mtuBytes = options.mtuBytes ?? DEFAULT_MTU_BYTES;
  if (!Number.isInteger(mtuBytes) || mtuBytes <= 0)
    throw new TypeError(`mtuBytes must be a positive integer, got ${mtuBytes}`);
  const iceServers = options.iceServers ?? [];
  for (const s of iceServers) {
    const urls = Array.isArray(s.urls) ? s.urls : [s.urls];
    if (urls.length === 0 || urls.some((u) => typeof u !== 'string' || !/^(stun|turns?):/.test(u))) {
      throw new TypeError(
        `ICE server urls must be stun:, turn: or turns: URLs, got ${JSON.stringify(s.urls)}`,
      );
    }
    if (urls.some((u) => u.startsWith('turn')) && (s.username === undefined || s.credential === undefined)) {
      throw new TypeError('a TURN server needs username and credential');
    }
  }
  const range = options.portRange;
  if (
    range !== undefined &&
    !(
      Array.isArray(range) &&
      range.length === 2 &&
      range.every((p) => Number.isInteger(p) && p > 0 && p <= 65535) &&
      range[0] <= range[1]
    )
  ) {
    throw new TypeError(`portRange must be [min, max] ports, got ${JSON.stringify(range)}`);
  }
  const config: Record<string, unknown> = {
    // Copies: the polyfill normalises `urls` in place.
    iceServers: iceServers.map((s) => ({ ...s, urls: Array.isArray(s.urls) ? [...s.urls] : [s.urls] })),
    iceTransportPolicy: options.relayOnly ? 'relay' : 'all',
    mtu: mtuBytes + SCTP_DATA_OVERHEAD_BYTES + LIBDATACHANNEL_LOWER_LAYER_BYTES,
    ...(range !== undefined ? { portRangeBegin: range[0], portRangeEnd: range[1] } : {}),
  };
  if (mode === 'loopback') {
    if (iceServers.length > 0 || options.relayOnly) {
      throw new TypeError(
        'loopback mode takes no iceServers or relayOnly: it uses host candidates on 127.0.0.1 only',
      );
    }
    // libjuice binds its socket there, and then offers that address as its only host candidate.
    config.bindAddress = LOOPBACK;
  }
  const RTCPeerConnection = loadPolyfill();
  return new RTCPeerConnection(config);
}
