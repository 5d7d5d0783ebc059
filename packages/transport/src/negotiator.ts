import { ConnectionError } from './errors.js';
import type { Logger } from './logger.js';
import type { IceCandidateInit, PeerConnectionLike, PeerSignal } from './types.js';

/** Options of {@link Negotiator}. */
export interface NegotiatorOptions {
  pc: PeerConnectionLike;
  role: 'offerer' | 'answerer';
  sendSignal: (signal: PeerSignal) => void;
  /** Wait this long for ICE gathering before sending a description anyway, milliseconds. */
  gatherTimeoutMs: number;
  logger: Logger;
  /** Called once with the first fatal signaling error. */
  onFatal: (error: ConnectionError) => void;
}

/** Whether an SDP's ICE credentials are present (a description without them cannot restart anything). */
const ICE_UFRAG = /^a=ice-ufrag:(\S+)/m;

/** Checks the shape of a signal from the wire; a TypeError names what is wrong. */
export function validateSignal(signal: unknown): PeerSignal {
  if (typeof signal !== 'object' || signal === null) throw new TypeError('signal must be an object');
  const s = signal as Record<string, unknown>;
  if (s.type === 'offer' || s.type === 'answer') {
    if (typeof s.sdp !== 'string' || s.sdp.length === 0)
      throw new TypeError(`${s.type} signal has no sdp string`);
    if (s.type === 'offer' && s.restart !== undefined && typeof s.restart !== 'boolean')
      throw new TypeError('offer signal: restart must be a boolean');
    return s.type === 'offer' && s.restart === true
      ? { type: 'offer', sdp: s.sdp, restart: true }
      : { type: s.type, sdp: s.sdp };
  }
  if (s.type === 'candidate') {
    const c = s.candidate;
    if (c === null || c === undefined) return { type: 'candidate', candidate: null };
    if (typeof c !== 'object' || typeof (c as IceCandidateInit).candidate !== 'string') {
      throw new TypeError('candidate signal has no candidate string');
    }
    const ci = c as IceCandidateInit;
    return {
      type: 'candidate',
      candidate: {
        candidate: ci.candidate,
        sdpMid: typeof ci.sdpMid === 'string' ? ci.sdpMid : null,
        sdpMLineIndex: typeof ci.sdpMLineIndex === 'number' ? ci.sdpMLineIndex : null,
        usernameFragment: typeof ci.usernameFragment === 'string' ? ci.usernameFragment : null,
      },
    };
  }
  throw new TypeError(`signal type must be offer, answer or candidate, got ${String(s.type)}`);
}

/**
 * Offer/answer and ICE candidate exchange over the caller's signaling path.
 *
 * A description is sent once ICE gathering completes (or `gatherTimeoutMs` passes) so it carries the
 * candidates: werift fails ICE at once when it starts checks with no remote candidate, which is what happens
 * when the peer trickles every candidate after its description. Candidates found later are trickled.
 * Remote candidates that arrive before the remote description wait for it.
 *
 * ICE restart (RFC 8445 §9, JSEP §4.1.10.1): on an established link the offerer sends a new offer with new ICE
 * credentials, marked `restart`; the answerer applies it and answers. DTLS, SCTP and the data channels are kept.
 * Any other second offer is still ignored: renegotiating media or channels is not supported.
 */
export class Negotiator {
  readonly #o: NegotiatorOptions;
  #chain: Promise<void> = Promise.resolve();
  #pendingCandidates: IceCandidateInit[] = [];
  #haveRemote = false;
  #descriptionSent = false;
  /** The offerer sent a restart offer and waits for its answer. */
  #restartPending = false;
  #restarts = 0;
  #closed = false;
  #fatal = false;
  readonly #onCandidate = (event: unknown) => this.#localCandidate(event);

  constructor(options: NegotiatorOptions) {
    this.#o = options;
    options.pc.addEventListener('icecandidate', this.#onCandidate);
  }

  /** Starts the exchange: the offerer sends its offer; the answerer waits for one. */
  start(): void {
    if (this.#o.role !== 'offerer') return;
    this.#enqueue('create offer', async () => {
      const { pc } = this.#o;
      await pc.setLocalDescription(await pc.createOffer());
      await this.#sendLocalDescription('offer');
    });
  }

  /** ICE restarts this side started (offerer) or answered (answerer). */
  get restarts(): number {
    return this.#restarts;
  }

