#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { DEFAULT_CLI_PORT, DEFAULT_HOST } from './defaults.js';
import { createLineLogger } from './logger.js';
import { createSignalingServer } from './server.js';
import { createRoomToken } from './token.js';

const HELP = `m4sc-signal: the M4SC WebRTC signaling server

Usage:
  m4sc-signal [options]                 run the server
  m4sc-signal token --secret S --room R --role sender|receiver [--ttl SECONDS]
                                        print a signed room token

Server options:
  --host HOST                 interface to listen on (default ${DEFAULT_HOST})
  --port PORT                 TCP port, 0 for an ephemeral one (default ${DEFAULT_CLI_PORT})
  --path PATH                 only accept WebSocket upgrades on PATH (default: any)
  --secret SECRET             require signed room tokens (or set M4SC_SIGNAL_SECRET)
  --max-peers N               peers per room, the sender included (default 64)
  --max-message-bytes N       largest frame in bytes (default 65536)
  --heartbeat-ms N            WebSocket ping interval, 0 to disable (default 30000)
  --quiet                     log warnings only
  -h, --help                  show this help

Token options:
  --secret SECRET             the server's secret (or M4SC_SIGNAL_SECRET)
  --room ROOM                 the room the token is bound to
  --role sender|receiver      the role the token is bound to
  --ttl SECONDS               lifetime (default 3600)

The server prints its URL on stdout once listening and logs one line per join, leave and
refusal on stderr. SIGINT or SIGTERM shuts it down cleanly.
`;

/** A command-line mistake: exit code 2. */
class UsageError extends Error {}

function int(
  name: string,
  value: string | undefined,
  min: number,
  max = Number.MAX_SAFE_INTEGER,
): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value) || Number(value) < min || Number(value) > max) {
    throw new UsageError(`--${name} must be an integer in ${min}..${max}, got "${value}"`);
  }
  return Number(value);
}

function token(args: string[]): void {
  const { values } = parseArgs({
    args,
    strict: true,
    allowPositionals: false,
    options: {
      secret: { type: 'string' },
      room: { type: 'string' },
      role: { type: 'string' },
      ttl: { type: 'string', default: '3600' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(HELP);
    return;
  }
  const secret = values.secret ?? process.env['M4SC_SIGNAL_SECRET'];
  if (!secret) throw new UsageError('token: --secret (or M4SC_SIGNAL_SECRET) is required');
  if (!values.room) throw new UsageError('token: --room is required');
  if (values.role !== 'sender' && values.role !== 'receiver') {
    throw new UsageError('token: --role must be sender or receiver');
  }
  const ttlSeconds = int('ttl', values.ttl, 1) ?? 3600;
  process.stdout.write(
    `${createRoomToken({ secret, room: values.room, role: values.role, ttlMs: ttlSeconds * 1000 })}\n`,
  );
}

async function serve(args: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args,
    strict: true,
    allowPositionals: true,
    options: {
      host: { type: 'string', default: DEFAULT_HOST },
      port: { type: 'string', default: String(DEFAULT_CLI_PORT) },
      path: { type: 'string' },
      secret: { type: 'string' },
      'max-peers': { type: 'string' },
      'max-message-bytes': { type: 'string' },
      'heartbeat-ms': { type: 'string' },
      quiet: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(HELP);
    return;
  }
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
  if (values.path !== undefined && !values.path.startsWith('/'))
    throw new UsageError('--path must start with /');
  const log = createLineLogger({
    level: values.quiet ? 'warn' : 'info',
    write: (line) => process.stderr.write(`${new Date().toISOString()} ${line}\n`),
  });
  const secret = values.secret ?? process.env['M4SC_SIGNAL_SECRET'];
  const server = await createSignalingServer({
    host: values.host,
    port: int('port', values.port, 0, 65535),
    ...(values.path === undefined ? {} : { path: values.path }),
    ...(secret ? { secret } : {}),
    maxPeersPerRoom: int('max-peers', values['max-peers'], 1),
    maxMessageBytes: int('max-message-bytes', values['max-message-bytes'], 256),
    heartbeatMs: int('heartbeat-ms', values['heartbeat-ms'], 0),
    logger: log,
  });
  process.stdout.write(`${server.url}\n`);
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) process.exit(130);
    stopping = true;
    log.info('shutting down', { signal });
    server.close().then(
      () => process.exit(0),
      (err: Error) => {
        log.error('shutdown failed', { error: err.message });
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

async function main(argv: string[]): Promise<void> {
  try {
    if (argv[0] === 'token') token(argv.slice(1));
    else await serve(argv[0] === 'serve' ? argv.slice(1) : argv);
  } catch (err) {
    const e = err as Error & { code?: string };
    if (err instanceof UsageError || e.code?.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`m4sc-signal: ${e.message}\nRun "m4sc-signal --help" for usage.\n`);
      process.exit(2);
    }
    process.stderr.write(`m4sc-signal: ${e.message}\n`);
    process.exit(1);
  }
}

void main(process.argv.slice(2));
