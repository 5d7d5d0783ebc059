#!/usr/bin/env node
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createLineLogger } from '@m4sc/signaling';
import type { LinkStats } from '@m4sc/transport';
import { createWeriftPeerConnection } from '@m4sc/transport/node';
import sharp from 'sharp';
import { createReceiver } from './receiver.js';

const HELP = `m4sc-recv — join a room and receive what its sender streams

Usage: m4sc-recv --signal URL [options]

Options:
  --signal URL          signaling server (ws://host:port), as printed by m4sc-send (required)
  --room NAME           room to join (default demo)
  --token T             room token, when the signaling server has a secret
  --out DIR             write each received frame as DIR/frame-<seq>.png
  --log FILE            append one JSON line per received frame to FILE ('-' = stdout)
  --ice-server URL      STUN/TURN server for real networks (repeatable); none on loopback
  --ice-username U      TURN username;  --ice-credential C  TURN password
  --network             offer every interface's address, for peers on other machines (default:
                        loopback only when the signaling server is on loopback)
  --quiet               no live stats line
  -h, --help            this help

Live stats (stderr, once a second): fps, kbit/s, RTT, loss, latency p50/p95.
Exit codes: 0 ok, 1 runtime error, 2 bad flags.`;

function fail(message: string): never {
  process.stderr.write(`m4sc-recv: ${message}\nTry 'm4sc-recv --help'.\n`);
  process.exit(2);
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

function isLoopbackUrl(url: string): boolean {
  try {
    const host = new URL(url).hostname;
    return host === 'localhost' || host.startsWith('127.') || host === '[::1]';
  } catch {
    return false;
  }
}

async function main(): Promise<void> {
  let values: Record<string, string | boolean | string[] | undefined>;
  try {
    values = parseArgs({
      options: {
        signal: { type: 'string' },
        room: { type: 'string' },
        token: { type: 'string' },
        out: { type: 'string' },
        log: { type: 'string' },
        'ice-server': { type: 'string', multiple: true },
        'ice-username': { type: 'string' },
        'ice-credential': { type: 'string' },
        network: { type: 'boolean' },
        duration: { type: 'string' },
        quiet: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (err) {
    fail((err as Error).message);
  }
  if (values.help) {
    process.stdout.write(`${HELP}\n`);
    return;
  }
  const signalUrl = values.signal as string | undefined;
  if (!signalUrl) fail('--signal URL is required (m4sc-send prints it)');
  if (!/^wss?:\/\//.test(signalUrl)) fail(`--signal must be a ws:// or wss:// URL, got '${signalUrl}'`);
  const durationS = values.duration === undefined ? 0 : Number(values.duration);
  if (!Number.isFinite(durationS) || durationS < 0)
    fail(`--duration must be a non-negative number, got '${values.duration}'`);
  const room = (values.room as string | undefined) ?? 'demo';
  const outDir = values.out as string | undefined;
  if (outDir) mkdirSync(outDir, { recursive: true });
  const logPath = values.log as string | undefined;
  const { createWriteStream } = await import('node:fs');
  const logStream =
    logPath === '-' ? process.stdout : logPath ? createWriteStream(logPath, { flags: 'a' }) : undefined;

  const loopback = isLoopbackUrl(signalUrl);
  const iceServers = ((values['ice-server'] as string[] | undefined) ?? []).map((urls) => ({
    urls,
    ...(values['ice-username'] ? { username: values['ice-username'] as string } : {}),
    ...(values['ice-credential'] ? { credential: values['ice-credential'] as string } : {}),
  }));
  const mode = !values.network && loopback && iceServers.length === 0 ? 'loopback' : 'network';
  const log = createLineLogger({ write: (l) => process.stderr.write(`${l}\n`), namespace: 'm4sc:recv' });

  const receiver = await createReceiver({
    signalUrl,
    room,
    ...(values.token ? { token: values.token as string } : {}),
    createPeerConnection: () =>
      createWeriftPeerConnection(mode === 'loopback' ? { mode } : { mode, iceServers }),
    logger: log,
  });
  process.stderr.write(`m4sc-recv: joined room '${room}' as ${receiver.peerId}\n`);

  let frames = 0;
  let written = 0;
  let writeErrors = 0;
  let ages: number[] = [];
  let lastStats: LinkStats | undefined;
  receiver.frames$.subscribe((f) => {
    frames++;
    ages.push(f.ageMs);
    logStream?.write(
      `${JSON.stringify({ seq: f.seq, captureTsMs: f.captureTsMs, ageMs: Math.round(f.ageMs * 10) / 10, bytes: f.data.byteLength, lostPackets: f.lostPackets, packets: f.packetCount })}\n`,
    );
    if (outDir) {
      sharp(f.data, { raw: { width: f.width, height: f.height, channels: 3 } })
        .png()
        .toFile(join(outDir, `frame-${String(f.seq).padStart(6, '0')}.png`))
        .then(
          () => {
            written++;
          },
          (err: unknown) => {
            if (writeErrors++ === 0) log.error('cannot write frame', { error: String(err) });
          },
        );
    }
  });
  receiver.stats$.subscribe((s) => {
    lastStats = s;
  });
  let lastFrames = 0;
  let lastT = Date.now();
  const statsTimer = values.quiet
    ? undefined
    : setInterval(() => {
        const now = Date.now();
        const fps = ((frames - lastFrames) * 1000) / Math.max(1, now - lastT);
        const sorted = [...ages].sort((a, b) => a - b);
        const kbps = lastStats ? ((lastStats.receivedBytesPerSec * 8) / 1000).toFixed(0) : '-';
        const rtt = lastStats?.rttMs !== undefined ? lastStats.rttMs.toFixed(1) : '-';
        const loss = lastStats?.channels.public.lossRate;
        process.stderr.write(
          `recv fps=${fps.toFixed(1)} kbit/s=${kbps} rtt=${rtt}ms loss=${loss === undefined ? '-' : `${(loss * 100).toFixed(1)}%`} latency p50=${percentile(sorted, 50).toFixed(1)}ms p95=${percentile(sorted, 95).toFixed(1)}ms frames=${frames}${outDir ? ` written=${written}` : ''}\n`,
        );
        lastFrames = frames;
        lastT = now;
        ages = [];
      }, 1000);

  let stopping = false;
  const stop = async (code: number) => {
    if (stopping) return;
    stopping = true;
    if (statsTimer) clearInterval(statsTimer);
    await receiver.close();
    // Let pending PNG writes finish.
    await new Promise((r) => setTimeout(r, 100));
    if (logStream && logStream !== process.stdout) (logStream as NodeJS.WritableStream).end();
    process.stderr.write(
      `m4sc-recv: ${frames} frames received${outDir ? `, ${written} written to ${outDir}` : ''}\n`,
    );
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
