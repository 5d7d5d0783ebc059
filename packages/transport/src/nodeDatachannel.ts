import { createRequire } from 'node:module';
import { SCTP_DATA_OVERHEAD_BYTES } from './defaults.js';
import { checkPeerConnectionOptions } from './peerOptions.js';
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
  /**
   * `network` mode: bind ICE to this local IPv4 address, so it is the only host candidate (e.g. 10.213.0.1, the
   * host end of the Janus relay namespace). Default every interface. Rejected in `loopback` mode (127.0.0.1).
   */
  bindAddress?: string;
}

/**
 * Bytes libdatachannel subtracts from its configured `mtu` before SCTP sees it: DTLS (48), UDP (8) and IPv6 (40)
 * headers (its `SctpTransport`: `pmtu = mtu − 12 − 48 − 8 − 40`, the 12 being SCTP's common header, which
 * {@link SCTP_DATA_OVERHEAD_BYTES} already counts).
 */
const LIBDATACHANNEL_LOWER_LAYER_BYTES = 48 + 8 + 40;

const LOOPBACK = '127.0.0.1';

type RTCPeerConnectionCtor = new (config: Record<string, unknown>) => PeerConnectionLike;
/** The part of node-datachannel's own `PeerConnection` the adapter drives. */
interface NativePeerConnection {
  setLocalDescription(type?: string): void;
  signalingState(): string;
}
type NativePeerConnectionCtor = new (id: string, config: Record<string, unknown>) => NativePeerConnection;
interface NodeDatachannelModules {
  RTCPeerConnection: RTCPeerConnectionCtor;
  PeerConnection: NativePeerConnectionCtor;
}
let modules: NodeDatachannelModules | undefined;
let nextId = 0;

/** Loads the native module on first use, so importing `@m4sc/transport/node` never needs it. */
function loadModules(): NodeDatachannelModules {
  if (modules !== undefined) return modules;
  try {
    const require = createRequire(import.meta.url);
    const polyfill = require('node-datachannel/polyfill') as { RTCPeerConnection: RTCPeerConnectionCtor };
    const lib = require('node-datachannel') as { PeerConnection: NativePeerConnectionCtor };
    modules = { RTCPeerConnection: polyfill.RTCPeerConnection, PeerConnection: lib.PeerConnection };
    return modules;
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
  const { mode, mtuBytes, iceServers } = checkPeerConnectionOptions(options);
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
    // libdatachannel's form: credentials inside the URL.
    iceServers: iceServers.flatMap((server) =>
      (Array.isArray(server.urls) ? server.urls : [server.urls]).map((url) => {
        if (server.username === undefined || server.credential === undefined) return url;
        const [scheme, rest] = url.split(/:(.*)/s);
        return `${scheme}:${encodeURIComponent(server.username)}:${encodeURIComponent(server.credential)}@${rest}`;
      }),
    ),
    iceTransportPolicy: options.relayOnly ? 'relay' : 'all',
    mtu: mtuBytes + SCTP_DATA_OVERHEAD_BYTES + LIBDATACHANNEL_LOWER_LAYER_BYTES,
    // The adapter below makes offers and answers when the link asks for them (see `adapt`).
    disableAutoNegotiation: true,
    ...(range !== undefined ? { portRangeBegin: range[0], portRangeEnd: range[1] } : {}),
  };
  const bind = options.bindAddress;
  if (bind !== undefined) {
    if (mode === 'loopback') throw new TypeError('loopback mode takes no bindAddress: it binds to 127.0.0.1');
    if (typeof bind !== 'string' || !/^\d{1,3}(\.\d{1,3}){3}$/.test(bind))
      throw new TypeError(`bindAddress must be an IPv4 address, got ${String(bind)}`);
    config.bindAddress = bind;
  }
  if (mode === 'loopback') {
    if (iceServers.length > 0 || options.relayOnly) {
      throw new TypeError(
        'loopback mode takes no iceServers or relayOnly: it uses host candidates on 127.0.0.1 only',
      );
    }
    // libjuice binds its socket there, and then offers that address as its only host candidate.
    config.bindAddress = LOOPBACK;
  }
  const { RTCPeerConnection, PeerConnection } = loadModules();
  const native = new PeerConnection(`m4sc-${nextId++}`, config);
  const pc = new RTCPeerConnection({
    iceServers: iceServers.map((s) => ({ ...s, urls: Array.isArray(s.urls) ? [...s.urls] : [s.urls] })),
    iceTransportPolicy: options.relayOnly ? 'relay' : 'all',
    peerConnection: native,
  });
  return adapt(pc, native);
}

