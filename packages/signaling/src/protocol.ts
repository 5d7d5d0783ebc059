import { z } from 'zod';

/** Protocol version, sent in `joined`. */
export const PROTOCOL_VERSION = 1;

/** A peer's role in a room: exactly one sender, many receivers. */
export type Role = 'sender' | 'receiver';

const roleSchema = z.enum(['sender', 'receiver']);
/** Room names: 1–128 URL-safe characters, so they can appear in URLs, tokens and logs unescaped. */
const roomSchema = z
  .string()
  .regex(/^[A-Za-z0-9._~:@-]{1,128}$/, 'room must be 1–128 characters of A-Z a-z 0-9 . _ ~ : @ -');
/** Peer ids: server-assigned, or proposed by the client on rejoin. */
const peerIdSchema = z
  .string()
  .regex(/^[A-Za-z0-9_-]{1,64}$/, 'peerId must be 1–64 characters of A-Z a-z 0-9 _ -');
const pingIdSchema = z.union([z.string().max(64), z.number()]);

/** `signal.data`: an opaque JSON object with a `type` (`offer`, `answer`, `candidate`, …), relayed as is. */
const signalDataSchema = z.object({ type: z.string().min(1).max(64) }).catchall(z.json());
const roomInfoSchema = z.record(z.string(), z.json());

/** Error codes the server sends in `error.code`. Join refusals are also counted by code in the stats. */
export const ERROR_CODES = [
  'malformed',
  'unknown-type',
  'invalid-message',
  'too-large',
  'rate-limited',
  'not-joined',
  'already-joined',
  'room-full',
  'sender-exists',
  'peer-id-in-use',
  'unknown-peer',
  'forbidden',
  'token-missing',
  'token-expired',
  'token-room-mismatch',
  'token-role-mismatch',
  'token-invalid',
  'join-timeout',
  'internal',
] as const;
/** One of {@link ERROR_CODES}. */
export type ErrorCode = (typeof ERROR_CODES)[number];

// ---- client → server ----------------------------------------------------------------------------

export const joinSchema = z.object({
  type: z.literal('join'),
  room: roomSchema,
  role: roleSchema,
  token: z.string().max(4096).optional(),
  peerId: peerIdSchema.optional(),
  /** Proves a rejoining client owned `peerId`; the server gave it in `joined`. */
  resumeKey: z.string().max(128).optional(),
});
export const signalSchema = z.object({ type: z.literal('signal'), to: peerIdSchema, data: signalDataSchema });
export const leaveSchema = z.object({ type: z.literal('leave') });
export const pingSchema = z.object({ type: z.literal('ping'), id: pingIdSchema });
export const roomInfoRequestSchema = z.object({ type: z.literal('room-info'), info: roomInfoSchema });

/** The schema of each client message type. */
export const CLIENT_MESSAGE_SCHEMAS = {
  join: joinSchema,
  signal: signalSchema,
  leave: leaveSchema,
  ping: pingSchema,
  'room-info': roomInfoRequestSchema,
} as const;
export type ClientMessageType = keyof typeof CLIENT_MESSAGE_SCHEMAS;

export type JoinMessage = z.infer<typeof joinSchema>;
export type SignalMessage = z.infer<typeof signalSchema>;
export type LeaveMessage = z.infer<typeof leaveSchema>;
export type PingMessage = z.infer<typeof pingSchema>;
export type RoomInfoRequest = z.infer<typeof roomInfoRequestSchema>;
/** Any message a client sends. */
export type ClientMessage = JoinMessage | SignalMessage | LeaveMessage | PingMessage | RoomInfoRequest;
/** Opaque negotiation payload carried by `signal`. */
export type SignalData = z.infer<typeof signalDataSchema>;
/** Room metadata set by the sender. */
export type RoomInfo = z.infer<typeof roomInfoSchema>;

// ---- server → client ----------------------------------------------------------------------------

const peerSummarySchema = z.object({ peerId: z.string(), role: roleSchema });
/** A peer as others see it. */
export type PeerSummary = z.infer<typeof peerSummarySchema>;

/** Why a peer left its room (sent in `peer-left`). */
export type PeerLeftReason = 'left' | 'disconnected' | 'timeout' | 'replaced' | 'kicked' | 'shutdown';

