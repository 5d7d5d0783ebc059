#!/usr/bin/env node
// Soak (issue "reliability"): one sender, 8 receivers on mixed tasks, one receiver leaving and another
// joining every few seconds, 5% random packet loss at every receiver (in-process, seeded), for N minutes,
// loopback only. Reports, per receiver, samples sent and decoded and the explained loss — samples the
// injected loss dropped entirely against samples lost for any other reason, which must be 0 — plus p95
// latency over time, sender and receiver RSS over time (growth after warm-up must stay under 10%) and
// errors by kind, and every receiver that stayed 12 s or more was served at least one sample.
// Usage: npm run soak -- [--minutes N] [--out DIR]. Exit 0 when all three targets hold.
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const SEND = `${ROOT}packages/sender/dist/cli.js`;
const RECV = `${ROOT}packages/receiver/dist/cli.js`;
const TASKS = [
  ['reconstruct'],
  ['caption'],
  ['classify'],
  ['answer', 'how many shapes are there ?'],
  ['answer', 'how many shapes are there ?'],
  ['reconstruct'],
  ['answer', 'is there a red shape ?'],
  ['caption'],
];
const CHURN_EVERY_S = 6;
const LOSS_PCT = 5;
const RSS_GROWTH_LIMIT = 0.1;
const WARMUP_S = 30;
// Every receiver that stays this long must decode at least one sample (late join takes < 1 s when healthy).
const SERVED_WITHIN_S = 12;

let args;
try {
  args = parseArgs({
    options: {
      minutes: { type: 'string', default: '2' },
      out: { type: 'string', default: `${ROOT}soak-out` },
      help: { type: 'boolean' },
    },
    strict: true,
  }).values;
} catch (err) {
  console.error(`soak: ${err.message}`);
  process.exit(2);
}
if (args.help) {
  console.log('usage: npm run soak -- [--minutes N] [--out DIR]');
  process.exit(0);
}
const minutes = Number(args.minutes);
if (!(minutes > 0 && minutes <= 600)) {
  console.error(`soak: --minutes must be in (0, 600], got '${args.minutes}'`);
  process.exit(2);
}
const out = args.out;
mkdirSync(out, { recursive: true });
const log = (m) =>
  process.stderr.write(`[soak ${((Date.now() - t0) / 1000).toFixed(0).padStart(4)}s] ${m}\n`);
const t0 = Date.now();
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const rss = (pid) => {
  try {
    return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]) / 1024;
  } catch {
    return undefined;
  }
};

function proc(bin, argv) {
  const child = spawn(process.execPath, [bin, ...argv], { stdio: ['ignore', 'pipe', 'pipe'] });
  // arrivals: the soak's clock (s since start) when each stdout line arrived, for latency over time.
  const p = { child, stdout: '', stderr: '', arrivals: [], exited: new Promise((r) => child.on('close', r)) };
  let partial = '';
  child.stdout.on('data', (d) => {
    p.stdout += d;
    const lines = (partial + d).split('\n');
    partial = lines.pop();
    const tS = (Date.now() - t0) / 1000;
    for (const l of lines) if (l.startsWith('{')) p.arrivals.push(tS);
  });
  child.stderr.on('data', (d) => {
    p.stderr += d;
  });
  return p;
}

const sampleLog = join(out, 'samples.jsonl');
writeFileSync(sampleLog, '');
const statsLog = join(out, 'sender-stats.jsonl');
writeFileSync(statsLog, '');
const sender = proc(SEND, [
  '--signal-port',
  '0',
  '--fps',
  '10',
  '--quiet',
  '--sample-log',
  sampleLog,
  '--stats-json',
  statsLog,
]);
const url = await new Promise((resolve, reject) => {
  const iv = setInterval(() => {
    const m = /listening on (ws:\/\/\S+)/.exec(sender.stdout);
    if (m) {
      clearInterval(iv);
      resolve(m[1]);
    }
  }, 50);
  sender.child.on('exit', (c) => reject(new Error(`m4sc-send exited with ${c}: ${sender.stderr}`)));
});
log(
  `sender up at ${url}; ${minutes} min, ${TASKS.length} receivers, churn every ${CHURN_EVERY_S} s, ${LOSS_PCT}% loss`,
);

