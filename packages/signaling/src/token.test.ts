import { describe, expect, it } from 'vitest';
import { createRoomToken, verifyRoomToken } from './token.js';

const secret = 's3cret';
const nowMs = 1_700_000_000_000;
const mint = (room = 'lab', role: 'sender' | 'receiver' = 'receiver', ttlMs = 60_000) =>
  createRoomToken({ secret, room, role, ttlMs, nowMs });

describe('room tokens', () => {
  it('a fresh token verifies for its room and role', () => {
    const verdict = verifyRoomToken({
      secret,
      token: mint(),
      room: 'lab',
      role: 'receiver',
      nowMs: nowMs + 1000,
    });
    expect(verdict).toEqual({ ok: true, payload: { room: 'lab', role: 'receiver', exp: nowMs + 60_000 } });
  });

  it('an expired token is refused as token-expired', () => {
    const v = verifyRoomToken({
      secret,
      token: mint(),
      room: 'lab',
      role: 'receiver',
      nowMs: nowMs + 60_000,
    });
    expect(v).toMatchObject({ ok: false, reason: 'token-expired' });
  });

  it('a token for another room is refused as token-room-mismatch', () => {
    const v = verifyRoomToken({ secret, token: mint('other'), room: 'lab', role: 'receiver', nowMs });
    expect(v).toMatchObject({ ok: false, reason: 'token-room-mismatch' });
  });

  it('a receiver token cannot join as sender (token-role-mismatch)', () => {
    const v = verifyRoomToken({ secret, token: mint(), room: 'lab', role: 'sender', nowMs });
    expect(v).toMatchObject({ ok: false, reason: 'token-role-mismatch' });
  });

  it('no token is refused as token-missing', () => {
    expect(verifyRoomToken({ secret, token: undefined, room: 'lab', role: 'sender' })).toMatchObject({
      ok: false,
      reason: 'token-missing',
    });
    expect(verifyRoomToken({ secret, token: '', room: 'lab', role: 'sender' })).toMatchObject({
      reason: 'token-missing',
    });
  });

  it('a token signed with another secret, tampered with, or garbage is token-invalid', () => {
    const other = createRoomToken({ secret: 'other', room: 'lab', role: 'receiver', ttlMs: 60_000, nowMs });
    const [body, sig] = mint().split('.') as [string, string];
    const forged = `${Buffer.from(JSON.stringify({ room: 'lab', role: 'sender', exp: nowMs * 2 })).toString('base64url')}.${sig}`;
    for (const token of [other, forged, `${body}.${sig.slice(0, -2)}`, 'garbage', 'a.b.c', '.', `${body}.`]) {
      expect(verifyRoomToken({ secret, token, room: 'lab', role: 'receiver', nowMs })).toMatchObject({
        ok: false,
        reason: 'token-invalid',
      });
    }
  });

  it('createRoomToken rejects a bad secret, role or ttl with TypeError', () => {
    expect(() => createRoomToken({ secret: '', room: 'r', role: 'sender', ttlMs: 1 })).toThrow(TypeError);
    expect(() => createRoomToken({ secret, room: 'r', role: 'admin' as 'sender', ttlMs: 1 })).toThrow(
      TypeError,
    );
    expect(() => createRoomToken({ secret, room: 'r', role: 'sender', ttlMs: 0 })).toThrow(TypeError);
    expect(() => createRoomToken({ secret, room: 'r', role: 'sender', ttlMs: Number.NaN })).toThrow(
      TypeError,
    );
  });
});
