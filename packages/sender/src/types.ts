import type { LinkStats } from '@m4sc/transport';

/** One receiver as the sender sees it. */
export interface ReceiverInfo {
  readonly peerId: string;
  /** `connecting` until its data channels are open. */
  readonly state: 'connecting' | 'connected' | 'closed';
  /** Latest link figures of this receiver, if any yet. */
  readonly link: LinkStats | undefined;
}

/** One emission of `Sender.stats$`. */
export interface SenderStats {
  timestampMs: number;
  /** Samples produced by the source since start. */
  samples: number;
  /** Frames per second over the last interval. */
  fps: number;
  /** Bytes of one sample on the public stream (last sample). */
  publicBytesPerSample: number;
  receivers: ReceiverInfo[];
}
