// A busy VM's stalls, for the lab: freezes every process of a running lab (the sender, the receivers and the
// router's relays) together with SIGSTOP, for 150–400 ms at a time, every 1.1–3 s, until the lab ends or the time
// is up. What the CI host did to the mixed room on 2026-11-30 (every receiver stepped down, the clean one
// 1.26 dB below its solo run). Root only (the lab's processes are root's). Start it with the lab:
//   node netlab/lab.mjs mixed-room --json /tmp/mr.json --out /tmp/mr & node netlab/probes/host-freeze.mjs --seconds 40
// Prints each freeze; seeded (--seed), so two runs freeze alike (the lab's own timing still differs).
import { execFileSync } from 'node:child_process';
import { parseArgs } from 'node:util';

let v;
try {
  ({ values: v } = parseArgs({
    options: {
      seconds: { type: 'string', default: '40' },
      seed: { type: 'string', default: '1' },
      'min-ms': { type: 'string', default: '150' },
      'max-ms': { type: 'string', default: '400' },
    },
  }));
} catch (err) {
  console.error(`host-freeze: ${err.message} (flags: --seconds, --seed, --min-ms, --max-ms)`);
  process.exit(2);
}
const endAt = Date.now() + Number(v.seconds) * 1000;
const minMs = Number(v['min-ms']);
const maxMs = Number(v['max-ms']);
if (![endAt, minMs, maxMs, Number(v.seed)].every(Number.isFinite) || minMs > maxMs) {
  console.error('host-freeze: --seconds, --seed, --min-ms, --max-ms must be numbers, min ≤ max');
  process.exit(2);
}
// mulberry32
let state = Number(v.seed) >>> 0;
const random = () => {
  state = (state + 0x6d2b79f5) >>> 0;
  let t = state;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const labPids = () => {
  try {
    return execFileSync('pgrep', ['-f', 'packages/(sender|receiver)/dist/cli.js|netlab/router.mjs'], {
      encoding: 'utf8',
    })
      .split('\n')
      .filter(Boolean)
      .map(Number);
  } catch {
    return []; // pgrep exits 1 when nothing matches
  }
};
const signal = (pids, sig) => {
  for (const pid of pids) {
    try {
      process.kill(pid, sig);
    } catch {
      // it exited meanwhile
    }
  }
};

let frozen = [];
const thaw = () => signal(frozen, 'SIGCONT');
for (const s of ['SIGINT', 'SIGTERM'])
  process.on(s, () => {
    thaw();
    process.exit(0);
  });
let seenLab = false;
while (Date.now() < endAt) {
  await sleep(1100 + random() * 1900);
  const pids = labPids();
  if (pids.length === 0) {
    if (seenLab) break; // the lab ended
    continue;
  }
  seenLab = true;
  const ms = Math.round(minMs + random() * (maxMs - minMs));
  frozen = pids;
  signal(pids, 'SIGSTOP');
  await sleep(ms);
  thaw();
  frozen = [];
  console.log(`host-freeze: ${pids.length} processes for ${ms} ms`);
}
