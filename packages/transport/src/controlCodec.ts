import { WIRE_VERSION } from './defaults.js';
import { MalformedFrameError } from './errors.js';
import { describeWireValue, isPlainObject, packValue, unpackValue } from './framer.js';
import type { DropReason, LinkReport } from './types.js';

/** A decoded control-channel message: the application's own, or one the link handles itself. */
export type ControlMessage =
  | { kind: 'user'; body: unknown }
  | { kind: 'ping'; t0Ms: number }
  | { kind: 'pong'; t0Ms: number; t1Ms: number }
  | { kind: 'link-report'; report: LinkReport };

// Envelope: [version, kind code, body]. Codes are small ints to keep pings tiny.
const CODES = { user: 0, ping: 1, pong: 2, 'link-report': 3 } as const;

/** Encodes a control message envelope. */
export function encodeControl(message: ControlMessage): Uint8Array {
  switch (message.kind) {
    case 'user':
      return packValue([WIRE_VERSION, CODES.user, message.body]);
    case 'ping':
      return packValue([WIRE_VERSION, CODES.ping, message.t0Ms]);
    case 'pong':
      return packValue([WIRE_VERSION, CODES.pong, [message.t0Ms, message.t1Ms]]);
    case 'link-report': {
      // msgpack has no `undefined`: absent figures go as nil so any msgpack reader can take the report.
      const r = message.report;
      const body = {
        timestampMs: r.timestampMs,
        // The window the figures cover (absent from a peer that predates it).
        ...(r.intervalMs ? { intervalMs: r.intervalMs } : {}),
        lossRate: { public: r.lossRate.public ?? null, private: r.lossRate.private ?? null },
        receivedBytesPerSec: r.receivedBytesPerSec,
        age: r.age ?? null,
        drops: r.drops,
        // Only in an early report; absent otherwise, so regular reports stay as they were.
        ...(r.queue ? { queue: [r.queue.riseMs, r.queue.rateBytesPerSec] } : {}),
        // Only when the reporter's host stalled in the interval (a peer that predates it never sends it).
        ...(r.stallMs ? { stallMs: r.stallMs } : {}),
        ...(r.outageMs ? { outageMs: r.outageMs } : {}),
      };
      return packValue([WIRE_VERSION, CODES['link-report'], body]);
    }
  }
}

const isTime = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v) && v >= 0;
const isRate = (v: unknown): v is number | undefined =>
  v === undefined || v === null || (typeof v === 'number' && v >= 0 && v <= 1);
const DROP_REASONS: readonly DropReason[] = ['stale', 'late', 'duplicate', 'malformed', 'backpressure'];

function decodeReport(v: unknown): LinkReport {
  const bad = (what: string) => new MalformedFrameError('shape', `link-report ${what} is invalid`);
  if (!isPlainObject(v)) throw bad('body');
  if (!isTime(v.timestampMs)) throw bad('timestampMs');
  const loss = v.lossRate;
  if (!isPlainObject(loss) || !isRate(loss.public) || !isRate(loss.private)) throw bad('lossRate');
  if (!isTime(v.receivedBytesPerSec)) throw bad('receivedBytesPerSec');
  let age: LinkReport['age'];
  if (v.age !== undefined && v.age !== null) {
    const a = v.age;
    if (!isPlainObject(a) || !isTime(a.p50Ms) || !isTime(a.p95Ms) || !isTime(a.count)) throw bad('age');
    age = { p50Ms: a.p50Ms, p95Ms: a.p95Ms, count: a.count };
  }
  const d = v.drops;
  if (!isPlainObject(d)) throw bad('drops');
  const drops = {} as Record<DropReason, number>;
  for (const r of DROP_REASONS) {
    const n = d[r] ?? 0;
    if (!isTime(n)) throw bad(`drops.${r}`);
    drops[r] = n;
  }
  let queue: LinkReport['queue'];
  if (v.queue !== undefined && v.queue !== null) {
    const q = v.queue;
    if (!Array.isArray(q) || q.length !== 2 || !isTime(q[0]) || !isTime(q[1])) throw bad('queue');
    queue = { riseMs: q[0], rateBytesPerSec: q[1] };
  }
  if (v.stallMs !== undefined && v.stallMs !== null && !isTime(v.stallMs)) throw bad('stallMs');
  if (v.intervalMs !== undefined && v.intervalMs !== null && !(isTime(v.intervalMs) && v.intervalMs > 0))
    throw bad('intervalMs');
  if (v.outageMs !== undefined && v.outageMs !== null && !isTime(v.outageMs)) throw bad('outageMs');
  return {
    ...(typeof v.outageMs === 'number' && v.outageMs > 0 ? { outageMs: v.outageMs } : {}),
    ...(typeof v.intervalMs === 'number' ? { intervalMs: v.intervalMs } : {}),
    ...(queue ? { queue } : {}),
    ...(typeof v.stallMs === 'number' && v.stallMs > 0 ? { stallMs: v.stallMs } : {}),
    timestampMs: v.timestampMs,
    lossRate: { public: loss.public ?? undefined, private: loss.private ?? undefined },
    receivedBytesPerSec: v.receivedBytesPerSec,
    age,
    drops,
  };
}

/** Decodes a control message; any invalid byte string throws a MalformedFrameError. */
export function decodeControl(bytes: Uint8Array): ControlMessage {
  const v = unpackValue(bytes);
  if (!Array.isArray(v) || v.length !== 3)
    throw new MalformedFrameError('shape', 'control envelope must be [v, kind, body]');
  const [version, code, body] = v as unknown[];
  if (version !== WIRE_VERSION)
    throw new MalformedFrameError('version', `unsupported wire version ${describeWireValue(version)}`);
  switch (code) {
    case CODES.user:
      return { kind: 'user', body };
    case CODES.ping:
      if (!isTime(body)) throw new MalformedFrameError('shape', 'ping timestamp is invalid');
      return { kind: 'ping', t0Ms: body };
    case CODES.pong: {
      if (!Array.isArray(body) || body.length !== 2 || !isTime(body[0]) || !isTime(body[1])) {
        throw new MalformedFrameError('shape', 'pong timestamps are invalid');
      }
      return { kind: 'pong', t0Ms: body[0], t1Ms: body[1] };
    }
    case CODES['link-report']:
      return { kind: 'link-report', report: decodeReport(body) };
    default:
      throw new MalformedFrameError('shape', `unknown control kind ${describeWireValue(code)}`);
  }
}
