// Lost packets are decoded through the erasure mask, never dropped as a whole sample: a receiver losing
// 30% of its packets (seeded, in-process impairment) still decodes every sample of which any packet arrived.
import { afterEach, describe, expect, it } from 'vitest';
import { BIN, type Proc, run } from '../cli/helpers.js';

const procs: Proc[] = [];
afterEach(() => {
  for (const p of procs.splice(0)) if (p.child.exitCode === null) p.child.kill('SIGKILL');
});

describe('decoding under packet loss', () => {
  it('decodes samples with lost packets through the erasure mask', async () => {
    const sender = run(BIN.send, ['--signal-port', '0', '--fps', '8', '--quiet', '--adapt', 'off']);
    procs.push(sender);
    const [, url] = await sender.waitFor(/listening on (ws:\/\/\S+)/, 30_000);
    const recv = run(BIN.recv, [
      '--signal',
      url!,
      '--task',
      'reconstruct',
      '--impair-loss',
      '30',
      '--duration',
      '8',
      '--quiet',
    ]);
    procs.push(recv);
    expect(await recv.exited).toBe(0);
    sender.child.kill('SIGINT');
    const lines = recv
      .stdout()
      .trim()
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { seq: number; lostPackets: number; packets: number });
    expect(lines.length, recv.stderr()).toBeGreaterThan(20);
    const partial = lines.filter((l) => l.lostPackets > 0);
    // With a fixed operating point every public sample has 3 layers of one packet or more; at 30% loss many
    // lose one and are still decoded.
    expect(lines.every((l) => l.packets >= 3)).toBe(true);
    expect(partial.length).toBeGreaterThan(lines.length * 0.15);
    expect(partial.every((l) => l.lostPackets < l.packets)).toBe(true);
    // The receiver's stats saw the loss.
    expect(recv.stderr()).not.toMatch(/not decodable/);
  }, 60_000);
});
