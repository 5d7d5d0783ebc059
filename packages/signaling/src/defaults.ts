/** Every default of this package, in one place. Units are in the names. */

/** Interface the CLI and a bare `createSignalingServer()` bind to: loopback, so nothing is exposed by accident. */
export const DEFAULT_HOST = '127.0.0.1';
/** Port of the `m4sc-signal` CLI. The library's default is 0 (an ephemeral port). */
export const DEFAULT_CLI_PORT = 8787;
/** Largest frame accepted (ws `maxPayload`); larger frames close the connection with 1009. */
export const DEFAULT_MAX_MESSAGE_BYTES = 64 * 1024;
/**
 * Largest `signal.data`, as JSON. An SDP offer with a few media sections and candidates is 3–20 KiB,
 * so 32 KiB leaves room while keeping one relay well under the frame limit.
 */
export const DEFAULT_MAX_SIGNAL_DATA_BYTES = 32 * 1024;
/** Largest room metadata set by the sender, as JSON. It is sent to every receiver on join, so keep it small. */
export const DEFAULT_MAX_ROOM_INFO_BYTES = 4 * 1024;
/** Peers per room, the sender included. */
export const DEFAULT_MAX_PEERS_PER_ROOM = 64;
/** Token-bucket refill rate per connection. Trickle ICE sends tens of candidates in a burst, then little. */
export const DEFAULT_RATE_MESSAGES_PER_SECOND = 50;
/** Token-bucket size per connection: the burst a connection may send at once. */
export const DEFAULT_RATE_BURST_MESSAGES = 100;
/** Dropped (over-rate) messages after which the connection is closed, unless the client goes quiet first. */
export const DEFAULT_RATE_CLOSE_AFTER_DROPPED_MESSAGES = 100;
/** WebSocket ping interval; a peer that misses one full interval is dropped. 0 disables the heartbeat. */
export const DEFAULT_HEARTBEAT_MS = 30_000;
/** A connection must `join` within this time, or it is closed. 0 disables. */
export const DEFAULT_JOIN_TIMEOUT_MS = 10_000;
/**
 * Bytes queued on one socket beyond which the peer is dropped as too slow. Signaling traffic is small;
 * a megabyte queued means the peer stopped reading, and buffering more only moves the problem to our memory.
 */
export const SEND_BUFFER_HIGH_WATERMARK_BYTES = 1024 * 1024;
/** Client: how long `connectSignaling` waits for `joined`. */
export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
/** Client reconnect backoff: first delay. */
export const DEFAULT_RECONNECT_INITIAL_DELAY_MS = 250;
/** Client reconnect backoff: ceiling of one delay. */
export const DEFAULT_RECONNECT_MAX_DELAY_MS = 10_000;
/** Client reconnect backoff: attempts before giving up (a full outage of about a minute at the defaults). */
export const DEFAULT_RECONNECT_MAX_ATTEMPTS = 10;
/** Client reconnect backoff: random spread of each delay, as a fraction (0.2 = ±20 %), so clients do not stampede. */
export const DEFAULT_RECONNECT_JITTER = 0.2;
