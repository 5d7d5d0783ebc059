// Browser-safe entry point: nothing here imports werift or node built-ins (those are in `./node`).
export type { Clock } from './clock.js';
export { systemClock } from './clock.js';
export type { ControlMessage } from './controlCodec.js';
export { decodeControl, encodeControl } from './controlCodec.js';
export {
  CONTROL_QUEUE_MAX_MESSAGES,
  DEFAULT_DISCONNECTED_TIMEOUT_MS,
  DEFAULT_HOLE_GRACE_MS,
  DEFAULT_MAX_AGE_MS,
  DEFAULT_MTU_BYTES,
  DEFAULT_OP_BUDGET_BYTES,
  DEFAULT_PACER_RATE_BYTES_PER_SEC,
  DEFAULT_REASSEMBLY_TIMEOUT_MS,
  DEFAULT_STALE_AFTER_MS,
  DEFAULT_STATS_INTERVAL_MS,
  DTLS_CLIENT_DELAY_MS,
  MAX_CONTROL_MESSAGE_BYTES,
  MAX_PACKETS_PER_SAMPLE,
  SAMPLE_QUEUE_MAX_BYTES,
  SCTP_CWND_FLOOR_MTUS,
  SCTP_RTO_MIN_MS,
  SEND_BUFFER_HIGH_WATERMARK_BYTES,
  SEND_BUFFER_LOW_WATERMARK_BYTES,
  UNRELIABLE_MAX_QUEUE_MS,
  WIRE_VERSION,
} from './defaults.js';
export type { ConnectionErrorReason, MalformedField } from './errors.js';
export { ConnectionError, InvalidStateError, MalformedFrameError } from './errors.js';
export {
  decodeFrame,
  encodeFrame,
  frameHeaderBudgetBytes,
  maxPayloadBytesFor,
  splitPayload,
} from './framer.js';
export type { IceRestartContext, IceRestartPolicy } from './iceRestart.js';
export { createIceRestartBackoff } from './iceRestart.js';
export type { MonitorExtras, QueueSignal, QueueTrendOptions } from './linkMonitor.js';
export { AgeWindow, LinkMonitor, LossEstimator, PacketCount, percentile, QueueTrend } from './linkMonitor.js';
export type { LogContext, Logger } from './logger.js';
export { LOG_NAMESPACE, silentLogger } from './logger.js';
export type { PacedSource, Pacer, PacerOptions, PacerRegistration } from './pacer.js';
export { createPacer, getSharedPacer, TokenBucket } from './pacer.js';
export { createPeerLink } from './peerLink.js';
export type { PeerLink, PeerLinkOptions } from './peerLinkTypes.js';
export type { ReassemblerCounters, ReassemblerOptions } from './reassembler.js';
export { Reassembler } from './reassembler.js';
export type { ControlSendQueueOptions, QueuedPacket, SampleSendQueueOptions } from './sendQueue.js';
export { ControlSendQueue, SampleSendQueue } from './sendQueue.js';
export type {
  AgeStats,
  ChannelKind,
  ChannelStats,
  DataChannelLike,
  DropReason,
  Frame,
  IceCandidateInit,
  LinkReport,
  LinkState,
  LinkStats,
  OperatingPoint,
  PeerConnectionLike,
  PeerSignal,
  ReassembledSample,
  ReconnectRequest,
  SampleChannel,
  SampleInput,
} from './types.js';
export { sdpSessionId } from './types.js';
