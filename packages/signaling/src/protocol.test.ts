import { describe, expect, it } from 'vitest';
import { decodeFrame, encodeMessage } from './codec.js';
import { parseClientMessage } from './protocol.js';

describe('client message parsing', () => {
  it('accepts each message type of the protocol', () => {
    const good = [
      { type: 'join', room: 'lab-1', role: 'sender' },
      { type: 'join', room: 'lab', role: 'receiver', token: 't', peerId: 'p_1', resumeKey: 'k' },
      { type: 'signal', to: 'abc', data: { type: 'offer', sdp: 'v=0' } },
      {
        type: 'signal',
        to: 'abc',
        data: { type: 'candidate', candidate: { sdpMid: '0', x: [1, null, true] } },
      },
      { type: 'leave' },
      { type: 'ping', id: 7 },
      { type: 'room-info', info: { task: 'caption', fps: 10 } },
    ];
    for (const m of good) expect(parseClientMessage(m)).toMatchObject({ ok: true });
  });

  it('names an unknown type and the known ones', () => {
    const r = parseClientMessage({ type: 'hello' });
    expect(r).toMatchObject({ ok: false, code: 'unknown-type' });
    if (!r.ok) expect(r.message).toMatch(/"hello".*join, signal, leave, ping, room-info/);
  });

  it('names the field that is wrong', () => {
    const cases: Array<[unknown, RegExp]> = [
      [{ type: 'join', room: 'lab', role: 'admin' }, /role/],
      [{ type: 'join', room: '', role: 'sender' }, /room/],
      [{ type: 'join', room: 'a b', role: 'sender' }, /room/],
      [{ type: 'signal', to: 'x', data: { sdp: 'no type' } }, /data\.type/],
      [{ type: 'signal', to: 'x', data: 'offer' }, /data/],
      [{ type: 'ping' }, /id/],
      [{ type: 'room-info', info: [1, 2] }, /info/],
    ];
    for (const [m, re] of cases) {
      const r = parseClientMessage(m);
      expect(r.ok).toBe(false);
      if (!r.ok) {
        expect(r.code).toBe('invalid-message');
        expect(r.message).toMatch(re);
      }
    }
  });

  it('rejects non-objects and objects without a type', () => {
    for (const v of [null, 42, 'join', [], {}, { type: 5 }]) {
      expect(parseClientMessage(v)).toMatchObject({ ok: false, code: 'invalid-message' });
    }
  });

  it('survives absurdly deep nesting without throwing', () => {
    let data: unknown = 1;
    for (let i = 0; i < 20_000; i++) data = [data];
    expect(() =>
      parseClientMessage({ type: 'signal', to: 'x', data: { type: 'offer', deep: data } }),
    ).not.toThrow();
  });
});

describe('frame codec', () => {
  it('round-trips a message as JSON text and as msgpack bytes', () => {
    const m = { type: 'pong', id: 3 };
    for (const enc of ['json', 'msgpack'] as const) {
      expect(decodeFrame(encodeMessage(m, enc))).toEqual({ ok: true, value: m, encoding: enc });
    }
  });

  it('reports malformed JSON and msgpack instead of throwing', () => {
    expect(decodeFrame('{"type":')).toMatchObject({ ok: false, encoding: 'json' });
    expect(decodeFrame(new Uint8Array([0xdd, 0xff, 0xff, 0xff, 0xff]))).toMatchObject({
      ok: false,
      encoding: 'msgpack',
    });
  });

  it('never throws on random bytes (seeded fuzz)', () => {
    let seed = 42;
    const rand = () => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed / 0x80000000;
    };
    for (let i = 0; i < 5000; i++) {
      const bytes = new Uint8Array(1 + Math.floor(rand() * 64)).map(() => Math.floor(rand() * 256));
      const d = decodeFrame(bytes);
      if (d.ok) expect(() => parseClientMessage(d.value)).not.toThrow();
    }
  });
});
