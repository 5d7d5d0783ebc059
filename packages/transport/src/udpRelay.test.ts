import { createSocket } from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { createUdpRelay, type UdpRelay } from './udpRelay.js';

let relay: UdpRelay | undefined;
afterEach(async () => {
  await relay?.close();
  relay = undefined;
});

const bound = async () => {
  const s = createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
  return s;
};

describe('createUdpRelay', () => {
  it('forwards both ways, drops about lossPct and delays by delayMs', async () => {
    const server = await bound();
    const client = await bound();
    server.on('message', (msg, rinfo) => server.send(msg, rinfo.port, rinfo.address)); // echo
    relay = await createUdpRelay({
      target: { host: '127.0.0.1', port: server.address().port },
      lossPct: 10,
      delayMs: 20,
      seed: 5,
    });
    const rtts: number[] = [];
    client.on('message', (msg) => rtts.push(Date.now() - Number(msg.toString())));
    for (let i = 0; i < 300; i++) {
      client.send(String(Date.now()), relay.port, '127.0.0.1');
      if (i % 10 === 9) await new Promise((r) => setTimeout(r, 2)); // stay under the socket buffers
    }
    await new Promise((r) => setTimeout(r, 300));
    const s = relay.stats();
    client.close();
    server.close();
    expect(s.forwardPackets).toBe(300);
    // 10% each way: about 81% come back; the seed fixes the draw.
    expect(rtts.length).toBeGreaterThan(0.7 * 300);
    expect(rtts.length).toBeLessThan(0.9 * 300);
    expect(rtts.length).toBe(300 - s.forwardDropped - s.reverseDropped);
    expect(Math.min(...rtts)).toBeGreaterThanOrEqual(39);
  });

  it('refuses a target that is not loopback', async () => {
    await expect(createUdpRelay({ target: { host: '192.0.2.1', port: 9 } })).rejects.toThrow(TypeError);
  });
});
