/**
 * Every default and limit of the transport, with its unit in its name and the reason for its value.
 * Options types point here; change a default here, nowhere else.
 */

/** Wire version written in every frame and control envelope; a receiver drops other versions as malformed. */
export const WIRE_VERSION = 1;

/** Largest framed message on the unreliable channels, bytes: with SCTP (28), DTLS (~37), UDP (8) and IP (20–40) headers one message stays one datagram under a 1500 B Ethernet MTU, so one lost packet costs one message. */
export const DEFAULT_MTU_BYTES = 1200;
/** Smallest `mtuBytes` accepted: below this the header leaves no room for payload. */
export const MIN_MTU_BYTES = 256;
/** SCTP header bytes werift adds to a DATA chunk (12 common + 16 chunk); werift's SCTP MTU is set to mtuBytes + this, so a framed message is never fragmented. */
export const SCTP_DATA_OVERHEAD_BYTES = 28;

/** Room reserved in every frame header for the encoded operating point; a larger `op` is rejected with a TypeError. */
export const DEFAULT_OP_BUDGET_BYTES = 96;
/** Longest stream id, UTF-8 bytes (`private:<peer>` with a 40-byte peer id). */
export const MAX_STREAM_ID_BYTES = 48;
/** Most packets one sample may have (a 1 MB sample at 1 KB per packet); the index fits a uint16 either way. */
export const MAX_PACKETS_PER_SAMPLE = 1024;
/** Largest sample or packet sequence number: both are uint32 on the wire. */
export const MAX_SEQ = 0xffff_ffff;

/** How long a sample waits for its missing packets after its first packet arrived, milliseconds. 150 ms is about five frames at 30 fps: later than that a hole is cheaper than a stall. */
export const DEFAULT_REASSEMBLY_TIMEOUT_MS = 150;
/** A pending sample whose newer neighbour has begun to arrive goes out with holes once its own packets have stopped for this long, milliseconds: longer than a sample's packets spread in one burst, shorter than a frame interval at 30 fps. */
export const DEFAULT_HOLE_GRACE_MS = 30;
/** Freshness limit: samples older than this (capture time vs. now, corrected by the estimated clock offset) are dropped, milliseconds. */
export const DEFAULT_MAX_AGE_MS = 1000;
/** A pending sample is emitted with holes as soon as a sample this many sequence numbers newer arrives: its packets would have arrived by now. */
export const DEFAULT_NEWER_SAMPLES_FLUSH = 4;
/** Most samples reassembled at once per stream; beyond it the oldest is emitted with holes (bounds memory under garbage). */
export const MAX_PENDING_SAMPLES = 64;
/** How many recently emitted sample numbers a stream remembers to recognise late packets. */
export const LATE_MEMORY_SAMPLES = 1024;
/** Most streams one channel tracks; the least recently used one is forgotten beyond it. */
export const MAX_STREAMS_PER_CHANNEL = 16;
/** How often the link runs reassembly deadlines, milliseconds: a third of the default timeout keeps the overshoot small. */
export const REASSEMBLY_TICK_MS = 50;

/** `connected` rejects with ConnectionError('timeout') after this, milliseconds. */
export const DEFAULT_CONNECT_TIMEOUT_MS = 20_000;
/** How long the link waits for ICE gathering before it sends its description anyway, milliseconds (werift on loopback gathers in a few ms; STUN can take seconds). */
export const DEFAULT_GATHER_TIMEOUT_MS = 3_000;
/**
 * How often `stats$` emits and a ping goes out, and the window each link report covers, milliseconds. The
 * sender's adaptation decides on each emission, with the peer's latest report: at 1 s the figures that show a
 * bandwidth drop came 1–2 s after it (docs/NETLAB.md); at 500 ms, within ~1 s. Pings and pongs cost ~0.1 kB/s
 * per link and direction; the reports, every {@link DEFAULT_LINK_REPORT_INTERVAL_MS}, ~2 kB/s from each receiver.
 */
export const DEFAULT_STATS_INTERVAL_MS = 500;
/** A connected link with nothing received for this long is `disconnected`, milliseconds: six missed 500 ms pings and link reports. werift never reports `disconnected` and reports `failed` only after RFC 7675's 30 s consent timeout, too late to recover a stream. */
/**
 * Period of the link reports a link sends by default, milliseconds: once a stats interval (each report covers the
 * last interval). A peer that adapts to them asks for more (an M4SC sender's `hello`: every 100 ms, each over a
 * sliding window; docs/NETLAB.md, "Reports that slide"). Not by default: a link that also sends samples carries its
 * reports on the same SCTP association, and on a 20 %-lossy path reliable reports every 100 ms made it hold its
 * queue for their retransmissions (2 of 7 runs of peerLink.loss.test.ts delivered 0.45-0.55 of the packets, 62
 * dropped stale, against 0.79-0.83 with 500 ms).
 */
export const DEFAULT_LINK_REPORT_INTERVAL_MS = 500;
/** How far back a sender keeps what it sent, to match a report's window, milliseconds. */
export const SENT_LOG_MS = 5_000;
export const DEFAULT_STALE_AFTER_MS = 3_000;
/** A link `disconnected` for this long fails with ConnectionError('failed'), milliseconds. */
export const DEFAULT_DISCONNECTED_TIMEOUT_MS = 60_000;
/** Delays of the default ICE-restart policy, milliseconds: the first restart at once, then 1, 2, 3, 3, … s. One restart on a working path completes in well under a second (an offer, an answer, one round of checks); a shorter interval would abort an attempt that is about to succeed. */
export const ICE_RESTART_DELAYS_MS: readonly number[] = [0, 1_000, 2_000, 3_000];
/**
 * Least time between two early link reports, milliseconds: a receiver whose samples' ages show a queue building
 * reports at once (RFC 4585 early feedback) instead of waiting up to a stats interval, at most this often.
 */
