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

/**
 * An offer's `a=setup:actpass` read as `a=setup:active`, so that libdatachannel answers `a=setup:passive`: the
 * answerer is the DTLS server and the offerer, which the answer itself tells to be active, the client. Used by
 * the node-datachannel factory on the offers it is given (werift answers `active` whatever the offer says).
 *
 * libdatachannel's answerer otherwise takes the client's part. Its ICE usually comes up first (it has the offer's
 * candidates at once; the offerer waits for the answer), so its ClientHello reached an offerer whose DTLS transport
 * did not exist yet, was dropped, and went again only after OpenSSL's 1 s retransmission timer: about one connect
 * in three took ~1005 ms instead of ~5 ms (bench/lib/connectTime.mjs, loopback). As the server it waits for the
 * offerer's ClientHello, which comes only once the offerer's own ICE and DTLS are up. It still loses the race when
 * the answerer's ICE comes up last (a failed first check): ~1 in 100 connects. The offerer (werift, libdatachannel,
 * a browser or Janus) sees a standard passive answer.
 */
export function answerAsDtlsServer(sdp: string): string {
  return sdp.replace(/^a=setup:actpass(\r?)$/gm, 'a=setup:active$1');
}
