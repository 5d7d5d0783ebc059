/** `m4sc-recv --web`: serves the browser receiver page and prints its URL. */
import { createWebServer, DEFAULT_WEB_HOST, DEFAULT_WEB_PORT, type PageDefaults } from './server.js';

/** The flags `--web` uses; the rest of m4sc-recv's flags are refused with it. */
export interface WebCommandFlags {
  host?: string | undefined;
  port?: string | undefined;
  bundle?: string | undefined;
  signal?: string | undefined;
  room?: string | undefined;
  token?: string | undefined;
  task?: string | undefined;
  query?: string | undefined;
  duration?: string | undefined;
}

/** Flags of the Node receiver that mean nothing for the page. */
export const WEB_INCOMPATIBLE_FLAGS = [
  'out',
  'log',
  'interactive',
  'peer',
  'ice-server',
  'ice-username',
  'ice-credential',
  'network',
  'impair-loss',
  'impair-delay',
  'impair-seed',
];

/**
 * Starts the server and runs until SIGINT/SIGTERM (or `--duration`). `fail` reports a bad flag (exit 2).
 * Prints `m4sc-recv: open http://…/?signal=…` on stdout.
 */
export async function runWebCommand(flags: WebCommandFlags, fail: (message: string) => never): Promise<void> {
  const port = flags.port === undefined ? DEFAULT_WEB_PORT : Number(flags.port);
  if (
    flags.port !== undefined &&
    (flags.port.trim() === '' || !Number.isInteger(port) || port < 0 || port > 65535)
  )
    fail(`--port must be an integer in 0..65535, got '${flags.port}'`);
  if (flags.signal !== undefined && !/^wss?:\/\//.test(flags.signal))
    fail(`--signal must be a ws:// or wss:// URL, got '${flags.signal}'`);
  const durationS = flags.duration === undefined ? 0 : Number(flags.duration);
  if (!Number.isFinite(durationS) || durationS < 0)
    fail(`--duration must be a non-negative number, got '${flags.duration}'`);
  const defaults: PageDefaults = {};
  for (const k of ['signal', 'room', 'token', 'task', 'query'] as const) {
    const v = flags[k];
    if (v !== undefined) defaults[k] = v;
  }
  const server = await createWebServer({
    host: flags.host ?? DEFAULT_WEB_HOST,
    port,
    ...(flags.bundle ? { bundleDir: flags.bundle } : {}),
    defaults,
  });
  const q = new URLSearchParams();
  if (defaults.signal) q.set('signal', defaults.signal);
  if (defaults.room) q.set('room', defaults.room);
  const url = `${server.url}${q.size ? `?${q}` : ''}`;
  process.stdout.write(`m4sc-recv: open ${url}\n`);
  process.stderr.write(
    `m4sc-recv: serving the browser receiver (page bundled in ${server.bundleMs.toFixed(0)} ms); Ctrl-C stops\n`,
  );
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    await server.close();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop());
  process.on('SIGTERM', () => void stop());
  if (durationS > 0) setTimeout(() => void stop(), durationS * 1000);
}