let nextName = 0;
const receivers = [];
function join_(slot) {
  const [task, query] = TASKS[slot % TASKS.length];
  const name = `r${nextName++}-${task}`;
  const p = proc(RECV, [
    '--signal',
    url,
    '--task',
    task,
    ...(query ? ['--query', query] : []),
    '--impair-loss',
    String(LOSS_PCT),
    '--impair-seed',
    String(nextName),
    '--quiet',
  ]);
  const r = { name, slot, task, p, joinedS: (Date.now() - t0) / 1000, rss: [] };
  receivers.push(r);
  return r;
}
const live = TASKS.map((_, i) => join_(i));
const senderRss = [];
const endAt = t0 + minutes * 60_000;
let churnSlot = 0;
let nextChurn = Date.now() + CHURN_EVERY_S * 1000;
while (Date.now() < endAt) {
  await sleep(1000);
  const tS = (Date.now() - t0) / 1000;
  if (Math.round(tS) % 5 === 0) {
    senderRss.push([tS, rss(sender.child.pid)]);
    for (const r of live) r.rss.push([tS, rss(r.p.child.pid)]);
  }
  if (Date.now() >= nextChurn) {
    nextChurn += CHURN_EVERY_S * 1000;
    // Churn the last three slots only, so the first five receivers stay for the whole run (for RSS).
    const slot = 5 + (churnSlot++ % 3);
    const old = live[slot];
    old.p.child.kill('SIGINT');
    old.leftS = tS;
    live[slot] = join_(slot);
    log(`churn: ${old.name} left, ${live[slot].name} joined`);
  }
}
log('stopping receivers');
for (const r of live) r.p.child.kill('SIGINT');
await Promise.all(receivers.map((r) => r.p.exited));
sender.child.kill('SIGINT');
await sender.exited;

// Accounting.
const sent = new Map(); // peerId → seqs
for (const line of readFileSync(sampleLog, 'utf8').split('\n').filter(Boolean)) {
  const { seq, to } = JSON.parse(line);
  for (const id of to) {
    if (!sent.has(id)) sent.set(id, []);
    sent.get(id).push(seq);
  }
}
// Whole samples the sender's links dropped before sending (freshness: older than 1 s when their turn came;
// backpressure: the receiver's queue full), per receiver: counted by the transport, so explained.
const senderDrops = new Map();
for (const line of readFileSync(statsLog, 'utf8').split('\n').filter(Boolean)) {
  for (const r of JSON.parse(line).receivers) {
    const d = r.sendDroppedSamples;
    if (d) senderDrops.set(r.peerId, Math.max(senderDrops.get(r.peerId) ?? 0, d.stale + d.backpressure));
  }
}
const rows = [];
let unexplainedTotal = 0;
const errors = {};
const latency = []; // [arrival s since start, ms]
const neverServed = [];
for (const r of receivers) {
  const id = /joined room '\S+' as (\S+),/.exec(r.p.stderr)?.[1];
  const summary = JSON.parse(
    /m4sc-recv: summary (\{.*\})/.exec(r.p.stderr)?.[1] ??
      '{"results":0,"dropped":{},"faultLostSeqs":[],"staleSeqs":[]}',
  );
  const results = r.p.stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l));
  results.forEach((x, i) => {
    latency.push([r.p.arrivals[i] ?? (Date.now() - t0) / 1000, x.latencyMs]);
  });
  // A receiver that stayed long enough must have been served: a join that never gets a sample is a failure
  // the loss accounting alone would not see (nothing was sent to it, so nothing is missing).
  const stayedS = (r.leftS ?? (Date.now() - t0) / 1000) - r.joinedS;
  if (stayedS >= SERVED_WITHIN_S && results.length === 0)
    neverServed.push(`${r.name} (stayed ${stayedS.toFixed(0)} s)`);
  const decoded = new Set(results.map((x) => x.seq));
  const lost = new Set(summary.faultLostSeqs);
  const seen = [...decoded, ...lost];
  const last = seen.length ? Math.max(...seen) : -1;
  // Samples in flight when it left (after the last it saw) are not counted against it.
  const mine = (sent.get(id) ?? []).filter((s) => s <= last);
  // Samples the receiver's link dropped (packets of, or whole) for arriving older than its 1 s freshness limit:
  // counted by the transport (stats.drops.stale), so explained, as the sender's freshness drops are.
  const stale = new Set(summary.staleSeqs ?? []);
  const missingFresh = mine.filter((s) => !decoded.has(s) && !lost.has(s));
  const missing = missingFresh.filter((s) => !stale.has(s));
  const staleAtReceiver = missingFresh.length - missing.length;
  const dropsAtSender = Math.min(missing.length, senderDrops.get(id) ?? 0);
  const unexplained = missing.slice(0, missing.length - dropsAtSender);
  unexplainedTotal += unexplained.length;
  for (const m of r.p.stderr.matchAll(/m4sc:recv (warn|error) ([^=\n]+?)(?: \w+=|$)/gm))
    errors[`recv ${m[1]}: ${m[2].trim()}`] = (errors[`recv ${m[1]}: ${m[2].trim()}`] ?? 0) + 1;
  rows.push({
    name: r.name,
    task: r.task,
    sent: mine.length,
    decoded: decoded.size,
    lostToImpairment: [...lost].filter((s) => s <= last).length,
    droppedAtSender: dropsAtSender,
    staleAtReceiver,
    // Packets missing from the link's numbering that the injected loss did not drop: lost by the transport.
    transportLostPackets: summary.link
      ? Math.max(0, summary.link.missingPackets - summary.link.faultDroppedPackets)
      : undefined,
    unexplained: unexplained.length,
    unexplainedSeqs: unexplained.slice(0, 10),
    dropped: summary.dropped,
    rssMiB: r.rss,
  });
}
for (const m of sender.stderr.matchAll(/m4sc:send (warn|error) ([^=\n]+?)(?: \w+=|$)/gm))
  errors[`send ${m[1]}: ${m[2].trim()}`] = (errors[`send ${m[1]}: ${m[2].trim()}`] ?? 0) + 1;

