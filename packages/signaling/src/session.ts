import type { WebSocket } from 'ws';
import type { Encoding } from './codec.js';
import type { PeerLeftReason, Role } from './protocol.js';
import type { TokenBucket } from './rateLimit.js';

/** Where a joined session sits. */
export interface Membership {
  room: string;
  peerId: string;
  role: Role;
  /** Secret that lets a later connection take over this peerId (see `join.resumeKey`). */
  resumeKey: string;
}

/** Server-side state of one WebSocket connection. Internal. */
export class Session {
  /** Replies use the encoding of the client's latest message. */
  encoding: Encoding = 'json';
  /** Cleared by each heartbeat tick, set by any pong or message. */
  alive = true;
  /** Set while joined to a room. */
  membership: Membership | undefined;
  /** What the room is told when this connection ends; the server sets it before closing a socket itself. */
  leaveReason: PeerLeftReason = 'disconnected';
  /** Pending join deadline. */
  joinTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    readonly socket: WebSocket,
    /** `address:port` of the client, for logs. */
    readonly remote: string,
    readonly bucket: TokenBucket,
  ) {}
}
