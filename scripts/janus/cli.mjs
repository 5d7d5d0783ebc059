#!/usr/bin/env node
// Start and stop Janus for m4sc-send --relay, on this host, in the relay namespace (see janus.mjs).
//   node scripts/janus/cli.mjs start [--port N] [--count K] [--room R]   run K Janus (default 1) until Ctrl-C
//   node scripts/janus/cli.mjs netns-up | netns-down                   create / remove the namespace (root)
//   node scripts/janus/cli.mjs check                                   can Janus run here? (exit 0/1)
//   node scripts/janus/cli.mjs config --dir D --address A --iface I    configs for a relay on another machine
import { parseArgs } from 'node:util';
import {
  ensureJanusNetns,
  findJanus,
  janusUnavailableReason,
  removeJanusNetns,
  startJanus,
  writeJanusConfig,
} from './janus.mjs';

const HELP = `Usage: node scripts/janus/cli.mjs start [--port N] [--count K] [--room R] [--keep]
       node scripts/janus/cli.mjs netns-up | netns-down | check
       node scripts/janus/cli.mjs config --dir D --address A --iface I [--port N]
start     runs K Janus instances (default 1) in the m4sc-janus namespace, prints their relay URLs and the
          m4sc-send / m4sc-recv flags, and stops them on Ctrl-C (SIGINT/SIGTERM). --port: the first one's
          WebSocket port (default: a free one; the next ones +1). --keep: keep the generated config folders.
netns-up  creates the namespace and its veth pair (root); netns-down removes them.
check     says whether Janus can run here.
config    run on a relay machine of its own (no namespace): writes the same generated configs (symlinks to
          this machine's Janus modules) with API and ICE on address A (the address senders and receivers
          reach) and interface I only, WebSocket port N (default 8188), into folder D; prints the janus
          command that runs them.`;

const { values: v, positionals } = parseArgs({
  options: {
    port: { type: 'string' },
    count: { type: 'string' },
    room: { type: 'string' },
    keep: { type: 'boolean' },
    dir: { type: 'string' },
    address: { type: 'string' },
    iface: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  },
  allowPositionals: true,
});
const cmd = positionals[0];
if (v.help || !cmd) {
  console.log(HELP);
  process.exit(cmd || v.help ? 0 : 2);
}
if (cmd === 'netns-up') {
  const why = ensureJanusNetns();
  if (why) {
    console.error(why);
    process.exit(1);
  }
  console.log('relay namespace ready');
} else if (cmd === 'netns-down') {
  removeJanusNetns();
  console.log('relay namespace removed');
} else if (cmd === 'check') {
  const why = janusUnavailableReason();
  console.log(why ?? 'janus can run here');
  process.exit(why ? 1 : 0);
} else if (cmd === 'start') {
  const count = Number(v.count ?? 1);
  const room = v.room ?? 'demo';
  const first = v.port ? Number(v.port) : 0;
  if (!(Number.isInteger(count) && count >= 1 && count <= 8)) {
    console.error('--count must be 1..8');
    process.exit(2);
  }
  const instances = [];
  for (let i = 0; i < count; i++)
    instances.push(await startJanus({ ...(first ? { wsPort: first + i } : {}), keepDir: !!v.keep }));
  const urls = instances.map((j) => j.relay(room));
  for (const [i, j] of instances.entries())
    console.log(`janus ${i + 1}: pid ${j.pid}, config ${j.dir}, relay ${urls[i]}`);
  console.log(`sender:    m4sc-send --room ${room} ${urls.map((u) => `--relay ${u}`).join(' ')}`);
  for (const u of urls) console.log(`receivers: m4sc-recv --room ${room} --relay ${u} …`);
  const stop = async () => {
    for (const j of instances) await j.stop();
    process.exit(0);
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
} else if (cmd === 'config') {
  if (!v.dir || !v.address || !v.iface) {
    console.error('config needs --dir, --address and --iface');
    process.exit(2);
  }
  const wsPort = Number(v.port ?? 8188);
  const paths = writeJanusConfig(v.dir, { wsPort, address: v.address, iceInterface: v.iface });
  console.log(`configs in ${v.dir}; on the relay machine run:`);
  console.log(`  ${findJanus() ?? 'janus'} -C ${paths.janus} -F ${v.dir} -L ${paths.log} -N`);
  console.log(`relay URL: janus://${v.address}:${wsPort}/ROOM`);
} else {
  console.error(`unknown command '${cmd}'\n${HELP}`);
  process.exit(2);
}
