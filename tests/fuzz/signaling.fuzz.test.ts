/**
 * Fuzzing every signaling message through a real `createSignalingServer` over ws, as JSON text frames,
 * msgpack binary frames and raw bytes (invalid UTF-8 text included). After each case the server must
 * still serve a well-behaved pair (sender → receiver signal, a fresh connection's ping), never report an
 * `internal` error, never let anyone but the sender signal the sentinel receiver, never let a stranger
 * take the sentinel's peer id or the sender role, and its heap must not grow across rounds.
 */
import { createRoomToken, createSignalingServer, type SignalingServer } from '@m4sc/signaling';
import fc from 'fast-check';
import { Packr } from 'msgpackr';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { fcParams, getGc, heapAfterGc, hostileValue, nested, within } from './helpers.js';

const RUNS = { cases: 300, memoryRounds: 3, memoryCases: 40 };
const SECRET = 'fuzz-secret';
const ROOM = 'sentinel';
const packr = new Packr({ useRecords: false });

type Msg = Record<string, unknown>;

interface Conn {
  ws: WebSocket;
  received: Msg[];
  closed: Promise<number>;
  isOpen(): boolean;
  next(pred: (m: Msg) => boolean, timeoutMs?: number): Promise<Msg>;
}

async function connect(url: string): Promise<Conn> {
  const ws = new WebSocket(url);
  const received: Msg[] = [];
  const waiters: { pred: (m: Msg) => boolean; resolve: (m: Msg) => void }[] = [];
  let open = true;
  ws.on('message', (data, isBinary) => {
    const buf = data as Buffer;
    const m = (isBinary ? packr.unpack(buf) : JSON.parse(buf.toString('utf8'))) as Msg;
    received.push(m);
    for (let i = 0; i < waiters.length; i++) {
      if (waiters[i]!.pred(m)) {
        waiters.splice(i, 1)[0]!.resolve(m);
        break;
      }
    }
  });
  ws.on('error', () => {});
  const closed = new Promise<number>((resolve) =>
    ws.on('close', (code) => {
      open = false;
      resolve(code);
    }),
  );
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  return {
    ws,
    received,
    closed,
    isOpen: () => open,
    next(pred, timeoutMs = 2000) {
      const seen = received.find(pred);
      if (seen) {
        received.splice(received.indexOf(seen), 1);
        return Promise.resolve(seen);
      }
      return within(
        timeoutMs,
        'server reply',
        new Promise<Msg>((resolve) =>
          waiters.push({
            pred,
            resolve: (m) => {
              received.splice(received.indexOf(m), 1);
              resolve(m);
            },
          }),
        ),
      );
    },
  };
}

const send = (c: Conn, m: unknown) => c.ws.send(JSON.stringify(m));

let server: SignalingServer;
let sender: Conn;
let receiver: Conn;
let senderId: string;
let receiverId: string;
const internalErrors: string[] = [];
const tokens = {
  recv: createRoomToken({ secret: SECRET, room: ROOM, role: 'receiver', ttlMs: 3_600_000 }),
  send: createRoomToken({ secret: SECRET, room: ROOM, role: 'sender', ttlMs: 3_600_000 }),
  other: createRoomToken({ secret: SECRET, room: 'fz-1', role: 'sender', ttlMs: 3_600_000 }),
  otherRecv: createRoomToken({ secret: SECRET, room: 'fz-1', role: 'receiver', ttlMs: 3_600_000 }),
  expired: createRoomToken({ secret: SECRET, room: ROOM, role: 'receiver', ttlMs: 1 }),
  wrongSecret: createRoomToken({ secret: 'nope', room: ROOM, role: 'receiver', ttlMs: 3_600_000 }),
};

beforeAll(async () => {
  server = await createSignalingServer({
    secret: SECRET,
    maxMessageBytes: 8192,
    maxSignalDataBytes: 2048,
    // The sentinel sender relays one probe per case, faster than the default 50 msg/s on a quiet machine;
    // no fuzz connection sends more than 10 messages, so the default limit would never be reached by them
    // either (the package's own abuse tests cover it).
    rateLimit: { messagesPerSecond: 1000, burstMessages: 1000 },
    heartbeatMs: 0,
    joinTimeoutMs: 5000,
    logger: {
      debug() {},
      info() {},
      warn() {},
      error: (message, context) => internalErrors.push(`${message} ${JSON.stringify(context ?? {})}`),
    },
  });
  server.events$.subscribe((e) => {
    if (e.type === 'refused' && e.code === 'internal') internalErrors.push(e.message);
  });
  sender = await connect(server.url);
  send(sender, { type: 'join', room: ROOM, role: 'sender', token: tokens.send });
  senderId = (await sender.next((m) => m.type === 'joined')).peerId as string;
  receiver = await connect(server.url);
  send(receiver, { type: 'join', room: ROOM, role: 'receiver', token: tokens.recv });
  receiverId = (await receiver.next((m) => m.type === 'joined')).peerId as string;
  await sender.next((m) => m.type === 'peer-joined');
});

