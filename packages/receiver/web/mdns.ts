/**
 * Chromium hides the page's host candidates behind random `<uuid>.local` mDNS names (unless the page has
 * camera permission or the browser runs with `--disable-features=WebRtcHideLocalIpsWithMdns`). werift, on
 * the sender, tries to resolve them over multicast DNS, which fails in most containers and on loopback; a
 * sender whose every remote candidate fails starts no checks and the link never comes up.
 *
 * The page therefore wraps its RTCPeerConnection: every candidate it signals (in the SDP and trickled)
 * that names an mDNS host is rewritten to a real address chosen by {@link chooseCandidateAddress}, and,
 * when the sender is on this machine, a 127.0.0.1 twin of every IPv4 host candidate is added. This works
 * because Chromium binds its host-candidate UDP sockets to the wildcard address, so a datagram to the
 * candidate's port on any local address reaches it. Candidates are otherwise passed through unchanged.
 */
import type { IceCandidateInit, PeerConnectionLike } from '@m4sc/transport';

const MDNS_HOST = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\.local$/i;
const IPV4 = /^\d{1,3}(?:\.\d{1,3}){3}$/;

/** How the page rewrites the candidates it signals. */
export interface CandidatePolicy {
  /** Address that replaces `<uuid>.local` host names; undefined leaves them as they are. */
  mdnsAddress: string | undefined;
  /** Add a 127.0.0.1 copy of each IPv4 host candidate (the sender is on this machine, maybe loopback-only). */
  loopbackTwins: boolean;
}

function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || host.startsWith('127.') || host === '[::1]' || host === '::1';
}

/**
 * Chooses the policy. `override` (the page's `?candidateAddress=`) wins; a signaling server on loopback
 * means the sender is on this machine, so 127.0.0.1; else the address the page's web server saw this
 * browser at, when it is a non-loopback IPv4 address; else none (the sender may still learn the page's
 * address as a peer-reflexive candidate from the page's own connectivity checks).
 */
export function chooseCandidatePolicy(opts: {
  signalUrl: string;
  clientAddress?: string | undefined;
  override?: string | undefined;
}): CandidatePolicy {
  let signalHost = '';
  try {
    signalHost = new URL(opts.signalUrl).hostname;
  } catch {
    // a bad URL fails later, in words, when the page connects
  }
  const local = isLoopbackHost(signalHost);
  if (opts.override) return { mdnsAddress: opts.override, loopbackTwins: local };
  if (local) return { mdnsAddress: '127.0.0.1', loopbackTwins: true };
  const c = opts.clientAddress;
  if (c && IPV4.test(c) && !isLoopbackHost(c)) return { mdnsAddress: c, loopbackTwins: false };
  return { mdnsAddress: undefined, loopbackTwins: false };
}

/** `candidate:<foundation> <component> <transport> <priority> <address> <port> typ <type> …` */
function splitCandidate(line: string): string[] | undefined {
  const body = line.startsWith('a=') ? line.slice(2) : line;
  if (!body.startsWith('candidate:')) return undefined;
  const f = body.split(' ');
  return f.length >= 8 && f[6] === 'typ' ? f : undefined;
}

/**
 * Rewrites one candidate (with or without the `a=` prefix): returns the candidate lines to signal instead,
 * the rewritten one first and then its loopback twin, if any.
 */
export function rewriteCandidate(line: string, policy: CandidatePolicy): string[] {
  const f = splitCandidate(line);
  if (!f) return [line];
  const prefix = line.startsWith('a=') ? 'a=' : '';
  const out: string[] = [];
  const isHost = f[7] === 'host';
  const mdns = MDNS_HOST.test(f[4]!);
  if (mdns && policy.mdnsAddress) {
    const g = [...f];
    g[4] = policy.mdnsAddress;
    out.push(prefix + g.join(' '));
  } else out.push(line);
  const address = mdns ? policy.mdnsAddress : f[4];
  if (policy.loopbackTwins && isHost && f[2]!.toLowerCase() === 'udp' && address && IPV4.test(address)) {
    if (!address.startsWith('127.')) {
      const g = [...f];
      g[0] = `${g[0]}1`; // a foundation of its own
      g[3] = String(Math.max(1, Number(g[3]) - 1));
      g[4] = '127.0.0.1';
      out.push(prefix + g.join(' '));
    }
  }
  return out;
}

/** Rewrites every `a=candidate:` line of an SDP. */
export function rewriteSdp(sdp: string, policy: CandidatePolicy): string {
  const eol = sdp.includes('\r\n') ? '\r\n' : '\n';
  return sdp
    .split(eol)
    .flatMap((l) => (l.startsWith('a=candidate:') ? rewriteCandidate(l, policy) : [l]))
    .join(eol);
}

type Listener = (event: unknown) => void;

/**
 * Wraps a native RTCPeerConnection so that what the link signals (its `localDescription` and
 * `icecandidate` events) carries rewritten candidates. Everything else goes to the native connection.
 */
export function wrapPeerConnection(pc: RTCPeerConnection, policy: CandidatePolicy): PeerConnectionLike {
  if (!policy.mdnsAddress && !policy.loopbackTwins) return pc as unknown as PeerConnectionLike;
  const wrapped = new Map<Listener, Listener>();
  const candidateListener =
    (listener: Listener): Listener =>
    (event) => {
      const c = (event as RTCPeerConnectionIceEvent).candidate;
      if (!c?.candidate) {
        listener(event);
        return;
      }
      for (const line of rewriteCandidate(c.candidate, policy)) {
        const init: IceCandidateInit = {
          candidate: line,
          sdpMid: c.sdpMid,
          sdpMLineIndex: c.sdpMLineIndex,
          usernameFragment: c.usernameFragment,
        };
        listener({ candidate: init });
      }
    };
  return {
    get connectionState() {
      return pc.connectionState;
    },
    get iceGatheringState() {
      return pc.iceGatheringState;
    },
    get localDescription() {
      const d = pc.localDescription;
      return d ? { type: d.type, sdp: rewriteSdp(d.sdp, policy) } : null;
    },
    get remoteDescription() {
      return pc.remoteDescription;
    },
    createDataChannel: (label, init) => pc.createDataChannel(label, init),
    createOffer: () => pc.createOffer(),
    createAnswer: () => pc.createAnswer(),
    setLocalDescription: (d?: unknown) => pc.setLocalDescription(d as RTCSessionDescriptionInit | undefined),
    setRemoteDescription: (d) => pc.setRemoteDescription(d),
    addIceCandidate: (c) => pc.addIceCandidate(c as RTCIceCandidateInit),
    addEventListener(type: string, listener: Listener) {
      if (type !== 'icecandidate') {
        pc.addEventListener(type, listener as EventListener);
        return;
      }
      const w = candidateListener(listener);
      wrapped.set(listener, w);
      pc.addEventListener(type, w as EventListener);
    },
    removeEventListener(type: string, listener: Listener) {
      const w = type === 'icecandidate' ? wrapped.get(listener) : undefined;
      if (w) wrapped.delete(listener);
      pc.removeEventListener(type, (w ?? listener) as EventListener);
    },
    close: () => pc.close(),
  };
}
