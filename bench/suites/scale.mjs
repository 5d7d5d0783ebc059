// Scale suite (issue 8, "fan the public semantic stream out through Janus"): one m4sc-send streaming a
// 64×64 source at 15 fps to N light receivers, either directly (one peer connection per receiver carries
// everything: the sender uploads the public stream N times) or through a Janus VideoRoom (the sender
// uploads it once; receivers keep a direct link for control only). Light receivers are real werift peers
// that only receive, count and time samples (no decoding), run in worker processes of this same module
// (`node bench/suites/scale.mjs --worker …`). Figures: sender upload bytes/s (application bytes handed to
// data channels), sender and Janus CPU, delivered fraction, arrival latency (capture → reassembled,
// same host clock) p50/p95 over every receiver.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { BIN, readStats, stop } from '../lib/procs.mjs';
import { ms, pct, sleep, table } from '../lib/report.mjs';

export const description =
  'direct vs Janus fan-out of the public stream, N = 1..128 light receivers (64×64, 15 fps)';

const FPS = 15;
const SIZE = 64;
const TARGET = { receivers: 128, p95Ms: 100 };
const HERE = fileURLToPath(import.meta.url);
const CLK_TCK = 100; // Linux USER_HZ: /proc/<pid>/stat times are in 1/100 s

const SIGNAL_BIN = fileURLToPath(new URL('../../packages/signaling/dist/cli.js', import.meta.url));
/** Peers per room the bench's signaling server allows: the default (64) is below the largest N. */
const MAX_PEERS = 200;
/**
 * Peer backend of the sender and of the light receivers (direct links and Janus subscriptions):
 * `M4SC_SCALE_PEER=werift` for the pure-TypeScript default. node-datachannel runs DTLS and SCTP in native
 * threads, so 128 light receivers (and the sender's 128 control links) cost far less of the 2 cores.
 */
const PEER = process.env.M4SC_SCALE_PEER || 'node-datachannel';
/**
 * `M4SC_SCALE_ONLY=janus:64,direct:16` runs only those (mode:N) points; `M4SC_SCALE_REPORT_MS` sets the light
 * receivers' link-report period (transport `linkReportIntervalMs`) instead of the one the sender's hello asks for, to
 * measure what the reports cost the sender.
 */
const REPORT_MS = Number(process.env.M4SC_SCALE_REPORT_MS) || undefined;
/** Worker processes for N light receivers: more than one spreads their JS over both cores. */
const workersFor = (n) => (n >= 64 ? 4 : n >= 16 ? 2 : 1);
/**
 * Receiver counts. Full: the direct curve of the GPU/benchmark issue (1–32, goal ≥ 16 receivers with
 * p95 ≤ 100 ms) continued to 128, and Janus at the relay issue's 1, 8, 32, 64, 128. Quick (CI smoke, under
 * 2 minutes with every other suite): 8 receivers on each path (direct is Janus's baseline), shorter windows.
 */
const only = (mode) =>
  process.env.M4SC_SCALE_ONLY?.split(',')
    .filter((x) => x.startsWith(`${mode}:`))
    .map((x) => Number(x.slice(mode.length + 1)));
const plan = (quick) => ({
  direct: only('direct') ?? (quick ? [8] : [1, 2, 4, 8, 16, 32, 64, 128]),
  janus: only('janus') ?? (quick ? [8] : [1, 8, 32, 64, 128]),
  windowS: quick ? 2 : 10,
  settleS: quick ? 1 : 2,
  setupLimitS: quick ? 10 : undefined,
});
/** The GPU/benchmark issue's goal on the direct path. */
const DIRECT_GOAL = { receivers: 16, p95Ms: 100 };

