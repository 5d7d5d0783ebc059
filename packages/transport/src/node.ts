// Node-only entry point (`@m4sc/transport/node`): werift and node:dgram live here, never in the main entry.
export type { BurstLossOptions, ImpairmentOptions, PacketFate } from './impairment.js';
export { createRng, Impairment } from './impairment.js';
export type { LoopbackLinkPair, LoopbackLinkPairOptions, LoopbackPeerOptions } from './loopbackPair.js';
export { createLoopbackLinkPair } from './loopbackPair.js';
export type { NodeDatachannelPeerConnectionOptions } from './nodeDatachannel.js';
export { createNodeDatachannelPeerConnection } from './nodeDatachannel.js';
export {
  createPeerConnectionFactory,
  isLoopbackUrl,
  type PeerCliFlags,
  type PeerFactoryOptions,
  peerFactoryOptionsFromFlags,
} from './peerFactory.js';
export type { UdpRelay, UdpRelayOptions, UdpRelayStats } from './udpRelay.js';
export { createUdpRelay } from './udpRelay.js';
export type { IceServer, WeriftPeerConnectionOptions } from './werift.js';
export { createWeriftPeerConnection } from './werift.js';
