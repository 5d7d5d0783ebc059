import { firstValueFrom, toArray } from 'rxjs';
import { filter, take } from 'rxjs/operators';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { connectSignaling } from './client.js';
import type { SignalingClient, SignalingClientEvent, WebSocketConstructor } from './clientTypes.js';
import { ConnectionError, InvalidStateError } from './errors.js';
import { createExponentialBackoff } from './reconnect.js';
import { createSignalingServer } from './server.js';
import type { SignalingServer } from './serverTypes.js';
import { createRoomToken } from './token.js';

let server: SignalingServer;
const clients: SignalingClient[] = [];
const connect = async (
  options: Partial<Parameters<typeof connectSignaling>[0]> & { role: 'sender' | 'receiver' },
) => {
  const c = await connectSignaling({ url: server.url, room: 'lab', ...options });
  clients.push(c);
  return c;
};
const nextEvent = <T extends SignalingClientEvent['type']>(c: SignalingClient, type: T) =>
  firstValueFrom(
    c.events$.pipe(
      filter((e): e is Extract<SignalingClientEvent, { type: T }> => e.type === type),
      take(1),
    ),
  );

beforeEach(async () => {
  server = await createSignalingServer();
});
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await server.close();
});

describe('connectSignaling', () => {
  it.each(['json', 'msgpack'] as const)(
    'joins and negotiates offer/answer/candidate over %s',
    async (encoding) => {
      const sender = await connect({ role: 'sender', encoding });
      const joinedSeen = nextEvent(sender, 'peer-joined');
      const receiver = await connect({ role: 'receiver', encoding });
      expect(receiver.peers).toEqual([{ peerId: sender.peerId, role: 'sender' }]);
      expect(await joinedSeen).toEqual({ type: 'peer-joined', peerId: receiver.peerId, role: 'receiver' });
      expect(sender.peers).toEqual([{ peerId: receiver.peerId, role: 'receiver' }]);

      const offer = nextEvent(receiver, 'signal');
      sender.signal(receiver.peerId, { type: 'offer', sdp: 'v=0 o' });
      expect(await offer).toEqual({
        type: 'signal',
        from: sender.peerId,
        data: { type: 'offer', sdp: 'v=0 o' },
      });
      const answer = nextEvent(sender, 'signal');
      receiver.signal(sender.peerId, { type: 'answer', sdp: 'v=0 a' });
      expect((await answer).data).toEqual({ type: 'answer', sdp: 'v=0 a' });
      const cand = nextEvent(sender, 'signal');
      receiver.signal(sender.peerId, {
        type: 'candidate',
        candidate: 'candidate:1',
        sdpMid: '0',
        sdpMLineIndex: 0,
      });
      expect((await cand).data.type).toBe('candidate');
      expect(await sender.ping()).toBeGreaterThanOrEqual(0);
    },
  );

  it('server errors arrive as error events and the client stays joined', async () => {
    const receiver = await connect({ role: 'receiver' });
    const err = nextEvent(receiver, 'error');
    receiver.signal('someone', { type: 'offer' });
    expect(await err).toMatchObject({ type: 'error', code: 'forbidden', ref: 'signal' });
    expect(receiver.state).toBe('joined');
  });

  it('room info reaches receivers through setRoomInfo, roomInfo and events$', async () => {
    const sender = await connect({ role: 'sender' });
    sender.setRoomInfo({ tasks: ['reconstruct'] });
    await sender.ping();
    const receiver = await connect({ role: 'receiver' });
    expect(receiver.roomInfo).toEqual({ tasks: ['reconstruct'] });
    const update = nextEvent(receiver, 'room-info');
    sender.setRoomInfo({ tasks: ['caption'] });
    expect((await update).info).toEqual({ tasks: ['caption'] });
    expect(receiver.roomInfo).toEqual({ tasks: ['caption'] });
  });

  it('a refused join rejects with ConnectionError refused and the server reason', async () => {
    await connect({ role: 'sender' });
    const err = await connectSignaling({ url: server.url, room: 'lab', role: 'sender' }).catch((e) => e);
    expect(err).toBeInstanceOf(ConnectionError);
    expect(err).toMatchObject({ reason: 'refused', code: 'sender-exists' });
    expect(err.message).toMatch(/already has a sender/);
  });

  it('a refused token surfaces its reason code', async () => {
    const secured = await createSignalingServer({ secret: 'k' });
    try {
      const token = createRoomToken({ secret: 'k', room: 'lab', role: 'receiver', ttlMs: 1, nowMs: 0 });
      const err = await connectSignaling({ url: secured.url, room: 'lab', role: 'receiver', token }).catch(
        (e) => e,
      );
      expect(err).toMatchObject({ reason: 'refused', code: 'token-expired' });
      const ok = await connectSignaling({
        url: secured.url,
        room: 'lab',
        role: 'receiver',
        token: createRoomToken({ secret: 'k', room: 'lab', role: 'receiver', ttlMs: 60_000 }),
      });
      ok.close();
    } finally {
      await secured.close();
    }
  });

  it('an unreachable server rejects with ConnectionError unreachable', async () => {
    const gone = await createSignalingServer();
    const url = gone.url;
    await gone.close();
    const err = await connectSignaling({ url, room: 'lab', role: 'sender' }).catch((e) => e);
    expect(err).toBeInstanceOf(ConnectionError);
    expect(err.reason).toBe('unreachable');
  });

  it('a server that never answers rejects with ConnectionError timeout', async () => {
    const mute = new WebSocketServer({ port: 0, host: '127.0.0.1' });
    await new Promise((r) => mute.once('listening', r));
    try {
      const port = (mute.address() as { port: number }).port;
      const started = Date.now();
      const err = await connectSignaling({
        url: `ws://127.0.0.1:${port}`,
        room: 'lab',
        role: 'sender',
        timeoutMs: 150,
      }).catch((e) => e);
      expect(err).toMatchObject({ reason: 'timeout' });
      expect(Date.now() - started).toBeLessThan(2000);
    } finally {
      for (const c of mute.clients) c.terminate();
      await new Promise((r) => mute.close(r));
    }
  });

  it('a server that speaks another protocol rejects with ConnectionError protocol', async () => {
    const other = new WebSocketServer({ port: 0, host: '127.0.0.1' });
    other.on('connection', (ws) => ws.on('message', () => ws.send('{"hello":"world"}')));
    await new Promise((r) => other.once('listening', r));
    try {
      const port = (other.address() as { port: number }).port;
      const err = await connectSignaling({
        url: `ws://127.0.0.1:${port}`,
        room: 'lab',
        role: 'sender',
      }).catch((e) => e);
      expect(err).toMatchObject({ reason: 'protocol' });
    } finally {
      for (const c of other.clients) c.terminate();
      await new Promise((r) => other.close(r));
    }
  });

  it('events that arrive together with joined are delivered to a subscriber after the await', async () => {
    const eager = new WebSocketServer({ port: 0, host: '127.0.0.1' });
    eager.on('connection', (ws) =>
      ws.on('message', () => {
        ws.send(
          JSON.stringify({
            type: 'joined',
            version: 1,
            peerId: 'me',
            room: 'lab',
            role: 'receiver',
            peers: [],
            resumeKey: 'k',
          }),
        );
        ws.send(JSON.stringify({ type: 'peer-joined', peerId: 'tx', role: 'sender' }));
        ws.send(JSON.stringify({ type: 'signal', from: 'tx', data: { type: 'offer', sdp: 'v=0' } }));
      }),
    );
    await new Promise((r) => eager.once('listening', r));
    try {
      const port = (eager.address() as { port: number }).port;
      const c = await connectSignaling({ url: `ws://127.0.0.1:${port}`, room: 'lab', role: 'receiver' });
      const seen = firstValueFrom(c.events$.pipe(take(2), toArray()));
      expect((await seen).map((e) => e.type)).toEqual(['peer-joined', 'signal']);
      expect(c.peers).toEqual([{ peerId: 'tx', role: 'sender' }]);
      c.close();
    } finally {
      for (const c of eager.clients) c.terminate();
      await new Promise((r) => eager.close(r));
    }
  });

  it('close() is idempotent, emits closed, completes events$, and later calls throw InvalidStateError', async () => {
    const sender = await connect({ role: 'sender' });
    const all = firstValueFrom(sender.events$.pipe(toArray()));
    sender.close();
    sender.close();
    expect(await all).toEqual([{ type: 'closed', code: 1000, reason: 'closed by client' }]);
    expect(sender.state).toBe('closed');
    expect(() => sender.signal('x', { type: 'offer' })).toThrow(InvalidStateError);
    expect(() => sender.setRoomInfo({})).toThrow(InvalidStateError);
  });

  it('bad arguments throw TypeError', async () => {
    await expect(connectSignaling({ url: 'http://x', room: 'lab', role: 'sender' })).rejects.toThrow(
      TypeError,
    );
    await expect(
      connectSignaling({ url: server.url, room: 'lab', role: 'boss' as 'sender' }),
    ).rejects.toThrow(TypeError);
    const c = await connect({ role: 'sender' });
    expect(() => c.signal('', { type: 'offer' })).toThrow(TypeError);
    expect(() => c.signal('x', { sdp: 'no type' } as never)).toThrow(TypeError);
  });

  it('without reconnect, a server shutdown ends the client with a closed event', async () => {
    const c = await connect({ role: 'sender' });
    const closed = nextEvent(c, 'closed');
    await server.close();
    expect(await closed).toMatchObject({ type: 'closed', code: 1001, error: { reason: 'closed' } });
    expect(c.state).toBe('closed');
  });
});

