import { afterEach, describe, expect, it } from 'vitest';
import { createSignalingServer } from './server.js';
import type { SignalingServer, SignalingServerOptions } from './serverTypes.js';
import { openRaw, type RawClient } from './testing/rawClient.js';

let server: SignalingServer | undefined;
const clients: RawClient[] = [];
const start = async (options: SignalingServerOptions = {}) => {
  server = await createSignalingServer({ maxMessageBytes: 4096, maxSignalDataBytes: 1024, ...options });
  return server;
};
const open = async (options?: { autoPong?: boolean }) => {
  const c = await openRaw(server!.url, options);
  clients.push(c);
  return c;
};
afterEach(async () => {
  for (const c of clients.splice(0)) c.ws.terminate();
  await server?.close();
  server = undefined;
});

/** A sender and a receiver that negotiate, to show the server still serves others after abuse. */
async function healthyPair(room = 'ok') {
  const sender = await open();
  const s = await sender.join(room, 'sender');
  const receiver = await open();
  const r = await receiver.join(room, 'receiver');
  await sender.next('peer-joined');
  return {
    async stillServed() {
      sender.json({ type: 'signal', to: r.peerId, data: { type: 'offer', sdp: 'v=0' } });
      expect((await receiver.next('signal')).from).toBe(s.peerId);
      const fresh = await open();
      fresh.json({ type: 'ping', id: 'alive' });
      expect(await fresh.next()).toEqual({ type: 'pong', id: 'alive' });
    },
  };
}