export const DEFAULT_EARLY_REPORT_GAP_MS = 200;
/** Most ages kept per stats interval for the p50/p95 (a reservoir beyond it). */
export const AGE_WINDOW_SAMPLES = 1024;

/** Process-wide pacing rate, bytes/s. werift collapses above ~2.5–3 MB/s per process, so the default stays below it. */
export const DEFAULT_PACER_RATE_BYTES_PER_SEC = 2_000_000;
/** Token-bucket depth, bytes: 32 KB is 16 ms at the default rate, enough to absorb one sample without a timer. */
export const DEFAULT_PACER_BURST_BYTES = 32 * 1024;
/** Most bytes handed to data channels in one event-loop turn, bytes: werift falls over on large synchronous bursts. */
export const DEFAULT_PACER_SLICE_BYTES = 16 * 1024;

/** The link stops handing messages to a data channel while its `bufferedAmount` is above this, bytes. 64 KB is ~30 ms at the default rate: enough to keep SCTP busy, small enough that what waits stays in our queue, where whole samples can still be dropped. */
export const SEND_BUFFER_HIGH_WATERMARK_BYTES = 64 * 1024;
/**
 * werift only (patch item 10): a message of an unreliable channel that waited longer than this in werift's SCTP
 * send queue, and that the congestion window still holds back, is dropped unsent, ms. That queue is where a
 * congested link keeps old samples (the link paces on `bufferedAmount`, a byte count: 64 KB is 2.6 s at
 * 200 kbit/s); 150 ms is about the latency target (one-way delay + 2 frame intervals at 15 fps), past
 * which a sample is late anyway (issue #4, docs/NETLAB.md).
 */
export const UNRELIABLE_MAX_QUEUE_MS = 150;
/**
 * werift only (patch item 11): the floor of the SCTP retransmission timeout, ms. werift's 1 s (RFC 4960's
 * RTO.min) held the whole link for a second after a tail loss, a loss with too little sent behind it for three
 * gap reports, which under a real-time source's small window is most losses (src/peerLink.loss.test.ts: p50
 * ~245 ms in such runs). 250 ms stays above a browser's 200 ms delayed SACK, as WebRTC's own SCTP (dcSCTP, 220 ms)
 * does, so a peer that delays its SACK does not set off spurious retransmissions.
 */
export const SCTP_RTO_MIN_MS = 250;
/**
 * werift only (patch item 15): the floor of the SCTP congestion window, in MTUs. Under random loss werift's window
 * sat at its floors (4 MTUs after a loss, 1 after T3-rtx): a loss then had too few chunks behind it for three gap
 * reports, so T3-rtx fired about twice a second at 20 % loss each way and what waited meanwhile went stale (the
 * 4-packet frames of 64×64 at 15 fps: 69–72 % delivered, p95 195–206 ms; with 8: 80 %, the path's own loss, p95
 * 69 ms; `netlab/probes/sctp-loss.mjs`). The sender's rate adaptation is the congestion control of the media
 * (as GCC is for RTP), and the pacer bounds the process; 8 is below the initial window TCP itself starts with (10,
 * RFC 6928).
 */
export const SCTP_CWND_FLOOR_MTUS = 8;
/**
 * werift only (patch item 13): how long werift's DTLS client waits before its ClientHello, ms. werift waits a fixed
 * 100 ms (most of a ~135 ms loopback connect) in case the server's DTLS transport is not up yet. With no wait, ~3 % (13 of 420)
 * of werift-to-werift loopback connects lost the ClientHello and took ~540 ms (werift resends after 500 ms); with
 * 10 ms none of 200 did, at ~42 ms per connect (`netlab/probes/connect-loop.mjs`, `DTLS_DELAY`).
 */
export const DTLS_CLIENT_DELAY_MS = 10;
/** `bufferedAmountLowThreshold` of every channel, bytes: sending resumes when the buffer drains below it. */
export const SEND_BUFFER_LOW_WATERMARK_BYTES = 16 * 1024;
/** Most bytes of samples waiting per unreliable channel before the oldest whole samples are dropped, bytes: 256 KB is ~130 ms at the default rate; older samples would arrive stale. */
export const SAMPLE_QUEUE_MAX_BYTES = 256 * 1024;
/** Most samples waiting per unreliable channel before the oldest are dropped. */
export const SAMPLE_QUEUE_MAX_SAMPLES = 64;
/** Most control messages waiting to be sent; `sendControl` returns false beyond it. */
export const CONTROL_QUEUE_MAX_MESSAGES = 1024;
/** Most bytes of control messages waiting to be sent, bytes. */
export const CONTROL_QUEUE_MAX_BYTES = 1024 * 1024;
/** Largest control message, bytes: under werift's and browsers' 64 KiB SCTP max-message-size. */
export const MAX_CONTROL_MESSAGE_BYTES = 60 * 1024;
/** At most one malformed-frame log line per channel per this many milliseconds (the rest are counted). */
export const MALFORMED_LOG_INTERVAL_MS = 1_000;

/** Data channel ids and labels. Negotiated ids, so both ends create the same three channels without DCEP. */
export const CHANNEL_IDS = { control: 0, public: 1, private: 2 } as const;
