// `@m4sc/transport/janus`: the public stream through a Janus VideoRoom. Browser-safe: no werift, no `node:`
// imports; the WebSocket comes from `globalThis` or `createWebSocket` (Node 20: `./janus/node`).
export type { CascadeLink } from './cascade.js';
export type {
  JanusHandle,
  JanusHandleEvent,
  JanusReply,
  JanusSession,
  JanusSessionOptions,
  WebSocketFactory,
  WebSocketLike,
} from './janusSession.js';
export { connectJanus, JanusError } from './janusSession.js';
export type { LayeredRelaySubscriber, RelayPathFigures } from './layered.js';
export {
  createLayeredJanusPublisher,
  createLayeredJanusSubscriber,
  layerRelayUrl,
  MAX_RELAY_LAYERS,
  publicLayerOf,
} from './layered.js';
export type { BackoffPolicyOptions } from './reconnect.js';
export { createBackoffPolicy } from './reconnect.js';
export { createJanusPublisher, DEFAULT_FEED_DISPLAY, RELAY_CHANNEL_LABEL } from './relayPublisher.js';
export { createJanusSubscriber } from './relaySubscriber.js';
export type { RelayAddress } from './relayUrl.js';
export { DEFAULT_JANUS_WS_PORT, parseRelayUrl } from './relayUrl.js';
export type {
  JanusPublisherOptions,
  JanusSubscriberOptions,
  ReconnectContext,
  ReconnectPolicy,
  RelayPublisher,
  RelayPublisherStats,
  RelayState,
  RelaySubscriber,
  RelaySubscriberStats,
} from './types.js';
export { ensureRoom, listPublishers, VIDEOROOM } from './videoroom.js';
