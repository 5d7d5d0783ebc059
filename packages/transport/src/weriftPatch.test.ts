// Regression tests for patches/werift+0.25.2.patch. The ESM bundle (what `import 'werift'` loads) is tested
// through its exported RTCSctpTransport; the SCTP internals only exist as CommonJS files, loaded by path.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RTCPeerConnection, RTCSctpTransport } from 'werift';

const require = createRequire(import.meta.url);
const lib = join(dirname(require.resolve('werift')), '../..');
const { SCTP, InboundStream } = require(join(lib, 'sctp/src/sctp.js'));
const { DataChunk } = require(join(lib, 'sctp/src/chunk.js'));

const FIRST = 0x02;
const LAST = 0x01;
const UNORDERED = 0x04;

function chunk(
  tsn: number,
  flags: number,
  opts: { ssn?: number; stream?: number; sentCount?: number; maxRetransmits?: number } = {},
) {
  const c = new DataChunk(flags);
  c.tsn = tsn;
  c.streamId = opts.stream ?? 1;
  c.streamSeqNum = opts.ssn ?? 0;
  c.userData = Buffer.from([tsn]);
  c.sentCount = opts.sentCount ?? 1;
  c.maxRetransmits = opts.maxRetransmits;
  return c;
}

const pop = (s: { popMessages(): Iterable<[number, number, Buffer]> }) =>
  [...s.popMessages()].map((m) => [...m[2]]);

