import type { LinkStats } from '@m4sc/transport';

/** One receiver as the sender reports it. */
export interface ReceiverInfo {
  readonly peerId: string;
  readonly state: 'connecting' | 'connected' | 'closed';
  /** `task` or `task: query`, once the receiver has asked. */
  readonly task: string | undefined;
  /** How it is served: `public`, `shared:<ik>` (with others), `private:<peer>`. */
  readonly stream: string | undefined;
  /** Bytes sent to it since it joined, per stream kind. */
  readonly bytes: { readonly public: number; readonly private: number; readonly shared: number };
  /** Control messages refused from it: over the rate limit, or not valid. */
  readonly controlRefused: number;
  /** Samples skipped for it during drain pauses (adaptation: a queue built on its path; `Decision.pauseMs`). */
  readonly pauseSkipped: number;
  /** Latest link figures, if any yet. */
  readonly link: LinkStats | undefined;
  /**
   * Its operating point now and the public layers it is sent, and why they last changed (the adaptation's). `name`
   * and `lossRate` are the point its private stream was last coded at (the adaptation's decision capped at the
   * sender's private point, conditioned on the worst loss in its sharing group); before a private sample, and for
   * public tasks, the decision's.
   */
  readonly op:
    | {
        readonly name: string;
        readonly lossRate: number;
        readonly publicLayers: number;
        readonly reason: string;
      }
    | undefined;
  /** Latest decode report, if any. */
  readonly decode:
    | {
        readonly decodeMsP50: number;
        readonly decodeMsP95: number;
        readonly latencyMsP50: number;
        readonly latencyMsP95: number;
      }
    | undefined;
}

/** One emission of `Sender.stats$`. */
export interface SenderStats {
  timestampMs: number;
  /** Samples taken from the source since start. */
  samples: number;
  /** Samples per second over the last interval. */
  fps: number;
  /** Samples skipped because the previous one was still encoding (the encoder is slower than the fps). */
  skipped: number;
  /** Model encodes since start: one public encode per sample, whatever the number of receivers. */
  publicEncodes: number;
  /** Private encodes since start: one per distinct (or shared) instruction per sample. */
  privateEncodes: number;
  /** Encode time of the last interval, milliseconds (p50 / p95). */
  encodeMsP50: number;
  encodeMsP95: number;
  /** Bytes of the last sample: the public stream, and all private/shared streams together. */
  publicBytesPerSample: number;
  privateBytesPerSample: number;
  receivers: ReceiverInfo[];
}