/** Spawns a built CLI; resolves with the child and the first `re` match on its stdout. */
async function spawnUntil(bin, args, re) {
  const child = spawn(process.execPath, [bin, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  let out = '';
  const m = await new Promise((resolve, reject) => {
    const check = () => {
      const hit = re.exec(out) ?? re.exec(err);
      if (hit) resolve(hit);
    };
    child.stdout.on('data', (d) => {
      out += d;
      check();
    });
    child.stderr.on('data', (d) => {
      err += d;
      check();
    });
    child.on('exit', (code) => reject(new Error(`${bin} exited with ${code}: ${err}`)));
  });
  return { child, match: m, stderr: () => err };
}

/** utime + stime of a process, seconds (0 when it is gone). */
function cpuSeconds(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
  } catch {
    return 0;
  }
}

/** Starts a worker process running `count` light receivers. */
function startWorker({ signal, room, relay, count, staggerMs, peer }) {
  const args = [HERE, '--worker', '--signal', signal, '--room', room, '--count', String(count)];
  args.push('--peer', peer);
  if (relay) args.push('--relay', relay);
  args.push('--stagger', String(staggerMs));
  const child = spawn(process.execPath, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  let receiving = 0;
  let last;
  let err = '';
  const waiters = [];
  child.stderr.on('data', (d) => {
    err += d;
  });
  createInterface({ input: child.stdout }).on('line', (line) => {
    let m;
    try {
      m = JSON.parse(line);
    } catch {
      return;
    }
    if (m.type === 'progress') {
      receiving = m.receiving;
      last = m;
    } else if (m.type === 'report') waiters.shift()?.(m);
  });
  const exited = new Promise((r) => child.on('close', r));
  return {
    child,
    pid: child.pid,
    exited,
    stderr: () => err,
    receiving: () => receiving,
    progress: () => last,
    /** Starts the window: the worker resets its event-loop delay histogram. */
    mark() {
      child.stdin.write('mark\n');
    },
    /** Arrivals in [t0, t1] (wall clock, ms). */
    report(t0, t1) {
      return new Promise((resolve) => {
        waiters.push(resolve);
        child.stdin.write(`report ${t0} ${t1}\n`);
      });
    },
  };
}

/** One run: a sender, N light receivers in `workers` processes, direct or through a fresh Janus. */
export async function runOne({ mode, n, windowS, settleS = 2, setupLimitS, peer = PEER, progress }) {
  const room = `scale-${mode}-${n}`;
  const dir = mkdtempSync(join(tmpdir(), 'm4sc-scale-'));
  const statsFile = join(dir, 'stats.jsonl');
  let janus;
  if (mode === 'janus') {
    const { startJanus } = await import('../../scripts/janus/janus.mjs');
    janus = await startJanus();
  }
  const relay = janus?.relay(room);
  const signal = await spawnUntil(
    SIGNAL_BIN,
    ['--port', '0', '--max-peers', String(MAX_PEERS), '--quiet'],
    /(ws:\/\/\S+)/,
  );
  const url = signal.match[1];
  const sender = await spawnUntil(
    BIN.send,
    [
      ...[
        '--signal',
        url,
        '--quiet',
        '--source',
        'pattern',
        '--width',
        String(SIZE),
        '--height',
        String(SIZE),
      ],
      ...['--fps', String(FPS), '--adapt', 'off', '--room', room, '--stats-json', statsFile],
      ...['--peer', peer],
      ...(relay ? ['--relay', relay] : []),
    ],
    /m4sc-send: streaming/,
  ).catch(async (err) => {
    await stop(signal.child);
    throw err;
  });
  sender.url = url;
  const nWorkers = Number(process.env.M4SC_SCALE_WORKERS) || workersFor(n);
  const workers = [];
  for (let w = 0; w < nWorkers; w++) {
    const count = Math.floor(n / nWorkers) + (w < n % nWorkers ? 1 : 0);
    workers.push(startWorker({ signal: sender.url, room, relay, count, staggerMs: 40 * nWorkers, peer }));
  }
  const setupStart = Date.now();
  // A receiver whose link fails is not retried: after this the run goes on with those that are receiving.
  const setupLimitMs = (setupLimitS ?? 30 + n * 0.4) * 1000;
  const all = () => workers.reduce((a, w) => a + w.receiving(), 0);
  const subscribed = () => workers.reduce((a, w) => a + (w.progress()?.subscribed ?? 0), 0);
  // Through Janus, also wait until every receiver has its relay subscription up: until then the sender
  // still sends it the public stream on the direct link, which would count in the window.
  const ready = () => all() >= n && (mode !== 'janus' || subscribed() >= n);
  while (!ready() && Date.now() - setupStart < setupLimitMs) await sleep(250);
  const setupS = (Date.now() - setupStart) / 1000;
  progress(
    `${mode} N=${n}: ${all()}/${n} receiving after ${setupS.toFixed(1)} s (${workers.map((w) => JSON.stringify(w.progress())).join(' ')})`,
  );
  await sleep(settleS * 1000); // let the relay path settle (receivers switch from direct to relay)
  const pids = { sender: sender.child.pid, janus: janus?.pid, workers: workers.map((w) => w.pid) };
  const cpu0 = {
    sender: cpuSeconds(pids.sender),
    janus: janus ? cpuSeconds(pids.janus) : 0,
    workers: pids.workers.map(cpuSeconds),
  };
  for (const w of workers) w.mark();
  const t0 = Date.now();
  await sleep(windowS * 1000);
  const t1 = Date.now();
  const cpu1 = {
    sender: cpuSeconds(pids.sender),
    janus: janus ? cpuSeconds(pids.janus) : 0,
    workers: pids.workers.map(cpuSeconds),
  };
  const reports = await Promise.all(workers.map((w) => w.report(t0, t1)));
  for (const w of workers) w.child.kill('SIGTERM');
  await Promise.all(workers.map((w) => Promise.race([w.exited, sleep(5000)])));
  for (const w of workers) if (w.child.exitCode === null) w.child.kill('SIGKILL');
  await stop(sender.child);
  await stop(signal.child);
  await janus?.stop();

  const dt = (t1 - t0) / 1000;
  const lines = readStats(statsFile).filter((l) => l.timestampMs > t0 && l.timestampMs <= t1 + 500);
  // Direct: every link's application bytes (public for direct receivers, control for all); relay: its uplink.
  const linkBytesPerSec =
    lines.reduce((a, l) => a + l.receivers.reduce((b, r) => b + (r.sentBytesPerSec ?? 0), 0), 0) /
    Math.max(1, lines.length);
  const relayBytesPerSec =
    lines.length >= 2 && lines.at(-1).relay
      ? (lines.at(-1).relay.bytes - lines[0].relay.bytes) /
        ((lines.at(-1).timestampMs - lines[0].timestampMs) / 1000)
      : 0;
  const latencies = reports.flatMap((r) => r.latencies).sort((a, b) => a - b);
  const frames = reports.reduce((a, r) => a + r.frames, 0);
  const senderFps = lines.length ? lines.reduce((a, l) => a + l.fps, 0) / lines.length : 0;
  return {
    mode,
    receivers: n,
    receiving: all(),
    setupS: Math.round(setupS * 10) / 10,
    windowS: Math.round(dt * 10) / 10,
    senderFps: Math.round(senderFps * 10) / 10,
    uploadBytesPerSec: Math.round(linkBytesPerSec + relayBytesPerSec),
    relayUploadBytesPerSec: Math.round(relayBytesPerSec),
    senderCpuPct: Math.round(((cpu1.sender - cpu0.sender) / dt) * 1000) / 10,
    janusCpuPct: janus ? Math.round(((cpu1.janus - cpu0.janus) / dt) * 1000) / 10 : undefined,
    receiversCpuPct:
      Math.round((cpu1.workers.reduce((a, c, i) => a + c - cpu0.workers[i], 0) / dt) * 1000) / 10,
    delivered: Math.round((frames / Math.max(1, senderFps * dt * n)) * 1000) / 1000,
    latencyMs: { p50: pct(latencies, 50), p95: pct(latencies, 95), n: latencies.length },
    viaRelay: reports.reduce((a, r) => a + r.viaRelay, 0),
    peer,
    workers: nWorkers,
    // Event-loop delay of the worker processes over the window (perf_hooks, 10 ms resolution): arrival times
    // are taken in JS, so a worker's lag adds to every latency it records.
    workerLoopDelayMs: {
      p99: Math.max(...reports.map((r) => r.loopDelayMs.p99)),
      max: Math.max(...reports.map((r) => r.loopDelayMs.max)),
    },
  };
}

export async function run({ quick, progress }) {
  const { janusUnavailableReason } = await import('../../scripts/janus/janus.mjs');
  const why = janusUnavailableReason();
  const p = plan(quick);
  const { windowS, settleS, setupLimitS } = p;
  const results = { fps: FPS, size: SIZE, windowS, peer: PEER, plan: p, runs: [], skipped: why };
  for (const n of p.direct) {
    progress(`direct N=${n}`);
    results.runs.push(await runOne({ mode: 'direct', n, windowS, settleS, setupLimitS, progress }));
  }
  if (!why) {
    for (const n of p.janus) {
      progress(`janus N=${n}`);
      results.runs.push(await runOne({ mode: 'janus', n, windowS, settleS, setupLimitS, progress }));
    }
  } else progress(`janus runs skipped: ${why}`);
  const kb = (b) => (b / 1000).toFixed(1);
  const rows = results.runs.map((r) => [
    r.mode,
    r.receivers,
    `${r.receiving}/${r.receivers}`,
    r.senderFps.toFixed(1),
    kb(r.uploadBytesPerSec),
    r.mode === 'janus' ? kb(r.relayUploadBytesPerSec) : '–',
    r.senderCpuPct.toFixed(0),
    r.janusCpuPct === undefined ? '–' : r.janusCpuPct.toFixed(0),
    r.receiversCpuPct.toFixed(0),
    `${(r.delivered * 100).toFixed(0)}%`,
    ms(r.latencyMs.p50),
    ms(r.latencyMs.p95),
    `${r.workers} / ${ms(r.workerLoopDelayMs.p99)}`,
  ]);
  const at = results.runs.find((r) => r.mode === 'janus' && r.receivers === TARGET.receivers);
  const held = (r) => r.latencyMs.p95 <= DIRECT_GOAL.p95Ms && r.delivered > 0.9 && r.senderFps >= FPS * 0.95;
  const direct = results.runs.filter((r) => r.mode === 'direct');
  const largestHeld = direct.filter(held).at(-1);
  const directVerdict =
    `Direct goal (≥ ${DIRECT_GOAL.receivers} receivers at ${FPS} fps with p95 ≤ ${DIRECT_GOAL.p95Ms} ms, > 90% delivered):` +
    ` largest N held ${largestHeld ? largestHeld.receivers : 'none'}` +
    `${direct.some((r) => r.receivers >= DIRECT_GOAL.receivers) ? ` — ${largestHeld && largestHeld.receivers >= DIRECT_GOAL.receivers ? 'met' : 'not met'}` : ` (quick mode runs N ≤ ${Math.max(...direct.map((r) => r.receivers))})`}.`;
  const verdict = at
    ? `Target (${TARGET.receivers} receivers through Janus, p95 ≤ ${TARGET.p95Ms} ms): p95 ${ms(at.latencyMs.p95)} ms, ${(at.delivered * 100).toFixed(0)}% delivered — ${at.latencyMs.p95 <= TARGET.p95Ms && at.delivered > 0.9 ? 'met' : 'not met'}.`
    : `Target (${TARGET.receivers} receivers through Janus): not run${quick ? ' in quick mode' : ''}${why ? ` (${why})` : ''}.`;
  const markdown = [
    `Sender: \`m4sc-send --source pattern --width ${SIZE} --height ${SIZE} --fps ${FPS} --adapt off --peer ${PEER}\` (semantic codec, CPU),` +
      ` direct or with \`--relay\` to one Janus 1.1 VideoRoom in the relay namespace (scripts/janus). Receivers: light ${PEER}` +
      ` peers (receive and count, no decoding) in 1, 2 (N ≥ 16) or 4 (N ≥ 64) worker processes; in the Janus runs they keep a direct link for control.` +
      ` Window ${windowS} s after every receiver is receiving (through Janus: and subscribed). Upload = application bytes the sender hands to data channels` +
      ` (direct links, control included, plus the relay uplink; the rest of the Janus upload is the direct control links). CPU in % of one core. Latency = capture → reassembled at the receiver` +
      ' (same host clock; it includes the sender\'s encode). "workers / loop p99": worker processes and the worst p99 event-loop delay' +
      ' among them over the window, which is added to every arrival time they record.' +
      " Everything shares this machine's cores, so receiver CPU competes with the sender and Janus.",
    '',
    table(
      [
        'path',
        'N',
        'receiving',
        'sender fps',
        'upload kB/s',
        'of which relay uplink',
        'sender CPU %',
        'Janus CPU %',
        'receivers CPU %',
        'delivered',
        'p50 ms',
        'p95 ms',
        'workers / loop p99 ms',
      ],
      rows,
    ),
    '',
    directVerdict,
    '',
    verdict,
    ...(why ? ['', `Janus runs skipped: ${why}.`] : []),
  ].join('\n');
  return { results, markdown };
}

// ── worker: N light receivers in this process ────────────────────────────────────────────────────────
async function worker(argv) {
  const { parseArgs } = await import('node:util');
  const { values: v } = parseArgs({
    args: argv,
    options: {
      worker: { type: 'boolean' },
      signal: { type: 'string' },
      room: { type: 'string' },
      relay: { type: 'string' },
      count: { type: 'string' },
      stagger: { type: 'string' },
      peer: { type: 'string' },
    },
  });
  const { monitorEventLoopDelay } = await import('node:perf_hooks');
  const loopDelay = monitorEventLoopDelay({ resolution: 10 });
  loopDelay.enable();
  const { connectSignaling } = await import('@m4sc/signaling');
  const { createPeerLink } = await import('@m4sc/transport');
  const { createWeriftPeerConnection, createNodeDatachannelPeerConnection } = await import(
    '@m4sc/transport/node'
  );
  const ndc = v.peer === 'node-datachannel';
  const directPc = () =>
    ndc
      ? createNodeDatachannelPeerConnection({ mode: 'loopback' })
      : createWeriftPeerConnection({ mode: 'loopback' });
  const janus = v.relay ? await import('@m4sc/transport/janus') : undefined;
  const janusNode = v.relay ? await import('@m4sc/transport/janus/node') : undefined;
  const count = Number(v.count);
  let relayOptions;
  if (v.relay) {
    relayOptions = janusNode.relayNodeOptions(v.relay);
    if (ndc) {
      // The same, with a node-datachannel connection bound to the address that reaches Janus.
      const { host } = janus.parseRelayUrl(v.relay);
      const local = janusNode.localAddressFor(host);
      relayOptions = {
        ...relayOptions,
        createPeerConnection: () =>
          createNodeDatachannelPeerConnection({
            mode: 'network',
            ...(local ? { bindAddress: local.address } : {}),
          }),
      };
    }
  }
  /** Arrivals: [wall ms, latency ms, base frame?1:0, via relay?1:0]. */
  const arrivals = [];
  const peers = [];
  const receivingPeers = new Set();
  const isPublic = (s) => s === 'public' || s.startsWith('public.');

  async function lightPeer(index) {
    const client = await connectSignaling({
      url: v.signal,
      room: v.room,
      role: 'receiver',
      reconnect: false,
    });
    const seen = new Set();
    let link;
    let reported = false;
    const onSample = (s, viaRelay) => {
      if (!isPublic(s.stream)) return;
      const key = `${s.stream}|${s.seq}`;
      if (seen.has(key)) return;
      seen.add(key);
      if (seen.size > 256) seen.delete(seen.values().next().value);
      const now = Date.now();
      arrivals.push([now, now - s.captureTsMs, s.stream === 'public' ? 1 : 0, viaRelay ? 1 : 0]);
      receivingPeers.add(index);
    };
    client.events$.subscribe((ev) => {
      if (ev.type !== 'signal') return;
      if (ev.data.type === 'offer' || !link) {
        link?.close();
        const from = ev.from;
        link = createPeerLink({
          pc: directPc(),
          role: 'answerer',
          sendSignal: (d) => client.state === 'joined' && client.signal(from, d),
          opBudgetBytes: 128,
          ...(REPORT_MS ? { linkReportIntervalMs: REPORT_MS } : {}),
        });
        link.samples$.subscribe((s) => onSample(s, false));
        link.control$.subscribe((m) => {
          if (m && m.t === 'hello') {
            // As m4sc-recv: reports as often as the sender asks (500 ms here: the bench's sender runs --adapt off).
            if (!REPORT_MS && typeof m.reportMs === 'number') link.setLinkReportInterval(m.reportMs);
            link.sendControl({ t: 'instruction', id: 1, task: 'reconstruct' });
          }
        });
        link.connected.catch(() => {});
      }
      try {
        link.handleSignal(ev.data);
      } catch {}
    });
    let sub;
    if (janus) {
      sub = janus.createJanusSubscriber({ url: v.relay, ...relayOptions });
      sub.samples$.subscribe((s) => {
        onSample(s, true);
        if (!reported && link?.state === 'connected') reported = link.sendControl({ t: 'relay', up: true });
      });
    }
    peers.push({
      client,
      sub,
      link: () => link,
      close: () => {
        link?.close();
        sub?.close();
        client.close();
      },
    });
  }

  for (let i = 0; i < count; i++) {
    lightPeer(i).catch((err) => process.stderr.write(`peer ${i}: ${err?.message ?? err}\n`));
    await sleep(Number(v.stagger ?? 40));
  }
  const progressTimer = setInterval(() => {
    const linked = peers.filter((p) => p.link()?.state === 'connected').length;
    const subscribed = peers.filter((p) => p.sub?.state === 'up').length;
    process.stdout.write(
      `${JSON.stringify({ type: 'progress', receiving: receivingPeers.size, joined: peers.length, linked, subscribed })}\n`,
    );
    // Keep memory bounded: arrivals older than a minute are never asked for.
    const cut = Date.now() - 60_000;
    while (arrivals.length && arrivals[0][0] < cut) arrivals.shift();
  }, 250);
  createInterface({ input: process.stdin }).on('line', (line) => {
    const [cmd, a, b] = line.split(' ');
    if (cmd === 'mark') loopDelay.reset();
    if (cmd !== 'report') return;
    const t0 = Number(a);
    const t1 = Number(b);
    const inWindow = arrivals.filter((x) => x[0] >= t0 && x[0] <= t1);
    process.stdout.write(
      `${JSON.stringify({
        type: 'report',
        latencies: inWindow.map((x) => x[1]),
        frames: inWindow.filter((x) => x[2] === 1).length,
        viaRelay: inWindow.filter((x) => x[3] === 1).length,
        loopDelayMs: {
          p99: loopDelay.percentile(99) / 1e6,
          max: loopDelay.max / 1e6,
        },
      })}\n`,
    );
  });
  process.on('SIGTERM', () => {
    clearInterval(progressTimer);
    for (const p of peers) {
      try {
        p.close();
      } catch {}
    }
    setTimeout(() => process.exit(0), 300);
  });
}

if (
  process.argv[1] &&
  pathToFileURL(process.argv[1]).href === import.meta.url &&
  process.argv.includes('--worker')
) {
  worker(process.argv.slice(2)).catch((err) => {
    process.stderr.write(`scale worker: ${err?.stack ?? err}\n`);
    process.exit(1);
  });
}
