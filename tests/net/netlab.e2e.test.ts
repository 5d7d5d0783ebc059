// The network lab in CI: real CLIs in network namespaces, kernel loss (nftables) and rate (tbf), relay delay.
// Needs root (CI runs as root) and the built CLIs (`npm test` builds first). Each scenario runs ~20–35 s.
// Issue 4's latency and bandwidth-drop targets; the mixed room and TURN are in netlab-room / netlab-turn.
import { afterAll, describe, expect, it } from 'vitest';
import { built, cleanupWork, isRoot, lab, strict, window } from './netlabRun.js';

afterAll(cleanupWork);

describe.skipIf(!isRoot)('network lab (namespaces)', () => {
  it('the CLIs are built', () => {
    expect(built, 'run `npx tsc -b` (npm test does) before the lab tests').toBe(true);
  });

  it('at 10% random loss + 50 ms one-way delay, M4SC latency p95 ≤ delay + 2 frame intervals + what the host adds', () => {
    const run = lab('10-percent-loss-50ms', ['--duration', '12']);
    const frameMs = 1000 / run.summary.fps;
    const m4sc = run.rx('m4sc').total;
    const clean = run.rx('m4sc-clean').total;
    const jpeg = run.rx('jpeg').total;
    // "encode/decode time" is measured, not assumed: the clean M4SC receiver of the same run, on the same host at
    // the same time, has p95 = encode + decode + scheduling on this (shared, 2-core) machine. Margin: 50 ms for the
    // relay's timers and a p95 drawn from ~150 samples.
    const bound = 50 + 2 * frameMs + (clean.latencyP95Ms ?? 0) + 50;
    console.log(
      `10% loss + 50 ms: M4SC p50/p95 ${m4sc.latencyP50Ms}/${m4sc.latencyP95Ms} ms (bound ${bound.toFixed(0)}), ` +
        `clean p95 ${clean.latencyP95Ms} ms, JPEG baseline (reliable, ordered) p50/p95 ${jpeg.latencyP50Ms}/${jpeg.latencyP95Ms} ms; ` +
        `results M4SC ${m4sc.results}/${m4sc.expected}, JPEG ${jpeg.results}/${jpeg.expected}`,
    );
    expect(m4sc.latencyP95Ms).not.toBeNull();
    // The issue's bound, asserted as is: met in all 13 runs recorded in docs/NETLAB.md from the FORWARD TSN work on
    // (p95 172–375 ms against bounds 304–414 in 7 runs, then 194–233 ms against 294–345 in 6 after werift patch
    // item 10). In earlier runs the tail was werift's SCTP (484 and 1028 ms p95).
    expect(m4sc.latencyP95Ms!).toBeLessThanOrEqual(bound);
    // The goal beside it, reported (not asserted: the reliable JPEG baseline's own p95 swings 325–617 ms run to
    // run on this host): M4SC p95 ≤ 0.5× the baseline's.
    console.log(
      `10% loss + 50 ms: M4SC p95 / JPEG p95 = ${(m4sc.latencyP95Ms! / jpeg.latencyP95Ms!).toFixed(2)}`,
    );
    // Loss lowers quality, never stops the stream: most samples still decode (10% loss of 2-packet samples loses
    // ~19% of whole samples at most; the rest is CPU skips). Margin: ≥ 50%.
    expect(m4sc.results).toBeGreaterThanOrEqual(0.5 * m4sc.expected);
    expect(jpeg.results).toBeGreaterThan(0);
  }, 120_000);

  it(`when the bottleneck falls from 2 Mbit/s to 200 kbit/s (64×64 at 15 fps), the stream adapts within 1 s: latency under the target from 1 s after the drop${strict ? '' : ' (+100 ms for this host; NETLAB_STRICT=1: exactly)'}, no frame stalled > 1 s`, () => {
    const run = lab('bandwidth-drop');
    const s = run.summary;
    expect(s.frameSize).toBe(64);
    const dropAt = s.timeline.find((e) => e.state.includes('200 kbit/s'))!.appliedMs;
    const backAt = s.timeline.find((e) => e.appliedMs > dropAt)!.appliedMs;
    const frameMs = 1000 / s.fps;
    const drop = run.results('m4sc-drop');
    const clean = run.results('m4sc-clean');
    // The issue's "adapts within 1 s": latency under the target (one-way delay 10 ms + 2 frame intervals +
    // encode/decode) from 1 s after the drop until the rate returns, and no frame stalled > 1 s over the drop.
    // Encode/decode is measured, not assumed: the clean receiver's p95 over the same window (same sender, same
    // host, same moment). Margin: 50 ms (relay timers, a p95 of ~100 samples). NETLAB_STRICT=1 asserts exactly
    // this; by default the bound + 100 ms (this shared host's noise).
    const settleMs = 1000;
    const after = window(drop, dropAt + settleMs, backAt);
    const cleanAfter = window(clean, dropAt + settleMs, backAt);
    const whole = window(drop, dropAt, backAt);
    const cleanWhole = window(clean, dropAt, backAt);
    const bound = 10 + 2 * frameMs + cleanAfter.p95 + 50;
    // When the policy put the receiver on the base layer (the only one that fits 200 kbit/s: ~130 kbit/s),
    // from m4sc-send's log of each change (timed by the lab as it read the line).
    const peerId = run.rx('m4sc-drop').peerId!;
    const changes = run.opChanges(peerId);
    const before = changes.filter((c) => c.tMs < dropAt).at(-1);
    const fitted = before?.layers === 1 ? before : changes.find((c) => c.tMs >= dropAt && c.layers === 1);
    const fittedMs = fitted ? Math.max(0, fitted.tMs - dropAt) : Number.POSITIVE_INFINITY;
    const views = run.sender(peerId);
    // Packets the bottleneck itself dropped during the drop (receiver k is on link k + 1).
    const link = s.receivers.findIndex((r) => r.name === 'm4sc-drop') + 1;
    // (Each sample is read just before a change, whose appliedMs comes after it.)
    const tbfAt = (ms: number) => s.tbf?.filter((x) => x.link === link && x.tMs <= ms).at(-1);
    const tbfDropped = (tbfAt(backAt)?.dropped ?? Number.NaN) - (tbfAt(dropAt)?.dropped ?? Number.NaN);
    const jpeg = window(run.results('jpeg-drop'), dropAt, backAt);
    const recovered = window(drop, backAt + 1000, s.durationS * 1000);
    console.log(
      `bandwidth drop 2 Mbit/s → 200 kbit/s (${(dropAt / 1000).toFixed(1)}–${(backAt / 1000).toFixed(1)} s): ` +
        `base layer ${fittedMs === 0 ? 'already before the drop' : `${fittedMs} ms after it`} (${fitted?.reason ?? 'never'}); ` +
        `M4SC from drop+${settleMs / 1000} s p95 ${after.p95} ms (bound ${bound.toFixed(0)}), ${after.lines.length} results, ` +
        `longest stall over the drop ${whole.maxGapMs} ms; clean receiver p95 ${cleanAfter.p95} ms, stall ${cleanWhole.maxGapMs} ms; ` +
        `JPEG (reliable) p95 ${jpeg.p95} ms, stall ${jpeg.maxGapMs} ms; after recovery M4SC ${recovered.lines.length} results, ` +
        `p95 ${recovered.p95} ms; final op ${views.at(-1)?.op?.name}; packets dropped by the bottleneck during the drop ${tbfDropped}`,
    );
    // The policy moves it to the base layer: at the receiver's early report of a queue building (its samples'
    // ages rising while less arrives than was sent), or at the next figures (every 500 ms), and pauses the
    // receiver while the bottleneck's queue drains. Measured 0.2–1.3 s after the drop (docs/NETLAB.md, runs
    // 56–): later where the stream before the drop was only a little above 200 kbit/s, so the queue, and the
    // latency, grew slowly. Asserted: ≤ 2 s (the issue's "adapts" is the latency and the stalls, below).
    expect(fittedMs).toBeLessThanOrEqual(2000);
    // Latency back under the target from 1 s after the drop: before the early report and the drain pause, this
    // held in 1 of ~40 runs (the bottleneck's full queue drained at the base layer's spare rate for ~1–2 s);
    // with them, in every run recorded (docs/NETLAB.md). Asserted: NETLAB_STRICT=1 the bound itself; by default
    // the bound + 100 ms (this shared host's noise).
    expect(after.p95).toBeLessThanOrEqual(strict ? bound : bound + 100);
    // No frame stalled > 1 s. This 2-core host is shared: when it freezes every receiver for a second, the
    // clean receiver shows it; the default run allows the clean receiver's own longest stall + 250 ms, and
    // NETLAB_STRICT=1 asserts the bare 1 s.
    expect(whole.maxGapMs).toBeLessThan(strict ? 1000 : Math.max(1000, cleanWhole.maxGapMs + 250));
    // Frames keep coming at the base layer: ≥ half as many as the clean receiver decodes in the same window
    // (the host, shared with other jobs, sets how many that is: 7–15 fps measured).
    expect(after.lines.length).toBeGreaterThanOrEqual(0.5 * cleanAfter.lines.length);
    // The clean receiver is served independently: it keeps streaming while the other link is congested
    // (liveness: ≥ a quarter of the frames, whatever the host's load).
    expect(cleanWhole.lines.length).toBeGreaterThanOrEqual(0.25 * ((backAt - dropAt) / frameMs));
    // And the stream comes back once the rate returns: ≥ half of what the clean receiver gets then.
    const cleanRecovered = window(clean, backAt + 1000, s.durationS * 1000);
    expect(recovered.lines.length).toBeGreaterThanOrEqual(0.5 * cleanRecovered.lines.length);
  }, 120_000);
});
