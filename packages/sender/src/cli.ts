#!/usr/bin/env node
import { createWriteStream } from 'node:fs';
import { parseArgs } from 'node:util';
import { createOperatingPoint, type OperatingPoint, type SemanticCodec } from '@m4sc/semantic-codec';
import {
  createLineLogger,
  createRoomToken,
  createSignalingServer,
  type SignalingServer,
} from '@m4sc/signaling';
import type { PeerConnectionLike } from '@m4sc/transport';
import { createLayeredJanusPublisher, parseRelayUrl, type RelayPublisher } from '@m4sc/transport/janus';
import { relayNodeOptions } from '@m4sc/transport/janus/node';
import { createPeerConnectionFactory, peerFactoryOptionsFromFlags } from '@m4sc/transport/node';
import { linkFiguresFromStats } from './adaptation.js';
import {
  DEFAULT_BUNDLE_DIR,
  DEFAULT_EMBEDDED_SIGNAL_PORT,
  DEFAULT_FPS,
  DEFAULT_HEIGHT,
  DEFAULT_ROOM,
  DEFAULT_WIDTH,
} from './defaults.js';
import { type Device, type DeviceChoice, DeviceError, loadCodecOnDevice } from './device.js';
import { autoImagePath } from './imagePath.js';
import type { AdaptationTraceEntry } from './linkAdaptation.js';
import { defaultPrivateOperatingPoint } from './operatingPoints.js';
import { createSender } from './sender.js';
import { createWordEditSharingPolicy, DEFAULT_SHARING_THRESHOLD } from './sharing.js';
import { openSource, parseSourceSpec } from './sources/index.js';

const HELP = `m4sc-send — stream semantic symbols of a source to every receiver of a room over WebRTC

Usage: m4sc-send [options]

Source and model:
  --source SPEC         synthetic (default: moving 32×32 scenes of coloured shapes, with ground truth)
                        pattern (a moving colour-bar test pattern)
                        images:DIR (PNG/JPEG/WebP/PGM/PPM files, looped)
                        y4m:FILE | y4m:- (YUV4MPEG2 file, or a pipe: ffmpeg … -f yuv4mpegpipe -)
                        camera[:DEVICE] (v4l2 through Debian's ffmpeg; default /dev/video0)
                        text:FILE | text:- (one sample per line)
  --codec KIND          semantic (default) | raw (plain RGB bytes: the transport check and pixel baseline)
  --bundle DIR          model bundle (default: the bundled models/default)
  --op NAME             operating point from the bundle (default: its first, q8-full)
  --private-op NAME     operating point of the private/shared streams (classify, caption, answer); default:
                        the bundle's cheapest at full rate (q4-full): captions hold on held-out scenes,
                        also at 20 % packet loss (0.96 exact; 0.85 at half rate; 0.89 clean at quarter rate)
  --rate N              symbols per token (overrides the operating point's rate)
  --bits N              bits per symbol, e.g. 8 or 4 (overrides the operating point's bits)
  --device KIND         cpu (default) | cuda | auto: where the sender runs the model (onnxruntime EP)
  --sharing MODE        on (default: identical or similar instructions are encoded once and shared)
                        | naive (encode and send everything per receiver: the baseline)
  --image-path P        images' public stream: auto (default) | code | learned. code: the bundle's public
                        image code (streams.image, a linear analog code with parity packets on a lossy
                        link: ~4 dB more PSNR on photos; frame sides must be multiples of its block, 16).
                        learned: the learned token path (far ahead on the synthetic scenes it was trained
                        on). auto: code for images:, y4m: and camera sources whose frame tiles into its
                        blocks, learned otherwise (docs/EVAL.md, docs/learned-image/EVAL.md)
  --image-code          the same as --image-path code
  --adapt on|off        adapt each receiver's operating point and public layers to its measured link
                        (default on; off keeps the --op point for everyone)
  --adapt-log FILE      append every receiver's link figures (as the policy sees them, every 500 ms) and,
                        with --adapt on, its decision, as one JSON line each to FILE
  --share-threshold X   similarity in (0, 1] above which instructions are shared (default ${DEFAULT_SHARING_THRESHOLD})
  --fps N               samples per second (default ${DEFAULT_FPS})
  --width N, --height N size image sources are scaled to (default ${DEFAULT_WIDTH}×${DEFAULT_HEIGHT}; synthetic is 32×32)

Network:
  --signal URL          signaling server (ws://host:port). Without it, an embedded server is
                        started on 127.0.0.1 and the command to join it is printed.
  --signal-port N       port of the embedded signaling server (default ${DEFAULT_EMBEDDED_SIGNAL_PORT}; 0 = any free port)
  --secret S            embedded server only: require HMAC room tokens; prints a receiver token
  --token T             room token for a signaling server that has a secret
  --room NAME           room to send to (default ${DEFAULT_ROOM})
  --ice-server URL      STUN/TURN server for real networks (repeatable); none on loopback
  --ice-username U      TURN username;  --ice-credential C  TURN password
  --ice-policy all|relay
                        relay: use TURN relays only, never a direct path (default all)
  --peer KIND           WebRTC implementation: werift (default, pure TypeScript) | node-datachannel
                        (libdatachannel, faster; see docs/BENCHMARKS.md); either talks to the other
  --network             offer every interface's address, for peers on other machines (default:
                        loopback only when the signaling server is on loopback)
  --relay janus://HOST:PORT/ROOM
                        publish the public stream once to a Janus VideoRoom; receivers started with
                        --relay subscribe there (private/shared streams and control stay direct).
                        Repeat it to cascade: further Janus instances are fed by the first one's own
                        forwarding, the upload stays one stream (docs/SCALE.md)

Other:
  --duration S          stop after S seconds (default: run until Ctrl-C or the source ends)
  --quiet               no live stats
  --stats-json FILE     append every stats emission as one JSON line to FILE (for benchmarks and the lab)
  --sample-log FILE     append {seq, to: [receiver ids]} for every sample sent (for loss accounting)
  -h, --help            this help

Live stats (stderr, once a second): fps, encode ms, bytes per sample public/private, and per receiver
its task, how it is served (public, shared, private), kbit/s, RTT and the receiver's decode latency.
Exit codes: 0 ok, 1 runtime error, 2 bad flags.`;

