import type { Logger } from '@m4sc/signaling/client';
import type { LinkStats, PeerLink, ReassembledSample } from '@m4sc/transport';
import type { LayeredRelaySubscriber, RelaySubscriber } from '@m4sc/transport/janus';
import type { Subscription } from 'rxjs';
import { isPublicStream } from './sampleDecoder.js';

/** Relay frames older than this mean the relay path is not working (a few frame intervals at least), ms. */
const RELAY_STALE_MS = 1000;

/** What {@link createRelayReporter} needs. */
export interface RelayReporterOptions {
  /** The relay subscriber. */
  relay: RelaySubscriber | LayeredRelaySubscriber;
  /** The link to the sender the reports go on. */
  link: PeerLink;
  /** The sender's samples per second (from its hello), if known. */
  fps(): number | undefined;
  /** Where the relay's public samples go (with the link's, deduplicated). */
  onSample(sample: ReassembledSample): void;
  log: Logger;
}

/**
 * The relay path as one link to the sender sees it: takes the relay's public samples, tells the sender
 * whether the public stream arrives through the relay (`{t:'relay', up}`, on change), and while it does,
 * what the relay delivered, once a second (`relay-report`): the sender picks our layers on it.
 */
export interface RelayReporter {
  /** The link's figures came (once a second): reports, and sets the relay's clock offset. */
  onLinkStats(stats: LinkStats): void;
  /** Ends the subscriptions to the relay. */
  close(): void;
}

/** A relay reporter for one link; subscribes to the relay at once. */
export function createRelayReporter(o: RelayReporterOptions): RelayReporter {
  const { relay, link: l, log } = o;
  let relayReported: boolean | undefined;
  /** Tells the sender whether the public stream reaches us through the relay (when that changes). */
  const reportRelay = () => {
    if (l.state !== 'connected') return;
    const staleMs = Math.max(RELAY_STALE_MS, 3000 / (o.fps() ?? 1));
    const up = relay.state === 'up' && Date.now() - relay.stats().lastMessageAtMs < staleMs;
    if (up !== relayReported && l.sendControl({ t: 'relay', up })) {
      relayReported = up;
      log.info(up ? 'public stream arrives through the relay' : 'public stream direct from the sender', {
        relay: relay.address.href,
      });
    }
  };
  const subs: Subscription[] = [
    relay.samples$.subscribe((sample) => {
      if (!isPublicStream(sample.stream)) return; // only the public stream is relayed
      o.onSample(sample);
      if (relayReported !== true) reportRelay();
    }),
    relay.state$.subscribe(() => reportRelay()),
  ];
  return {
    onLinkStats(s) {
      relay.clockOffsetMs = s.clockOffsetMs;
      reportRelay();
      // While the relay serves us, what it delivered, once a second: the sender picks our layers on it.
      if (relayReported === true && 'takeFigures' in relay && l.state === 'connected') {
        const f = relay.takeFigures();
        l.sendControl({
          t: 'relay-report',
          layers: relay.layers,
          bytesPerSec: Math.round(f.bytesPerSec),
          samples: f.samples,
          ...(f.lossRate !== undefined ? { lossRate: f.lossRate } : {}),
          ...(f.ageP95Ms !== undefined ? { ageP95Ms: Math.round(f.ageP95Ms) } : {}),
        });
      }
    },
    close() {
      for (const s of subs) s.unsubscribe();
    },
  };
}