  /**
   * Offerer: sends an offer with new ICE credentials (an ICE restart); the answer is applied when it comes. While
   * the previous restart offer is unanswered (signaling cannot reach the peer yet), the same offer is sent again:
   * whichever copy the peer answers, the answer fits the offer this side holds.
   */
  restart(): void {
    if (this.#o.role !== 'offerer') throw new Error('only the offerer restarts ICE');
    this.#restarts++;
    this.#enqueue('create an ICE-restart offer', async () => {
      const { pc } = this.#o;
      if (this.#restartPending && pc.localDescription?.type === 'offer') {
        this.#o.logger.debug('ICE-restart offer unanswered; sending it again');
        this.#send({ type: 'offer', sdp: pc.localDescription.sdp, restart: true });
        return;
      }
      const offer = await pc.createOffer({ iceRestart: true });
      await pc.setLocalDescription(offer);
      this.#restartPending = true;
      await this.#sendLocalDescription('offer', true);
    });
  }

  /** Applies a remote signal (already validated). */
  handle(signal: PeerSignal): void {
    const { role } = this.#o;
    if (signal.type === 'candidate') {
      if (signal.candidate === null) return;
      const candidate = signal.candidate;
      this.#enqueue('add candidate', async () => {
        if (!this.#haveRemote) this.#pendingCandidates.push(candidate);
        else await this.#addCandidate(candidate);
      });
      return;
    }
    const expected = role === 'offerer' ? 'answer' : 'offer';
    if (signal.type !== expected) {
      this.#fail(
        new ConnectionError('signaling', `the ${role} received an ${signal.type}; expected an ${expected}`),
      );
      return;
    }
    this.#enqueue(`apply ${signal.type}`, async () => {
      const { pc } = this.#o;
      if (this.#haveRemote) {
        if (signal.type === 'offer' && signal.restart === true) {
          await this.#answerRestart(signal.sdp);
          return;
        }
        if (signal.type === 'answer' && this.#restartPending) {
          this.#restartPending = false;
          await pc.setRemoteDescription({ type: 'answer', sdp: signal.sdp });
          this.#o.logger.debug('ICE-restart answer applied', { ufrag: ICE_UFRAG.exec(signal.sdp)?.[1] });
          return;
        }
        this.#o.logger.warn('second remote description ignored (renegotiation is not supported)');
        return;
      }
      await pc.setRemoteDescription({ type: signal.type, sdp: signal.sdp });
      this.#haveRemote = true;
      const pending = this.#pendingCandidates;
      this.#pendingCandidates = [];
      for (const c of pending) await this.#addCandidate(c);
      if (role === 'answerer') {
        await pc.setLocalDescription(await pc.createAnswer());
        await this.#sendLocalDescription('answer');
      }
    });
  }

  /** Answerer: applies an ICE-restart offer on the established connection and answers it. */
  async #answerRestart(sdp: string): Promise<void> {
    const { pc } = this.#o;
    this.#restarts++;
    await pc.setRemoteDescription({ type: 'offer', sdp });
    await pc.setLocalDescription(await pc.createAnswer());
    this.#o.logger.info('answering an ICE restart', { ufrag: ICE_UFRAG.exec(sdp)?.[1] });
    await this.#sendLocalDescription('answer');
  }

  /** Stops listening; later signals are ignored. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#o.pc.removeEventListener('icecandidate', this.#onCandidate);
    this.#pendingCandidates = [];
  }

  #enqueue(what: string, step: () => Promise<void>): void {
    this.#chain = this.#chain.then(async () => {
      if (this.#closed || this.#fatal) return;
      try {
        await step();
      } catch (cause) {
        if (this.#closed) return;
        this.#fail(new ConnectionError('signaling', `signaling failed to ${what}`, { cause }));
      }
    });
  }

  async #addCandidate(candidate: IceCandidateInit): Promise<void> {
    try {
      await this.#o.pc.addIceCandidate(candidate);
    } catch (cause) {
      // One bad candidate is not fatal: others may still connect.
      this.#o.logger.warn('remote ICE candidate rejected', { candidate: candidate.candidate, cause });
    }
  }

  async #sendLocalDescription(type: 'offer' | 'answer', restart = false): Promise<void> {
    await this.#gathered();
    if (this.#closed) return;
    const desc = this.#o.pc.localDescription;
    if (desc === null) throw new Error('no local description after setLocalDescription');
    this.#descriptionSent = true;
    this.#send(
      type === 'offer'
        ? { type, sdp: desc.sdp, ...(restart ? { restart: true } : {}) }
        : { type, sdp: desc.sdp },
    );
  }

  #gathered(): Promise<void> {
    const { pc, gatherTimeoutMs } = this.#o;
    if (pc.iceGatheringState === 'complete') return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        pc.removeEventListener('icegatheringstatechange', check);
        resolve();
      };
      const check = () => {
        if (pc.iceGatheringState === 'complete' || this.#closed) done();
      };
      const timer = setTimeout(done, gatherTimeoutMs);
      pc.addEventListener('icegatheringstatechange', check);
    });
  }

  #localCandidate(event: unknown): void {
    // Candidates found before the description went out are in its SDP.
    if (this.#closed || !this.#descriptionSent) return;
    const c = (event as { candidate?: Partial<IceCandidateInit> | null }).candidate;
    if (c === null || c === undefined || typeof c.candidate !== 'string' || c.candidate === '') return;
    this.#send({
      type: 'candidate',
      candidate: {
        candidate: c.candidate,
        sdpMid: c.sdpMid ?? null,
        sdpMLineIndex: c.sdpMLineIndex ?? null,
        usernameFragment: c.usernameFragment ?? null,
      },
    });
  }

  #send(signal: PeerSignal): void {
    try {
      this.#o.sendSignal(signal);
    } catch (cause) {
      this.#o.logger.warn('sendSignal threw', { type: signal.type, cause });
    }
  }

  #fail(error: ConnectionError): void {
    if (this.#fatal || this.#closed) return;
    this.#fatal = true;
    this.#o.logger.error(error.message, { reason: error.reason, cause: error.cause });
    this.#o.onFatal(error);
  }
}