// p95 latency over time, by arrival time in 10 s buckets.
const buckets = new Map();
for (const [tS, ms] of latency) {
  const b = Math.floor(tS / 10);
  if (!buckets.has(b)) buckets.set(b, []);
  buckets.get(b).push(ms);
}
const p95 = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil(0.95 * s.length) - 1)];
};
const latencyRows = [...buckets.entries()]
  .sort((a, b) => a[0] - b[0])
  .map(([b, xs]) => [`${b * 10}–${b * 10 + 10} s`, p95(xs).toFixed(0), xs.length]);
const growth = (series) => {
  const after = series.filter(([t, v]) => t >= WARMUP_S && v !== undefined);
  if (after.length < 2) return undefined;
  return (after.at(-1)[1] - after[0][1]) / after[0][1];
};
const senderGrowth = growth(senderRss);
const steadyGrowth = receivers
  .filter((r) => r.slot < 5)
  .map((r) => growth(r.rss))
  .filter((g) => g !== undefined);
const worstGrowth = Math.max(senderGrowth ?? 0, ...steadyGrowth);
const rssOk = minutes * 60 > WARMUP_S + 20 ? worstGrowth < RSS_GROWTH_LIMIT : true;

const md = [
  `# Soak: ${minutes} min, ${TASKS.length} receivers, churn every ${CHURN_EVERY_S} s, ${LOSS_PCT}% loss`,
  '',
  `Command: \`npm run soak -- --minutes ${minutes}\`; ${new Date().toISOString()}.`,
  '',
  '| receiver | task | sent | decoded | lost to injected loss | dropped at sender (stale/backpressure) | stale at receiver (> 1 s old) | lost otherwise | receiver drops |',
  '| --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  ...rows.map(
    (r) =>
      `| ${r.name} | ${r.task} | ${r.sent} | ${r.decoded} | ${r.lostToImpairment} | ${r.droppedAtSender} | ${r.staleAtReceiver} | ${r.unexplained} | ${JSON.stringify(r.dropped)} |`,
  ),
  '',
  `Samples lost for any reason other than the injected loss and the counted freshness/backpressure drops: **${unexplainedTotal}** (target 0)${
    unexplainedTotal
      ? `: ${rows
          .filter((r) => r.unexplained)
          .map(
            (r) =>
              `${r.name} seq ${r.unexplainedSeqs.join(', ')} (packets its link lost beyond the injected loss: ${r.transportLostPackets ?? 'unknown'})`,
          )
          .join('; ')} (each receiver's log: ${join(out, 'receivers')})`
      : ''
  }.`,
  '',
  `Receivers that stayed ≥ ${SERVED_WITHIN_S} s but never decoded a sample: **${neverServed.length}**${neverServed.length ? ` (${neverServed.join(', ')})` : ''} (target 0).`,
  '',
  '| arrival | latency p95 ms | results |',
  '| --- | --- | --- |',
  ...latencyRows.map((r) => `| ${r.join(' | ')} |`),
  '',
  `RSS after a ${WARMUP_S} s warm-up: sender ${senderRss
    .filter(([t]) => t >= WARMUP_S)
    .map(([, v]) => v?.toFixed(0))
    .join(
      ' → ',
    )} MiB (growth ${senderGrowth === undefined ? 'n/a' : `${(senderGrowth * 100).toFixed(1)}%`}); worst steady receiver growth ${steadyGrowth.length ? `${(Math.max(...steadyGrowth) * 100).toFixed(1)}%` : 'n/a'} (target < ${RSS_GROWTH_LIMIT * 100}%${rssOk ? '' : ', **not met**'}).`,
  '',
  'Errors and warnings by kind:',
  '',
  ...(Object.keys(errors).length ? Object.entries(errors).map(([k, n]) => `- ${k}: ${n}`) : ['- none']),
].join('\n');
writeFileSync(join(out, 'report.md'), `${md}\n`);
mkdirSync(join(out, 'receivers'), { recursive: true });
for (const r of receivers) writeFileSync(join(out, 'receivers', `${r.name}.log`), r.p.stderr);
writeFileSync(
  join(out, 'report.json'),
  JSON.stringify(
    {
      minutes,
      rows,
      unexplainedTotal,
      neverServed,
      latency: latencyRows,
      senderRss,
      senderGrowth,
      steadyGrowth,
      errors,
    },
    null,
    1,
  ),
);
console.log(md);
process.exit(unexplainedTotal === 0 && neverServed.length === 0 && rssOk ? 0 : 1);
