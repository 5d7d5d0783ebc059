import type { ServeMessage } from '@m4sc/semantic-codec';
import type { ReassembledSample } from '@m4sc/transport';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createDecodeQueue } from './decodeQueue.js';
import { emptyDropCounters } from './receiverTypes.js';
import { createSenderControl } from './senderControl.js';

const quiet = { debug() {}, info() {}, warn() {}, error() {} };

/** A private sample of ours, coded under tag `ik`. */
const privateSample = (seq: number, ik: string): ReassembledSample =>
  ({
    seq,
    stream: 'private:me',
    op: { ik },
    packets: [new Uint8Array(8)],
    count: 1,
    received: 1,
    ageMs: 5,
  }) as unknown as ReassembledSample;

/**
 * The receiver's control handler and decode queue, wired as `createReceiver` wires them, with a decoder that
 * reports which serve (by its query) it decoded each sample under.
 */
function setup() {
  const sent: unknown[] = [];
  const link = { state: 'connected', sendControl: (m: unknown) => sent.push(m) };
  const dropped = emptyDropCounters();
  const control = createSenderControl({
    codec: undefined,
    instruction: { task: 'answer', query: 'how many shapes are there ?' },
    link: () => link as never,
    relay: undefined,
    onServed: (ik) => queue.served(ik),
    emit() {},
    dropped,
    warn() {},
    log: quiet as never,
  });
  const decoded: { seq: number; query: string | undefined }[] = [];
  const queue = createDecodeQueue({
    async decode(sample) {
      const serve = control.serveFor((sample.op as { ik?: unknown }).ik);
      if (!serve) return 'not-for-me';
      decoded.push({ seq: sample.seq, query: serve.instruction.query });
      return { seq: sample.seq, task: serve.instruction.task } as never;
    },
    isServed: (ik) => control.serveFor(ik) !== undefined,
    receiverClosed: () => false,
    dropped,
    warn() {},
  });
  control.handle({ t: 'hello', codec: 'semantic', modality: 'image', fps: 10, source: 'pattern' });
  const serve = (ik: string, query: string, ref = 1): ServeMessage => ({
    t: 'serve',
    ref,
    ik,
    instruction: { task: 'answer', modality: 'image', output: 'text', query },
    stream: 'private:me',
    members: 1,
  });
  return { control, queue, dropped, decoded, sent, serve };
}

describe('sender control: serves', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('a sample coded under the previous serve that arrives after the next one still decodes, under its own serve', async () => {
    const { control, queue, dropped, decoded, sent, serve } = setup();
    expect(sent).toHaveLength(1); // our instruction, request 1
    control.handle(serve('aaaa', 'q at level 2'));
    queue.push(privateSample(1, 'aaaa'));
    // The adaptation moved us: a new tag, announced on control before the old tag's last sample arrived.
    control.handle(serve('bbbb', 'q at level 3'));
    queue.push(privateSample(2, 'aaaa'));
    queue.push(privateSample(3, 'bbbb'));
    await vi.advanceTimersByTimeAsync(0);
    expect(decoded).toEqual([
      { seq: 1, query: 'q at level 2' },
      { seq: 2, query: 'q at level 2' },
      { seq: 3, query: 'q at level 3' },
    ]);
    expect(control.serve?.ik).toBe('bbbb');
    expect(dropped['not-for-me']).toBe(0);
  });

  it('a sample whose serve comes later waits for it; one whose serve never comes is counted as not-for-me', async () => {
    const { control, queue, dropped, decoded, serve } = setup();
    queue.push(privateSample(1, 'cccc'));
    queue.push(privateSample(2, 'dddd'));
    await vi.advanceTimersByTimeAsync(100);
    control.handle(serve('cccc', 'q'));
    await vi.advanceTimersByTimeAsync(0);
    expect(decoded).toEqual([{ seq: 1, query: 'q' }]);
    // No later sample comes to wait: the periodic decode report still counts the one that expired.
    await vi.advanceTimersByTimeAsync(500);
    queue.takeReport();
    expect(dropped['not-for-me']).toBe(1);
  });

  it("a new instruction forgets the old request's serves; answers to the old request are ignored", async () => {
    const { control, queue, dropped, decoded, sent, serve } = setup();
    control.handle(serve('aaaa', 'old question'));
    control.setInstruction({ task: 'answer', query: 'is there a red shape ?' });
    expect(sent).toHaveLength(2);
    expect(control.serve).toBeUndefined();
    expect(control.serveFor('aaaa')).toBeUndefined();
    control.handle(serve('eeee', 'old question, late answer', 1));
    expect(control.serveFor('eeee')).toBeUndefined();
    control.handle(serve('ffff', 'is there a red shape ?', 2));
    queue.push(privateSample(1, 'aaaa'));
    queue.push(privateSample(2, 'ffff'));
    await vi.advanceTimersByTimeAsync(600);
    queue.takeReport();
    expect(decoded).toEqual([{ seq: 2, query: 'is there a red shape ?' }]);
    expect(dropped['not-for-me']).toBe(1);
  });

  it('remembers the last 8 tags, one entry per tag; a lost link forgets them', () => {
    const { control, serve } = setup();
    for (let i = 0; i < 10; i++) control.handle(serve(`t${i}`, `q${i}`));
    control.handle(serve('t5', 'q5 again'));
    expect(control.serveFor('t1')).toBeUndefined();
    expect(control.serveFor('t2')?.instruction.query).toBe('q2');
    expect(control.serveFor('t5')?.instruction.query).toBe('q5 again');
    expect(control.serve?.ik).toBe('t5');
    control.reset();
    expect(control.serve).toBeUndefined();
    expect(control.serveFor('t9')).toBeUndefined();
  });
});