export const joinedSchema = z.object({
  type: z.literal('joined'),
  version: z.number(),
  peerId: z.string(),
  room: z.string(),
  role: roleSchema,
  peers: z.array(peerSummarySchema),
  resumeKey: z.string(),
  info: roomInfoSchema.optional(),
});
export const peerJoinedSchema = z.object({
  type: z.literal('peer-joined'),
  peerId: z.string(),
  role: roleSchema,
});
export const peerLeftSchema = z.object({
  type: z.literal('peer-left'),
  peerId: z.string(),
  role: roleSchema,
  reason: z.string(),
});
export const relayedSignalSchema = z.object({
  type: z.literal('signal'),
  from: z.string(),
  data: signalDataSchema,
});
export const roomInfoEventSchema = z.object({ type: z.literal('room-info'), info: roomInfoSchema });
export const errorSchema = z.object({
  type: z.literal('error'),
  code: z.string(),
  message: z.string(),
  ref: z.string().optional(),
});
export const pongSchema = z.object({ type: z.literal('pong'), id: pingIdSchema });

export const serverMessageSchema = z.discriminatedUnion('type', [
  joinedSchema,
  peerJoinedSchema,
  peerLeftSchema,
  relayedSignalSchema,
  roomInfoEventSchema,
  errorSchema,
  pongSchema,
]);

export type JoinedMessage = z.infer<typeof joinedSchema>;
export type PeerJoinedMessage = z.infer<typeof peerJoinedSchema>;
export type PeerLeftMessage = z.infer<typeof peerLeftSchema>;
export type RelayedSignalMessage = z.infer<typeof relayedSignalSchema>;
export type RoomInfoMessage = z.infer<typeof roomInfoEventSchema>;
export type ErrorMessage = z.infer<typeof errorSchema>;
export type PongMessage = z.infer<typeof pongSchema>;
/** Any message the server sends. */
export type ServerMessage = z.infer<typeof serverMessageSchema>;

/** Close codes the server uses besides the standard ones (1001 going away, 1009 message too big). */
export const CLOSE_CODES = {
  /** Server shutting down. */
  goingAway: 1001,
  /** A frame larger than `maxMessageBytes` (sent by ws itself). */
  tooLarge: 1009,
  /** The same peerId rejoined from another connection (with its resume key). */
  replaced: 4000,
  /** No `join` within `joinTimeoutMs`. */
  joinTimeout: 4001,
  /** Too many messages dropped by the rate limit. */
  rateLimited: 4029,
} as const;

/** Human-readable summary of a zod failure: the first few issues as `path: message`. */
export function describeIssues(error: z.ZodError, max = 3): string {
  return error.issues
    .slice(0, max)
    .map((i) => `${i.path.length > 0 ? i.path.join('.') : '(message)'}: ${i.message}`)
    .join('; ');
}

/** Result of {@link parseClientMessage}. */
export type ParseResult =
  | { ok: true; message: ClientMessage }
  | { ok: false; code: 'unknown-type' | 'invalid-message'; message: string; ref?: string };

/**
 * Validates a decoded value as a client message. Never throws: deep or hostile input that makes the
 * validator itself fail (e.g. a stack overflow) is reported as `invalid-message`.
 */
export function parseClientMessage(value: unknown): ParseResult {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { ok: false, code: 'invalid-message', message: 'a message must be an object with a "type"' };
  }
  const type = (value as { type?: unknown }).type;
  if (typeof type !== 'string') {
    return { ok: false, code: 'invalid-message', message: 'a message must have a string "type"' };
  }
  if (!Object.hasOwn(CLIENT_MESSAGE_SCHEMAS, type)) {
    const known = Object.keys(CLIENT_MESSAGE_SCHEMAS).join(', ');
    return {
      ok: false,
      code: 'unknown-type',
      message: `unknown message type ${JSON.stringify(type.slice(0, 64))}; expected one of ${known}`,
      ref: type.slice(0, 64),
    };
  }
  const schema = CLIENT_MESSAGE_SCHEMAS[type as ClientMessageType];
  try {
    const result = schema.safeParse(value);
    if (result.success) return { ok: true, message: result.data as ClientMessage };
    return {
      ok: false,
      code: 'invalid-message',
      message: `invalid ${type}: ${describeIssues(result.error)}`,
      ref: type,
    };
  } catch (err) {
    return {
      ok: false,
      code: 'invalid-message',
      message: `invalid ${type}: ${(err as Error).message}`,
      ref: type,
    };
  }
}
