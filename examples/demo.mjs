#!/usr/bin/env node
// The quickstart demo: one m4sc-send (with its embedded signaling server) and two m4sc-recv processes
// on loopback for a few seconds. Frames land in demo-out/recv-*/, live stats on the terminal.
// Usage: npm run demo [-- --seconds N]
import { spawn } from 'node:child_process';
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = fileURLToPath(new URL('..', import.meta.url));
const { values } = parseArgs({ options: { seconds: { type: 'string', default: '8' } }, strict: true });
const seconds = Number(values.seconds);
if (!(seconds > 0)) {
  console.error(`demo: --seconds must be a positive number, got '${values.seconds}'`);
  process.exit(2);
}
const out = `${root}demo-out`;
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });

const prefix = (name, stream) => {
  let buf = '';
  stream.on('data', (d) => {
    buf += d;
    let i = buf.indexOf('\n');
    while (i >= 0) {
      process.stdout.write(`[${name}] ${buf.slice(0, i)}\n`);
      buf = buf.slice(i + 1);
      i = buf.indexOf('\n');
    }
  });
};

const sender = spawn(
  process.execPath,
  [`${root}packages/sender/dist/cli.js`, '--signal-port', '0', '--duration', String(seconds + 4)],
  { stdio: ['ignore', 'pipe', 'pipe'] },
);
prefix('send', sender.stderr);
const url = await new Promise((resolve, reject) => {
  let buf = '';
  sender.stdout.on('data', (d) => {
    buf += d;
    const m = /listening on (ws:\/\/\S+)/.exec(buf);
    if (m) resolve(m[1]);
  });
  sender.on('exit', (code) => reject(new Error(`m4sc-send exited with ${code} before listening`)));
});
console.log(`[demo] sender's signaling server: ${url}`);

const receivers = ['a', 'b'].map((name) => {
  const p = spawn(
    process.execPath,
    [
      `${root}packages/receiver/dist/cli.js`,
      '--signal',
      url,
      '--out',
      `${out}/recv-${name}`,
      '--duration',
      String(seconds),
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  prefix(`recv-${name}`, p.stderr);
  return new Promise((resolve) => p.on('exit', (code) => resolve(code)));
});
const codes = await Promise.all(receivers);
sender.kill('SIGINT');
for (const name of ['a', 'b']) {
  const n = readdirSync(`${out}/recv-${name}`).length;
  console.log(`[demo] recv-${name}: ${n} frames written to demo-out/recv-${name}/`);
}
process.exit(codes.every((c) => c === 0) ? 0 : 1);
