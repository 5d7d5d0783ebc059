// The browser-safe entry (`@m4sc/signaling/client`): the client only, with no node: imports.

export { connectSignaling } from './client.js';
export type {
  SignalingClient,
  SignalingClientEvent,
  SignalingClientOptions,
  SignalingClientState,
  WebSocketConstructor,
  WebSocketLike,
} from './clientTypes.js';
export type { Encoding } from './codec.js';
export { ConnectionError, type ConnectionErrorReason, InvalidStateError } from './errors.js';
export type { LogContext, Logger } from './logger.js';
export type { PeerSummary, Role, RoomInfo, SignalData } from './protocol.js';
export {
  createExponentialBackoff,
  type ExponentialBackoffOptions,
  type ReconnectContext,
  type ReconnectPolicy,
} from './reconnect.js';
