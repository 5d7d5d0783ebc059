/**
 * Fuzzing the flag parsers of the built CLIs (`npm run build` first): m4sc-send, m4sc-recv and
 * m4sc-signal with random flags and values. Each run must end with 0, 1 or 2 and, unless it succeeded,
 * a message on stderr — never an uncaught stack trace. A run that accepted its flags and keeps running
 * is stopped with SIGTERM once it says it runs, and must then exit 0. Side effects are kept in a temp directory,
 * every server listens on port 0 and every signaling URL points at a closed loopback port.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { SEED } from './helpers.js';

const RUNS = { send: 16, recv: 16, signal: 24 };
/** What a CLI prints once it accepted its flags and runs (its SIGTERM handler is installed by then). */
const READY: Record<'send' | 'recv' | 'signal', RegExp> = {
  send: /m4sc-send: streaming/,
  recv: /m4sc-recv: (open http|joined room)/,
  signal: /^wss?:\/\//m,
};
/** A hard bound on any run, milliseconds: a CLI neither exiting nor getting ready by then hangs. */
const KILL_MS = 25_000;
const CONCURRENCY = 4;

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BIN = {
  send: join(ROOT, 'packages/sender/dist/cli.js'),
  recv: join(ROOT, 'packages/receiver/dist/cli.js'),
  signal: join(ROOT, 'packages/signaling/dist/cli.js'),
};
const cwd = mkdtempSync(join(tmpdir(), 'm4sc-fuzz-cli-'));
afterAll(() => rmSync(cwd, { recursive: true, force: true }));

const nasty = fc.constantFrom(
  '',
  ' ',
  '-1',
  '0',
  '1',
  '0.5',
  '1e309',
  '-0',
  'NaN',
  'Infinity',
  '0x10',
  '１２',
  '9007199254740993',
  '😀',
  '--',
  '-h',
  "'; echo pwned",
  '$(id)',
  'a'.repeat(3000),
  'ws://',
  'http://127.0.0.1:1',
);
const closedUrl = fc.constantFrom('ws://127.0.0.1:1', 'ws://[::1]:1', 'wss://127.0.0.1:1/x');

type FlagSpec = Record<string, fc.Arbitrary<string> | null>; // null: boolean flag

const SEND: FlagSpec = {
  signal: fc.oneof(closedUrl, nasty),
  'signal-port': fc.constantFrom('0', '-1', '65536', '1.5', 'abc', ''),
  secret: fc.oneof(fc.constant('s3cret'), nasty),
  token: nasty,
  room: fc.oneof(fc.constant('lab'), nasty),
  source: fc.constantFrom(
    'synthetic',
    'pattern',
    'images:/nonexistent',
    'y4m:/nonexistent.y4m',
    'y4m:-',
    'text:-',
    'text:/nonexistent',
    'camera:/dev/nonexistent',
    'bogus',
    '',
    'images:',
  ),
  codec: fc.constantFrom('semantic', 'raw', 'jpeg', ''),
  bundle: fc.constantFrom('/nonexistent', cwd, join(ROOT, 'models/default'), ''),
  op: fc.oneof(fc.constantFrom('q8-full', 'q4-half', 'nope'), nasty),
  rate: nasty,
  bits: fc.oneof(fc.constantFrom('4', '8', '32', '33'), nasty),
  device: fc.constantFrom('cpu', 'cuda', 'auto', 'tpu', ''),
  sharing: fc.constantFrom('on', 'naive', 'off'),
  'share-threshold': nasty,
  fps: nasty,
  width: fc.oneof(fc.constantFrom('32', '30', '4096'), nasty),
  height: fc.oneof(fc.constantFrom('32', '30', '4096'), nasty),
  'ice-server': fc.constantFrom('stun:127.0.0.1:1', 'turn:127.0.0.1:1', 'bogus', ''),
  'ice-username': nasty,
  'ice-credential': nasty,
  network: null,
  duration: fc.constantFrom('0.5', '1', '-1', 'NaN', '1e309', ''),
  quiet: null,
  help: null,
};

const RECV: FlagSpec = {
  signal: fc.oneof(closedUrl, nasty),
  room: nasty,
  token: nasty,
  task: fc.constantFrom('reconstruct', 'classify', 'caption', 'answer', 'transmit', 'bogus', ''),
  query: fc.oneof(fc.constant('what colour is the circle ?'), nasty),
  bundle: fc.constantFrom('/nonexistent', cwd, join(ROOT, 'models/default'), ''),
  interactive: null,
  out: fc.constantFrom('frames', 'out.y4m', '', '.', 'a/b/c'),
  log: fc.constantFrom('log.jsonl', '', 'nodir/x.jsonl'),
  'ice-server': fc.constantFrom('stun:127.0.0.1:1', 'bogus'),
  'ice-username': nasty,
  'ice-credential': nasty,
  network: null,
  'impair-loss': nasty,
  'impair-delay': nasty,
  duration: fc.constantFrom('0.5', '-1', 'NaN', ''),
  quiet: null,
  help: null,
  web: null,
  port: fc.constantFrom('0', '-1', '65536', 'x', ''),
  host: fc.constantFrom('127.0.0.1', '::1', '1.2.3.4'),
};

const SIGNAL: FlagSpec = {
  host: fc.constantFrom('127.0.0.1', '::1', '1.2.3.4'),
  port: fc.constantFrom('0', '-1', '65536', '1.5', 'x', ''),
  path: fc.oneof(fc.constantFrom('/signal', 'signal', '/'), nasty),
  secret: nasty,
  'max-peers': nasty,
  'max-message-bytes': fc.oneof(fc.constantFrom('255', '256', '1048576'), nasty),
  'heartbeat-ms': nasty,
  quiet: null,
  help: null,
  room: nasty,
  role: fc.constantFrom('sender', 'receiver', 'admin', ''),
  ttl: nasty,
};

