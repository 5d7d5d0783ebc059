// Janus Gateway for M4SC's relay: config generation, start and stop. Node only, no dependencies.
//
// Every instance gets its own config folder written here (never /etc/janus), loads only the VideoRoom
// plugin and the WebSockets transport (symlinked into private plugin/transport folders, so nothing else can
// even load), and runs inside a network namespace this module creates, `m4sc-janus`, which stands for the
// relay machine. The namespace has its `lo` and one end of a veth pair, 10.213.0.2/30; the other end,
// 10.213.0.1/30, is in the host's namespace, where senders and receivers run. Janus's API and its ICE
// candidates are on 10.213.0.2 only: nothing it does can reach any other address.
//
// Why a namespace and not plain loopback: Janus never gathers ICE candidates on an IFF_LOOPBACK interface
// (src/ice.c skips them whatever ice_enforce_list says), and libnice would not send from 127.0.0.2 on a
// stand-in interface to 127.0.0.1 either. Creating the namespace needs root (CAP_SYS_ADMIN/NET_ADMIN),
// once per boot; `ensureJanusNetns()` does it, `node scripts/janus/cli.mjs netns-down` removes it.
import { spawn, spawnSync } from 'node:child_process';
import {
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Where Debian (any architecture) and source builds put the plugins and transports. */
const LIB_CANDIDATES = () => {
  const out = [];
  try {
    for (const d of readdirSync('/usr/lib')) if (d.endsWith('-linux-gnu')) out.push(`/usr/lib/${d}/janus`);
  } catch {}
  out.push('/usr/lib/janus', '/opt/janus/lib/janus', '/usr/local/lib/janus');
  return out;
};

/** The janus binary, or undefined when it is not installed. */
export function findJanus() {
  for (const p of ['/usr/bin/janus', '/usr/local/bin/janus', '/opt/janus/bin/janus'])
    if (existsSync(p)) return p;
  const r = spawnSync('sh', ['-c', 'command -v janus'], { encoding: 'utf8' });
  return r.status === 0 && r.stdout.trim() ? r.stdout.trim() : undefined;
}

/** The folder holding `plugins/` and `transports/` with the VideoRoom and WebSockets modules. */
export function findJanusLibDir() {
  return LIB_CANDIDATES().find(
    (d) =>
      existsSync(join(d, 'plugins', 'libjanus_videoroom.so')) &&
      existsSync(join(d, 'transports', 'libjanus_websockets.so')),
  );
}

/**
 * Why Janus cannot run here, in words; undefined when it can (sets up the loopback ICE address when it
 * may). Tests skip with this message.
 */
export function janusUnavailableReason() {
  if (!findJanus()) return 'janus is not installed (apt-get install janus, or scripts/setup-system.sh)';
  if (!findJanusLibDir())
    return 'janus is installed but its VideoRoom plugin or WebSockets transport was not found';
  return ensureJanusNetns();
}

/** The relay machine's namespace, its veth ends and addresses. */
export const NETNS = 'm4sc-janus';
export const HOST_IFACE = 'm4scj0';
export const NS_IFACE = 'm4scj1';
export const HOST_ADDRESS = '10.213.0.1';
export const JANUS_ADDRESS = '10.213.0.2';

const ip = (args) => spawnSync('ip', args, { encoding: 'utf8' });

/** True when the namespace exists with both veth ends up and addressed. */
export function janusNetnsReady() {
  const host = ip(['-o', '-4', 'addr', 'show', 'dev', HOST_IFACE]);
  const ns = ip(['-n', NETNS, '-o', '-4', 'addr', 'show', 'dev', NS_IFACE]);
  return (
    host.status === 0 &&
    host.stdout.includes(`${HOST_ADDRESS}/30`) &&
    ns.status === 0 &&
    ns.stdout.includes(`${JANUS_ADDRESS}/30`)
  );
}

/**
 * Creates the relay namespace unless it is there; idempotent and safe against parallel callers. Returns
 * undefined when ready, or why not in words (not root, no iproute2).
 */
export function ensureJanusNetns() {
  if (janusNetnsReady()) return undefined;
  if (spawnSync('sh', ['-c', 'command -v ip'], { encoding: 'utf8' }).status !== 0)
    return "the 'ip' command (iproute2) is missing";
  if (process.getuid?.() !== 0)
    return `Janus runs in a network namespace (${NETNS}) because it never gathers ICE on loopback; creating it needs root: sudo node scripts/janus/cli.mjs netns-up`;
  const lock = spawnSync(
    'flock',
    [
      '/tmp/m4sc-janus-netns.lock',
      'sh',
      '-c',
      [
        `ip netns add ${NETNS} 2>/dev/null || true`,
        `ip -n ${NETNS} link set lo up`,
        `ip link show ${HOST_IFACE} >/dev/null 2>&1 || ip link add ${HOST_IFACE} type veth peer name ${NS_IFACE} netns ${NETNS}`,
        `sysctl -qw net.ipv6.conf.${HOST_IFACE}.disable_ipv6=1 || true`,
        `ip netns exec ${NETNS} sysctl -qw net.ipv6.conf.${NS_IFACE}.disable_ipv6=1 || true`,
        `ip addr replace ${HOST_ADDRESS}/30 dev ${HOST_IFACE}`,
        `ip -n ${NETNS} addr replace ${JANUS_ADDRESS}/30 dev ${NS_IFACE}`,
        `ip link set ${HOST_IFACE} up`,
        `ip -n ${NETNS} link set ${NS_IFACE} up`,
      ].join(' && '),
    ],
    { encoding: 'utf8' },
  );
  if (janusNetnsReady()) return undefined;
  return `could not set up the ${NETNS} namespace: ${lock.stderr.trim()}`;
}

/** Removes the namespace and the veth pair (every Janus in it dies). */
export function removeJanusNetns() {
  ip(['link', 'del', HOST_IFACE]);
  ip(['netns', 'del', NETNS]);
}

/** A free TCP port on the relay address inside the namespace (the kernel's choice, released at once). */
export function freePort() {
  const r = spawnSync(
    'ip',
    [
      'netns',
      'exec',
      NETNS,
      process.execPath,
      '-e',
      `const s=require('net').createServer();s.listen(0,'${JANUS_ADDRESS}',()=>{console.log(s.address().port);s.close()})`,
    ],
    { encoding: 'utf8' },
  );
  const port = Number(r.stdout.trim());
  if (!(port > 0)) throw new Error(`no free port in ${NETNS}: ${r.stderr.trim()}`);
  return port;
}

/**
 * Writes a Janus configuration into `dir`: janus.jcfg, the WebSockets transport and the VideoRoom plugin.
 * Options: wsPort (required), address (JANUS_ADDRESS: API and ICE), iceInterface (NS_IFACE),
 * rtpPortRange ('20000-40000'), sessionTimeoutS (30), debugLevel (3: warnings), adminKey (none: anyone
 * connected to the loopback API may create rooms). Returns the paths.
 */
export function writeJanusConfig(dir, options) {
  const libDir = options.libDir ?? findJanusLibDir();
  if (!libDir) throw new Error('Janus VideoRoom plugin / WebSockets transport not found');
  const address = options.address ?? JANUS_ADDRESS;
  mkdirSync(join(dir, 'plugins'), { recursive: true });
  mkdirSync(join(dir, 'transports'), { recursive: true });
  mkdirSync(join(dir, 'empty'), { recursive: true });
  const link = (from, to) => {
    rmSync(to, { force: true });
    symlinkSync(from, to);
  };
  link(join(libDir, 'plugins', 'libjanus_videoroom.so'), join(dir, 'plugins', 'libjanus_videoroom.so'));
  link(
    join(libDir, 'transports', 'libjanus_websockets.so'),
    join(dir, 'transports', 'libjanus_websockets.so'),
  );
  const janusCfg = `# Generated by scripts/janus/janus.mjs for M4SC's relay. Do not edit: regenerated on every start.
general: {
	configs_folder = "${dir}"
	plugins_folder = "${join(dir, 'plugins')}"
	transports_folder = "${join(dir, 'transports')}"
	events_folder = "${join(dir, 'empty')}"
	loggers_folder = "${join(dir, 'empty')}"
	debug_level = ${options.debugLevel ?? 3}
	interface = "${address}"
	debug_timestamps = true
	debug_colors = false
	session_timeout = ${options.sessionTimeoutS ?? 30}
	server_name = "m4sc-relay-${options.wsPort}"
}
certificates: {
}
media: {
	rtp_port_range = "${options.rtpPortRange ?? '20000-40000'}"
	no_media_timer = 0
}
nat: {
	nice_debug = ${options.niceDebug ? 'true' : 'false'}
	ice_enforce_list = "${options.iceInterface ?? NS_IFACE}"
	ice_ipv6 = false
	full_trickle = false
}
plugins: {
}
transports: {
}
loggers: {
	disable = "*"
}
events: {
	broadcast = false
}
`;
  const wsCfg = `# Generated by scripts/janus/janus.mjs.
general: {
	json = "plain"
	ws = true
	ws_port = ${options.wsPort}
	ws_ip = "${address}"
	wss = false
	ws_logging = "err"
}
admin: {
	admin_ws = false
	admin_wss = false
}
`;
  const vrCfg = `# Generated by scripts/janus/janus.mjs. Rooms are created on demand by m4sc-send (string ids).
general: {
	string_ids = true
${options.adminKey ? `	admin_key = "${options.adminKey}"\n` : ''}}
`;
  const paths = {
    janus: join(dir, 'janus.jcfg'),
    websockets: join(dir, 'janus.transport.websockets.jcfg'),
    videoroom: join(dir, 'janus.plugin.videoroom.jcfg'),
    log: join(dir, 'janus.log'),
  };
  writeFileSync(paths.janus, janusCfg);
  writeFileSync(paths.websockets, wsCfg);
  writeFileSync(paths.videoroom, vrCfg);
  return paths;
}

/** Resolves once `host:port` accepts a WebSocket handshake for the Janus protocol, or rejects at `timeoutMs`. */
async function waitForApi(host, port, timeoutMs, isDead) {
  const { connect } = await import('node:net');
  const until = Date.now() + timeoutMs;
  for (;;) {
    if (isDead()) throw new Error('janus exited during start-up');
    const ok = await new Promise((resolve) => {
      const s = connect({ host, port }, () => {
        s.end();
        resolve(true);
      });
      s.on('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > until)
      throw new Error(`janus API did not come up on ${host}:${port} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * Starts one Janus in the relay namespace. Options: wsPort (absent: a free port), dir (config folder;
 * default a fresh temp folder, removed on stop unless keepDir), and writeJanusConfig's options. Returns
 * { url: 'ws://10.213.0.2:PORT', relay(room): 'janus://10.213.0.2:PORT/room', pid, dir, log(), stop(),
 * restart() }. stop() sends SIGTERM, then SIGKILL after 3 s; it is idempotent. The process is also killed
 * if this process exits.
 */
export async function startJanus(options = {}) {
  const bin = findJanus();
  if (!bin) throw new Error('janus is not installed');
  const why = ensureJanusNetns();
  if (why) throw new Error(why);
  const wsPort = options.wsPort || freePort();
  const ownDir = !options.dir;
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'm4sc-janus-'));
  const paths = writeJanusConfig(dir, { ...options, wsPort });
  let child;
  let exited;
  const readLog = () => {
    try {
      return readFileSync(paths.log, 'utf8');
    } catch {
      return '';
    }
  };
  const launch = async () => {
    const out = openSync(join(dir, 'janus.stderr'), 'a');
    // `ip netns exec` execs janus: the child's pid is Janus's.
    child = spawn('ip', ['netns', 'exec', NETNS, bin, '-C', paths.janus, '-F', dir, '-L', paths.log, '-N'], {
      stdio: ['ignore', out, out],
    });
    closeSync(out);
    exited = new Promise((r) => child.once('exit', (code, signal) => r({ code, signal })));
    let dead = false;
    exited.then(() => {
      dead = true;
    });
    try {
      await waitForApi(
        options.address ?? JANUS_ADDRESS,
        wsPort,
        options.startTimeoutMs ?? 10_000,
        () => dead,
      );
    } catch (err) {
      child.kill('SIGKILL');
      throw new Error(`${err.message}\n${readLog()}`);
    }
  };
  const kill = async () => {
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const t = setTimeout(() => child.kill('SIGKILL'), 3000);
    await exited;
    clearTimeout(t);
  };
  const onExit = () => child?.kill('SIGKILL');
  process.once('exit', onExit);
  await launch();
  let stopped = false;
  const host = options.address ?? JANUS_ADDRESS;
  return {
    url: `ws://${host}:${wsPort}`,
    port: wsPort,
    relay: (room) => `janus://${host}:${wsPort}/${room}`,
    get pid() {
      return child.pid;
    },
    dir,
    log: readLog,
    /** Kills it (SIGKILL: a crash; or SIGTERM with crash=false), waits downMs, starts it again on the same port. */
    async restart({ crash = true, downMs = 0 } = {}) {
      if (crash) {
        child.kill('SIGKILL');
        await exited;
      } else await kill();
      if (downMs > 0) await new Promise((r) => setTimeout(r, downMs));
      await launch();
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      await kill();
      process.removeListener('exit', onExit);
      if (ownDir && !options.keepDir) rmSync(dir, { recursive: true, force: true });
    },
  };
}