function fail(message: string): never {
  process.stderr.write(`m4sc-send: ${message}\nTry 'm4sc-send --help'.\n`);
  process.exit(2);
}

function num(
  name: string,
  value: string | undefined,
  fallback: number,
  check: (n: number) => boolean,
  what: string,
): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || !check(n))
    fail(`--${name} must be ${what}, got '${value}'`);
  return n;
}

/** A file that `--stats-json`, `--sample-log` and `--adapt-log` append one JSON value a line to. */
function jsonLines(path: string): { write(value: unknown): void; end(): void } {
  const file = createWriteStream(path, { flags: 'a' });
  return { write: (value) => void file.write(`${JSON.stringify(value)}\n`), end: () => void file.end() };
}

const OPTIONS = {
  signal: { type: 'string' },
  'signal-port': { type: 'string' },
  secret: { type: 'string' },
  token: { type: 'string' },
  room: { type: 'string' },
  source: { type: 'string' },
  codec: { type: 'string' },
  bundle: { type: 'string' },
  op: { type: 'string' },
  'private-op': { type: 'string' },
  rate: { type: 'string' },
  bits: { type: 'string' },
  device: { type: 'string' },
  sharing: { type: 'string' },
  adapt: { type: 'string' },
  'image-code': { type: 'boolean' },
  'image-path': { type: 'string' },
  'adapt-log': { type: 'string' },
  'share-threshold': { type: 'string' },
  fps: { type: 'string' },
  width: { type: 'string' },
  height: { type: 'string' },
  'ice-server': { type: 'string', multiple: true },
  'ice-username': { type: 'string' },
  'ice-credential': { type: 'string' },
  'ice-policy': { type: 'string' },
  network: { type: 'boolean' },
  peer: { type: 'string' },
  duration: { type: 'string' },
  quiet: { type: 'boolean' },
  'stats-json': { type: 'string' },
  'sample-log': { type: 'string' },
  relay: { type: 'string', multiple: true },
  help: { type: 'boolean', short: 'h' },
} as const;

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
  let spec: ReturnType<typeof parseSourceSpec>;
  try {
    spec = parseSourceSpec(v.source ?? 'synthetic');
  } catch (err) {
    fail((err as Error).message);
  }
  const codecKind = v.codec ?? 'semantic';
  if (codecKind !== 'semantic' && codecKind !== 'raw')
    fail(`--codec must be semantic or raw, got '${codecKind}'`);
  if (codecKind === 'raw' && spec.kind === 'text')
    fail('--codec raw streams images; text sources need --codec semantic');
  if (codecKind === 'raw' && (v.bundle || v.op || v['private-op'] || v.rate || v.bits || v.sharing)) {
    fail('--bundle, --op, --private-op, --rate, --bits and --sharing apply to --codec semantic only');
  }
  const device = v.device ?? 'cpu';
  if (!['cpu', 'cuda', 'auto'].includes(device)) fail(`--device must be cpu, cuda or auto, got '${device}'`);
  const sharingMode = v.sharing ?? 'on';
  if (sharingMode !== 'on' && sharingMode !== 'naive')
    fail(`--sharing must be on or naive, got '${sharingMode}'`);
  const adapt = v.adapt ?? 'on';
  if (adapt !== 'on' && adapt !== 'off') fail(`--adapt must be on or off, got '${adapt}'`);
  if (codecKind === 'raw' && v.adapt) fail('--adapt applies to --codec semantic only');
  if (codecKind === 'raw' && (v['image-code'] || v['image-path']))
    fail('--image-path and --image-code apply to --codec semantic only');
  if (v['image-code'] && v['image-path'] !== undefined && v['image-path'] !== 'code')
    fail(`--image-code is --image-path code; it contradicts --image-path ${v['image-path']}`);
  const imagePathOption = v['image-code'] ? 'code' : (v['image-path'] ?? 'auto');
  if (!['auto', 'code', 'learned'].includes(imagePathOption))
    fail(`--image-path must be auto, code or learned, got '${imagePathOption}'`);
  let publicImage: 'learned' | 'code' = 'learned';
  const threshold = num(
    'share-threshold',
    v['share-threshold'],
    DEFAULT_SHARING_THRESHOLD,
    (n) => n > 0 && n <= 1,
    'in (0, 1]',
  );
  if (v.signal && (v.secret || v['signal-port']))
    fail('--secret and --signal-port apply to the embedded server only; drop them or --signal');
  if (v.signal && !/^wss?:\/\//.test(v.signal))
    fail(`--signal must be a ws:// or wss:// URL, got '${v.signal}'`);
  const relayUrls = v.relay ?? [];
  for (const u of relayUrls) {
    try {
      parseRelayUrl(u);
    } catch (err) {
      fail(`--relay: ${(err as Error).message}`);
    }
  }
  const fps = num('fps', v.fps, DEFAULT_FPS, (n) => n > 0 && n <= 120, 'in (0, 120]');
  const isDim = (n: number) => Number.isInteger(n) && n >= 8 && n <= 2048 && n % 4 === 0;
  const width = num('width', v.width, DEFAULT_WIDTH, isDim, 'a multiple of 4 in 8..2048');
  const height = num('height', v.height, DEFAULT_HEIGHT, isDim, 'a multiple of 4 in 8..2048');
  const durationS = num('duration', v.duration, 0, (n) => n >= 0, 'a non-negative number');
  const rate =
    v.rate === undefined
      ? undefined
      : num('rate', v.rate, 0, (n) => Number.isInteger(n) && n >= 1, 'a positive integer');
  const bits =
    v.bits === undefined
      ? undefined
      : num('bits', v.bits, 0, (n) => Number.isInteger(n) && n >= 1 && n <= 32, 'an integer in 1..32');
  const room = v.room ?? DEFAULT_ROOM;
  const log = createLineLogger({ write: (l) => process.stderr.write(`${l}\n`), namespace: 'm4sc:send' });

  let codec: SemanticCodec | undefined;
  let op: OperatingPoint | undefined;
  let privateOp: OperatingPoint | undefined;
  if (codecKind === 'semantic') {
    const bundleDir = v.bundle ?? DEFAULT_BUNDLE_DIR;
    let choice: DeviceChoice;
    try {
      choice = await loadCodecOnDevice(device as Device, bundleDir);
    } catch (err) {
      if (err instanceof DeviceError) throw err;
      throw new Error(`cannot load the model bundle ${bundleDir}: ${(err as Error).message}`);
    }
    codec = choice.codec;
    process.stderr.write(
      `m4sc-send: execution provider ${choice.provider} for every stage a sender runs (${codec.bundle.loaded.join(', ')}); ${choice.reason}\n`,
    );
    try {
      const base = codec.operatingPoint(v.op ?? codec.operatingPoints[0]!.name);
      op =
        rate === undefined && bits === undefined
          ? base
          : createOperatingPoint(
              { name: `${base.name}+custom`, rateSymbols: rate ?? base.rateSymbols, bits: bits ?? base.bits },
              { C: codec.manifest.dims.C },
            );
    } catch (err) {
      fail((err as Error).message);
    }
    try {
      privateOp = v['private-op']
        ? codec.operatingPoint(v['private-op'])
        : defaultPrivateOperatingPoint(codec.operatingPoints);
    } catch (err) {
      fail((err as Error).message);
    }
    process.stderr.write(
      `m4sc-send: bundle ${codec.manifest.name} ${codec.manifest.version}; operating point ${op.name} (rate ${op.rateSymbols} symbols/token, ${op.bits} bits); private streams ${privateOp!.name}\n`,
    );
    // The public image code (streams.image) codes whole blocks: the frame size must tile into them.
    const block = codec.bundle.imageStream()?.code.block;
    let why = '';
    if (imagePathOption === 'code') {
      if (block === undefined) {
        await codec.close();
        fail(`--image-path code: bundle ${codec.manifest.name} has no public image code (streams.image)`);
      }
      if (spec.kind !== 'text' && (width % block !== 0 || height % block !== 0)) {
        await codec.close();
        fail(
          `--image-path code codes ${block}-pixel blocks: --width and --height must be multiples of ${block}, got ${width}×${height}`,
        );
      }
      publicImage = 'code';
    } else if (imagePathOption === 'auto') {
      const auto = autoImagePath(spec.kind, block, width, height);
      publicImage = auto.path;
      why = ` (auto: ${auto.reason})`;
    }
    if (spec.kind !== 'text') {
      process.stderr.write(
        `m4sc-send: images' public stream: ${publicImage === 'code' ? 'the public image code' : 'the learned token path'}${why}\n`,
      );
    }
  }

  const source = openSource(spec, { width, height }, fps);

  let embedded: SignalingServer | undefined;
  let signalUrl = v.signal;
  let token = v.token;
  if (!signalUrl) {
    const port = num(
      'signal-port',
      v['signal-port'],
      DEFAULT_EMBEDDED_SIGNAL_PORT,
      (n) => Number.isInteger(n) && n >= 0 && n < 65536,
      'a port number',
    );
    embedded = await createSignalingServer({
      host: '127.0.0.1',
      port,
      ...(v.secret ? { secret: v.secret } : {}),
      logger: createLineLogger({ write: (l) => process.stderr.write(`${l}\n`), level: 'warn' }),
    });
    signalUrl = embedded.url;
    const task = source.modality === 'text' ? 'transmit' : 'reconstruct';
    let join = `npx m4sc-recv --signal ${signalUrl} --room ${room} --task ${task}${task === 'reconstruct' ? ' --out frames/' : ''}`;
    if (v.secret) {
      token = createRoomToken({ secret: v.secret, room, role: 'sender', ttlMs: 24 * 3600_000 });
      join += ` --token ${createRoomToken({ secret: v.secret, room, role: 'receiver', ttlMs: 24 * 3600_000 })}`;
    }
    process.stdout.write(`signaling server listening on ${signalUrl}\njoin with:\n  ${join}\n`);
  }

  let createPeerConnection: () => PeerConnectionLike;
  try {
    createPeerConnection = createPeerConnectionFactory(peerFactoryOptionsFromFlags(signalUrl, v));
  } catch (err) {
    fail((err as Error).message);
  }

  let relay: RelayPublisher | undefined;
  if (relayUrls.length > 0) {
    relay = createLayeredJanusPublisher({
      url: relayUrls[0]!,
      cascade: relayUrls.slice(1),
      ...relayNodeOptions(relayUrls[0]!),
      logger: log,
    });
  }
  const sender = await createSender({
    signalUrl,
    room,
    ...(token ? { token } : {}),
    source,
    fps,
    ...(codec ? { codec } : {}),
    ...(publicImage === 'code' ? { publicImage } : {}),
    ...(op ? { op } : {}),
    ...(privateOp ? { privateOp } : {}),
    sharing: sharingMode === 'naive' ? 'naive' : createWordEditSharingPolicy(threshold),
    ...(adapt === 'off' ? { adaptation: false as const } : {}),
    ...(v['adapt-log']
      ? (() => {
          const out = jsonLines(v['adapt-log']);
          return { adaptationTrace: (e: AdaptationTraceEntry) => out.write({ wallMs: Date.now(), ...e }) };
        })()
      : {}),
    ...(v['sample-log']
      ? (() => {
          const out = jsonLines(v['sample-log']);
          return { onSampleSent: (seq: number, to: readonly string[]) => out.write({ seq, to }) };
        })()
      : {}),
    createPeerConnection,
    ...(relay ? { relay } : {}),
    logger: log,
  });
  process.stderr.write(
    `m4sc-send: streaming '${source.description}' (${codecKind}) at ${fps} fps to room '${room}'\n`,
  );

  if (v['stats-json']) {
    const out = jsonLines(v['stats-json']);
    sender.stats$.subscribe({
      next: (s) =>
        out.write({
          wallMs: Date.now(),
          ...s,
          receivers: s.receivers.map(({ link, ...r }) => ({
            ...r,
            rttMs: link?.rttMs,
            sentBytesPerSec: link?.sentBytesPerSec,
            sendDroppedSamples: link?.sendDroppedSamples,
            ...(link ? { figures: linkFiguresFromStats(link) } : {}),
          })),
          ...(relay ? { relay: relay.stats() } : {}),
        }),
      complete: () => out.end(),
    });
  }
  if (!v.quiet) {
    sender.stats$.subscribe((s) => {
      const lines = [
        `send fps=${s.fps.toFixed(1)} encode p50=${s.encodeMsP50.toFixed(1)}ms p95=${s.encodeMsP95.toFixed(1)}ms bytes/sample public=${s.publicBytesPerSample} private=${s.privateBytesPerSample} encodes public=${s.publicEncodes} private=${s.privateEncodes} skipped=${s.skipped} receivers=${s.receivers.length}`,
      ];
      for (const r of s.receivers) {
        const kbps = r.link ? ((r.link.sentBytesPerSec * 8) / 1000).toFixed(1) : '-';
        const rtt = r.link?.rttMs !== undefined ? `${r.link.rttMs.toFixed(1)}ms` : '-';
        const lat = r.decode
          ? `${r.decode.latencyMsP50.toFixed(0)}/${r.decode.latencyMsP95.toFixed(0)}ms`
          : '-';
        lines.push(
          `  ${r.peerId} ${r.state} task=${JSON.stringify(r.task ?? '-')} via=${r.stream?.split('|')[0] ?? '-'} kbit/s=${kbps} rtt=${rtt} latency p50/p95=${lat}${r.pauseSkipped ? ` paused-skips=${r.pauseSkipped}` : ''}${r.op ? ` op=${r.op.name}${r.op.lossRate > 0 ? ` l=${Math.round(r.op.lossRate * 100)}%` : ''} layers=${r.op.publicLayers} (${r.op.reason})` : ''}`,
        );
      }
      process.stderr.write(`${lines.join('\n')}\n`);
    });
  }

  let stopping = false;
  const stop = async (code: number) => {
    if (stopping) return;
    stopping = true;
    await sender.close();
    await codec?.close();
    await embedded?.close();
    process.exit(code);
  };
  process.on('SIGINT', () => void stop(0));
  process.on('SIGTERM', () => void stop(0));
  if (durationS > 0) setTimeout(() => void stop(0), durationS * 1000);
  sender.ended.then((err) => {
    if (stopping) return;
    if (err) {
      process.stderr.write(`m4sc-send: ${err.message}\n`);
      void stop(1);
    } else {
      process.stderr.write('m4sc-send: the source ended\n');
      // Let the last samples drain before closing the peers.
      setTimeout(() => void stop(0), 500);
    }
  });
}

main().catch((err: unknown) => {
  process.stderr.write(`m4sc-send: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