describe('connectSignaling with reconnect', () => {
  const sockets: WebSocket[] = [];
  class TrackedWebSocket extends WebSocket {
    constructor(url: string) {
      super(url);
      sockets.push(this);
    }
  }
  const Tracked = TrackedWebSocket as unknown as WebSocketConstructor;

  it('rejoins with the same peerId after the network drops, and the sender sees it come back', async () => {
    const sender = await connect({ role: 'sender' });
    const receiver = await connect({
      role: 'receiver',
      WebSocket: Tracked,
      reconnect: createExponentialBackoff({ initialDelayMs: 20, jitter: 0 }),
    });
    const id = receiver.peerId;
    const left = nextEvent(sender, 'peer-left');
    const reconnecting = nextEvent(receiver, 'reconnecting');
    const reconnected = nextEvent(receiver, 'reconnected');
    sockets.at(-1)!.terminate(); // the client's TCP connection dies
    expect(await reconnecting).toMatchObject({ attempt: 1, delayMs: 20, error: { reason: 'closed' } });
    expect(await left).toMatchObject({ peerId: id, reason: 'disconnected' });
    const back = nextEvent(sender, 'peer-joined');
    expect(await reconnected).toEqual({
      type: 'reconnected',
      peers: [{ peerId: sender.peerId, role: 'sender' }],
    });
    expect(await back).toMatchObject({ peerId: id, role: 'receiver' });
    expect(receiver.peerId).toBe(id);
    const sig = nextEvent(receiver, 'signal');
    sender.signal(id, { type: 'offer', sdp: 'again' });
    expect((await sig).data.sdp).toBe('again');
  });

  it('gives up when the policy says so and ends with closed', async () => {
    const receiver = await connect({
      role: 'receiver',
      reconnect: { nextRetryDelayMs: ({ attempt }) => (attempt <= 2 ? 10 : null) },
    });
    const events = firstValueFrom(receiver.events$.pipe(toArray()));
    await server.close();
    const types = (await events).map((e) => e.type);
    expect(types).toEqual(['reconnecting', 'reconnecting', 'closed']);
    server = await createSignalingServer();
  });

  it('the default backoff doubles up to its ceiling and stops on token refusals', () => {
    const policy = createExponentialBackoff({
      initialDelayMs: 100,
      maxDelayMs: 500,
      maxAttempts: 5,
      jitter: 0,
    });
    const error = new ConnectionError('closed', 'x');
    expect(
      [1, 2, 3, 4, 5, 6].map((attempt) => policy.nextRetryDelayMs({ attempt, elapsedMs: 0, error })),
    ).toEqual([100, 200, 400, 500, 500, null]);
    const refused = new ConnectionError('refused', 'x', { code: 'token-expired' });
    expect(policy.nextRetryDelayMs({ attempt: 1, elapsedMs: 0, error: refused })).toBeNull();
  });
});
