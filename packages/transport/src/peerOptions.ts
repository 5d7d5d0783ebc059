import { DEFAULT_MTU_BYTES } from './defaults.js';
import type { IceServer } from './werift.js';

/** The options both peer-connection factories (werift, node-datachannel) share, checked once. */
export function checkPeerConnectionOptions(options: {
  mode?: string;
  mtuBytes?: number;
  iceServers?: IceServer[];
}): { mode: 'loopback' | 'network'; mtuBytes: number; iceServers: IceServer[] } {
  const mode = options.mode ?? 'network';
  if (mode !== 'loopback' && mode !== 'network')
    throw new TypeError(`mode must be loopback or network, got ${String(mode)}`);
  const mtuBytes = options.mtuBytes ?? DEFAULT_MTU_BYTES;
  if (!Number.isInteger(mtuBytes) || mtuBytes <= 0)
    throw new TypeError(`mtuBytes must be a positive integer, got ${mtuBytes}`);
  const iceServers = options.iceServers ?? [];
  for (const s of iceServers) {
    const urls = Array.isArray(s.urls) ? s.urls : [s.urls];
    if (urls.length === 0 || urls.some((u) => typeof u !== 'string' || !/^(stun|turns?):/.test(u))) {
      throw new TypeError(
        `ICE server urls must be stun:, turn: or turns: URLs, got ${JSON.stringify(s.urls)}`,
      );
    }
    if (urls.some((u) => u.startsWith('turn')) && (s.username === undefined || s.credential === undefined)) {
      throw new TypeError('a TURN server needs username and credential');
    }
  }
  return { mode, mtuBytes, iceServers };
}