describe('werift patch', () => {
  it('abandons a lost chunk of a maxRetransmits: 0 channel (0 is a limit, not "unset")', () => {
    const c = chunk(1, FIRST | LAST, { maxRetransmits: 0 });
    const self = { sentQueue: [c] };
    expect(SCTP.prototype.maybeAbandon.call(self, c)).toBe(true);
    expect(c.abandoned).toBe(true);
  });

  it('abandons the lost message itself, never a reliable one ahead of it in the sent queue', () => {
    const reliable = chunk(1, FIRST | LAST, { stream: 0 });
    const lost = chunk(2, FIRST, { maxRetransmits: 0 });
    const lostTail = chunk(3, LAST, { maxRetransmits: 0 });
    const next = chunk(4, FIRST | LAST, { maxRetransmits: 0 });
    const self = { sentQueue: [reliable, lost, lostTail, next] };
    SCTP.prototype.maybeAbandon.call(self, lostTail);
    expect([reliable, lost, lostTail, next].map((c) => c.abandoned)).toEqual([false, true, true, false]);
  });

  it('sends FORWARD TSN again while the peer has not reached the advanced ack point (a lost one stalled the association)', () => {
    const self = {
      sentQueue: [],
      lastSackedTsn: 10,
      advancedPeerAckTsn: 11,
      forwardTsnChunk: undefined,
      forwardTsnStreams: {},
      timer3Handle: 1,
    };
    SCTP.prototype.updateAdvancedPeerAckPoint.call(self);
    expect(self.forwardTsnChunk).toMatchObject({ cumulativeTsn: 11 });
    // sent (transmitOnce clears it) and lost: T3-rtx expiry sends it again
    self.forwardTsnChunk = undefined;
    SCTP.prototype.updateAdvancedPeerAckPoint.call(self, true);
    expect(self.forwardTsnChunk).toMatchObject({ cumulativeTsn: 11 });
    const acked = { ...self, lastSackedTsn: 11, forwardTsnChunk: undefined };
    SCTP.prototype.updateAdvancedPeerAckPoint.call(acked, true);
    expect(acked.forwardTsnChunk).toBeUndefined();
  });

  it('sends no FORWARD TSN on a SACK behind an ack point already announced (FORWARD TSN <-> SACK ping-pong)', () => {
    let t3Starts = 0;
    const self = {
      sentQueue: [chunk(11, FIRST | LAST, { maxRetransmits: 0 }), chunk(12, FIRST | LAST)],
      lastSackedTsn: 10,
      advancedPeerAckTsn: 10,
      forwardTsnChunk: undefined as { cumulativeTsn: number } | undefined,
      forwardTsnStreams: {},
      timer3Handle: undefined as number | undefined,
      timer3Start() {
        t3Starts++;
        this.timer3Handle = 1;
      },
    };
    self.sentQueue[0].abandoned = true;
    const sack = () => {
      SCTP.prototype.updateAdvancedPeerAckPoint.call(self);
      const sent = self.forwardTsnChunk?.cumulativeTsn;
      self.forwardTsnChunk = undefined; // transmitOnce sends it
      return sent;
    };
    expect(sack()).toBe(11);
    // the SACKs in flight, and the one each FORWARD TSN draws, still carry cumulative TSN 10
    expect([sack(), sack(), sack()]).toEqual([undefined, undefined, undefined]);
    // T3-rtx was cancelled (sent queue emptied by the SACK): it is started again to resend a lost FORWARD TSN
    self.sentQueue.shift();
    sack();
    expect(t3Starts).toBe(1);
    // the point moves (12 abandoned): one new FORWARD TSN
    self.sentQueue.unshift(chunk(12, FIRST | LAST, { maxRetransmits: 0 }));
    self.sentQueue[0].abandoned = true;
    expect([sack(), sack()]).toEqual([12, undefined]);
  });

  it('delivers every complete ordered message when other streams interleave TSNs (#706)', () => {
    const s = new InboundStream();
    s.addChunk(chunk(12, FIRST | LAST, { ssn: 1 }));
    expect(pop(s)).toEqual([]);
    s.addChunk(chunk(10, FIRST | LAST, { ssn: 0 })); // TSN 11 went to another stream
    expect(pop(s)).toEqual([[10], [12]]);
  });

  it('delivers a complete unordered message that follows an incomplete one (#706)', () => {
    const s = new InboundStream();
    s.addChunk(chunk(5, FIRST | UNORDERED)); // its LAST fragment (6) is lost
    s.addChunk(chunk(7, FIRST | LAST | UNORDERED));
    expect(pop(s)).toEqual([[7]]);
  });

  it('advertises unordered partially reliable channels as 0x81 / 0x82 in DCEP (#714)', () => {
    const typeOf = (channel: object) => {
      const self = { dataChannels: {}, dataChannelQueue: [] as unknown[][], dataChannelFlush() {} };
      RTCSctpTransport.prototype.dataChannelOpen.call(self, {
        id: 1,
        label: 'x',
        protocol: '',
        ...channel,
      } as never);
      return (self.dataChannelQueue[0]![2] as Buffer)[1];
    };
    expect(typeOf({ ordered: false, maxRetransmits: 0, maxPacketLifeTime: null })).toBe(0x81);
    expect(typeOf({ ordered: false, maxRetransmits: null, maxPacketLifeTime: 100 })).toBe(0x82);
    expect(typeOf({ ordered: true, maxRetransmits: 0, maxPacketLifeTime: null })).toBe(0x01);
  });

  it('expires maxPacketLifeTime messages after that many milliseconds', async () => {
    const sent: { expiry?: number }[] = [];
    const channel = {
      id: 1,
      maxPacketLifeTime: 500,
      maxRetransmits: null,
      ordered: false,
      addBufferedAmount() {},
    };
    const self = {
      sctp: {
        associationState: 4,
        send: async (_s: number, _p: number, _d: Buffer, o: { expiry?: number }) => sent.push(o),
      },
      dataChannelQueue: [[channel, 53, Buffer.from([1])]],
      dataChannels: {},
    };
    const before = Date.now() / 1000;
    await RTCSctpTransport.prototype.dataChannelFlush.call(self as never);
    // expiry is in seconds, compared with Date.now() / 1000 in maybeAbandon.
    expect(sent[0]!.expiry).toBeGreaterThanOrEqual(before + 0.5);
    expect(sent[0]!.expiry).toBeLessThan(before + 0.6);
  });

  it('contacts no STUN server when iceServers is an explicit empty list', () => {
    const pc = new RTCPeerConnection({ iceServers: [] });
    pc.createDataChannel('x');
    const transports = (pc as unknown as { iceTransports: { connection: { stunServer: unknown } }[] })
      .iceTransports;
    const servers = transports.map((t) => t.connection.stunServer);
    pc.close();
    expect(servers.length).toBeGreaterThan(0);
    expect(servers.every((s) => s === undefined)).toBe(true);
  });
});
