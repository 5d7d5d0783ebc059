// Small helpers shared by the examples: start the built CLIs, prefix their output, stop them cleanly.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

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

/** Parses `--seconds N` (default `fallback`). */
export function seconds(fallback) {
  const i = process.argv.indexOf('--seconds');
  const s = i >= 0 ? Number(process.argv[i + 1]) : fallback;
  if (!(s > 0)) {
    console.error(`--seconds must be a positive number, got '${process.argv[i + 1]}'`);
    process.exit(2);
  }
  return s;
}

/** Every Nth result line is shown, so the terminal stays readable at 15 fps. */
export function every(n, fmt) {
  let i = 0;
  return (r) => (i++ % n === 0 ? fmt(r) : null);
}
