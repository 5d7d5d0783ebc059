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
export {
  createLineLogger,
  type LineLoggerOptions,
  LOG_NAMESPACE,
  type LogContext,
  type Logger,
  type LogLevel,
  silentLogger,
} from './logger.js';
export {
  CLOSE_CODES,
  type ClientMessage,
  ERROR_CODES,
  type ErrorCode,
  type PeerLeftReason,
  type PeerSummary,
  PROTOCOL_VERSION,
  type Role,
  type RoomInfo,
  type ServerMessage,
  type SignalData,
} from './protocol.js';
export type { RateLimitOptions } from './rateLimit.js';
export {
  createExponentialBackoff,
  type ExponentialBackoffOptions,
  type ReconnectContext,
  type ReconnectPolicy,
} from './reconnect.js';
export { createSignalingServer } from './server.js';
export type {
  SignalingServer,
  SignalingServerEvent,
  SignalingServerOptions,
  SignalingStats,
} from './serverTypes.js';
export {
  type CreateRoomTokenOptions,
  createRoomToken,
  type RoomTokenPayload,
  type TokenRefusal,
  type TokenVerdict,
  type VerifyRoomTokenOptions,
  verifyRoomToken,
} from './token.js';
