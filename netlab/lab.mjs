#!/usr/bin/env node
// The M4SC network lab: runs the real built CLIs (m4sc-send, m4sc-recv) and the JPEG baseline (jpeg.mjs) in
// separate network namespaces joined through a router namespace, applies a scenario's impairment timeline to each
// receiver's link, and writes a report (markdown, JSON, PNG plot) under netlab/reports/.
//
//   npm run netlab -- <scenario> [--out DIR] [--json FILE] [--duration S] [--only RECEIVER] [--userspace]
//   npm run netlab -- --list | --cleanup
//
// As root it uses namespaces (nftables loss, tbf rate, relay delay/jitter/bursts). Without root, or with
// --userspace, everything runs on loopback and the relay does all of it (loss, bursts, delay, jitter, a token
// bucket for the rate). See docs/NETLAB.md.
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { writeSceneFrames } from './frames.mjs';
import { analyse, writeReport } from './report.mjs';
import { describeState, loadScenario, mergeState, SCENARIO_DIR } from './scenario.mjs';
import {
  applyKernel,
  createTopology,
  deleteLabNamespaces,
  isRoot,
  labNamespaces,
  readTbf,
} from './topology.mjs';
import { startTurn } from './turn.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const SENDER_CLI = join(ROOT, 'packages/sender/dist/cli.js');
const RECEIVER_CLI = join(ROOT, 'packages/receiver/dist/cli.js');
const JPEG = join(ROOT, 'netlab/jpeg.mjs');
const ROUTER = join(ROOT, 'netlab/router.mjs');
/** Receivers must have decoded a first sample within this (model loading on a busy 2-core machine). */
const WARMUP_TIMEOUT_MS = Number(process.env.NETLAB_WARMUP_MS ?? 60_000);

