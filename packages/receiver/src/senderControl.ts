import {
  type HelloMessage,
  type InstructionMessage,
  parseSenderMessage,
  type SemanticCodec,
  type ServeMessage,
} from '@m4sc/semantic-codec';
import type { Logger } from '@m4sc/signaling/client';
import type { PeerLink } from '@m4sc/transport';
import type { LayeredRelaySubscriber, RelaySubscriber } from '@m4sc/transport/janus';
import type { LimitedWarn } from './limitedWarn.js';
import type { DropCounters, ReceiverEvent, ReceiverInstruction } from './receiverTypes.js';
import type { DecodeContext } from './sampleDecoder.js';

/**
 * How many serves of the current request are remembered. Each change of how we are served (the adaptation
 * moved our operating point, a sharing group formed or split) comes with a new tag, and the last samples
 * coded under the old one can arrive after the new serve: it goes on the control channel at once, while
 * samples wait in the sender's pacer. Those samples still decode, under the serve that named their tag.
 */
const SERVES_KEPT = 8;

/** What {@link createSenderControl} needs. */
export interface SenderControlOptions {
  /** The semantic codec, if this receiver has one. */
  codec: SemanticCodec | undefined;
  /** What to ask for first. */
  instruction: ReceiverInstruction;
  /** The link to the sender now, if any. */
  link(): PeerLink | undefined;
  /** The relay subscriber, whose layer rooms `relay-layers` sets. */
  relay: RelaySubscriber | LayeredRelaySubscriber | undefined;
  /** A `serve` named tag `ik` (held samples can be decoded). */
  onServed(ik: string): void;
  /** Tells the user. */
  emit(event: ReceiverEvent): void;
  /** The receiver's drop counters (`bad-control`). */
  dropped: DropCounters;
  warn: LimitedWarn;
  log: Logger;
}

/**
 * The control conversation with the sender: our instruction (sent after its hello, and again on each
 * change), and what it says: hello, how it serves us, the relay layers to take, refusals. Also the
 * {@link DecodeContext} the decoder reads.
 */
export interface SenderControl extends DecodeContext {
  /** The latest serve of our current instruction, if any. */
  readonly serve: ServeMessage | undefined;
  /** Handles one control message from the sender. */
  handle(raw: unknown): void;
  /** Switches instruction and asks the sender for it. */
  setInstruction(next: ReceiverInstruction): void;
  /** Forgets the hello and serve of a link that is gone. */
  reset(): void;
  /**
   * The link just reached `connected`. The sender's hello can arrive before that (its side connects
   * first), when the instruction could not be sent yet: send it now.
   */
  linkConnected(): void;
}

/** The control handler of one receiver. */
export function createSenderControl(o: SenderControlOptions): SenderControl {
  const { codec, dropped, log } = o;
  let instruction = o.instruction;
  let requestId = 0;
  let hello: HelloMessage | undefined;
  /** Serves of the current request, oldest first, one per tag, at most {@link SERVES_KEPT}. */
  let serves: ServeMessage[] = [];

  /** The link our instruction was last sent on. */
  let instructed: PeerLink | undefined;
  const sendInstruction = () => {
    const link = o.link();
    if (link?.state !== 'connected' || hello?.codec !== 'semantic') return;
    instructed = link;
    requestId++;
    const msg: InstructionMessage = {
      t: 'instruction',
      id: requestId,
      task: instruction.task,
      ...(instruction.query ? { query: instruction.query } : {}),
    };
    link.sendControl(msg);
  };

  const handle = (raw: unknown) => {
    const m = parseSenderMessage(raw);
    if (!m) {
      dropped['bad-control']++;
      o.warn('bad-control', 'bad control message from the sender dropped', {
        total: dropped['bad-control'],
      });
      return;
    }
    if (m.t === 'hello') {
      hello = m;
      if (
        m.codec === 'semantic' &&
        codec &&
        m.bundle &&
        (m.bundle.name !== codec.manifest.name || m.bundle.version !== codec.manifest.version)
      ) {
        log.warn('the sender uses another bundle; results may be wrong', {
          sender: `${m.bundle.name} ${m.bundle.version}`,
          receiver: `${codec.manifest.name} ${codec.manifest.version}`,
        });
      }
      if (m.codec === 'semantic' && !codec)
        log.error('the sender streams semantic symbols but this receiver has no codec');
      // Link reports as often as the sender asks (its adaptation decides on them), within what the link allows.
      const link = o.link();
      if (m.reportMs !== undefined && link && link.state !== 'closed' && link.state !== 'failed') {
        try {
          link.setLinkReportInterval(m.reportMs);
          log.info('link reports at the period the sender asks for', { reportMs: m.reportMs });
        } catch (cause) {
          log.warn('the sender asks for link reports at a period this link cannot give; kept its own', {
            reportMs: m.reportMs,
            cause: String(cause),
          });
        }
      }
      o.emit({ type: 'hello', hello: m });
      if (m.codec === 'semantic') sendInstruction(); // a raw stream carries pixels only: nothing to ask for
    } else if (m.t === 'serve') {
      if (m.ref !== requestId) return; // an answer to an older request
      serves = [...serves.filter((x) => x.ref === requestId && x.ik !== m.ik), m].slice(-SERVES_KEPT);
      o.emit({ type: 'served', serve: m });
      o.onServed(m.ik);
    } else if (m.t === 'relay-layers') {
      // The adaptation's layer choice for us, through the relay: subscribe to that many layer rooms.
      const r = o.relay;
      if (!r || !('setLayers' in r) || r.layers === m.n) return;
      log.info('relay layers', { from: r.layers, to: m.n });
      r.setLayers(m.n);
    } else {
      if (m.ref !== undefined && m.ref !== requestId) return;
      log.warn('the sender refused', { code: m.code, message: m.message });
      o.emit({ type: 'refused', code: m.code, message: m.message });
    }
  };

  return {
    codec,
    get hello() {
      return hello;
    },
    get serve() {
      const last = serves.at(-1);
      return last?.ref === requestId ? last : undefined;
    },
    serveFor(ik) {
      return serves.find((x) => x.ik === ik && x.ref === requestId);
    },
    get instruction() {
      return instruction;
    },
    handle,
    setInstruction(next) {
      instruction = { ...next };
      sendInstruction();
    },
    linkConnected() {
      if (o.link() !== instructed) sendInstruction();
    },
    reset() {
      hello = undefined;
      serves = [];
    },
  };
}
