import { describe, expect, it } from 'vitest';
import { ConnectionError } from '../errors.js';
import { connectJanus, JanusError, type WebSocketLike } from './janusSession.js';
import { layerRelayUrl, publicLayerOf } from './layered.js';
import { feedTime, filterCandidates, newFeedId } from './negotiate.js';
import { createBackoffPolicy } from './reconnect.js';
import { parseRelayUrl } from './relayUrl.js';

describe('parseRelayUrl', () => {
  it('reads janus://HOST:PORT/ROOM into the WebSocket URL and the room', () => {
    expect(parseRelayUrl('janus://10.213.0.2:8188/demo')).toMatchObject({
      host: '10.213.0.2',
      port: 8188,
      room: 'demo',
      wsUrl: 'ws://10.213.0.2:8188',
      href: 'janus://10.213.0.2:8188/demo',
    });
    expect(parseRelayUrl('janus://relay.example/r-1').port).toBe(8188);
    expect(parseRelayUrl('januss://relay.example:443/r').wsUrl).toBe('wss://relay.example:443');
  });
  it('refuses other schemes, a missing room, odd room names and bad ports with a TypeError naming them', () => {
    expect(() => parseRelayUrl('ws://h:1/r')).toThrow(/janus:\/\/HOST:PORT\/ROOM/);
    expect(() => parseRelayUrl('janus://h:1/')).toThrow(/room/);
    expect(() => parseRelayUrl('janus://h:1/a b')).toThrow(TypeError);
    expect(() => parseRelayUrl('janus://h:99999/r')).toThrow(/port/);
  });
});

describe('layer rooms', () => {
  it('puts layer 0 in the room itself and layer k in ROOM.layer<k>, same Janus', () => {
    expect(layerRelayUrl('janus://10.213.0.2:8188/demo', 0)).toBe('janus://10.213.0.2:8188/demo');
    expect(layerRelayUrl('janus://10.213.0.2:8188/demo', 2)).toBe('janus://10.213.0.2:8188/demo.layer2');
    expect(layerRelayUrl('januss://relay.example/r', 1)).toBe('januss://relay.example:8188/r.layer1');
    expect(() => layerRelayUrl('janus://h:1/r', -1)).toThrow(RangeError);
    expect(() => layerRelayUrl('janus://h:1/r', 1.5)).toThrow(RangeError);
    expect(() => layerRelayUrl('janus://h:1/r', 16)).toThrow(RangeError);
  });
  it('reads the layer from a public stream id and nothing else', () => {
    expect(publicLayerOf('public')).toBe(0);
    expect(publicLayerOf(undefined)).toBe(0);
    expect(publicLayerOf('public.3')).toBe(3);
    expect(publicLayerOf('public.0')).toBeUndefined();
    expect(publicLayerOf('public.99')).toBeUndefined();
    expect(publicLayerOf('private:abc')).toBeUndefined();
    expect(publicLayerOf('shared:x')).toBeUndefined();
  });
});

describe('negotiation helpers', () => {
  it('filterCandidates keeps only the candidates whose address passes', () => {
    const sdp = [
      'v=0',
      'a=candidate:1 1 udp 1 10.213.0.1 5000 typ host',
      'a=candidate:2 1 udp 1 192.0.2.2 5001 typ host',
      'a=end-of-candidates',
      '',
    ].join('\r\n');
    const out = filterCandidates(sdp, (a) => a === '10.213.0.1');
    expect(out).toContain('10.213.0.1 5000');
    expect(out).not.toContain('192.0.2.2');
    expect(out).toContain('a=end-of-candidates');
    expect(filterCandidates(sdp, undefined)).toBe(sdp);
  });
  it('feed ids sort by creation time', async () => {
    const a = newFeedId();
    await new Promise((r) => setTimeout(r, 5));
    const b = newFeedId();
    expect(feedTime(b)).toBeGreaterThan(feedTime(a));
    expect(feedTime('someone-else')).toBe(-1);
  });
  it('the default backoff doubles from 250 ms to 1 s and never gives up; giveUpAfterMs does', () => {
    const p = createBackoffPolicy();
    const d = [0, 1, 2, 3, 10].map((attempt) =>
      p.nextRetryDelayMs({ attempt, elapsedMs: 0, lastError: undefined }),
    );
    expect(d).toEqual([250, 500, 1000, 1000, 1000]);
    const q = createBackoffPolicy({ giveUpAfterMs: 100 });
    expect(q.nextRetryDelayMs({ attempt: 1, elapsedMs: 200, lastError: undefined })).toBeNull();
  });
});

