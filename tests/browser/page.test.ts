/** The page's pure parts, in Node: mDNS candidate rewriting, plots, frame scaling, errors in words. */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { describeJoinError, describeModelError } from '../../packages/receiver/web/errors.js';
import { integerScale } from '../../packages/receiver/web/frame.js';
import {
  type CandidatePolicy,
  chooseCandidatePolicy,
  rewriteCandidate,
  rewriteSdp,
} from '../../packages/receiver/web/mdns.js';
import { niceCeil, TimeSeries } from '../../packages/receiver/web/plots.js';
import { sha256 } from '../../packages/receiver/web/sha256.js';

const MDNS =
  'candidate:3395983334 1 udp 2113937151 71f71eb8-ea31-460a-bb58-3685d120f68e.local 60607 typ host generation 0 ufrag 4F07 network-cost 999';
const REAL =
  'candidate:3567953041 1 udp 2113937151 192.0.2.2 53523 typ host generation 0 ufrag oaos network-cost 999';
const V6 =
  'candidate:533489009 1 udp 2113942271 fd00::2 36320 typ host generation 0 ufrag oaos network-cost 999';
const SRFLX = 'candidate:1 1 udp 1677729535 203.0.113.7 50000 typ srflx raddr 0.0.0.0 rport 0 generation 0';

describe('chooseCandidatePolicy', () => {
  it('a loopback signaling server means a local sender: mDNS names become 127.0.0.1, with loopback twins', () => {
    for (const url of ['ws://127.0.0.1:8787', 'ws://localhost:1', 'ws://[::1]:2'])
      expect(chooseCandidatePolicy({ signalUrl: url, clientAddress: '10.0.0.5' })).toEqual({
        mdnsAddress: '127.0.0.1',
        loopbackTwins: true,
      });
  });
  it('a remote sender gets the address the web server saw the browser at, when it is a real IPv4', () => {
    expect(chooseCandidatePolicy({ signalUrl: 'ws://10.0.0.1:8787', clientAddress: '10.0.0.5' })).toEqual({
      mdnsAddress: '10.0.0.5',
      loopbackTwins: false,
    });
    expect(
      chooseCandidatePolicy({ signalUrl: 'ws://10.0.0.1:8787', clientAddress: '127.0.0.1' }).mdnsAddress,
    ).toBe(undefined);
    expect(chooseCandidatePolicy({ signalUrl: 'ws://10.0.0.1:8787' }).mdnsAddress).toBe(undefined);
  });
  it('?candidateAddress= wins', () => {
    expect(
      chooseCandidatePolicy({ signalUrl: 'ws://10.0.0.1:1', clientAddress: '10.0.0.5', override: '10.9.9.9' })
        .mdnsAddress,
    ).toBe('10.9.9.9');
  });
});

describe('rewriteCandidate', () => {
  const local: CandidatePolicy = { mdnsAddress: '127.0.0.1', loopbackTwins: true };
  const remote: CandidatePolicy = { mdnsAddress: '10.0.0.5', loopbackTwins: false };
  it('replaces an mDNS host name and keeps every other field', () => {
    const [out] = rewriteCandidate(MDNS, remote);
    expect(out).toBe(MDNS.replace('71f71eb8-ea31-460a-bb58-3685d120f68e.local', '10.0.0.5'));
  });
  it('adds a 127.0.0.1 twin of a real IPv4 host candidate for a local sender, with its own foundation', () => {
    const out = rewriteCandidate(REAL, local);
    expect(out[0]).toBe(REAL);
    expect(out[1]).toMatch(/^candidate:35679530411 1 udp 2113937150 127\.0\.0\.1 53523 typ host /);
    expect(rewriteCandidate(MDNS, local)).toHaveLength(1); // already 127.0.0.1
  });
  it('leaves IPv6, server-reflexive and non-candidate lines alone', () => {
    expect(rewriteCandidate(V6, local)).toEqual([V6]);
    expect(rewriteCandidate(SRFLX, local)).toEqual([SRFLX]);
    expect(rewriteCandidate('a=mid:0', local)).toEqual(['a=mid:0']);
    expect(rewriteCandidate('candidate:garbage', local)).toEqual(['candidate:garbage']);
  });
  it('leaves mDNS names when there is no address to use', () => {
    expect(rewriteCandidate(MDNS, { mdnsAddress: undefined, loopbackTwins: false })).toEqual([MDNS]);
  });
});

