import type { Logger } from '@m4sc/signaling';
import type { LinkStats } from '@m4sc/transport';
import type { RelayPublisher } from '@m4sc/transport/janus';
import { type LinkFigures, linkFiguresFromStats } from './adaptation.js';
import { freshRelayReport, mergeRelayFigures } from './relayFigures.js';
import { type Session, sendControl } from './session.js';

/**
 * The public stream's relay path: the publisher (once per sample, every layer), which receivers take the
 * public stream from it (`{t:'relay', up}` on their control), how many layers each is told to subscribe to
 * (`relay-layers`), and their `relay-report`s merged into their link figures.
 */
export interface RelayPath {
  /** Whether a relay publisher was given at all. */
  readonly enabled: boolean;
  /** True when `s` gets the public stream from the relay (which is up), so not directly. */
  carries(s: Session): boolean;
  /** Records a receiver's `{t:'relay', up}`: it takes the public stream from the relay, or no longer does. */
  setReceiverUp(s: Session, up: boolean): void;
  /** Publishes one stream of one sample to the relay; a failure is logged. */
  publish(
    stream: string,
    seq: number,
    captureTsMs: number,
    op: Record<string, unknown>,
    packets: Uint8Array[],
  ): void;
  /** Tells `s` (on control) to subscribe to `n` public layer rooms, when that changed. */
  setLayers(s: Session, n: number): void;
  /**
   * A receiver's figures over both paths, for the adaptation policy: its direct link's, merged with its
   * fresh relay report while the relay carries its public stream. `layerBytes`: bytes of each public layer
   * of the last sample, sent `fps` times a second.
   */
  linkFigures(
    s: Session,
    stats: LinkStats,
    previous: LinkStats | undefined,
    layerBytes: readonly number[],
    fps: number,
  ): LinkFigures;
  /** Forgets a receiver that left. */
  forget(peerId: string): void;
  /** Closes the publisher. */
  close(): Promise<void>;
}

/** The relay path over `publisher` (none: nothing is published and every receiver is served directly). */
export function createRelayPath(publisher: RelayPublisher | undefined, log: Logger): RelayPath {
  /** Receivers that report the public stream reaching them through the relay. */
  const onRelay = new Set<string>();
  const carries = (s: Session) => publisher?.state === 'up' && onRelay.has(s.peerId);
  return {
    enabled: publisher !== undefined,
    carries,
    setReceiverUp(s, up) {
      if (up !== onRelay.has(s.peerId)) log.info('receiver relay path', { peerId: s.peerId, up });
      if (up) onRelay.add(s.peerId);
      else onRelay.delete(s.peerId);
      s.relayLayers = undefined; // (re)send the layer choice on the next sample
    },
    publish(stream, seq, captureTsMs, op, packets) {
      try {
        publisher?.sendSample({ stream, seq, captureTsMs, op: op as never, packets });
      } catch (err) {
        log.warn('relay send failed', { error: String(err) });
      }
    },
    setLayers(s, n) {
      if (n === s.relayLayers) return;
      s.relayLayers = n;
      sendControl(s, { t: 'relay-layers', n }, log);
    },
    linkFigures(s, stats, previous, layerBytes, fps) {
      // A relay receiver's access link also carries what Janus forwards it: count both paths.
      return mergeRelayFigures(
        linkFiguresFromStats(stats, previous),
        carries(s) ? freshRelayReport(s.relayReport, stats.timestampMs) : undefined,
        layerBytes.slice(0, s.relayLayers ?? 1).reduce((n, b) => n + b, 0) * fps,
      );
    },
    forget(peerId) {
      onRelay.delete(peerId);
    },
    async close() {
      await publisher?.close();
    },
  };
}
