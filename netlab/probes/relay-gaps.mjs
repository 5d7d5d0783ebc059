// Probe (not used by the CLIs or tests): one m4sc-send publishing to a Janus this script starts (scripts/janus:
// own network namespace, root) and one m4sc-recv taking the public stream from it, N times; prints per run the
// samples missing from the receiver's results and its summary of the relay path (packets the feeds numbered,
// packets lost). It measured werift patch item 14 (packages/transport/README): before it, the 4th packet of every
// feed never reached Janus (1–3 packets lost per run, a sample missing from the results in 2 of 4 runs; a scratch
// version of this probe: 5 of 8); after it, none of 3 runs lost a packet.
//   N=8 SECONDS=8 node netlab/probes/relay-gaps.mjs     (after `npx tsc -b`, as root, with Janus installed)
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { janusUnavailableReason, startJanus } from '../../scripts/janus/janus.mjs';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const runs = Number(process.env.N ?? 8);
const seconds = Number(process.env.SECONDS ?? 8);
const why = janusUnavailableReason();
if (why) {
  console.error(`relay-gaps: ${why}`);
  process.exit(2);
}

/** Runs a CLI, keeping its output; resolves `waitFor(re)` when a line matches. */
function start(bin, args) {
  const child = spawn(process.execPath, [`${ROOT}${bin}`, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let text = '';
  const waiters = [];
  for (const s of [child.stdout, child.stderr]) {
    s.on('data', (d) => {
      text += d;
      for (const w of [...waiters]) {
        const m = text.match(w.re);
        if (!m) continue;
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(m);
      }
    });
  }
  const waitFor = (re) =>
    new Promise((resolve) => {
      const m = text.match(re);
      if (m) resolve(m);
      else waiters.push({ re, resolve });
    });
  const exited = new Promise((r) => child.once('exit', r));
  return { child, waitFor, exited, text: () => text };
}

const janus = await startJanus();
try {
  for (let run = 1; run <= runs; run++) {
    const room = `gaps${run}`;
    const relay = janus.relay(room);
    const sender = start('packages/sender/dist/cli.js', [
      ...['--signal-port', '0', '--fps', '6', '--room', room, '--quiet', '--adapt', 'off', '--relay', relay],
    ]);
    const [, url] = await sender.waitFor(/listening on (ws:\/\/\S+)/);
    const rx = start('packages/receiver/dist/cli.js', [
      ...['--signal', url, '--room', room, '--quiet', '--task', 'reconstruct', '--relay', relay],
      ...['--duration', String(seconds)],
    ]);
    await rx.exited;
    sender.child.kill('SIGTERM');
    await sender.exited;
    const seqs = rx
      .text()
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l).seq);
    const missing = [];
    for (let i = 1; i < seqs.length; i++) for (let s = seqs[i - 1] + 1; s < seqs[i]; s++) missing.push(s);
    const summary = JSON.parse(/m4sc-recv: summary (\{.*\})/.exec(rx.text())?.[1] ?? '{}');
    console.log(
      `run ${run}: ${seqs.length} results (seq ${seqs[0]}–${seqs.at(-1)}), missing [${missing.join(', ')}], relay ${JSON.stringify(summary.relay)}`,
    );
  }
} finally {
  await janus.stop();
}
