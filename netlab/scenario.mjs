// Scenario files (netlab/scenarios/*.json): receivers, each on its own link with a named profile, and a
// timeline of changes to those profiles. `frameSize` (default 32, the scene generator's size): frames are the
// synthetic scenes scaled to frameSize × frameSize (netlab/frames.mjs). `"ice": "turn"`: the peers connect through
// a TURN server (coturn) in the router namespace, relay candidates only (netlab/turn.mjs); loss and rate only. A `set` merges into the profile's state (null clears a field):
//   lossPct   independent loss each way, percent (nftables; the relay in userspace mode)
//   burst     Gilbert-Elliott loss each way {pGoodToBad, pBadToGood, lossInBadPct?, lossInGoodPct?} (relay)
//   delayMs   one-way delay each way, ms (relay);  jitterMs  ± uniform jitter, ms (relay)
//   rateKbit  downlink rate, kbit/s (tc tbf; the relay's token bucket in userspace mode); 0/null = unlimited
//   queueMs   bottleneck queue of the rate limit, ms of the rate (tbf latency). Default 200.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const SCENARIO_DIR = join(dirname(fileURLToPath(import.meta.url)), 'scenarios');
const FIELDS = new Set(['lossPct', 'burst', 'delayMs', 'jitterMs', 'rateKbit', 'queueMs']);
/** What the kernel applies (the rest is the lab's relays): all a TURN scenario can use. */
const KERNEL_FIELDS = new Set(['lossPct', 'rateKbit', 'queueMs']);
const TASKS = new Set(['reconstruct', 'caption', 'answer', 'classify']);

/** Loads `name` (a file in netlab/scenarios without .json) or a path, and validates it. Throws TypeError. */
export function loadScenario(nameOrPath) {
  const file = nameOrPath.endsWith('.json') ? nameOrPath : join(SCENARIO_DIR, `${nameOrPath}.json`);
  let s;
  try {
    s = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new TypeError(`scenario ${nameOrPath}: ${err.message}`);
  }
  const bad = (m) => {
    throw new TypeError(`scenario ${s.name ?? nameOrPath}: ${m}`);
  };
  if (typeof s.name !== 'string') bad('needs a name');
  if (!(s.durationS > 0 && s.durationS <= 600)) bad('durationS must be in (0, 600]');
  s.fps ??= 15;
  if (!(s.fps > 0 && s.fps <= 60)) bad('fps must be in (0, 60]');
  if (
    s.frameSize !== undefined &&
    !(Number.isInteger(s.frameSize) && s.frameSize % 4 === 0 && s.frameSize >= 8 && s.frameSize <= 256)
  )
    bad('frameSize must be a multiple of 4 in 8..256');
  if (!Array.isArray(s.receivers) || s.receivers.length === 0) bad('needs receivers');
  const names = new Set();
  for (const r of s.receivers) {
    if (typeof r.name !== 'string' || names.has(r.name)) bad(`receiver names must be unique strings`);
    names.add(r.name);
    if (r.kind !== 'm4sc' && r.kind !== 'jpeg') bad(`receiver ${r.name}: kind must be m4sc or jpeg`);
    if (r.kind === 'm4sc') {
      r.task ??= 'reconstruct';
      if (!TASKS.has(r.task)) bad(`receiver ${r.name}: unknown task ${r.task}`);
      if (r.task === 'answer' && !r.query) bad(`receiver ${r.name}: task answer needs a query`);
    }
    if (typeof r.link !== 'string') bad(`receiver ${r.name}: needs a link profile name`);
  }
  if (s.ice !== undefined && s.ice !== 'turn') bad(`ice must be 'turn' when given, got '${s.ice}'`);
  if (s.ice === 'turn' && s.receivers.some((r) => r.kind !== 'm4sc'))
    bad('ice turn: m4sc receivers only (the JPEG baseline takes no ICE servers)');
  if (!Array.isArray(s.timeline)) bad('needs a timeline (may be empty)');
  const profiles = new Set(s.receivers.map((r) => r.link));
  const state = new Map();
  for (const e of s.timeline) {
    if (!(e.atS >= 0 && e.atS <= s.durationS)) bad(`timeline: atS must be in [0, durationS], got ${e.atS}`);
    if (!profiles.has(e.link)) bad(`timeline: no receiver is on link '${e.link}'`);
    for (const k of Object.keys(e.set ?? {})) if (!FIELDS.has(k)) bad(`timeline: unknown field '${k}'`);
    if (s.ice === 'turn')
      for (const k of Object.keys(e.set ?? {}))
        if (!KERNEL_FIELDS.has(k))
          bad(`timeline: '${k}' needs the lab's relays, which a TURN scenario does not use`);
    const st = mergeState(state.get(e.link) ?? {}, e.set);
    if (st.lossPct > 0 && st.burst)
      bad(`timeline at ${e.atS} s: lossPct and burst are exclusive on '${e.link}'`);
    if (st.lossPct !== undefined && !(st.lossPct >= 0 && st.lossPct <= 100)) bad('lossPct must be 0..100');
    state.set(e.link, st);
  }
  s.timeline.sort((a, b) => a.atS - b.atS);
  return s;
}

/** The profile state after a `set` (null clears a field). */
export function mergeState(state, set) {
  const out = { ...state };
  for (const [k, v] of Object.entries(set ?? {})) {
    if (v === null) delete out[k];
    else out[k] = v;
  }
  return out;
}

/** Human-readable state, for the report. */
export function describeState(st) {
  const parts = [];
  if (st.lossPct) parts.push(`${st.lossPct}% loss`);
  if (st.burst)
    parts.push(
      `burst loss (G→B ${st.burst.pGoodToBad}, B→G ${st.burst.pBadToGood}, ${st.burst.lossInBadPct ?? 100}% in bad)`,
    );
  if (st.delayMs) parts.push(`${st.delayMs} ms`);
  if (st.jitterMs) parts.push(`±${st.jitterMs} ms jitter`);
  if (st.rateKbit) parts.push(`${st.rateKbit} kbit/s`);
  return parts.length ? parts.join(', ') : 'clean';
}
