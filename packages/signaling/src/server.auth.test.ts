import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSignalingServer } from './server.js';
import type { SignalingServer } from './serverTypes.js';
import { openRaw, type RawClient } from './testing/rawClient.js';
import { createRoomToken } from './token.js';

const secret = 'test-secret';
let server: SignalingServer;
const clients: RawClient[] = [];
beforeAll(async () => {
  server = await createSignalingServer({ secret });
});
afterAll(async () => {
  for (const c of clients) c.ws.terminate();
  await server.close();
});

async function tryJoin(room: string, role: 'sender' | 'receiver', token?: string) {
  const c = await openRaw(server.url);
  clients.push(c);
  c.json({ type: 'join', room, role, ...(token === undefined ? {} : { token }) });
  return c.next();
}
const token = (room: string, role: 'sender' | 'receiver', ttlMs = 60_000, nowMs = Date.now()) =>
  createRoomToken({ secret, room, role, ttlMs, nowMs });

describe('signaling server with --secret: room tokens', () => {
  it('a valid token for the room and role joins', async () => {
    expect(await tryJoin('lab', 'sender', token('lab', 'sender'))).toMatchObject({
      type: 'joined',
      role: 'sender',
    });
    expect(await tryJoin('lab', 'receiver', token('lab', 'receiver'))).toMatchObject({ type: 'joined' });
  });

  it.each([
    ['no token', undefined, 'token-missing', /requires a room token/],
    ['an expired token', token('lab2', 'receiver', 1000, Date.now() - 5000), 'token-expired', /expired/],
    ['a token for another room', token('elsewhere', 'receiver'), 'token-room-mismatch', /"elsewhere"/],
    ['a sender token used as receiver', token('lab2', 'sender'), 'token-role-mismatch', /role sender/],
    [
      'a token signed with another secret',
      createRoomToken({ secret: 'x', room: 'lab2', role: 'receiver', ttlMs: 60_000 }),
      'token-invalid',
      /signature/,
    ],
    ['garbage', 'not-a-token', 'token-invalid', /invalid token/],
  ])('%s is refused with its reason', async (_what, t, code, message) => {
    const reply = await tryJoin('lab2', 'receiver', t);
    expect(reply).toMatchObject({ type: 'error', code, ref: 'join' });
    expect(reply.message).toMatch(message);
    expect(server.stats.refusals[code as 'token-invalid']).toBeGreaterThan(0);
  });

  it('a receiver token cannot be used to join as the sender', async () => {
    expect(await tryJoin('lab3', 'sender', token('lab3', 'receiver'))).toMatchObject({
      code: 'token-role-mismatch',
    });
  });
});