afterAll(async () => {
  sender?.ws.terminate();
  receiver?.ws.terminate();
  await server?.close();
});

/** The server still relays for the sentinel pair and answers a fresh connection. */
let probe = 0;
async function stillServes(): Promise<void> {
  probe++;
  expect(sender.isOpen() && receiver.isOpen()).toBe(true);
  send(sender, { type: 'signal', to: receiverId, data: { type: 'offer', sdp: `probe-${probe}` } });
  const got = await receiver.next((m) => m.type === 'signal' && (m.data as Msg)?.sdp === `probe-${probe}`);
  expect(got.from).toBe(senderId);
  const fresh = await connect(server.url);
  send(fresh, { type: 'ping', id: probe });
  expect(await fresh.next((m) => m.type === 'pong')).toEqual({ type: 'pong', id: probe });
  fresh.ws.close();
  // Every signal the sentinel receiver ever got came from the sender: no receiver reaches another.
  for (const m of receiver.received) if (m.type === 'signal') expect(m.from).toBe(senderId);
  receiver.received.length = 0;
  sender.received.length = 0;
  expect(internalErrors).toEqual([]);
}

const room = fc.oneof(
  fc.constantFrom(ROOM, 'fz-1', 'fz-2', '', 'a'.repeat(129), 'bad room', '../x', '__proto__'),
  fc.string({ maxLength: 20 }),
);
const role = fc.oneof(fc.constantFrom('sender', 'receiver', 'admin', ''), hostileValue);
const token = fc.oneof(
  fc.constantFrom(...Object.values(tokens)),
  fc
    .constantFrom(tokens.recv, tokens.send)
    .chain((t) =>
      fc.nat({ max: t.length - 1 }).map((i) => t.slice(0, i) + (t[i] === 'A' ? 'B' : 'A') + t.slice(i + 1)),
    ),
  fc.string({ maxLength: 40 }),
  fc.constant('x'.repeat(5000)),
  hostileValue,
);
const peerIdArb = fc.oneof(fc.constant('SENTINEL'), fc.constantFrom('p1', '', 'a'.repeat(65)), hostileValue);
const signalData = fc.oneof(
  fc.record({ type: fc.constantFrom('offer', 'answer', 'candidate'), sdp: fc.string({ maxLength: 50 }) }),
  fc.dictionary(fc.string({ maxLength: 6 }), fc.jsonValue({ maxDepth: 3 }), { maxKeys: 5 }),
  fc.constant({ type: 'offer', sdp: 'x'.repeat(3000) }),
  fc.constant({ type: 'offer', nested: nested(3000) }),
  hostileValue,
);

const validish = fc.oneof(
  fc.record(
    {
      type: fc.constant('join'),
      room,
      role,
      token,
      peerId: peerIdArb,
      resumeKey: fc.oneof(fc.string({ maxLength: 20 }), hostileValue),
    },
    { requiredKeys: ['type'] },
  ),
  fc.record(
    {
      type: fc.constant('signal'),
      to: fc.oneof(fc.constant('SENDER'), fc.constant('SENTINEL'), peerIdArb),
      data: signalData,
    },
    { requiredKeys: ['type'] },
  ),
  fc.record(
    {
      type: fc.constant('room-info'),
      info: fc.oneof(
        fc.dictionary(fc.string({ maxLength: 6 }), fc.jsonValue({ maxDepth: 2 })),
        hostileValue,
        fc.constant(nested(2000, 1, true)),
      ),
    },
    { requiredKeys: ['type'] },
  ),
  fc.record({ type: fc.constant('leave') }),
  fc.record({ type: fc.constant('ping'), id: fc.oneof(fc.string({ maxLength: 70 }), hostileValue) }),
  fc.record({ type: fc.oneof(fc.string({ maxLength: 10 }), hostileValue) }),
  fc.anything(),
);

type Frame =
  | { kind: 'json' | 'msgpack'; value: unknown }
  | { kind: 'bytes' | 'text-bytes'; bytes: Uint8Array }
  | { kind: 'text'; text: string };

const frame: fc.Arbitrary<Frame> = fc.oneof(
  { weight: 4, arbitrary: validish.map((value) => ({ kind: 'json' as const, value })) },
  { weight: 4, arbitrary: validish.map((value) => ({ kind: 'msgpack' as const, value })) },
  {
    weight: 1,
    arbitrary: fc.uint8Array({ maxLength: 200 }).map((bytes) => ({ kind: 'bytes' as const, bytes })),
  },
  {
    weight: 1,
    arbitrary: fc.uint8Array({ maxLength: 60 }).map((bytes) => ({ kind: 'text-bytes' as const, bytes })),
  },
  {
    weight: 1,
    arbitrary: fc
      .oneof(
        fc.string({ maxLength: 100 }),
        fc.constantFrom(
          '{',
          '[]',
          'null',
          '"join"',
          '{"type":"join"',
          'x'.repeat(9000),
          `${'['.repeat(5000)}${']'.repeat(5000)}`,
        ),
      )
      .map((text) => ({ kind: 'text' as const, text })),
  },
);

