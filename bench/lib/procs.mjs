// Spawning the built CLIs from benchmarks: m4sc-send with --stats-json, m4sc-recv with JSON result lines.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const BIN = {
  send: `${ROOT}packages/sender/dist/cli.js`,
  recv: `${ROOT}packages/receiver/dist/cli.js`,
};

/** Starts m4sc-send with an embedded signaling server; resolves with `{ child, url }` once it listens. */
export async function startSender(args) {
  const child = spawn(process.execPath, [BIN.send, '--signal-port', '0', '--quiet', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  child.stderr.on('data', (d) => {
    err += d;
  });
  const url = await new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      const m = /listening on (ws:\/\/\S+)/.exec(out);
      if (m) resolve(m[1]);
    });
    child.on('exit', (code) => reject(new Error(`m4sc-send exited with ${code}: ${err}`)));
  });
  return { child, url, stderr: () => err };
}

/** Starts m4sc-recv; `results()` parses its JSON lines so far. */
export function startReceiver(args) {
  const child = spawn(process.execPath, [BIN.recv, '--quiet', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => {
    out += d;
  });
  child.stderr.on('data', (d) => {
    err += d;
  });
  const exited = new Promise((resolve) => child.on('close', resolve));
  return {
    child,
    exited,
    stderr: () => err,
    results: () =>
      out
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l)),
  };
}

/** Stops a child with SIGINT and waits for it. */
export async function stop(child) {
  if (child.exitCode !== null) return;
  const done = new Promise((resolve) => child.on('close', resolve));
  child.kill('SIGINT');
  await done;
}

/** The JSON lines of a `--stats-json` file. */
export function readStats(path) {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l));
}
