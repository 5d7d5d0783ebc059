import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Role } from './protocol.js';

/** What a room token grants: one role in one room, until `exp`. */
export interface RoomTokenPayload {
  /** Room the token is bound to. */
  room: string;
  /** Role the token is bound to. */
  role: Role;
  /** Expiry, Unix time in milliseconds. */
  exp: number;
}

/** Options of {@link createRoomToken}. */
export interface CreateRoomTokenOptions {
  /** Shared HMAC secret (the server's `secret`). */
  secret: string;
  room: string;
  role: Role;
  /** Lifetime in milliseconds from `nowMs`. */
  ttlMs: number;
  /** Clock, Unix time in milliseconds. Default `Date.now()`. */
  nowMs?: number;
}

/** Options of {@link verifyRoomToken}. */
export interface VerifyRoomTokenOptions {
  secret: string;
  /** The token as presented; `undefined` or empty gives `token-missing`. */
  token: string | undefined;
  /** Room the bearer wants to join. */
  room: string;
  /** Role the bearer wants. */
  role: Role;
  /** Clock, Unix time in milliseconds. Default `Date.now()`. */
  nowMs?: number;
}

/** Why a token was refused; these are also the server's error codes. */
export type TokenRefusal =
  | 'token-missing'
  | 'token-expired'
  | 'token-room-mismatch'
  | 'token-role-mismatch'
  | 'token-invalid';

/** Result of {@link verifyRoomToken}. */
export type TokenVerdict =
  | { ok: true; payload: RoomTokenPayload }
  | { ok: false; reason: TokenRefusal; message: string };

const sign = (secret: string, body: string) => createHmac('sha256', secret).update(body).digest();

/**
 * Mints a signed, expiring room token: `base64url(JSON {room, role, exp})` `.` `base64url(HMAC-SHA256)`.
 * @throws TypeError on an empty secret, a non-positive or non-finite `ttlMs`, or a bad role.
 */
export function createRoomToken(options: CreateRoomTokenOptions): string {
  const { secret, room, role, ttlMs } = options;
  if (typeof secret !== 'string' || secret.length === 0)
    throw new TypeError('createRoomToken: secret must be a non-empty string');
  if (typeof room !== 'string' || room.length === 0)
    throw new TypeError('createRoomToken: room must be a non-empty string');
  if (role !== 'sender' && role !== 'receiver')
    throw new TypeError(`createRoomToken: role must be 'sender' or 'receiver'`);
  if (typeof ttlMs !== 'number' || !Number.isFinite(ttlMs) || ttlMs <= 0) {
    throw new TypeError('createRoomToken: ttlMs must be a positive number of milliseconds');
  }
  const payload: RoomTokenPayload = { room, role, exp: Math.floor((options.nowMs ?? Date.now()) + ttlMs) };
  const body = Buffer.from(JSON.stringify(payload)).toString('base64url');
  return `${body}.${sign(secret, body).toString('base64url')}`;
}

/**
 * Checks a room token: signature first (constant-time), then expiry, room and role. Never throws on a
 * bad token; the verdict names the reason.
 */
export function verifyRoomToken(options: VerifyRoomTokenOptions): TokenVerdict {
  const { secret, token, room, role } = options;
  if (token === undefined || token === '') {
    return { ok: false, reason: 'token-missing', message: 'this server requires a room token' };
  }
  const invalid = (why: string): TokenVerdict => ({
    ok: false,
    reason: 'token-invalid',
    message: `invalid token: ${why}`,
  });
  const parts = token.split('.');
  if (parts.length !== 2 || !parts[0] || !parts[1]) return invalid('expected <payload>.<signature>');
  const [body, signature] = parts as [string, string];
  const expected = sign(secret, body);
  const given = Buffer.from(signature, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return invalid('bad signature');
  let payload: unknown;
  try {
    payload = JSON.parse(Buffer.from(body, 'base64url').toString('utf8'));
  } catch {
    return invalid('payload is not JSON');
  }
  const p = payload as Partial<RoomTokenPayload> | null;
  if (
    typeof p !== 'object' ||
    p === null ||
    typeof p.room !== 'string' ||
    (p.role !== 'sender' && p.role !== 'receiver') ||
    typeof p.exp !== 'number'
  ) {
    return invalid('payload must be {room, role, exp}');
  }
  const now = options.nowMs ?? Date.now();
  if (now >= p.exp) {
    return {
      ok: false,
      reason: 'token-expired',
      message: `token expired at ${new Date(p.exp).toISOString()}`,
    };
  }
  if (p.room !== room) {
    return {
      ok: false,
      reason: 'token-room-mismatch',
      message: `token is for room "${p.room}", not "${room}"`,
    };
  }
  if (p.role !== role) {
    return { ok: false, reason: 'token-role-mismatch', message: `token is for role ${p.role}, not ${role}` };
  }
  return { ok: true, payload: { room: p.room, role: p.role, exp: p.exp } };
}
