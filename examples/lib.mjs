// Small helpers shared by the examples: start the built CLIs, prefix their output, stop them cleanly.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BIN = {
  send: `${ROOT}packages/sender/dist/cli.js`,
  recv: `${ROOT}packages/receiver/dist/cli.js`,
};

/** Writes each line of `stream` to our stdout as `[name] line`, optionally transformed (null = skip). */
function prefix(name, stream, transform = (l) => l) {
  let buf = '';
  stream.setEncoding('utf8');
  stream.on('data', (d) => {
    buf += d;
    for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
      const line = transform(buf.slice(0, i));
      buf = buf.slice(i + 1);
      if (line !== null) process.stdout.write(`[${name}] ${line}\n`);
    }
  });
}

/** Starts m4sc-send with an embedded signaling server; resolves with its URL once it listens. */
export async function startSender(args, { quietStats = false } = {}) {
  const child = spawn(process.execPath, [BIN.send, '--signal-port', '0', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  prefix('send', child.stderr, (l) =>
    quietStats && /^(send fps| {2}\S+ (connected|connecting))/.test(l) ? null : l,
  );
  const url = await new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      const m = /listening on (ws:\/\/\S+)/.exec(out);
      if (m) resolve(m[1]);
    });
    child.on('exit', (code) => reject(new Error(`m4sc-send exited with ${code} before listening`)));
  });
  return { child, url };
}

/** Starts m4sc-recv; each JSON result line goes through `onResult`, stats lines are shown. */
export function startReceiver(name, args, onResult = (r) => JSON.stringify(r)) {
  const child = spawn(process.execPath, [BIN.recv, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  prefix(name, child.stderr);
  prefix(name, child.stdout, (l) => {
    try {
      return onResult(JSON.parse(l));
    } catch {
      return l;
    }
  });
  return { child, exited: new Promise((resolve) => child.on('close', (code) => resolve(code))) };
}

/**
 * Parses an example's flags: `--seconds N` (default `seconds`), `--help`, and `options` (node:util parseArgs's
 * form, values as strings), from the arguments before a `--`; with `rest`, what follows `--` is returned as
 * `rest` (otherwise a `--` is refused). A wrong flag or value prints the message and `usage`, and exits 2.
 */
export function exampleArgs(usage, { seconds: fallback, options = {}, rest = false }) {
  const argv = process.argv.slice(2);
  const cut = argv.indexOf('--');
  const fail = (message) => {
    console.error(`${message}\n${usage}`);
    process.exit(2);
  };
  let values;
  try {
    ({ values } = parseArgs({
      args: cut >= 0 ? argv.slice(0, cut) : argv,
      options: { help: { type: 'boolean', short: 'h' }, seconds: { type: 'string' }, ...options },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    fail(err.message);
  }
  if (values.help) {
    console.log(usage);
    process.exit(0);
  }
  if (cut >= 0 && !rest) fail("this example takes no arguments after '--'");
  const s = values.seconds === undefined ? fallback : Number(values.seconds);
  if (!(s > 0 && Number.isFinite(s))) fail(`--seconds must be a positive number, got '${values.seconds}'`);
  return { ...values, seconds: s, rest: cut >= 0 ? argv.slice(cut + 1) : [], fail };
}

/** Every Nth result line is shown, so the terminal stays readable at 15 fps. */
export function every(n, fmt) {
  let i = 0;
  return (r) => (i++ % n === 0 ? fmt(r) : null);
}
