import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { firstValueFrom, toArray } from 'rxjs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createSignalingServer } from './server.js';
import type { SignalingServer } from './serverTypes.js';
import { openRaw, type RawClient } from './testing/rawClient.js';

let server: SignalingServer;
const clients: RawClient[] = [];
const open = async () => {
  const c = await openRaw(server.url);
  clients.push(c);
  return c;
};

beforeEach(async () => {
  server = await createSignalingServer({ maxPeersPerRoom: 3 });
});
afterEach(async () => {
  for (const c of clients.splice(0)) c.ws.terminate();
  await server.close();
});

describe('signaling server: rooms and relay', () => {
  it('listens on an ephemeral loopback port and reports ws://host:port', () => {
    expect(server.port).toBeGreaterThan(0);
    expect(server.url).toBe(`ws://127.0.0.1:${server.port}`);
  });

  it('relays offer, answer and candidates between the sender and a receiver', async () => {
    const sender = await open();
    const s = await sender.join('lab', 'sender');
    expect(s).toMatchObject({ type: 'joined', room: 'lab', role: 'sender', peers: [] });
    const receiver = await open();
    const r = await receiver.join('lab', 'receiver');
    expect(r.peers).toEqual([{ peerId: s.peerId, role: 'sender' }]);
    expect(await sender.next('peer-joined')).toEqual({
      type: 'peer-joined',
      peerId: r.peerId,
      role: 'receiver',
    });

    sender.json({ type: 'signal', to: r.peerId, data: { type: 'offer', sdp: 'v=0 offer' } });
    expect(await receiver.next('signal')).toEqual({
      type: 'signal',
      from: s.peerId,
      data: { type: 'offer', sdp: 'v=0 offer' },
    });
    receiver.json({ type: 'signal', to: s.peerId, data: { type: 'answer', sdp: 'v=0 answer' } });
    expect(await sender.next('signal')).toMatchObject({ from: r.peerId, data: { type: 'answer' } });
    const candidate = {
      type: 'candidate',
      candidate: 'candidate:1 1 udp 2122260223 10.0.0.1 5000 typ host',
      sdpMid: '0',
    };
    receiver.json({ type: 'signal', to: s.peerId, data: candidate });
    sender.json({ type: 'signal', to: r.peerId, data: { ...candidate, sdpMid: '1' } });
    expect((await sender.next('signal')).data).toEqual(candidate);
    expect((await receiver.next('signal')).data.sdpMid).toBe('1');
    expect(server.stats.signalsRelayed).toBe(4);
  });

  it('a receiver cannot address another receiver, and sees no other receivers', async () => {
    const sender = await open();
    await sender.join('lab', 'sender');
    const a = await open();
    const ra = await a.join('lab', 'receiver');
    const b = await open();
    const rb = await b.join('lab', 'receiver');
    expect(rb.peers.map((p: { role: string }) => p.role)).toEqual(['sender']);
    b.json({ type: 'signal', to: ra.peerId, data: { type: 'offer', sdp: 'x' } });
    const err = await b.next('error');
    expect(err).toMatchObject({ code: 'forbidden', ref: 'signal' });
    expect(err.message).toMatch(/receivers may only signal the sender/);
    await new Promise((r) => setTimeout(r, 50));
    expect(a.received.filter((m) => m.type === 'signal')).toEqual([]);
    expect(a.received.filter((m) => m.type === 'peer-joined')).toEqual([]);
  });

  it('a second sender in a room is refused with sender-exists', async () => {
    await (await open()).join('lab', 'sender');
    const second = await open();
    second.json({ type: 'join', room: 'lab', role: 'sender' });
    expect(await second.next()).toMatchObject({ type: 'error', code: 'sender-exists', ref: 'join' });
    // The connection stays usable: it may join another room.
    expect((await second.join('other', 'sender')).role).toBe('sender');
  });

  it('a full room refuses the next peer with room-full', async () => {
    await (await open()).join('lab', 'sender');
    await (await open()).join('lab', 'receiver');
    await (await open()).join('lab', 'receiver');
    const fourth = await open();
    fourth.json({ type: 'join', room: 'lab', role: 'receiver' });
    const err = await fourth.next();
    expect(err).toMatchObject({ type: 'error', code: 'room-full' });
    expect(err.message).toMatch(/3 peers/);
    expect(server.stats.refusals['room-full']).toBe(1);
  });

  it('signaling before join, joining twice and addressing an unknown peer each get a clear error', async () => {
    const c = await open();
    c.json({ type: 'signal', to: 'nobody', data: { type: 'offer' } });
    expect(await c.next()).toMatchObject({ type: 'error', code: 'not-joined', ref: 'signal' });
    c.json({ type: 'room-info', info: {} });
    expect(await c.next()).toMatchObject({ code: 'not-joined', ref: 'room-info' });
    await c.join('lab', 'sender');
    c.json({ type: 'join', room: 'lab', role: 'sender' });
    expect(await c.next()).toMatchObject({ code: 'already-joined' });
    c.json({ type: 'signal', to: 'nobody', data: { type: 'offer' } });
    const err = await c.next();
    expect(err).toMatchObject({ code: 'unknown-peer' });
    expect(err.message).toMatch(/"nobody"/);
  });

  it('leave tells the sender with reason left, and the connection can join again', async () => {
    const sender = await open();
    await sender.join('lab', 'sender');
    const receiver = await open();
    const r = await receiver.join('lab', 'receiver');
    receiver.json({ type: 'leave' });
    expect(await sender.next('peer-left')).toEqual({
      type: 'peer-left',
      peerId: r.peerId,
      role: 'receiver',
      reason: 'left',
    });
    await receiver.join('lab', 'receiver');
  });

  it('the sender leaving is seen by every receiver, and the empty room is removed', async () => {
    const sender = await open();
    const s = await sender.join('lab', 'sender');
    const receiver = await open();
    await receiver.join('lab', 'receiver');
    expect(server.stats).toMatchObject({ rooms: 1, peers: 2, connections: 2 });
    sender.close();
    expect(await receiver.next('peer-left')).toMatchObject({
      peerId: s.peerId,
      role: 'sender',
      reason: 'disconnected',
    });
    receiver.close();
    await receiver.closed;
    await new Promise((r) => setTimeout(r, 20));
    expect(server.stats).toMatchObject({ rooms: 0, peers: 0, connections: 0 });
  });

  it('room info set by the sender reaches receivers now and on join, and only the sender may set it', async () => {
    const sender = await open();
    await sender.join('lab', 'sender');
    const early = await open();
    await early.join('lab', 'receiver');
    sender.json({ type: 'room-info', info: { tasks: ['caption'], bundle: 'm4sc-tiny' } });
    expect(await early.next('room-info')).toEqual({
      type: 'room-info',
      info: { tasks: ['caption'], bundle: 'm4sc-tiny' },
    });
    const late = await open();
    expect((await late.join('lab', 'receiver')).info).toEqual({ tasks: ['caption'], bundle: 'm4sc-tiny' });
    late.json({ type: 'room-info', info: { evil: true } });
    expect(await late.next('error')).toMatchObject({ code: 'forbidden', ref: 'room-info' });
    sender.json({ type: 'room-info', info: { blob: 'x'.repeat(5000) } });
    expect(await sender.next('error')).toMatchObject({ code: 'too-large', ref: 'room-info' });
  });

  it('replies in msgpack to a client that speaks msgpack', async () => {
    const c = await open();
    c.msgpack({ type: 'join', room: 'lab', role: 'sender' });
    const joined = await c.next();
    expect(joined).toMatchObject({ type: 'joined', __binary: true });
    c.msgpack({ type: 'ping', id: 'abc' });
    expect(await c.next()).toEqual({ type: 'pong', id: 'abc', __binary: true });
    const json = await open();
    const r = await json.join('lab', 'receiver');
    expect(r.__binary).toBeUndefined();
    c.msgpack({ type: 'signal', to: r.peerId, data: { type: 'offer', sdp: 'v=0' } });
    expect(await json.next('signal')).toEqual({
      type: 'signal',
      from: joined.peerId,
      data: { type: 'offer', sdp: 'v=0' },
    });
  });

  it('answers ping with pong before join', async () => {
    const c = await open();
    c.json({ type: 'ping', id: 1 });
    expect(await c.next()).toEqual({ type: 'pong', id: 1 });
  });

  it('a rejoin with the resume key takes over the peerId; without it the peerId is refused', async () => {
    const sender = await open();
    await sender.join('lab', 'sender');
    const first = await open();
    const r = await first.join('lab', 'receiver');
    const thief = await open();
    thief.json({ type: 'join', room: 'lab', role: 'receiver', peerId: r.peerId });
    expect(await thief.next()).toMatchObject({ code: 'peer-id-in-use' });
    const again = await open();
    const r2 = await again.join('lab', 'receiver', { peerId: r.peerId, resumeKey: r.resumeKey });
    expect(r2.peerId).toBe(r.peerId);
    expect((await first.closed).code).toBe(4000);
    expect(await sender.next('peer-left')).toMatchObject({ peerId: r.peerId, reason: 'replaced' });
    expect(await sender.next('peer-joined')).toMatchObject({ peerId: r.peerId });
  });

  it('events$ reports joins, leaves and refusals, and stats$ emits counters; both complete on close', async () => {
    const events = firstValueFrom(server.events$.pipe(toArray()));
    const stats = firstValueFrom(server.stats$.pipe(toArray()));
    const a = await open();
    const s = await a.join('lab', 'sender');
    const b = await open();
    b.json({ type: 'join', room: 'lab', role: 'sender' });
    await b.next('error');
    a.close();
    await a.closed;
    await new Promise((r) => setTimeout(r, 20));
    await server.close();
    expect(await events).toEqual([
      { type: 'peer-joined', room: 'lab', peerId: s.peerId, role: 'sender' },
      expect.objectContaining({ type: 'refused', code: 'sender-exists', room: 'lab' }),
      { type: 'peer-left', room: 'lab', peerId: s.peerId, role: 'sender', reason: 'disconnected' },
    ]);
    const last = (await stats).at(-1)!;
    expect(last).toMatchObject({ connectionsTotal: 2, refusals: { 'sender-exists': 1 } });
  });

  it('close() is idempotent and tells connected peers the server is going away', async () => {
    const c = await open();
    await c.join('lab', 'sender');
    const p1 = server.close();
    const p2 = server.close();
    expect(p1).toBe(p2);
    await p1;
    expect(await c.closed).toEqual({ code: 1001, reason: 'server shutting down' });
    expect(server.closed).toBe(true);
  });
});

describe('signaling server: attached to an existing http.Server', () => {
  it('serves WebSocket upgrades on its path and leaves plain HTTP to the owner', async () => {
    const http = createServer((_req, res) => res.end('receiver page'));
    await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
    const port = (http.address() as AddressInfo).port;
    const attached = await createSignalingServer({ server: http, path: '/signal' });
    try {
      expect(attached.url).toBe(`ws://127.0.0.1:${port}/signal`);
      const res = await fetch(`http://127.0.0.1:${port}/`);
      expect(await res.text()).toBe('receiver page');
      const c = await openRaw(attached.url);
      expect((await c.join('lab', 'sender')).role).toBe('sender');
      c.ws.terminate();
      await attached.close();
      expect(http.listening).toBe(true);
    } finally {
      await attached.close();
      await new Promise((r) => http.close(r));
    }
  });

  it('rejects host or port together with server as conflicting options', async () => {
    const http = createServer();
    await expect(createSignalingServer({ server: http, port: 1 })).rejects.toThrow(TypeError);
    await expect(createSignalingServer({ maxPeersPerRoom: 0 })).rejects.toThrow(/maxPeersPerRoom/);
  });
});