/** A WebSocket that answers like Janus: create, attach, message (ack then event), with scripted replies. */
function fakeJanus(reply: (msg: Record<string, unknown>) => Record<string, unknown>[] | undefined) {
  const sent: Record<string, unknown>[] = [];
  let ws!: WebSocketLike & { readyState: number };
  const factory = () => {
    ws = {
      readyState: 0,
      onopen: null,
      onmessage: null,
      onclose: null,
      onerror: null,
      send(data: string) {
        const msg = JSON.parse(data) as Record<string, unknown>;
        sent.push(msg);
        const out = reply(msg) ?? [];
        queueMicrotask(() => {
          for (const o of out)
            ws.onmessage?.({ data: JSON.stringify({ transaction: msg.transaction, ...o }) });
        });
      },
      close() {
        ws.readyState = 3;
        ws.onclose?.({ code: 1000 });
      },
    };
    queueMicrotask(() => {
      ws.readyState = 1;
      ws.onopen?.({});
    });
    return ws;
  };
  return {
    factory,
    sent,
    drop: () => ws.close(),
    push: (m: unknown) => ws.onmessage?.({ data: JSON.stringify(m) }),
  };
}

describe('connectJanus', () => {
  const standard = (msg: Record<string, unknown>) => {
    if (msg.janus === 'create') return [{ janus: 'success', data: { id: 11 } }];
    if (msg.janus === 'attach') return [{ janus: 'success', data: { id: 22 } }];
    if (msg.janus === 'destroy' || msg.janus === 'detach') return [{ janus: 'success' }];
    if (msg.janus === 'message') {
      const body = msg.body as { request: string };
      if (body.request === 'exists') return [{ janus: 'success', plugindata: { data: { exists: true } } }];
      if (body.request === 'join')
        return [
          { janus: 'ack' },
          { janus: 'event', plugindata: { data: { error_code: 426, error: 'No such room (x)' } } },
        ];
      return [
        { janus: 'ack' },
        { janus: 'event', plugindata: { data: { configured: 'ok' } }, jsep: { type: 'answer', sdp: 'v=0' } },
      ];
    }
    return undefined;
  };

  it('creates a session, attaches, and resolves plugin requests with their event and jsep', async () => {
    const j = fakeJanus(standard);
    const s = await connectJanus({ wsUrl: 'ws://x', createWebSocket: j.factory, keepaliveMs: 60_000 });
    expect(s.id).toBe(11);
    const h = await s.attach('janus.plugin.videoroom');
    expect(h.id).toBe(22);
    expect((await h.request({ request: 'exists', room: 'r' })).data.exists).toBe(true);
    const r = await h.request({ request: 'publish' }, { type: 'offer', sdp: 'v=0' });
    expect(r.jsep?.type).toBe('answer');
    expect(j.sent.at(-1)).toMatchObject({ janus: 'message', session_id: 11, handle_id: 22 });
    await s.destroy();
  });

  it('turns a plugin error into a JanusError with its code', async () => {
    const j = fakeJanus(standard);
    const s = await connectJanus({ wsUrl: 'ws://x', createWebSocket: j.factory, keepaliveMs: 60_000 });
    const h = await s.attach('janus.plugin.videoroom');
    const err = await h.request({ request: 'join' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(JanusError);
    expect((err as JanusError).code).toBe(426);
    await s.destroy();
  });

  it('routes pushed events to the handle and rejects pending requests with a ConnectionError when the socket drops', async () => {
    const j = fakeJanus((m) => (m.janus === 'message' ? [{ janus: 'ack' }] : standard(m)));
    const s = await connectJanus({ wsUrl: 'ws://x', createWebSocket: j.factory, keepaliveMs: 60_000 });
    const h = await s.attach('janus.plugin.videoroom');
    const events: string[] = [];
    h.events$.subscribe((e) => events.push(e.janus));
    j.push({ janus: 'webrtcup', session_id: 11, sender: 22 });
    const pending = h.request({ request: 'start' }).catch((e: unknown) => e);
    j.drop();
    expect(await pending).toBeInstanceOf(ConnectionError);
    expect(await s.closed).toMatch(/closed/);
    expect(events).toEqual(['webrtcup']);
  });

  it('rejects with a ConnectionError when nothing answers', async () => {
    const j = fakeJanus(() => undefined);
    await expect(
      connectJanus({ wsUrl: 'ws://x', createWebSocket: j.factory, timeoutMs: 50 }),
    ).rejects.toBeInstanceOf(ConnectionError);
  });
});
