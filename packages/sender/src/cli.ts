#!/usr/bin/env node
import { parseArgs } from 'node:util';
import {
  createLineLogger,
  createRoomToken,
  createSignalingServer,
  type SignalingServer,
} from '@m4sc/signaling';
import { createWeriftPeerConnection } from '@m4sc/transport/node';
import {
  DEFAULT_EMBEDDED_SIGNAL_PORT,
  DEFAULT_FPS,
  DEFAULT_HEIGHT,
  DEFAULT_ROOM,
  DEFAULT_WIDTH,
} from './defaults.js';
import { createSender } from './sender.js';

const HELP = `m4sc-send — stream a source to every receiver of a room over WebRTC

Usage: m4sc-send [options]

Options:
  --signal URL          signaling server (ws://host:port). Without it, an embedded server is
                        started on 127.0.0.1 and the command to join it is printed.
  --signal-port N       port of the embedded signaling server (default ${DEFAULT_EMBEDDED_SIGNAL_PORT}; 0 = any free port)
  --secret S            embedded server only: require HMAC room tokens; prints a receiver token
  --token T             room token for a signaling server that has a secret
  --room NAME           room to send to (default ${DEFAULT_ROOM})
  --source KIND         synthetic (a moving test pattern; default)
  --fps N               frames per second (default ${DEFAULT_FPS})
  --width N, --height N frame size in pixels (default ${DEFAULT_WIDTH}×${DEFAULT_HEIGHT})
  --ice-server URL      STUN/TURN server for real networks (repeatable); none on loopback
  --ice-username U      TURN username;  --ice-credential C  TURN password
  --network             offer every interface's address, for peers on other machines (default:
                        loopback only when the signaling server is on loopback)
  --quiet               no live stats line
  -h, --help            this help

Exit codes: 0 ok, 1 runtime error, 2 bad flags.`;

function fail(message: string): never {
  process.stderr.write(`m4sc-send: ${message}\nTry 'm4sc-send --help'.\n`);
  process.exit(2);
}

function positiveNumber(name: string, value: string | undefined, fallback: number, integer = false): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0 || (integer && !Number.isInteger(n))) {
    fail(`--${name} must be a ${integer ? 'non-negative integer' : 'non-negative number'}, got '${value}'`);
  }
  return n;
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
  let parsed: ReturnType<typeof parse>;
  function parse() {
    return parseArgs({
      options: {
        signal: { type: 'string' },
        'signal-port': { type: 'string' },
        secret: { type: 'string' },
        token: { type: 'string' },
        room: { type: 'string' },
        source: { type: 'string' },
        fps: { type: 'string' },
        width: { type: 'string' },
        height: { type: 'string' },
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
    });
  }
  try {
    parsed = parse();
  } catch (err) {
    fail((err as Error).message);
  }
  const v = parsed.values;
  if (v.help) {
    process.stdout.write(`${HELP}\n`);
    return;
  }
  const source = v.source ?? 'synthetic';
  if (source !== 'synthetic') fail(`unknown --source '${source}' (supported: synthetic)`);
  if (v.signal && (v.secret || v['signal-port']))
    fail('--secret and --signal-port apply to the embedded server only; drop them or --signal');
  if (v.signal && !/^wss?:\/\//.test(v.signal))
    fail(`--signal must be a ws:// or wss:// URL, got '${v.signal}'`);
  const fps = positiveNumber('fps', v.fps, DEFAULT_FPS);
  if (fps <= 0 || fps > 120) fail(`--fps must be in (0, 120], got ${fps}`);
  const width = positiveNumber('width', v.width, DEFAULT_WIDTH, true);
  const height = positiveNumber('height', v.height, DEFAULT_HEIGHT, true);
  if (width < 8 || height < 8 || width > 1920 || height > 1080)
    fail(`frame size must be within 8×8..1920×1080, got ${width}×${height}`);
  const durationS = positiveNumber('duration', v.duration, 0);
  const room = v.room ?? DEFAULT_ROOM;
  const log = createLineLogger({ write: (l) => process.stderr.write(`${l}\n`), namespace: 'm4sc:send' });

  let embedded: SignalingServer | undefined;
  let signalUrl = v.signal;
  let token = v.token;
  if (!signalUrl) {
    const port = positiveNumber('signal-port', v['signal-port'], DEFAULT_EMBEDDED_SIGNAL_PORT, true);
    embedded = await createSignalingServer({
      host: '127.0.0.1',
      port,
      ...(v.secret ? { secret: v.secret } : {}),
      logger: createLineLogger({ write: (l) => process.stderr.write(`${l}\n`), level: 'warn' }),
    });
    signalUrl = embedded.url;
    let join = `npx m4sc-recv --signal ${signalUrl} --room ${room} --out frames/`;
    if (v.secret) {
      token = createRoomToken({ secret: v.secret, room, role: 'sender', ttlMs: 24 * 3600_000 });
      const recvToken = createRoomToken({ secret: v.secret, room, role: 'receiver', ttlMs: 24 * 3600_000 });
      join += ` --token ${recvToken}`;
    }
    process.stdout.write(`signaling server listening on ${signalUrl}\njoin with:\n  ${join}\n`);
  }

  const loopback = isLoopbackUrl(signalUrl);
  const iceServers = (v['ice-server'] ?? []).map((urls) => ({
    urls,
    ...(v['ice-username'] ? { username: v['ice-username'] } : {}),
    ...(v['ice-credential'] ? { credential: v['ice-credential'] } : {}),
  }));
  const mode = !v.network && loopback && iceServers.length === 0 ? 'loopback' : 'network';

  const sender = await createSender({
    signalUrl,
    room,
    ...(token ? { token } : {}),
    fps,
    width,
    height,
    createPeerConnection: () =>
      createWeriftPeerConnection(mode === 'loopback' ? { mode } : { mode, iceServers }),
    logger: log,
  });
  process.stderr.write(
    `m4sc-send: streaming '${source}' ${width}×${height} at ${fps} fps to room '${room}'\n`,
  );

  if (!v.quiet) {
    sender.stats$.subscribe((s) => {
      const per = s.receivers
        .map((r) => {
          const kbps = r.link ? ((r.link.sentBytesPerSec * 8) / 1000).toFixed(0) : '-';
          const rtt = r.link?.rttMs !== undefined ? `${r.link.rttMs.toFixed(1)}ms` : '-';
          return `${r.peerId.slice(0, 8)}:${r.state === 'connected' ? `${kbps}kbit/s rtt=${rtt}` : r.state}`;
        })
        .join(' ');
      process.stderr.write(
        `send fps=${s.fps.toFixed(1)} samples=${s.samples} bytes/sample=${s.publicBytesPerSample} receivers=${s.receivers.length} ${per}\n`,
      );
    });
  }

  let stopping = false;
  const stop = async (code: number) => {
    if (stopping) return;
    stopping = true;
    await sender.close();
    await embedded?.close();
    process.exit(code);
  };
  process.on('SIGINT', () => void stop(0));
  process.on('SIGTERM', () => void stop(0));
  if (durationS > 0) setTimeout(() => void stop(0), durationS * 1000);
}

main().catch((err: unknown) => {
  process.stderr.write(`m4sc-send: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
