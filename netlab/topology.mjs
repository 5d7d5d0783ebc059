// Network namespaces for the lab (root only). One router namespace holds one veth end per peer namespace:
// link k is 10.77.k.1 (router) ↔ 10.77.k.2 (peer); link 0 is the sender. The router does not forward IP, so
// peers only reach each other through the relays of router.mjs. Random loss is nftables in the peer's namespace
// (input = downlink, output = uplink, UDP only: signaling over TCP stays clean), the downlink rate is tc tbf on
// the router's veth end. Everything lives inside namespaces named m4lab-<run>-…: deleting them removes every
// veth, qdisc and nftables table this lab made. Nothing touches the host's own interfaces or rules.
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

const PREFIX = 'm4lab-';

const run = (args, input) => execFileSync(args[0], args.slice(1), { input, stdio: ['pipe', 'pipe', 'pipe'] });
/** Async, so that applying a change mid-run never blocks the lab's event loop (it timestamps results). */
function runAsync(args, input) {
  const p = execFileAsync(args[0], args.slice(1));
  if (input !== undefined) p.child.stdin.end(input);
  return p;
}
const tryRun = (args, input) => {
  try {
    run(args, input);
    return true;
  } catch {
    return false;
  }
};

export const isRoot = () => typeof process.getuid === 'function' && process.getuid() === 0;

/** Namespaces of this lab that exist now (for the before/after check and `--cleanup`). */
export function labNamespaces() {
  const out = execFileSync('ip', ['netns', 'list']).toString();
  return out
    .split('\n')
    .map((l) => l.split(' ')[0])
    .filter((n) => n.startsWith(PREFIX));
}

/** Deletes namespaces of this lab: of one run (`runId`), or all (`--cleanup` after a crash). */
export function deleteLabNamespaces(runId) {
  for (const ns of labNamespaces()) {
    if (runId !== undefined && !ns.startsWith(`${PREFIX}${runId}-`)) continue;
    // Processes this lab started inside it (ip netns exec replaces itself with them).
    const pids = tryPids(ns);
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {}
    }
    tryRun(['ip', 'netns', 'del', ns]);
  }
}

function tryPids(ns) {
  try {
    return execFileSync('ip', ['netns', 'pids', ns]).toString().split('\n').filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/**
 * Creates the router and peer namespaces for links 0..n−1. Returns the names and addresses.
 * Throws (after deleting what it made) if a step fails.
 */
export function createTopology(runId, n) {
  const rt = `${PREFIX}${runId}-rt`;
  const peer = (k) => `${PREFIX}${runId}-p${k}`;
  try {
    run(['ip', 'netns', 'add', rt]);
    run(['ip', '-n', rt, 'link', 'set', 'lo', 'up']);
    for (let k = 0; k < n; k++) {
      const ns = peer(k);
      run(['ip', 'netns', 'add', ns]);
      run(['ip', '-n', rt, 'link', 'add', `r${k}`, 'type', 'veth', 'peer', 'name', `e${k}`, 'netns', ns]);
      run(['ip', '-n', rt, 'addr', 'add', `10.77.${k}.1/24`, 'dev', `r${k}`]);
      run(['ip', '-n', ns, 'addr', 'add', `10.77.${k}.2/24`, 'dev', `e${k}`]);
      run(['ip', 'netns', 'exec', ns, 'sysctl', '-qw', 'net.ipv6.conf.all.disable_ipv6=1']);
      run(['ip', '-n', rt, 'link', 'set', `r${k}`, 'up']);
      run(['ip', '-n', ns, 'link', 'set', `e${k}`, 'up']);
      run(['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
    }
    run(['ip', 'netns', 'exec', rt, 'sysctl', '-qw', 'net.ipv6.conf.all.disable_ipv6=1']);
    run(['ip', 'netns', 'exec', rt, 'sysctl', '-qw', 'net.ipv4.ip_forward=0']);
    // Wait for carrier: libuv lists only running interfaces, so werift would gather no candidate before.
    const deadline = Date.now() + 5000;
    for (let k = 0; k < n; k++) {
      while (
        !/LOWER_UP/.test(execFileSync('ip', ['-n', peer(k), 'link', 'show', `e${k}`]).toString()) ||
        /NO-CARRIER/.test(execFileSync('ip', ['-n', peer(k), 'link', 'show', `e${k}`]).toString())
      ) {
        if (Date.now() > deadline) throw new Error(`netlab: link ${k} has no carrier after 5 s`);
        execFileSync('sleep', ['0.05']);
      }
    }
  } catch (err) {
    deleteLabNamespaces(runId);
    throw err;
  }
  return {
    router: rt,
    peer,
    routerHost: (k) => `10.77.${k}.1`,
    peerHost: (k) => `10.77.${k}.2`,
  };
}

/**
 * Applies the kernel part of a link's state: random loss (nftables, both directions) and the downlink rate
 * (tbf on the router's end). `lossPct` may be fractional (0.1 % steps).
 */
export async function applyKernel(topo, k, state) {
  const ns = topo.peer(k);
  const per1000 = Math.round((state.lossPct ?? 0) * 10);
  const rule =
    per1000 >= 1000
      ? 'meta l4proto udp drop'
      : per1000 > 0
        ? `meta l4proto udp numgen random mod 1000 < ${per1000} drop`
        : '';
  // Declare-then-delete makes the replacement atomic and works whether or not the table exists.
  const script = `table inet m4sc
delete table inet m4sc
table inet m4sc {
  chain input {
    type filter hook input priority 0; policy accept;
    ${rule}
  }
  chain output {
    type filter hook output priority 0; policy accept;
    ${rule}
  }
}
`;
  await runAsync(['ip', 'netns', 'exec', ns, 'nft', '-f', '-'], script);
  const dev = `r${k}`;
  if (state.rateKbit) {
    const bytesPerSec = (state.rateKbit * 1000) / 8;
    const burst = Math.max(3200, Math.round(bytesPerSec * 0.02));
    await runAsync([
      'ip',
      'netns',
      'exec',
      topo.router,
      'tc',
      'qdisc',
      'replace',
      'dev',
      dev,
      'root',
      'tbf',
      'rate',
      `${state.rateKbit}kbit`,
      'burst',
      String(burst),
      'latency',
      `${state.queueMs ?? 200}ms`,
    ]);
  } else {
    await runAsync(['ip', 'netns', 'exec', topo.router, 'tc', 'qdisc', 'del', 'dev', dev, 'root']).catch(
      () => {},
    );
  }
}

/**
 * The bottleneck's counters on link k (tbf on the router's end): bytes and packets sent, packets dropped
 * (queue full), overlimits (packets that had to wait). Undefined when the link has no rate limit now.
 */
export async function readTbf(topo, k) {
  try {
    const { stdout } = await execFileAsync('ip', [
      'netns',
      'exec',
      topo.router,
      'tc',
      '-s',
      'qdisc',
      'show',
      'dev',
      `r${k}`,
    ]);
    if (!/qdisc tbf/.test(stdout)) return undefined;
    const m = /Sent (\d+) bytes (\d+) pkt \(dropped (\d+), overlimits (\d+)/.exec(stdout);
    return m
      ? { sentBytes: Number(m[1]), packets: Number(m[2]), dropped: Number(m[3]), overlimits: Number(m[4]) }
      : undefined;
  } catch {
    return undefined;
  }
}