/**
 * Makes the polyfill negotiate as the W3C interface does: only when asked.
 *
 * By default libdatachannel makes an offer by itself as soon as a data channel is created — on the answering
 * side too, since both ends create the link's negotiated channels — and rolls it back when the remote offer
 * arrives. Under CPU contention that rollback races the answer and the offerer refuses it ("Got a remote
 * candidate without ICE transport"; seen in about one connection in ten while benchmarks ran). So
 * auto-negotiation is off, `createOffer()`/`createAnswer()` set the local description natively (the
 * polyfill's promises resolve when libdatachannel has made it), and `setLocalDescription()` has nothing left
 * to do.
 *
 * A second race remains in the library (node-datachannel 0.33.4), and the link reports it as a failed set-up:
 * `setRemoteDescription(answer)` on the offerer connects ICE (the answerer's checks are already arriving) and
 * starts DTLS before it stores the answer. When the answerer's certificate comes back within that window, the
 * fingerprint check finds no remote description, the handshake fails ("DTLS alert: unknown CA"), the peer
 * connection closes itself, and the answer's candidates then find no ICE transport ("Got a remote candidate
 * without ICE transport"). Measured on 2 loaded cores: 1 loopback set-up in 40, 3 in 60, 1 in 80, each with the
 * library's log showing the failed handshake. The receiver asks the sender for a new link when set-up fails.
 */
function adapt(pc: PeerConnectionLike, native: NativePeerConnection): PeerConnectionLike {
  const createOffer = pc.createOffer.bind(pc);
  const createAnswer = pc.createAnswer.bind(pc);
  const setRemoteDescription = pc.setRemoteDescription.bind(pc);
  Object.defineProperties(pc, {
    setRemoteDescription: {
      value: (description: Parameters<PeerConnectionLike['setRemoteDescription']>[0]) =>
        setRemoteDescription(
          description.type === 'offer'
            ? { ...description, sdp: answerAsDtlsServer(description.sdp) }
            : description,
        ),
    },
    createOffer: {
      value: () => {
        if (native.signalingState() === 'stable') native.setLocalDescription('offer');
        return createOffer();
      },
    },
    createAnswer: {
      value: () => {
        if (native.signalingState() === 'have-remote-offer') native.setLocalDescription('answer');
        return createAnswer();
      },
    },
    setLocalDescription: { value: async () => {} },
  });
  return pc;
}

/**
 * An offer's `a=setup:actpass` read as `a=setup:active`, so that libdatachannel answers `a=setup:passive`: the
 * answerer is the DTLS server and the offerer, which the answer itself tells to be active, the client. (werift
 * answers `active` whatever the offer says, so the werift factory has no such step.)
 *
 * libdatachannel's answerer otherwise takes the client's part. Its ICE usually comes up first (it has the offer's
 * candidates at once; the offerer waits for the answer), so its ClientHello reached an offerer whose DTLS transport
 * did not exist yet, was dropped, and went again only after OpenSSL's 1 s retransmission timer: about one connect
 * in three took ~1005 ms instead of ~5 ms (bench/lib/connectTime.mjs, loopback). As the server it waits for the
 * offerer's ClientHello, which comes only once the offerer's own ICE and DTLS are up. It still loses the race when
 * the answerer's ICE comes up last (a failed first check): ~1 in 100 connects. The offerer (werift, libdatachannel,
 * a browser or Janus) sees a standard passive answer.
 */
function answerAsDtlsServer(sdp: string): string {
  return sdp.replace(/^a=setup:actpass(\r?)$/gm, 'a=setup:active$1');
}