describe('rewriteSdp', () => {
  it('rewrites every a=candidate line and keeps CRLF', () => {
    const sdp = ['v=0', `a=${MDNS}`, `a=${REAL}`, 'a=end-of-candidates', ''].join('\r\n');
    const out = rewriteSdp(sdp, { mdnsAddress: '127.0.0.1', loopbackTwins: true }).split('\r\n');
    expect(out).toHaveLength(6);
    expect(out[1]).toContain(' 127.0.0.1 60607 typ host');
    expect(out[2]).toBe(`a=${REAL}`);
    expect(out[3]).toContain(' 127.0.0.1 53523 typ host');
    expect(out.join('\r\n')).not.toContain('.local');
  });
});

describe('plots', () => {
  it('TimeSeries keeps one window of points and ignores non-finite values', () => {
    const s = new TimeSeries(1000);
    s.push(0, 1);
    s.push(500, Number.NaN);
    s.push(900, 3);
    s.push(1600, 2);
    expect(s.t).toEqual([900, 1600]);
    expect(s.last).toBe(2);
    expect(s.max()).toBe(3);
  });
  it('niceCeil rounds axis tops up to 1, 2 or 5 × 10^k', () => {
    expect([0, 0.3, 1, 1.1, 4, 7, 130].map(niceCeil)).toEqual([1, 0.5, 1, 2, 5, 10, 200]);
  });
});

describe('integerScale', () => {
  it('is the largest integer scale that fits, at least 1', () => {
    expect(integerScale(32, 32, 384, 384)).toBe(12);
    expect(integerScale(64, 48, 384, 384)).toBe(6);
    expect(integerScale(1000, 10, 384, 384)).toBe(1);
  });
});

describe('errors in words', () => {
  const err = (reason: string, message: string, code?: string) =>
    Object.assign(new Error(message), { name: 'ConnectionError', reason, ...(code ? { code } : {}) });
  it('names the signaling URL when it is unreachable', () => {
    const e = describeJoinError(err('unreachable', 'cannot reach'), 'ws://h:1', 'r');
    expect(e.kind).toBe('signaling-unreachable');
    expect(e.message).toMatch(/^Signaling server unreachable at ws:\/\/h:1/);
  });
  it('tells a missing token from a refused one, and names the room', () => {
    expect(describeJoinError(err('refused', 'x', 'token-missing'), 'ws://h:1', 'lab').message).toMatch(
      /Room 'lab' needs a token/,
    );
    const e = describeJoinError(err('refused', 'bad signature', 'token-invalid'), 'ws://h:1', 'lab');
    expect(e.kind).toBe('token-refused');
    expect(e.message).toMatch(/Token refused .*token-invalid/);
    expect(describeJoinError(err('refused', 'full', 'room-full'), 'ws://h:1', 'lab').kind).toBe(
      'room-refused',
    );
  });
  it('names the file of a bundle error', () => {
    const e = describeModelError(
      Object.assign(new Error('sha256 mismatch'), { name: 'BundleError', file: 'image_decoder.onnx' }),
    );
    expect(e.message).toBe('Model failed to load (image_decoder.onnx): sha256 mismatch');
  });
});

describe('sha256 (for insecure contexts without crypto.subtle)', () => {
  it('matches node:crypto on lengths around the block boundaries', () => {
    for (const n of [0, 1, 55, 56, 63, 64, 65, 119, 120, 1000, 70_000]) {
      const data = Uint8Array.from({ length: n }, (_, i) => (i * 31 + 7) & 255);
      const want = createHash('sha256').update(data).digest('hex');
      expect(Buffer.from(sha256(data)).toString('hex'), `length ${n}`).toBe(want);
    }
  });
});
