/**
 * DTLS fingerprints are checked as WebRTC requires (RFC 8827 §6.5, RFC 8122): a peer whose certificate
 * does not match the `a=fingerprint` of the SDP it was signalled with must not connect. werift 0.25.2
 * does it in `RTCDtlsTransport.start()` → `verifyRemoteCertificateFingerprint()`
 * (node_modules/werift/lib/webrtc/src/transport/dtls.js; bundled in lib/index.mjs), after the handshake
 * and before the transport becomes `connected`. This test tampers with the fingerprint in the offer on its
 * way through signaling, as a man in the middle of an unprotected (ws://) signaling channel would if it
 * only swapped the DTLS certificate: the link must fail, and the same pair without tampering connects.
 */
import { type ConnectionError, createPeerLink, type PeerLink, type PeerSignal } from '@m4sc/transport';
import { createWeriftPeerConnection } from '@m4sc/transport/node';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { RTCDtlsTransport } from 'werift';

// Record what werift's own check says, to tell a fingerprint refusal from any other failure.
const verdicts: string[] = [];
const proto = RTCDtlsTransport.prototype as unknown as { verifyRemoteCertificateFingerprint(): void };
const original = proto.verifyRemoteCertificateFingerprint;
proto.verifyRemoteCertificateFingerprint = function (this: unknown) {
  try {
    original.call(this);
    verdicts.push('match');
  } catch (e) {
    verdicts.push((e as Error).message);
    throw e;
  }
};
afterAll(() => {
  proto.verifyRemoteCertificateFingerprint = original;
});

const links: PeerLink[] = [];
afterEach(() => {
  for (const l of links.splice(0)) l.close();
});

/** Flips one hex digit of every `a=fingerprint:` line of an SDP. */
function tamperFingerprint(sdp: string): string {
  return sdp.replace(/^(a=fingerprint:\S+ )([0-9A-Fa-f]{2})/gm, (_, head: string, byte: string) => {
    const flipped = (Number.parseInt(byte, 16) ^ 0x01).toString(16).padStart(2, '0').toUpperCase();
    return `${head}${flipped}`;
  });
}

function pair(tamper: boolean): { offerer: PeerLink; answerer: PeerLink; tampered: string[] } {
  const tampered: string[] = [];
  let answerer: PeerLink | undefined;
  const pending: PeerSignal[] = [];
  const toAnswerer = (s: PeerSignal) => {
    if (answerer) answerer.handleSignal(s);
    else pending.push(s);
  };
  const offerer = createPeerLink({
    pc: createWeriftPeerConnection({ mode: 'loopback' }),
    role: 'offerer',
    connectTimeoutMs: 10_000,
    sendSignal: (s) => {
      if (tamper && s.type === 'offer') {
        const sdp = tamperFingerprint(s.sdp);
        tampered.push(sdp);
        toAnswerer({ ...s, sdp });
      } else toAnswerer(s);
    },
  });
  answerer = createPeerLink({
    pc: createWeriftPeerConnection({ mode: 'loopback' }),
    role: 'answerer',
    // Generous: on a loaded CI host ICE alone can take seconds, and the check happens in DTLS after it.
    connectTimeoutMs: 30_000,
    sendSignal: (s) => offerer.handleSignal(s),
  });
  for (const s of pending.splice(0)) answerer.handleSignal(s);
  links.push(offerer, answerer);
  return { offerer, answerer, tampered };
}

describe('DTLS fingerprint check (werift)', () => {
  it('a link whose offer carries a tampered a=fingerprint fails instead of connecting', async () => {
    const { answerer, tampered } = pair(true);
    const err = (await answerer.connected.then(
      () => undefined,
      (e: unknown) => e,
    )) as ConnectionError | undefined;
    expect(tampered.length).toBe(1);
    expect(tampered[0]).toMatch(/^a=fingerprint:sha-256 /m);
    expect(err, 'the answerer connected to a peer whose certificate does not match the SDP').toBeDefined();
    expect(err!.name).toBe('ConnectionError');
    expect(['failed', 'timeout', 'closed']).toContain(err!.reason);
    expect(verdicts).toContain('remote certificate fingerprint mismatch');
  }, 45_000);

  it('the same pair without tampering connects', async () => {
    verdicts.length = 0;
    const { offerer, answerer } = pair(false);
    await Promise.all([offerer.connected, answerer.connected]);
    expect(answerer.state).toBe('connected');
    expect(verdicts).toEqual(['match', 'match']);
  }, 20_000);
});
