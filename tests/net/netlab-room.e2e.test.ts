// Issue 4's mixed room in the network lab: one sender, four receivers on four different links; the best-linked
// receiver gets within 1 dB of its quality alone (the same scenario with only that receiver, run here too).
// Root only (namespaces); ~25 s per run.
import { afterAll, describe, expect, it } from 'vitest';
import { built, cleanupWork, isRoot, lab } from './netlabRun.js';

afterAll(cleanupWork);

describe.skipIf(!isRoot)('network lab: mixed room', () => {
  it('four receivers on four links: the best-linked one gets within 1 dB of its solo quality', () => {
    expect(built, 'run `npx tsc -b` first').toBe(true);
    const room = lab('mixed-room');
    const solo = lab('mixed-room', ['--only', 'm4sc-clean'], 'mixed-room-solo');
    const names = ['m4sc-clean', 'm4sc-loss5', 'm4sc-200k', 'm4sc-far-lossy'];
    const line = (r: ReturnType<typeof room.rx>) =>
      `${r.name} ${r.total.results}/${r.total.expected}, ${r.total.quality} dB, p95 ${r.total.latencyP95Ms} ms, ` +
      `stall ${r.total.maxGapMs} ms, op ${r.operatingPoint}`;
    const inRoom = room.rx('m4sc-clean');
    const alone = solo.rx('m4sc-clean');
    console.log(
      `mixed room (64×64, 15 fps): ${names.map((n) => line(room.rx(n))).join('; ')} | solo: ${line(alone)}`,
    );
    expect(solo.summary.receivers.map((r) => r.name)).toEqual(['m4sc-clean']);
    // The target, no further margin: mean PSNR over every decoded frame of each run (~150–220 frames,
    // different scenes in each run; their mean differs by ~0.2 dB run to run at the same operating point).
    expect(inRoom.total.quality).not.toBeNull();
    expect(alone.total.quality).not.toBeNull();
    expect(inRoom.total.quality!).toBeGreaterThanOrEqual(alone.total.quality! - 1);
    // The room still serves everyone (liveness, not a rate target): every receiver decodes ≥ 1 frame in 10. The
    // host's two cores, shared with other jobs, run one 64×64 encoder and four decoders here; at load ~20 the
    // sender has been measured at 2–5 fps (docs/NETLAB.md).
    for (const n of names) {
      const r = room.rx(n);
      expect(r.total.results, n).toBeGreaterThanOrEqual(r.total.expected / 10);
    }
  }, 240_000);
});