const { positionals, values: v } = parseArgs({
  allowPositionals: true,
  options: {
    out: { type: 'string' },
    json: { type: 'string' },
    duration: { type: 'string' },
    userspace: { type: 'boolean' },
    list: { type: 'boolean' },
    cleanup: { type: 'boolean' },
    quiet: { type: 'boolean' },
    only: { type: 'string' },
    peer: { type: 'string' },
    'sender-args': { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  },
});
const say = (m) => {
  if (!v.quiet) process.stderr.write(`netlab: ${m}\n`);
};

if (v.help || (!v.list && !v.cleanup && positionals.length !== 1)) {
  process.stderr.write(
    'usage: npm run netlab -- <scenario|file.json> [--out DIR] [--json FILE] [--duration S] [--only RECEIVER]\n' +
      '                         [--peer werift|node-datachannel] [--sender-args="ARGS"]\n' +
      '                         [--userspace] [--quiet]\n' +
      '       npm run netlab -- --list | --cleanup\n',
  );
  process.exit(v.help ? 0 : 2);
}
if (v.list) {
  for (const f of readdirSync(SCENARIO_DIR).filter((f) => f.endsWith('.json'))) {
    const s = loadScenario(f.replace(/\.json$/, ''));
    process.stdout.write(`${s.name.padEnd(22)} ${s.durationS} s  ${s.description ?? ''}\n`);
  }
  process.exit(0);
}
if (v.cleanup) {
  if (!isRoot()) {
    process.stderr.write('netlab: --cleanup needs root\n');
    process.exit(1);
  }
  const before = labNamespaces();
  deleteLabNamespaces();
  process.stderr.write(`netlab: deleted ${before.length} namespace(s) ${before.join(' ')}\n`);
  process.exit(0);
}

const scenario = loadScenario(positionals[0]);
if (v.duration) scenario.durationS = Number(v.duration);
if (v.only) {
  // One receiver alone (e.g. the best-linked one of a mixed room, for its solo quality); same links and timeline.
  const keep = scenario.receivers.filter((r) => r.name === v.only);
  if (keep.length === 0) {
    process.stderr.write(`netlab: --only ${v.only}: no such receiver in ${scenario.name}\n`);
    process.exit(2);
  }
  scenario.receivers = keep;
  scenario.timeline = scenario.timeline.filter((e) => keep.some((r) => r.link === e.link));
}
const userspace = v.userspace || !isRoot();
if (scenario.ice === 'turn' && userspace) {
  process.stderr.write(
    `netlab: ${scenario.name} runs a TURN server between namespaces: it needs root, not --userspace\n`,
  );
  process.exit(1);
}
if (!v.userspace && userspace)
  say('not root: userspace fallback on loopback (the relay applies loss, bursts, delay, jitter and rate)');
const runId = (process.pid % 46656).toString(36);
const stamp = new Date().toISOString().replace(/[:.]/g, '-').slice(0, 19);
const outDir = resolve(v.out ?? join(ROOT, 'netlab/reports', `${scenario.name}-${stamp}`));
mkdirSync(outDir, { recursive: true });

// Link 0 is the sender's; receiver i is on link i+1.
const receivers = scenario.receivers.map((r, i) => ({ ...r, linkIndex: i + 1, lines: [], stderr: [] }));
const nLinks = receivers.length + 1;
const children = new Set();
let topo;
let tearing = false;

function teardown() {
  if (tearing) return;
  tearing = true;
  for (const c of children) {
    try {
      c.kill('SIGKILL');
    } catch {}
  }
  if (topo) deleteLabNamespaces(runId);
}
process.on('exit', teardown);
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'])
  process.on(sig, () => {
    teardown();
    process.exit(130);
  });
process.on('uncaughtException', (err) => {
  process.stderr.write(`netlab: ${err.stack ?? err}\n`);
  teardown();
  process.exit(1);
});

let t0 = Number.NaN; // timeline start, Date.now() ms
/** Frame files the sender loops over when the scenario has a frameSize (80 s at 15 fps; warm-up included). */
const FRAME_FILES = 1200;
let frameCount; // set when frames come from files
let turnDirectPath; // TURN scenarios: false once checked that no peer can route to another
const rel = () => Date.now() - t0;

/** Starts a process in link k's namespace (or the router's: 'rt'); collects its lines. */
function start(where, args, { onStdout, onStderr } = {}) {
  const argv =
    userspace || !topo
      ? [process.execPath, ...args]
      : ['ip', 'netns', 'exec', where === 'rt' ? topo.router : topo.peer(where), process.execPath, ...args];
  const child = spawn(argv[0], argv.slice(1), { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
  children.add(child);
  child.on('exit', () => children.delete(child));
  createInterface({ input: child.stdout }).on('line', (l) => onStdout?.(l));
  createInterface({ input: child.stderr }).on('line', (l) => onStderr?.(l));
  return child;
}

const stopChild = (c, ms = 5000) =>
  new Promise((r) => {
    if (c.exitCode !== null || c.signalCode !== null) return r();
    c.once('exit', () => r());
    c.kill('SIGTERM');
    setTimeout(() => {
      try {
        c.kill('SIGKILL');
      } catch {}
    }, ms).unref();
  });

async function main() {
  const nsBefore = isRoot() ? labNamespaces() : [];
  if (!userspace) {
    topo = createTopology(runId, nLinks);
    say(`namespaces ${topo.router}, ${Array.from({ length: nLinks }, (_, k) => topo.peer(k)).join(', ')}`);
  }
  const routerHost = (k) => (userspace ? '127.0.0.1' : topo.routerHost(k));
  const links = Array.from({ length: nLinks }, (_, k) => ({ index: k, routerHost: routerHost(k) }));
  const routerEvents = [];
  let onReady;
  const ready = new Promise((r) => (onReady = r));
  const routerErr = [];
  const turnMode = scenario.ice === 'turn';
  const router = start('rt', [ROUTER, JSON.stringify({ links, passThrough: turnMode })], {
    onStdout: (l) => {
      const m = JSON.parse(l);
      if (m.event === 'ready') onReady(m.urls);
      else routerEvents.push(m);
    },
    onStderr: (l) => routerErr.push(l),
  });
  const urls = await Promise.race([
    ready,
    new Promise((_, rej) =>
      setTimeout(() => rej(new Error(`router did not start: ${routerErr.join('\n')}`)), 15000),
    ),
  ]);
  // The M4SC CLIs' WebRTC stack (--peer werift|node-datachannel; the JPEG baseline always uses werift).
  const jpegNet = userspace ? [] : ['--network'];
  const net = [...jpegNet, ...(v.peer ? ['--peer', v.peer] : [])];
  // TURN scenarios: coturn in the router namespace; each peer reaches it on its own link's router address and
  // uses relay candidates only (--ice-policy relay).
  let turn;
  if (turnMode) {
    turn = await startTurn({
      ns: topo.router,
      listenHosts: links.map((l) => l.routerHost),
      relayHost: links[0].routerHost,
      dir: outDir,
      onChild: (c) => children.add(c),
    });
    say(`turnserver listening on ${links.map((l) => `${l.routerHost}:3478`).join(', ')}`);
    // The premise: no peer has a route to another (each namespace knows its own /24 only), so whatever flows
    // between them goes through the TURN server.
    for (let k = 1; k < nLinks; k++) {
      try {
        execFileSync('ip', ['netns', 'exec', topo.peer(0), 'ip', 'route', 'get', topo.peerHost(k)], {
          stdio: 'pipe',
        });
        throw new Error(`TURN scenario: the sender's namespace has a route to ${topo.peerHost(k)}`);
      } catch (err) {
        if (err.message.startsWith('TURN scenario')) throw err;
      }
    }
    turnDirectPath = false;
  }
  const ice = (k) => (turn ? turn.iceArgs(links[k].routerHost) : []);

  // Frames: the generator's 32×32 scenes as they are, or scaled to the scenario's frameSize and read from files.
  const frameSize = scenario.frameSize ?? 32;
  let source = ['--source', 'synthetic'];
  if (frameSize !== 32) {
    frameCount = FRAME_FILES;
    const dir = join(outDir, `source-${frameSize}`);
    writeSceneFrames(dir, frameSize, frameCount);
    // Still the synthetic scenes (scaled): the learned path, as `--source synthetic` gets by default.
    source = [
      '--source',
      `images:${dir}`,
      '--width',
      String(frameSize),
      '--height',
      String(frameSize),
      '--image-path',
      'learned',
    ];
  }

  // Sender(s) on link 0.
  const senderStats = [];
  const senderErr = [];
  const sender = start(
    0,
    [
      SENDER_CLI,
      '--signal',
      urls[0],
      '--room',
      'lab',
      ...source,
      '--fps',
      String(scenario.fps),
      '--stats-json',
      join(outDir, 'sender-stats.jsonl'),
      ...net,
      ...ice(0),
      // Extra m4sc-send flags, space-separated (e.g. '--adapt off': the fixed operating point on every link).
      ...(v['sender-args'] ? v['sender-args'].split(/\s+/).filter(Boolean) : []),
    ],
    {
      onStderr: (l) => {
        senderErr.push(l);
        if (Number.isFinite(t0)) senderStats.push({ tMs: rel(), line: l });
        else senderStats.push({ tMs: -1, line: l });
      },
    },
  );
  const hasJpeg = receivers.some((r) => r.kind === 'jpeg');
  const jpegSender = hasJpeg
    ? start(
        0,
        [
          JPEG,
          'send',
          '--signal',
          urls[0],
          '--room',
          'lab-jpeg',
          '--fps',
          String(scenario.fps),
          '--size',
          String(frameSize),
          ...jpegNet,
        ],
        {
          onStderr: (l) => senderErr.push(`[jpeg] ${l}`),
        },
      )
    : undefined;
  await new Promise((r) => setTimeout(r, 1500)); // the sender joins first

  // Receivers.
  for (const r of receivers) {
    const k = r.linkIndex;
    let args;
    if (r.kind === 'm4sc') {
      r.framesDir = r.task === 'reconstruct' ? join(outDir, `frames-${r.name}`) : undefined;
      args = [RECEIVER_CLI, '--signal', urls[k], '--room', 'lab', '--task', r.task];
      if (r.query) args.push('--query', r.query);
      if (r.framesDir) args.push('--out', r.framesDir);
      args.push(...net, ...ice(k));
    } else {
      args = [
        JPEG,
        'recv',
        '--signal',
        urls[k],
        '--room',
        'lab-jpeg',
        '--size',
        String(frameSize),
        ...jpegNet,
      ];
    }
    r.child = start(k, args, {
      onStdout: (l) => {
        try {
          r.lines.push({ tMs: Number.isFinite(t0) ? rel() : -1, ...JSON.parse(l) });
        } catch {}
      },
      onStderr: (l) => {
        r.stderr.push(l);
        const m = /joined room '[^']*' as ([A-Za-z0-9_-]+)/.exec(l);
        if (m) r.peerId = m[1];
      },
    });
  }

  // Warm-up: every receiver decodes once over clean links, then the timeline starts.
  const warmStart = Date.now();
  while (receivers.some((r) => r.lines.length === 0)) {
    if (Date.now() - warmStart > WARMUP_TIMEOUT_MS) {
      const late = receivers.filter((r) => r.lines.length === 0);
      throw new Error(
        `no result within ${WARMUP_TIMEOUT_MS / 1000} s from ${late.map((r) => r.name).join(', ')}:\n` +
          late.map((r) => `[${r.name}] ${r.stderr.slice(-8).join('\n')}`).join('\n') +
          `\n[sender] ${senderErr
            .filter((l) => l.startsWith('[jpeg]'))
            .slice(0, 12)
            .join('\n')}\n${senderErr.slice(-8).join('\n')}\n[router] ${routerErr.slice(-8).join('\n')}`,
      );
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  say(
    `all ${receivers.length} receivers decoding after ${((Date.now() - warmStart) / 1000).toFixed(1)} s; timeline starts`,
  );
  t0 = Date.now();

  const state = new Map();
  const applied = [];
  // The bottlenecks' counters (namespaces): read before every change and at the end, so each phase's drops at
  // the bottleneck are known (summary.tbf).
  const tbf = [];
  const sampleTbf = async (links) => {
    if (userspace) return;
    const tMs = rel();
    for (const k of links) {
      const c = await readTbf(topo, k);
      if (c) tbf.push({ tMs, link: k, ...c });
    }
  };
  const apply = async (e) => {
    await sampleTbf(receivers.filter((x) => x.link === e.link).map((r) => r.linkIndex));
    const st = mergeState(state.get(e.link) ?? {}, e.set);
    state.set(e.link, st);
    const appliedMs = rel();
    const kernel = [];
    for (const r of receivers.filter((x) => x.link === e.link)) {
      const k = r.linkIndex;
      if (userspace) {
        const imp = {
          ...(st.lossPct ? { lossPct: st.lossPct } : {}),
          ...(st.burst ? { burst: st.burst } : {}),
        };
        router.stdin.write(
          `${JSON.stringify({ cmd: 'set', link: k, impairment: { ...imp, delayMs: st.delayMs ?? 0, jitterMs: st.jitterMs ?? 0 }, rateKbit: st.rateKbit, queueMs: st.queueMs })}\n`,
        );
      } else {
        kernel.push(applyKernel(topo, k, st));
        const imp = st.burst ? { burst: st.burst } : {};
        router.stdin.write(
          `${JSON.stringify({ cmd: 'set', link: k, impairment: { ...imp, delayMs: st.delayMs ?? 0, jitterMs: st.jitterMs ?? 0 } })}\n`,
        );
      }
    }
    await Promise.all(kernel);
    applied.push({
      atS: e.atS,
      appliedMs,
      tookMs: rel() - appliedMs,
      link: e.link,
      state: describeState(st),
    });
    say(`t=${(rel() / 1000).toFixed(1)} s ${e.link}: ${describeState(st)}`);
  };
  for (const e of scenario.timeline.filter((x) => x.atS === 0)) await apply(e);
  const timers = scenario.timeline
    .filter((x) => x.atS > 0)
    .map((e) => setTimeout(() => apply(e), e.atS * 1000 - rel()));
  await new Promise((r) => setTimeout(r, scenario.durationS * 1000));
  for (const t of timers) clearTimeout(t);
  const endMs = rel();

  await sampleTbf(receivers.map((r) => r.linkIndex));
  router.stdin.write('{"cmd":"stats"}\n');
  await new Promise((r) => setTimeout(r, 200));
  await Promise.all(receivers.map((r) => stopChild(r.child)));
  await Promise.all([stopChild(sender), jpegSender && stopChild(jpegSender)]);
  router.stdin.write('{"cmd":"quit"}\n');
  await stopChild(router, 2000);
  teardown();
  const nsAfter = isRoot() ? labNamespaces() : [];
  const leftover = nsAfter.filter((n) => !nsBefore.includes(n));
  if (leftover.length)
    process.stderr.write(`netlab: WARNING namespaces left behind: ${leftover.join(' ')}\n`);

  const summary = await analyse({
    scenario,
    mode: userspace ? 'userspace' : 'namespaces',
    endMs,
    applied,
    receivers,
    senderStats,
    frameCount,
    relayStats: routerEvents.filter((e) => e.event === 'stats').at(-1),
  });
  summary.namespacesLeft = leftover;
  summary.tbf = tbf; // [{tMs, link, sentBytes, packets, dropped, overlimits}] per link, cumulative
  summary.t0WallMs = t0; // sender-stats.jsonl lines carry wallMs: t = wallMs − t0WallMs
  if (turn) {
    summary.turn = {
      ...turn.counts,
      directPath: turnDirectPath,
      labRelays: routerEvents.filter((e) => e.event === 'stats').at(-1)?.relays ?? 0,
    };
    writeFileSync(join(outDir, 'turnserver.log'), turn.log.join('\n'));
  }
  for (const r of receivers)
    writeFileSync(join(outDir, `results-${r.name}.jsonl`), r.lines.map((l) => JSON.stringify(l)).join('\n'));
  writeFileSync(join(outDir, 'sender-stats.log'), senderStats.map((l) => `${l.tMs}\t${l.line}`).join('\n'));
  const files = await writeReport(summary, outDir);
  writeFileSync(join(outDir, 'summary.json'), `${JSON.stringify(summary, null, 1)}\n`);
  if (v.json) writeFileSync(v.json, JSON.stringify(summary));
  if (!v.quiet) process.stdout.write(`${files.markdownText}\n`);
  say(`report: ${files.markdown}, ${files.png}`);
}

main().then(
  () => process.exit(0),
  (err) => {
    process.stderr.write(`netlab: ${err.message}\n`);
    teardown();
    process.exit(1);
  },
);
