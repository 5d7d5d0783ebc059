#!/usr/bin/env node
import { createWriteStream, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { SemanticCodec } from '@m4sc/semantic-codec';
import { createNodeSemanticCodec } from '@m4sc/semantic-codec/node';
import { createLineLogger } from '@m4sc/signaling';
import type { PeerConnectionLike } from '@m4sc/transport';
import { type LinkStats, percentile } from '@m4sc/transport';
import { createLayeredJanusSubscriber, parseRelayUrl } from '@m4sc/transport/janus';
import { relayNodeOptions } from '@m4sc/transport/janus/node';
import { createPeerConnectionFactory, peerFactoryOptionsFromFlags } from '@m4sc/transport/node';
import sharp from 'sharp';
import { createReceiver, type ReceiverInstruction } from './receiver.js';
import { runWebCommand, WEB_INCOMPATIBLE_FLAGS } from './web/command.js';
import { createY4mWriter, type Y4mWriter } from './y4mWriter.js';

const DEFAULT_BUNDLE_DIR = fileURLToPath(new URL('../../../models/default', import.meta.url));
const TASKS = ['reconstruct', 'classify', 'caption', 'answer', 'transmit'];

const HELP = `m4sc-recv — join a room and decode what its sender streams, for one task

Usage: m4sc-recv --signal URL [options]

Task:
  --task TASK           reconstruct (default) | classify | caption | answer | transmit
  --query "…"           the question, for --task answer (e.g. "what colour is the circle ?")
  --bundle DIR          model bundle, the same as the sender's (default: the bundled models/default)
  --interactive         read "TASK [QUERY]" lines on stdin and switch task live

Output:
  --out PATH            reconstructed frames: PATH/frame-<seq>.png, or one Y4M file if PATH ends in .y4m
  --log FILE            write the JSON result lines to FILE instead of stdout
                        Each line: {seq, task, result?, file?, latencyMs, arrivalAgeMs, decodeMs, lostPackets, recoveredPackets, packets, stream}

Network:
  --signal URL          signaling server (ws://host:port), as printed by m4sc-send (required)
  --room NAME           room to join (default demo)
  --token T             room token, when the signaling server has a secret
  --ice-server URL      STUN/TURN server for real networks (repeatable); none on loopback
  --ice-username U      TURN username;  --ice-credential C  TURN password
  --ice-policy all|relay
                        relay: use TURN relays only, never a direct path (default all)
  --peer KIND           WebRTC implementation: werift (default, pure TypeScript) | node-datachannel
                        (libdatachannel, faster; see docs/BENCHMARKS.md); either talks to the other
  --network             offer every interface's address, for peers on other machines (default:
                        loopback only when the signaling server is on loopback)
  --relay janus://HOST:PORT/ROOM
                        take the public stream from the sender's Janus relay (the same URL as
                        m4sc-send --relay, or a Janus it cascades to); control and private/shared
                        results stay direct; falls back to direct when the relay fails (docs/SCALE.md)

Impairment (in-process, for demos and tests; the network lab impairs real links):
  --impair-loss PCT     drop this percentage of incoming public/private packets at random (seeded)
  --impair-delay MS     delay each incoming public/private packet by MS milliseconds
  --impair-seed N       seed of the impairment's random draws (default 1)

Browser:
  --web                 serve the browser receiver page instead (onnxruntime-web, the browser's WebRTC);
                        --signal, --room, --token, --task, --query, --bundle become the page's defaults
  --port P              its HTTP port (default 8790; 0 = any free port)
  --host H              its interface (default 127.0.0.1; 0.0.0.0 serves other machines)

Other:
  --duration S          stop after S seconds (default: run until Ctrl-C)
  --quiet               no live stats
  -h, --help            this help

Live stats (stderr, once a second): fps, kbit/s, RTT, loss, latency p50/p95, decode time.
Exit codes: 0 ok, 1 runtime error, 2 bad flags.`;

function fail(message: string): never {
  process.stderr.write(`m4sc-recv: ${message}\nTry 'm4sc-recv --help'.\n`);
  process.exit(2);
}

const OPTIONS = {
  signal: { type: 'string' },
  room: { type: 'string' },
  token: { type: 'string' },
  task: { type: 'string' },
  query: { type: 'string' },
  bundle: { type: 'string' },
  interactive: { type: 'boolean' },
  out: { type: 'string' },
  log: { type: 'string' },
  'ice-server': { type: 'string', multiple: true },
  'ice-username': { type: 'string' },
  'ice-credential': { type: 'string' },
  'ice-policy': { type: 'string' },
  network: { type: 'boolean' },
  peer: { type: 'string' },
  relay: { type: 'string' },
  'impair-loss': { type: 'string' },
  'impair-delay': { type: 'string' },
  'impair-seed': { type: 'string' },
  duration: { type: 'string' },
  quiet: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  web: { type: 'boolean' },
  port: { type: 'string' },
  host: { type: 'string' },
} as const;

function parseTaskLine(line: string): ReceiverInstruction | undefined {
  const m = /^\s*(\S+)\s*(.*)$/.exec(line);
  if (!m || !TASKS.includes(m[1]!)) return undefined;
  return { task: m[1]!, ...(m[2] ? { query: m[2] } : {}) };
}

async function main(): Promise<void> {
  let v: ReturnType<typeof parseArgs<{ options: typeof OPTIONS; strict: true }>>['values'];
  try {
    v = parseArgs({ options: OPTIONS, strict: true, allowPositionals: false }).values;
  } catch (err) {
    fail((err as Error).message);
  }
  if (v.help) {
    process.stdout.write(`${HELP}\n`);
    return;
  }
  if (v.web) {
    if (v.relay !== undefined) fail('--relay applies to the Node receiver, not --web');
    for (const f of WEB_INCOMPATIBLE_FLAGS)
      if (v[f as keyof typeof v] !== undefined)
        fail(`--${f} does not apply to --web (the page decodes in the browser)`);
    if (v.task !== undefined && !TASKS.includes(v.task))
      fail(`unknown --task '${v.task}' (${TASKS.join(', ')})`);
    return runWebCommand(v, fail);
  }
  if (v.port !== undefined || v.host !== undefined) fail('--port and --host apply to --web only');
  const signalUrl = v.signal;
  if (!signalUrl) fail('--signal URL is required (m4sc-send prints it)');
  if (!/^wss?:\/\//.test(signalUrl)) fail(`--signal must be a ws:// or wss:// URL, got '${signalUrl}'`);
  if (v.relay !== undefined) {
    try {
      parseRelayUrl(v.relay);
    } catch (err) {
      fail(`--relay: ${(err as Error).message}`);
    }
  }
  const durationS = v.duration === undefined ? 0 : Number(v.duration);
  if (!Number.isFinite(durationS) || durationS < 0)
    fail(`--duration must be a non-negative number, got '${v.duration}'`);
  const task = v.task ?? 'reconstruct';
  if (!TASKS.includes(task)) fail(`unknown --task '${task}' (${TASKS.join(', ')})`);
  if (task === 'answer' && !v.query) fail('--task answer needs --query "…"');
  if (task !== 'answer' && v.query) fail(`--query applies to --task answer only, not '${task}'`);
  const impairLoss = v['impair-loss'] === undefined ? 0 : Number(v['impair-loss']);
  if (!(impairLoss >= 0 && impairLoss <= 100))
    fail(`--impair-loss must be a percentage in 0..100, got '${v['impair-loss']}'`);
  const impairSeed = v['impair-seed'] === undefined ? 1 : Number(v['impair-seed']);
  if (!Number.isInteger(impairSeed) || impairSeed < 0)
    fail(`--impair-seed must be a non-negative integer, got '${v['impair-seed']}'`);
  const impairDelay = v['impair-delay'] === undefined ? 0 : Number(v['impair-delay']);
  if (!(impairDelay >= 0 && impairDelay <= 10_000))
    fail(`--impair-delay must be 0..10000 ms, got '${v['impair-delay']}'`);
  const room = v.room ?? 'demo';
  const log = createLineLogger({ write: (l) => process.stderr.write(`${l}\n`), namespace: 'm4sc:recv' });

  let codec: SemanticCodec;
  const bundleDir = v.bundle ?? DEFAULT_BUNDLE_DIR;
  try {
    codec = await createNodeSemanticCodec({ bundleDir, executionProviders: ['cpu'], role: 'receiver' });
    codec.parseInstruction({ task, ...(v.query ? { query: v.query } : {}) });
  } catch (err) {
    if ((err as Error).name === 'BundleError')
      throw new Error(`cannot load the model bundle ${bundleDir}: ${(err as Error).message}`);
    fail((err as Error).message);
  }

  const out = v.out;
  let y4m: Y4mWriter | undefined;
  if (out?.endsWith('.y4m')) y4m = createY4mWriter(out, 15);
  else if (out) mkdirSync(out, { recursive: true });
  const results = v.log ? createWriteStream(v.log, { flags: 'a' }) : process.stdout;

  let createPeerConnection: () => PeerConnectionLike;
  try {
    createPeerConnection = createPeerConnectionFactory(peerFactoryOptionsFromFlags(signalUrl, v));
  } catch (err) {
    fail((err as Error).message);
  }

  const relay = v.relay
    ? createLayeredJanusSubscriber({ url: v.relay, ...relayNodeOptions(v.relay), logger: log })
    : undefined;
  const receiver = await createReceiver({
    signalUrl,
    room,
    ...(v.token ? { token: v.token } : {}),
    codec,
    instruction: { task, ...(v.query ? { query: v.query } : {}) },
    ...(impairLoss || impairDelay
      ? { faults: { lossPct: impairLoss, delayMs: impairDelay, seed: impairSeed } }
      : {}),
    createPeerConnection,
    ...(relay ? { relay } : {}),
    logger: log,
  });
  process.stderr.write(
    `m4sc-recv: joined room '${room}' as ${receiver.peerId}, task ${task}${v.query ? ` "${v.query}"` : ''}\n`,
  );

  receiver.events$.subscribe((ev) => {
    if (ev.type === 'hello')
      process.stderr.write(
        `m4sc-recv: sender streams ${ev.hello.source} (${ev.hello.codec}, ${ev.hello.modality}) at ${ev.hello.fps} fps\n`,
      );
    else if (ev.type === 'served') {
      const how = ev.serve.stream.startsWith('shared:')
        ? `shared with ${ev.serve.members - 1} other receiver(s)`
        : ev.serve.stream.split(':')[0];
      process.stderr.write(`m4sc-recv: served on the ${how} stream\n`);
    } else if (ev.type === 'refused')
      process.stderr.write(`m4sc-recv: the sender refused: ${ev.message} (${ev.code})\n`);
    else if (ev.type === 'sender-left')
      process.stderr.write(`m4sc-recv: the sender left (${ev.reason}); waiting for it to come back\n`);
    else if (ev.type === 'link-lost')
      process.stderr.write(
        'm4sc-recv: nothing from the sender any more (path change?); waiting for its ICE restart\n',
      );
    else if (ev.type === 'link-restored')
      process.stderr.write(`m4sc-recv: link to the sender restored by ICE restart after ${ev.afterMs} ms\n`);
  });

  let count = 0;
  let written = 0;
  let writeErrors = 0;
  let latencies: number[] = [];
  let decodes: number[] = [];
  let lastStats: LinkStats | undefined;
  receiver.results$.subscribe((r) => {
    count++;
    latencies.push(r.latencyMs);
    decodes.push(r.decodeMs);
    let file: string | undefined;
    if (r.image && y4m) {
      try {
        y4m.write(r.image);
        written++;
      } catch (err) {
        if (writeErrors++ === 0) log.error('cannot write frame', { error: (err as Error).message });
      }
    } else if (r.image && out) {
      file = join(out, `frame-${String(r.seq).padStart(6, '0')}.png`);
      sharp(r.image.data, { raw: { width: r.image.width, height: r.image.height, channels: 3 } })
        .png()
        .toFile(file)
        .then(
          () => {
            written++;
          },
          (err: unknown) => {
            if (writeErrors++ === 0) log.error('cannot write frame', { error: String(err) });
          },
        );
    }
    results.write(
      `${JSON.stringify({
        seq: r.seq,
        task: r.task,
        ...(r.text !== undefined ? { result: r.text } : {}),
        ...(file ? { file } : {}),
        latencyMs: Math.round(r.latencyMs * 10) / 10,
        arrivalAgeMs: Math.round(r.arrivalAgeMs * 10) / 10,
        decodeMs: Math.round(r.decodeMs * 10) / 10,
        lostPackets: r.lostPackets,
        recoveredPackets: r.recoveredPackets,
        packets: r.packets,
        stream: r.stream,
      })}\n`,
    );
  });
  receiver.stats$.subscribe((s) => {
    lastStats = s;
  });

  if (v.interactive) {
    process.stderr.write(
      'm4sc-recv: type "TASK [QUERY]" to switch, e.g. "answer how many shapes are there ?"\n',
    );
    createInterface({ input: process.stdin }).on('line', (line) => {
      const next = parseTaskLine(line);
      if (!next) {
        process.stderr.write(`m4sc-recv: not a task line: '${line}' (${TASKS.join(', ')} [query])\n`);
        return;
      }
      receiver.setInstruction(next);
    });
  }

  let lastCount = 0;
  let lastT = Date.now();
  const statsTimer = v.quiet
    ? undefined
    : setInterval(() => {
        const now = Date.now();
        const fps = ((count - lastCount) * 1000) / Math.max(1, now - lastT);
        const lat = [...latencies].sort((a, b) => a - b);
        const dec = [...decodes].sort((a, b) => a - b);
        const kbps = lastStats ? ((lastStats.receivedBytesPerSec * 8) / 1000).toFixed(1) : '-';
        const rtt = lastStats?.rttMs !== undefined ? lastStats.rttMs.toFixed(1) : '-';
        const lossPub = lastStats?.channels.public.lossRate;
        const lossPriv = lastStats?.channels.private.lossRate;
        const loss = lossPub ?? lossPriv;
        const f = (x: number) => (Number.isNaN(x) ? '-' : x.toFixed(1));
        process.stderr.write(
          `recv fps=${fps.toFixed(1)} kbit/s=${kbps} rtt=${rtt}ms loss=${loss === undefined ? '-' : `${(loss * 100).toFixed(1)}%`} latency p50=${f(percentile(lat, 50))}ms p95=${f(percentile(lat, 95))}ms decode p50=${f(percentile(dec, 50))}ms results=${count}${out ? ` written=${written}` : ''}\n`,
        );
        lastCount = count;
        lastT = now;
        latencies = [];
        decodes = [];
      }, 1000);

  let stopping = false;
  const stop = async (code: number) => {
    if (stopping) return;
    stopping = true;
    if (statsTimer) clearInterval(statsTimer);
    const faultLostSeqs = receiver.faultLostSeqs();
    const staleSeqs = receiver.staleSeqs();
    const rs = relay?.stats();
    const relayFigures = rs && { packetsExpected: rs.packetsExpected, lostPackets: rs.lostPackets };
    await receiver.close();
    await new Promise((r) => setTimeout(r, 100)); // pending PNG writes
    await y4m?.close();
    if (results !== process.stdout)
      await new Promise<void>((r) => (results as NodeJS.WritableStream).end(() => r()));
    await codec.close();
    process.stderr.write(
      `m4sc-recv: ${count} results${out ? `, ${written} frames written to ${out}` : ''}\n`,
    );
    // One machine-readable line for soak tests and scripts: what was decoded, dropped, lost to --impair-*, the
    // samples the link dropped packets of for their age (older than 1 s on arrival), the current link's packet
    // figures (packets missing from the numbering, those --impair-* dropped among them, and stale packets), and
    // (with --relay) the packets the relay path lost, samples lost whole included.
    const summary = {
      results: count,
      dropped: receiver.dropped,
      faultLostSeqs,
      staleSeqs,
      ...(lastStats
        ? {
            link: {
              missingPackets: lastStats.channels.public.lostPackets + lastStats.channels.private.lostPackets,
              faultDroppedPackets: lastStats.faultDrops.packets,
              stalePackets: lastStats.drops.stale,
            },
          }
        : {}),
      ...(relayFigures ? { relay: relayFigures } : {}),
    };
    process.stderr.write(`m4sc-recv: summary ${JSON.stringify(summary)}\n`);
    process.exit(code);
  };
  process.on('SIGINT', () => void stop(0));
  process.on('SIGTERM', () => void stop(0));
  if (durationS > 0) setTimeout(() => void stop(0), durationS * 1000);
}

main().catch((err: unknown) => {
  process.stderr.write(`m4sc-recv: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
