import type { Server as HttpServer } from 'node:http';
import type { Observable } from 'rxjs';
import type { Logger } from './logger.js';
import type { ErrorCode, PeerLeftReason, Role } from './protocol.js';
import type { RateLimitOptions } from './rateLimit.js';

/** Options of `createSignalingServer`. Every field is optional. */
export interface SignalingServerOptions {
  /** Interface to listen on. Default `127.0.0.1`. Conflicts with `server`. */
  host?: string;
  /** TCP port; 0 picks an ephemeral one. Default 0. Conflicts with `server`. */
  port?: number;
  /**
   * An existing http.Server to attach to (so a web page can be served from the same port). The
   * signaling server handles its WebSocket upgrades (only on `path`, when given) and never closes it.
   */
  server?: HttpServer;
  /** Only accept WebSocket upgrades on this path (e.g. `/signal`). Default: any path. */
  path?: string;
  /** Largest frame, in bytes; larger frames close the connection with 1009. Default 65 536. */
  maxMessageBytes?: number;
  /** Largest `signal.data`, as JSON, in bytes. Default 32 768. */
  maxSignalDataBytes?: number;
  /** Largest room metadata, as JSON, in bytes. Default 4 096. */
  maxRoomInfoBytes?: number;
  /** Peers per room, the sender included. Default 64. */
  maxPeersPerRoom?: number;
  /** Per-connection token bucket. Default 50 msg/s, burst 100, close after 100 dropped. */
  rateLimit?: RateLimitOptions;
  /** Turns on room tokens: every join must carry a token signed with this secret. Default: off. */
  secret?: string;
  /** WebSocket ping interval in milliseconds; 0 disables. Default 30 000. */
  heartbeatMs?: number;
  /** Time a connection has to send `join`, in milliseconds; 0 disables. Default 10 000. */
  joinTimeoutMs?: number;
  /** Where the server logs (namespace `m4sc:signaling`). Default: silent. */
  logger?: Logger;
}

/** Counters of a running server. */
export interface SignalingStats {
  /** Open WebSocket connections, joined or not. */
  connections: number;
  /** Connections accepted since start. */
  connectionsTotal: number;
  /** Rooms with at least one peer. */
  rooms: number;
  /** Joined peers, over all rooms. */
  peers: number;
  /** Frames received (valid or not). */
  messagesIn: number;
  /** Frames sent. */
  messagesOut: number;
  /** Frames dropped by the rate limit. */
  messagesDropped: number;
  /** `signal` messages relayed. */
  signalsRelayed: number;
  /** Refused joins and rejected messages, by error code (only codes seen so far appear). */
  refusals: Partial<Record<ErrorCode, number>>;
}

/** What happens in the server, one event per join, leave and refusal. */
export type SignalingServerEvent =
  | { type: 'peer-joined'; room: string; peerId: string; role: Role }
  | { type: 'peer-left'; room: string; peerId: string; role: Role; reason: PeerLeftReason }
  | { type: 'refused'; code: ErrorCode; message: string; remote: string; room?: string };

/** A running signaling server. */
export interface SignalingServer {
  /** `ws://host:port[path]` clients connect to. */
  readonly url: string;
  /** The TCP port it listens on. */
  readonly port: number;
  /** A snapshot of the counters. */
  readonly stats: SignalingStats;
  /** Counters, emitted after each change (at most once per event-loop turn). Completes on close. */
  readonly stats$: Observable<SignalingStats>;
  /** Joins, leaves and refusals. Completes on close. */
  readonly events$: Observable<SignalingServerEvent>;
  /** Whether `close()` was called. */
  readonly closed: boolean;
  /** Tells every peer (close 1001), stops listening (unless attached to a caller's server). Idempotent. */
  close(): Promise<void>;
}
