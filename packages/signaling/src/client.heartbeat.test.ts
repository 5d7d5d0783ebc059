// The client heartbeat: a connection whose path went dead (no FIN, no RST: an address change, a NAT that forgot
// it) is noticed by its missing pong and rejoined. The dead path is a TCP proxy that stops forwarding one
// connection without closing it; new connections through it work.
import { createServer, type Server, Socket } from 'node:net';
import { firstValueFrom } from 'rxjs';
import { filter, take } from 'rxjs/operators';
import { afterEach, describe, expect, it } from 'vitest';
import { connectSignaling } from './client.js';
import type { SignalingClient, SignalingClientEvent } from './clientTypes.js';
import { createExponentialBackoff } from './reconnect.js';
import { createSignalingServer } from './server.js';
import type { SignalingServer } from './serverTypes.js';

let server: SignalingServer | undefined;
let proxy: Server | undefined;
const clients: SignalingClient[] = [];
const pairs: { client: Socket; upstream: Socket; dead: boolean }[] = [];

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  for (const p of pairs.splice(0)) {
    p.client.destroy();
    p.upstream.destroy();
  }
  await new Promise<void>((r) => (proxy ? proxy.close(() => r()) : r()));
  await server?.close();
});

/** A TCP proxy to the signaling server; `blackhole()` silently stops every connection open now. */
async function startProxy(target: URL): Promise<{ url: string; blackhole(): void }> {
  proxy = createServer((client) => {
    const upstream = new Socket();
    const pair = { client, upstream, dead: false };
    pairs.push(pair);
    upstream.connect(Number(target.port), target.hostname);
    client.on('data', (d) => pair.dead || upstream.write(d));
    upstream.on('data', (d) => pair.dead || client.write(d));
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((r) => proxy!.listen(0, '127.0.0.1', r));
  const port = (proxy.address() as { port: number }).port;
  return {
    url: `ws://127.0.0.1:${port}`,
    blackhole() {
      for (const p of pairs) p.dead = true;
    },
  };
}

const nextEvent = <T extends SignalingClientEvent['type']>(c: SignalingClient, type: T) =>
  firstValueFrom(
    c.events$.pipe(
      filter((e): e is Extract<SignalingClientEvent, { type: T }> => e.type === type),
      take(1),
    ),
  );

describe('signaling client heartbeat', () => {
  it('a connection that silently went dead is dropped after a missed pong and rejoined with the same peerId', async () => {
    server = await createSignalingServer();
    const p = await startProxy(new URL(server.url));
    const c = await connectSignaling({
      url: p.url,
      room: 'hb',
      role: 'receiver',
      heartbeatMs: 200,
      reconnect: createExponentialBackoff({ initialDelayMs: 10, jitter: 0 }),
    });
    clients.push(c);
    const peerId = c.peerId;
    // Healthy: pongs come back, nothing happens for a while.
    const early = await Promise.race([
      nextEvent(c, 'reconnecting').then(() => 'dropped'),
      new Promise((r) => setTimeout(() => r('quiet'), 700)),
    ]);
    expect(early).toBe('quiet');
    const t0 = Date.now();
    const reconnecting = nextEvent(c, 'reconnecting');
    const reconnected = nextEvent(c, 'reconnected');
    p.blackhole();
    const ev = await reconnecting;
    const noticedMs = Date.now() - t0;
    // Noticed at the second tick after the path died at the latest (a ping unanswered until the next one).
    expect(noticedMs).toBeLessThan(2 * 200 + 300);
    expect(ev.error.message).toMatch(/no pong within 200 ms/);
    await reconnected;
    expect(c.state).toBe('joined');
    expect(c.peerId).toBe(peerId);
  }, 15_000);

  it('heartbeatMs must be a non-negative number', async () => {
    await expect(
      connectSignaling({ url: 'ws://127.0.0.1:1', room: 'hb', role: 'sender', heartbeatMs: -1 }),
    ).rejects.toThrow(TypeError);
  });
});
