import { type Instruction, parseReceiverMessage, type SemanticCodec } from '@m4sc/semantic-codec';
import type { Logger } from '@m4sc/signaling';
import { CONTROL_ABUSE_CLOSE_MS } from './defaults.js';
import { parseRelayReport } from './relayFigures.js';
import type { RelayPath } from './relayPath.js';
import { describeInstruction, type Session, sendControl } from './session.js';
import type { Source } from './sources/source.js';

/** What {@link createReceiverControl} needs. */
export interface ReceiverControlOptions {
  /** The semantic codec; without it instructions are refused (raw mode). */
  codec: SemanticCodec | undefined;
  /** The sender's source, whose modality an instruction must match. */
  source: Pick<Source, 'modality' | 'description'>;
  /** Where `relay` and `relay-report` messages go. */
  relay: RelayPath;
  /** Closes a receiver's session (a control flood). */
  disconnect(peerId: string, reason: string): void;
  log: Logger;
}

/** Handles what receivers send on control: rate limit and refusals, instructions, relay and decode reports. */
export interface ReceiverControl {
  /** Handles one control message from `s`. */
  handle(s: Session, raw: unknown): void;
}

/** Per-receiver control handling; each session's own rate limit and refusal counters live on the session. */
export function createReceiverControl(o: ReceiverControlOptions): ReceiverControl {
  const { codec, source, relay, log } = o;
  const control = (s: Session, msg: Parameters<typeof sendControl>[1]) => sendControl(s, msg, log);

  /** Counts a refused control message; logs at most once a second per receiver. */
  const refuse = (s: Session, why: string) => {
    s.controlRefused++;
    const now = Date.now();
    if (now - s.lastRefusalLogMs >= 1000) {
      s.lastRefusalLogMs = now;
      log.warn('control message refused', { peerId: s.peerId, why, refusedSoFar: s.controlRefused });
      return true;
    }
    return false;
  };

  const handle = (s: Session, raw: unknown) => {
    const now = Date.now();
    if (!s.controlBucket.canSend(now)) {
      // Over the rate limit: drop without a reply (replies would feed a flood), close after sustained abuse.
      refuse(s, 'rate limit');
      s.abuseSinceMs ??= now;
      s.lastOverLimitMs = now;
      if (now - s.abuseSinceMs > CONTROL_ABUSE_CLOSE_MS) {
        log.warn('receiver disconnected for flooding control', { peerId: s.peerId });
        o.disconnect(s.peerId, 'control-flood');
      }
      return;
    }
    // Abuse ends after a full second within the limit (a flood at any rate above it keeps hitting it).
    if (s.lastOverLimitMs !== undefined && now - s.lastOverLimitMs > 1000) s.abuseSinceMs = undefined;
    s.controlBucket.take(1, now);
    const r = raw as { t?: unknown; up?: unknown } | null;
    if (r && typeof r === 'object' && r.t === 'relay' && typeof r.up === 'boolean') {
      // The receiver gets the public stream through the relay (or no longer does): stop (or resume) direct.
      relay.setReceiverUp(s, r.up);
      return;
    }
    if (r && typeof r === 'object' && r.t === 'relay-report') {
      const f = parseRelayReport(raw);
      if (f) s.relayReport = { ...f, atMs: now };
      else if (refuse(s, 'malformed relay-report'))
        control(s, { t: 'error', code: 'bad-message', message: 'malformed relay-report' });
      return;
    }
    const m = parseReceiverMessage(raw);
    if (!m) {
      // Reply once a second at most, so a stream of garbage is not echoed back.
      if (refuse(s, 'not a valid control message')) {
        control(s, { t: 'error', code: 'bad-message', message: 'not a valid control message' });
      }
      return;
    }
    if (m.t === 'decode-report') {
      s.decode = m;
      return;
    }
    if (!codec) {
      control(s, {
        t: 'error',
        ref: m.id,
        code: 'bad-instruction',
        message: 'this sender streams raw pixels (--codec raw): it runs no tasks',
      });
      return;
    }
    let instruction: Instruction;
    try {
      instruction = codec.parseInstruction({ task: m.task, ...(m.query ? { query: m.query } : {}) });
    } catch (err) {
      const code = (err as Error).name === 'UnsupportedError' ? 'unknown-task' : 'bad-instruction';
      control(s, { t: 'error', ref: m.id, code, message: (err as Error).message });
      log.warn('instruction refused', { peerId: s.peerId, task: m.task, error: (err as Error).message });
      return;
    }
    if (instruction.modality !== source.modality) {
      control(s, {
        t: 'error',
        ref: m.id,
        code: 'modality-mismatch',
        message: `task '${instruction.task}' needs ${instruction.modality === 'image' ? 'an image' : 'a text'} source; this sender streams ${source.modality} (${source.description})`,
      });
      return;
    }
    s.instruction = instruction;
    s.request = m;
    s.servedKey = undefined; // (re)announced with the next sample
    log.info('instruction', { peerId: s.peerId, task: describeInstruction(instruction) });
  };

  return { handle };
}