/** Fills the placeholders with the sentinel ids, so cases aim at the live peers. */
function aim(v: unknown): unknown {
  if (v === 'SENTINEL') return receiverId;
  if (v === 'SENDER') return senderId;
  if (typeof v !== 'object' || v === null || Array.isArray(v) || ArrayBuffer.isView(v)) return v;
  const o = v as Msg;
  if (o.type === 'join' || o.type === 'signal') {
    return {
      ...o,
      ...(o.peerId !== undefined ? { peerId: aim(o.peerId) } : {}),
      ...(o.to !== undefined ? { to: aim(o.to) } : {}),
    };
  }
  return v;
}

function sendFrame(c: Conn, f: Frame): void {
  if (!c.isOpen()) return;
  switch (f.kind) {
    case 'json': {
      let text: string | undefined;
      try {
        text = JSON.stringify(aim(f.value));
      } catch {
        text = undefined; // not JSON-able (e.g. BigInt): not a JSON frame
      }
      if (text !== undefined) c.ws.send(text);
      return;
    }
    case 'msgpack': {
      let bytes: Uint8Array | undefined;
      try {
        bytes = packr.pack(aim(f.value));
      } catch {
        bytes = undefined;
      }
      if (bytes !== undefined) c.ws.send(bytes);
      return;
    }
    case 'bytes':
      c.ws.send(f.bytes, { binary: true });
      return;
    case 'text-bytes':
      c.ws.send(f.bytes, { binary: false });
      return;
    case 'text':
      c.ws.send(f.text);
  }
}

/** How a case starts: unjoined, or joined properly first so that the post-join paths are reached. */
const opening = fc.constantFrom('none', 'recv-sentinel', 'send-fz1', 'recv-fz1');
const JOINS: Record<string, Msg> = {
  'recv-sentinel': { type: 'join', room: ROOM, role: 'receiver', token: tokens.recv },
  'send-fz1': { type: 'join', room: 'fz-1', role: 'sender', token: tokens.other },
  'recv-fz1': { type: 'join', room: 'fz-1', role: 'receiver', token: tokens.otherRecv },
};
const caseArb = fc.tuple(opening, fc.array(frame, { minLength: 1, maxLength: 8 }));

async function runCase([start, frames]: [string, Frame[]]): Promise<void> {
  const c = await connect(server.url);
  const join = JOINS[start];
  if (join) {
    send(c, join);
    await c.next((m) => m.type === 'joined' || m.type === 'error');
  }
  for (const f of frames) sendFrame(c, f);
  // Let the server answer (or close), then leave.
  c.ws.send(JSON.stringify({ type: 'ping', id: 'end' }));
  await Promise.race([
    c.next((m) => m.type === 'pong' && m.id === 'end', 1000).catch(() => undefined),
    c.closed,
  ]);
  for (const m of c.received) {
    expect(typeof m.type).toBe('string');
    if (m.type === 'error') expect(m.code).not.toBe('internal');
    // A stranger never joins the sentinel room as its sender, nor takes the sentinel receiver's id.
    if (m.type === 'joined' && m.room === ROOM) {
      expect(m.role).toBe('receiver');
      expect(m.peerId).not.toBe(receiverId);
    }
  }
  c.ws.terminate();
  await c.closed;
}

describe('fuzz: signaling server over ws', () => {
  it('survives any frames, JSON or msgpack or raw, and keeps serving a well-behaved pair', async () => {
    await fc.assert(
      fc.asyncProperty(caseArb, async (k) => {
        await runCase(k);
        await stillServes();
      }),
      fcParams(RUNS.cases, 41),
    );
    // Every fuzz connection is gone; the sentinels are the only peers left.
    await within(
      3000,
      'connections drain',
      (async () => {
        while (server.stats.connections > 2) await new Promise((r) => setTimeout(r, 20));
      })(),
    );
    expect(server.stats.peers).toBe(2);
  }, 60_000);

  it('heapUsed after gc does not grow across rounds of bad connections', async () => {
    const gc = getGc();
    const round = (seed: number) =>
      fc.assert(
        fc.asyncProperty(caseArb, async (k) => {
          await runCase(k);
        }),
        fcParams(RUNS.memoryCases, 300 + seed),
      );
    await round(0);
    const before = await heapAfterGc(gc);
    for (let i = 1; i <= RUNS.memoryRounds; i++) await round(i);
    await stillServes();
    const after = await heapAfterGc(gc);
    expect(after - before).toBeLessThan(16 * 1024 * 1024);
  }, 60_000);
});