/** Random argv from a flag table: known flags with values (or missing ones), unknown flags, positionals. */
function argv(spec: FlagSpec, extra: fc.Arbitrary<string[]> = fc.constant([])): fc.Arbitrary<string[]> {
  const flag = fc.constantFrom(...Object.keys(spec)).chain((name) => {
    const value = spec[name];
    if (value === null) return fc.constantFrom([`--${name}`], [`--${name}=x`]);
    return fc.oneof(
      { weight: 8, arbitrary: value.map((v) => [`--${name}`, v]) },
      { weight: 1, arbitrary: value.map((v) => [`--${name}=${v}`]) },
      { weight: 1, arbitrary: fc.constant([`--${name}`]) },
    );
  });
  const junk = fc.constantFrom(['--bogus'], ['-x'], ['positional'], ['--'], ['-'], ['--=x']);
  return fc
    .tuple(
      extra,
      fc.array(fc.oneof({ weight: 6, arbitrary: flag }, { weight: 1, arbitrary: junk }), { maxLength: 6 }),
    )
    .map(([pre, parts]) => [...pre, ...parts.flat()]);
}

/** Keeps every run off fixed ports: embedded/HTTP/signaling servers listen on port 0. */
function fixPorts(bin: keyof typeof BIN, args: string[]): string[] {
  const has = (f: string) => args.some((a) => a === `--${f}` || a.startsWith(`--${f}=`));
  if (bin === 'send' && !has('signal') && !has('signal-port')) return [...args, '--signal-port', '0'];
  if (bin === 'recv' && has('web') && !has('port')) return [...args, '--port', '0'];
  if (bin === 'signal' && args[0] !== 'token' && !has('port')) return [...args, '--port', '0'];
  return args;
}

interface Outcome {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  stopped: boolean;
}

function runCli(bin: keyof typeof BIN, args: string[]): Promise<Outcome> {
  return new Promise((resolve) => {
    const env = { ...process.env };
    delete env.M4SC_SIGNAL_SECRET;
    const child = spawn(process.execPath, [BIN[bin], ...args], {
      cwd,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let stopped = false;
    // Running with valid flags: stop it with SIGTERM, which must end it cleanly with 0.
    const ready = () => {
      if (!stopped && READY[bin].test(stdout + stderr)) {
        stopped = true;
        // The CLIs install their handlers right after printing; leave them that moment.
        setTimeout(() => child.kill('SIGTERM'), 300);
      }
    };
    child.stdout.on('data', (d) => {
      stdout += d;
      ready();
    });
    child.stderr.on('data', (d) => {
      stderr += d;
      ready();
    });
    const hard = setTimeout(() => child.kill('SIGKILL'), KILL_MS);
    child.on('close', (code, signal) => {
      clearTimeout(hard);
      resolve({ code, signal, stdout, stderr, stopped });
    });
  });
}

/** A V8 stack frame line, as an uncaught error prints it. */
const STACK = /^\s+at .+(:\d+:\d+\)?|\(native\))$/m;

function check(bin: string, args: string[], o: Outcome): void {
  const what = `${bin} ${JSON.stringify(args)} → code ${o.code} signal ${o.signal}\nstderr: ${o.stderr.slice(-2000)}`;
  expect(o.signal, what).toBeNull(); // never killed (SIGKILL = hang), never crashed by a signal
  expect([0, 1, 2], what).toContain(o.code);
  if (o.stopped) expect(o.code, what).toBe(0); // SIGTERM on a running CLI is a clean stop
  if (o.code !== 0) expect(o.stderr.trim().length, what).toBeGreaterThan(0);
  expect(STACK.test(o.stderr), what).toBe(false);
}

/** Runs `n` generated cases, `CONCURRENCY` processes at a time; returns the outcome counts. */
async function fuzzCli(bin: keyof typeof BIN, gen: fc.Arbitrary<string[]>, n: number, seed: number) {
  const cases = fc.sample(gen, { numRuns: n, seed: SEED + seed }).map((a) => fixPorts(bin, a));
  const tally: Record<string, number> = {};
  const failures: string[] = [];
  let next = 0;
  const worker = async () => {
    while (next < cases.length) {
      const args = cases[next++]!;
      const o = await runCli(bin, args);
      const key = o.stopped ? 'ran' : `exit ${o.code}`;
      tally[key] = (tally[key] ?? 0) + 1;
      try {
        check(bin, args, o);
      } catch (e) {
        failures.push((e as Error).message);
      }
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  return { tally, failures };
}

const built = Object.values(BIN).every((b) => existsSync(b));

describe.skipIf(!built)('fuzz: CLI flag parsers (built dist/)', () => {
  it('m4sc-signal: exit 0/1/2 with a message, never a stack trace', async () => {
    const gen = fc.oneof(
      argv(SIGNAL),
      argv(SIGNAL, fc.constant(['token'])),
      argv(SIGNAL, fc.constant(['serve'])),
    );
    const { failures } = await fuzzCli('signal', gen, RUNS.signal, 61);
    expect(failures).toEqual([]);
  }, 120_000);

  it('m4sc-send: exit 0/1/2 with a message, never a stack trace', async () => {
    const { failures } = await fuzzCli('send', argv(SEND), RUNS.send, 62);
    expect(failures).toEqual([]);
  }, 120_000);

  it('m4sc-recv: exit 0/1/2 with a message, never a stack trace', async () => {
    const { failures } = await fuzzCli('recv', argv(RECV), RUNS.recv, 63);
    expect(failures).toEqual([]);
  }, 120_000);
});
