// A TURN server (coturn's `turnserver`, Debian package `coturn`) for the lab's TURN scenarios (`"ice": "turn"`).
// It runs in the router namespace, listens on every link's router address (10.77.k.1:3478, UDP), relays from
// 10.77.0.1, and accepts one long-term credential generated per run. Peers then have no path to each other but
// their TURN allocations: the router namespace does not forward IP and the lab's own relays are not used.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

export const TURN_PORT = 3478;

/** The turnserver configuration: lab addresses only, UDP only, long-term credentials, no TLS, no CLI. */
export function turnConfig({ listenHosts, relayHost, username, password, dir }) {
  return [
    `listening-port=${TURN_PORT}`,
    ...listenHosts.map((h) => `listening-ip=${h}`),
    `relay-ip=${relayHost}`,
    'min-port=49160',
    'max-port=49999',
    'lt-cred-mech',
    `user=${username}:${password}`,
    'realm=m4sc.lab',
    'fingerprint',
    'no-tcp',
    'no-tls',
    'no-dtls',
    'no-tcp-relay',
    'no-cli',
    'no-rfc5780',
    'no-stun-backward-compatibility',
    `userdb=${join(dir, 'turndb')}`,
    `pidfile=${join(dir, 'turnserver.pid')}`,
    'log-file=stdout',
    'simple-log',
    'verbose',
    '',
  ].join('\n');
}

/**
 * Starts turnserver in namespace `ns` (or on the host when ns is undefined) and resolves once it listens on
 * every host. `onChild` gets the process (for the lab's cleanup). Rejects if it exits or does not listen in 10 s.
 */
export async function startTurn({ ns, listenHosts, relayHost, dir, onChild }) {
  const username = 'm4lab';
  const password = randomBytes(12).toString('hex');
  const conf = join(dir, 'turnserver.conf');
  writeFileSync(conf, turnConfig({ listenHosts, relayHost, username, password, dir }), { mode: 0o600 });
  const argv = ns ? ['ip', 'netns', 'exec', ns, 'turnserver', '-c', conf] : ['turnserver', '-c', conf];
  const child = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
  onChild?.(child);
  const log = [];
  const listening = new Set();
  const counts = { allocations: 0, permissions: 0, channelBinds: 0 };
  await new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`turnserver did not listen within 10 s:\n${log.slice(-15).join('\n')}`)),
      10_000,
    );
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(new Error(`turnserver: ${err.message} (apt-get install coturn)`));
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`turnserver exited (${code}):\n${log.slice(-15).join('\n')}`));
    });
    const onLine = (l) => {
      log.push(l);
      const m = /UDP listener opened on\s*:\s*([\d.]+):(\d+)/.exec(l);
      if (m && Number(m[2]) === TURN_PORT) listening.add(m[1]);
      if (/ALLOCATE processed, success/.test(l)) counts.allocations++;
      if (/CREATE_PERMISSION processed, success/.test(l)) counts.permissions++;
      if (/CHANNEL_BIND processed, success/.test(l)) counts.channelBinds++;
      if (listenHosts.every((h) => listening.has(h))) {
        clearTimeout(timer);
        child.removeAllListeners('exit');
        resolve();
      }
    };
    createInterface({ input: child.stdout }).on('line', onLine);
    createInterface({ input: child.stderr }).on('line', onLine);
  });
  return {
    child,
    log,
    counts,
    username,
    password,
    /** The --ice-* flags of a peer on the link whose router address is `host`. */
    iceArgs: (host) => [
      '--ice-server',
      `turn:${host}:${TURN_PORT}?transport=udp`,
      '--ice-username',
      username,
      '--ice-credential',
      password,
      '--ice-policy',
      'relay',
    ],
  };
}
