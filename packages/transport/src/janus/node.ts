// `@m4sc/transport/janus/node`: the `ws` WebSocket for Node 20 (which has no global one) and a werift
// RTCPeerConnection that pairs with a Janus on this host.
import { networkInterfaces } from 'node:os';
import { RTCPeerConnection, type RTCPeerConnectionConfig } from 'werift';
import WebSocket from 'ws';
import { DEFAULT_MTU_BYTES, SCTP_DATA_OVERHEAD_BYTES } from '../defaults.js';
import type { PeerConnectionLike } from '../types.js';
import { createWeriftPeerConnection } from '../werift.js';
import type { WebSocketFactory, WebSocketLike } from './janusSession.js';
import { parseRelayUrl } from './relayUrl.js';

/** Opens Janus's WebSocket with the `ws` package. */
export const nodeWebSocketFactory: WebSocketFactory = (url, protocol) =>
  new WebSocket(url, protocol, { perMessageDeflate: false }) as unknown as WebSocketLike;

/** Options of {@link createRelayPeerConnection}. */
export interface RelayPeerConnectionOptions {
  /** The link's `mtuBytes`: werift's SCTP MTU is set so one framed message is one DATA chunk. Default 1200. */
  mtuBytes?: number;
  /**
   * Bind ICE to this local address only and pair only within its subnet (e.g. 10.213.0.1, the host end of
   * the relay namespace's veth). Default: every interface, as `createWeriftPeerConnection` in network mode.
   */
  localAddress?: string;
  /** Prefix length of `localAddress`'s subnet. Default 32 − (bits of the interface's netmask) as found. */
  prefixLength?: number;
}

const ipv4ToInt = (a: string) => a.split('.').reduce((n, o) => (n << 8) + Number(o), 0) >>> 0;
const inSubnet = (a: string, base: string, prefix: number) => {
  if (!/^\d+\.\d+\.\d+\.\d+$/.test(a)) return false;
  const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
  return (ipv4ToInt(a) & mask) === (ipv4ToInt(base) & mask);
};

/**
 * The local IPv4 address (and its prefix length) on the same subnet as `host`, when `host` is directly
 * reachable: 127.0.0.1 for 127.x, 10.213.0.1 for the relay namespace's 10.213.0.2. Undefined otherwise.
 */
export function localAddressFor(host: string): { address: string; prefixLength: number } | undefined {
  if (host.startsWith('127.')) return { address: '127.0.0.1', prefixLength: 8 };
  for (const list of Object.values(networkInterfaces())) {
    for (const i of list ?? []) {
      if (i.family !== 'IPv4') continue;
      const prefix = Number(i.cidr?.split('/')[1] ?? 32);
      if (inSubnet(host, i.address, prefix) && i.address !== host)
        return { address: i.address, prefixLength: prefix };
    }
  }
  return undefined;
}

/**
 * A werift RTCPeerConnection for the uplink or downlink to Janus. With `localAddress`, ICE binds there and
 * pairs only inside its subnet, so no check is ever sent anywhere else.
 */
export function createRelayPeerConnection(options: RelayPeerConnectionOptions = {}): PeerConnectionLike {
  const mtuBytes = options.mtuBytes ?? DEFAULT_MTU_BYTES;
  const local = options.localAddress;
  if (!local) return createWeriftPeerConnection({ mode: 'network', mtuBytes, ipv6: false });
  const prefix = options.prefixLength ?? localAddressFor(local)?.prefixLength ?? 32;
  return new RTCPeerConnection({
    iceServers: [],
    sctp: { mtu: mtuBytes + SCTP_DATA_OVERHEAD_BYTES },
    iceAdditionalHostAddresses: [local],
    iceInterfaceAddresses: { udp4: local },
    iceUseIpv6: false,
    // The socket is bound to `local`; werift still lists the host's other addresses as candidates.
    iceFilterCandidatePair: (pair: {
      remoteCandidate: { host: string };
      localCandidate?: { host: string };
    }) =>
      inSubnet(pair.remoteCandidate.host, local, prefix) && (pair.localCandidate?.host ?? local) === local,
  } as RTCPeerConnectionConfig) as unknown as PeerConnectionLike;
}

/**
 * Everything a Node relay publisher or subscriber needs for `url`: the `ws` WebSocket, a werift
 * connection bound to the local address that reaches Janus directly (when one does), and a filter that
 * keeps only that address's candidates in the SDP sent to Janus.
 */
export function relayNodeOptions(url: string): {
  createWebSocket: WebSocketFactory;
  createPeerConnection: () => PeerConnectionLike;
  localCandidateFilter?: (address: string) => boolean;
} {
  const { host } = parseRelayUrl(url);
  const local = localAddressFor(host);
  if (!local)
    return { createWebSocket: nodeWebSocketFactory, createPeerConnection: () => createRelayPeerConnection() };
  return {
    createWebSocket: nodeWebSocketFactory,
    createPeerConnection: () =>
      createRelayPeerConnection({ localAddress: local.address, prefixLength: local.prefixLength }),
    localCandidateFilter: (address) => address === local.address,
  };
}
