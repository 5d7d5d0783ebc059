// Lost packets are decoded through the erasure mask, never dropped as a whole sample: a receiver losing
// 30% of its packets (seeded, in-process impairment) still decodes every sample of which any packet arrived.
import { afterEach, describe, expect, it } from 'vitest';
import { BIN, type Proc, run } from '../cli/helpers.js';

const procs: Proc[] = [];
afterEach(() => {
  for (const p of procs.splice(0)) if (p.child.exitCode === null) p.child.kill('SIGKILL');
});

interface Line {
  seq: number;
  lostPackets: number;
  recoveredPackets: number;
  packets: number;
}

/** A sender with `senderArgs`, one reconstruct receiver losing `lossPct` of its packets for `seconds`. */
async function lossyReceiver(senderArgs: string[], lossPct: number, seconds: number) {
  const sender = run(BIN.send, ['--signal-port', '0', '--fps', '8', '--quiet', ...senderArgs]);
  procs.push(sender);
  const [, url] = await sender.waitFor(/listening on (ws:\/\/\S+)/, 30_000);
  const recv = run(BIN.recv, [
    '--signal',
    url!,
    '--task',
    'reconstruct',
    '--impair-loss',
    String(lossPct),
    '--duration',
    String(seconds),
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
    .map((l) => JSON.parse(l) as Line);
  expect(lines.length, recv.stderr()).toBeGreaterThan(20);
  return { lines, stderr: recv.stderr() };
}

describe('decoding under packet loss', () => {
  it('decodes samples with lost packets through the erasure mask', async () => {
    const { lines, stderr } = await lossyReceiver(['--adapt', 'off'], 30, 8);
    const partial = lines.filter((l) => l.lostPackets > 0);
    // With a fixed operating point every public sample has 3 layers of one packet or more; at 30% loss many
    // lose one and are still decoded.
    expect(lines.every((l) => l.packets >= 3)).toBe(true);
    expect(partial.length).toBeGreaterThan(lines.length * 0.15);
    expect(partial.every((l) => l.lostPackets < l.packets)).toBe(true);
    expect(lines.every((l) => l.recoveredPackets === 0)).toBe(true); // the learned path carries no parity
    // The receiver's stats saw the loss.
    expect(stderr).not.toMatch(/not decodable/);
  }, 60_000);

  it('the public image code carries parity sized for the measured loss: lost packets come back whole', async () => {
    const { lines } = await lossyReceiver(['--image-code'], 20, 10);
    // Once the sender has measured the loss, samples that lost packets get data packets rebuilt from parity.
    const repaired = lines.filter((l) => l.recoveredPackets > 0);
    expect(repaired.length, JSON.stringify(lines.slice(-10))).toBeGreaterThan(3);
    expect(lines.every((l) => l.recoveredPackets <= l.lostPackets)).toBe(true);
  }, 60_000);
});
