// TURN in the network lab: sender and receivers in namespaces with no route to each other, each reaching a TURN
// server (coturn, long-term credentials, bound to the lab's router addresses) on its own link, relay candidates
// only (`--ice-policy relay`). The stream flows through TURN. Root and coturn (scripts/setup-system.sh); ~20 s.
import { execFileSync } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { built, cleanupWork, isRoot, lab } from './netlabRun.js';

afterAll(cleanupWork);

const hasTurnserver = (() => {
  try {
    execFileSync('sh', ['-c', 'command -v turnserver'], { stdio: 'pipe' });
    return true;
  } catch {
    return false;
  }
})();

describe.skipIf(!isRoot)('network lab: through a TURN server', () => {
  it('sender and receivers that cannot reach each other stream through TURN (relay candidates only)', () => {
    expect(built, 'run `npx tsc -b` first').toBe(true);
    expect(hasTurnserver, 'turnserver missing: apt-get install coturn (scripts/setup-system.sh)').toBe(true);
    const run = lab('turn-relay');
    const turn = run.summary.turn!;
    const clean = run.rx('m4sc-turn').total;
    const lossy = run.rx('m4sc-turn-loss').total;
    console.log(
      `TURN: ${turn.allocations} allocations, ${turn.channelBinds} channel binds, lab relays ${turn.labRelays}; ` +
        `reconstruct ${clean.results}/${clean.expected}, p50/p95 ${clean.latencyP50Ms}/${clean.latencyP95Ms} ms, ` +
        `${clean.quality} dB; caption at 5% loss ${lossy.results}/${lossy.expected}, BLEU ${lossy.quality}`,
    );
    // No other path: the lab checked that the sender's namespace has no route to any receiver, and made none
    // of its own relays (signals pass unchanged).
    expect(turn.directPath).toBe(false);
    expect(turn.labRelays).toBe(0);
    // Every peer connection allocated on the TURN server: the sender one per receiver, each receiver one.
    expect(turn.allocations).toBeGreaterThanOrEqual(4);
    expect(turn.channelBinds + turn.permissions).toBeGreaterThanOrEqual(2);
    // And the stream flows: ≥ half the frames decode on both (margin for a shared 2-core host).
    expect(clean.results).toBeGreaterThanOrEqual(0.5 * clean.expected);
    expect(lossy.results).toBeGreaterThanOrEqual(0.5 * lossy.expected);
  }, 120_000);
});