describe('signaling server: bad input never crashes it', () => {
  it('malformed JSON gets a malformed error and the connection stays usable', async () => {
    await start();
    const pair = await healthyPair();
    const bad = await open();
    bad.json('{"type":"join", room:');
    const err = await bad.next();
    expect(err).toMatchObject({ type: 'error', code: 'malformed' });
    expect(err.message).toMatch(/malformed JSON/);
    bad.json({ type: 'ping', id: 2 });
    expect(await bad.next()).toEqual({ type: 'pong', id: 2 });
    await pair.stillServed();
  });

  it('malformed msgpack gets a malformed error, in msgpack', async () => {
    await start();
    const pair = await healthyPair();
    const bad = await open();
    bad.ws.send(Buffer.from([0xdd, 0xff, 0xff, 0xff, 0xff, 0x01]));
    expect(await bad.next()).toMatchObject({ type: 'error', code: 'malformed', __binary: true });
    bad.ws.send(Buffer.from([0x82, 0xa4, 0x74])); // a map cut off in its first key
    expect(await bad.next()).toMatchObject({ code: 'malformed' });
    await pair.stillServed();
  });

  it('a text frame that is not UTF-8 is closed with 1007 and counted as malformed', async () => {
    await start();
    const pair = await healthyPair();
    const bad = await open();
    bad.ws.send(Buffer.from([0xff, 0xfe, 0x7b]), { binary: false });
    expect((await bad.closed).code).toBe(1007);
    expect(server!.stats.refusals.malformed).toBe(1);
    await pair.stillServed();
  });

  it('unknown message types and non-protocol values get a clear error', async () => {
    await start();
    const pair = await healthyPair();
    const bad = await open();
    bad.json({ type: 'subscribe', topic: 'x' });
    const err = await bad.next();
    expect(err).toMatchObject({ code: 'unknown-type', ref: 'subscribe' });
    expect(err.message).toMatch(/expected one of join, signal/);
    for (const v of ['null', '42', '"join"', '[]', '{}', '{"type":{}}']) {
      bad.json(v);
      expect(await bad.next()).toMatchObject({ code: 'invalid-message' });
    }
    bad.json({ type: 'join', room: 'lab', role: 'king' });
    expect((await bad.next()).message).toMatch(/role/);
    let deep = '1';
    for (let i = 0; i < 1500; i++) deep = `[${deep}]`;
    bad.json(`{"type":"signal","to":"x","data":{"type":"offer","d":${deep}}}`);
    expect(await bad.next()).toMatchObject({ type: 'error' });
    await pair.stillServed();
  });

  it('a frame over maxMessageBytes closes that connection with 1009', async () => {
    await start();
    const pair = await healthyPair();
    const bad = await open();
    await bad.join('ok', 'receiver');
    bad.json({ type: 'signal', to: 'x', data: { type: 'offer', sdp: 'x'.repeat(5000) } });
    expect((await bad.closed).code).toBe(1009);
    expect(server!.stats.refusals['too-large']).toBe(1);
    await pair.stillServed();
  });

  it('signal data over maxSignalDataBytes is refused with too-large and not relayed', async () => {
    await start();
    const sender = await open();
    await sender.join('lab', 'sender');
    const receiver = await open();
    const r = await receiver.join('lab', 'receiver');
    sender.json({ type: 'signal', to: r.peerId, data: { type: 'offer', sdp: 'x'.repeat(2000) } });
    const err = await sender.next('error');
    expect(err).toMatchObject({ code: 'too-large', ref: 'signal' });
    expect(err.message).toMatch(/limit is 1024 bytes/);
    await new Promise((res) => setTimeout(res, 30));
    expect(receiver.received.some((m) => m.type === 'signal')).toBe(false);
  });

  it('a flood is rate limited with one error, then closed with 4029 if it goes on', async () => {
    await start({ rateLimit: { messagesPerSecond: 5, burstMessages: 10, closeAfterDroppedMessages: 40 } });
    const pair = await healthyPair();
    const flood = await open();
    for (let i = 0; i < 20; i++) flood.json({ type: 'ping', id: i });
    const first = await flood.next();
    expect(first).toEqual({ type: 'pong', id: 0 });
    const err = await flood.next('error');
    expect(err.code).toBe('rate-limited');
    expect(err.message).toMatch(/5 msg\/s, burst 10/);
    await new Promise((res) => setTimeout(res, 30));
    expect(flood.received.filter((m) => m.type === 'error')).toHaveLength(1);
    expect(flood.received.filter((m) => m.type === 'pong').length).toBeLessThanOrEqual(11);
    for (let i = 0; i < 40; i++) flood.json({ type: 'ping', id: i });
    const closed = await flood.closed;
    expect(closed.code).toBe(4029);
    expect(closed.reason).toMatch(/rate limit exceeded/);
    expect(server!.stats.messagesDropped).toBeGreaterThanOrEqual(40);
    await pair.stillServed();
  });

  it('a receiver that vanishes mid-negotiation is removed and the sender told', async () => {
    await start();
    const sender = await open();
    await sender.join('lab', 'sender');
    const receiver = await open();
    const r = await receiver.join('lab', 'receiver');
    sender.json({ type: 'signal', to: r.peerId, data: { type: 'offer', sdp: 'v=0' } });
    await receiver.next('signal');
    receiver.ws.terminate(); // no close frame: the TCP connection just drops
    expect(await sender.next('peer-left')).toEqual({
      type: 'peer-left',
      peerId: r.peerId,
      role: 'receiver',
      reason: 'disconnected',
    });
    sender.json({ type: 'signal', to: r.peerId, data: { type: 'candidate', candidate: 'c' } });
    expect(await sender.next('error')).toMatchObject({ code: 'unknown-peer' });
    expect(server!.stats).toMatchObject({ peers: 1, rooms: 1 });
  });

  it('a sender that vanishes mid-negotiation frees the room for a new sender and clears its room info', async () => {
    await start();
    const sender = await open();
    const s = await sender.join('lab', 'sender');
    sender.json({ type: 'room-info', info: { v: 1 } });
    const receiver = await open();
    const r = await receiver.join('lab', 'receiver');
    expect(r.info).toEqual({ v: 1 });
    receiver.json({ type: 'signal', to: s.peerId, data: { type: 'answer', sdp: 'v=0' } });
    await sender.next('signal');
    sender.ws.terminate();
    expect(await receiver.next('peer-left')).toMatchObject({ peerId: s.peerId, role: 'sender' });
    receiver.json({ type: 'signal', to: s.peerId, data: { type: 'candidate' } });
    expect(await receiver.next('error')).toMatchObject({ code: 'forbidden' });
    const next = await open();
    const s2 = await next.join('lab', 'sender');
    expect(s2.peers).toEqual([{ peerId: r.peerId, role: 'receiver' }]);
    expect(await receiver.next('peer-joined')).toMatchObject({ peerId: s2.peerId, role: 'sender' });
    const late = await open();
    expect((await late.join('lab', 'receiver')).info).toBeUndefined();
  });

  it('a connection that stops answering pings is dropped by the heartbeat (peer-left timeout)', async () => {
    await start({ heartbeatMs: 80 });
    const sender = await open();
    await sender.join('lab', 'sender');
    const dead = await open({ autoPong: false });
    const d = await dead.join('lab', 'receiver');
    expect(await sender.next('peer-left')).toEqual({
      type: 'peer-left',
      peerId: d.peerId,
      role: 'receiver',
      reason: 'timeout',
    });
    await dead.closed;
    // The live sender answers pings (ws does it automatically) and stays.
    await new Promise((res) => setTimeout(res, 250));
    expect(sender.ws.readyState).toBe(sender.ws.OPEN);
  });

  it('a connection that never joins is closed after joinTimeoutMs with 4001', async () => {
    await start({ joinTimeoutMs: 100 });
    const idle = await open();
    expect(await idle.next()).toMatchObject({ type: 'error', code: 'join-timeout' });
    expect((await idle.closed).code).toBe(4001);
  });
});
