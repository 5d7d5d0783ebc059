import {
  CONTROL_QUEUE_MAX_BYTES,
  CONTROL_QUEUE_MAX_MESSAGES,
  DEFAULT_MAX_AGE_MS,
  SAMPLE_QUEUE_MAX_BYTES,
  SAMPLE_QUEUE_MAX_SAMPLES,
} from './defaults.js';
import type { SampleInput } from './types.js';

/** Options of {@link SampleSendQueue}. */
export interface SampleSendQueueOptions {
  /** Most payload bytes waiting. Default 256 KiB. */
  maxBytes?: number;
  /** Most samples waiting. Default 64. */
  maxSamples?: number;
  /** Samples older than this when their turn comes are dropped as stale, milliseconds. Default 1000. */
  maxAgeMs?: number;
}

/** The next packet to frame and send. */
export interface QueuedPacket {
  /** The sample's own stream id, when it names one. */
  stream: string | undefined;
  seq: number;
  captureTsMs: number;
  op: SampleInput['op'];
  index: number;
  count: number;
  payload: Uint8Array;
}

interface Entry {
  sample: SampleInput;
  next: number;
  bytes: number;
}

/**
 * The sender's queue of one unreliable channel: the pure core of its backpressure. Policy when full: drop
 * the oldest whole samples that have not started, so the receiver gets fresh samples and never half of one.
 */
export class SampleSendQueue {
  readonly #maxBytes: number;
  readonly #maxSamples: number;
  readonly #maxAgeMs: number;
  readonly #entries: Entry[] = [];
  #bytes = 0;
  /** Whole samples dropped because the queue was full. */
  droppedBackpressure = 0;
  /** Whole samples dropped because they were older than `maxAgeMs` when their turn came. */
  droppedStale = 0;

  constructor(options: SampleSendQueueOptions = {}) {
    this.#maxBytes = options.maxBytes ?? SAMPLE_QUEUE_MAX_BYTES;
    this.#maxSamples = options.maxSamples ?? SAMPLE_QUEUE_MAX_SAMPLES;
    this.#maxAgeMs = options.maxAgeMs ?? DEFAULT_MAX_AGE_MS;
  }

  /** Payload bytes waiting (including the unsent rest of a started sample). */
  get queuedBytes(): number {
    return this.#bytes;
  }

  /** Samples waiting (including a started one). */
  get length(): number {
    return this.#entries.length;
  }

  /** Adds a sample; drops the oldest unstarted samples while over the limits. Returns how many it dropped. */
  push(sample: SampleInput): number {
    const bytes = sample.packets.reduce((n, p) => n + p.byteLength, 0);
    this.#entries.push({ sample, next: 0, bytes });
    this.#bytes += bytes;
    let dropped = 0;
    // Never drop a started sample (index 0 when its first packet is out) nor the one just added.
    while (
      (this.#bytes > this.#maxBytes || this.#entries.length > this.#maxSamples) &&
      this.#entries.length > 1
    ) {
      const victim = this.#entries[0]!.next === 0 ? 0 : 1;
      if (victim >= this.#entries.length - 1) break;
      this.#bytes -= this.#entries[victim]!.bytes;
      this.#entries.splice(victim, 1);
      dropped++;
    }
    this.droppedBackpressure += dropped;
    return dropped;
  }

  /** Payload size of the packet `shift` would return now, or undefined when empty (stale samples not yet pruned). */
  peekBytes(): number | undefined {
    const head = this.#entries[0];
    return head === undefined ? undefined : head.sample.packets[head.next]!.byteLength;
  }

  /** Takes the next packet; first drops unstarted samples that went stale while waiting. */
  shift(nowMs: number): QueuedPacket | undefined {
    let head = this.#entries[0];
    while (head !== undefined && head.next === 0 && nowMs - head.sample.captureTsMs > this.#maxAgeMs) {
      this.#entries.shift();
      this.#bytes -= head.bytes;
      this.droppedStale++;
      head = this.#entries[0];
    }
    if (head === undefined) return undefined;
    const { sample } = head;
    const index = head.next++;
    const payload = sample.packets[index]!;
    this.#bytes -= payload.byteLength;
    head.bytes -= payload.byteLength;
    if (head.next === sample.packets.length) this.#entries.shift();
    return {
      stream: sample.stream,
      seq: sample.seq,
      captureTsMs: sample.captureTsMs,
      op: sample.op,
      index,
      count: sample.packets.length,
      payload,
    };
  }

  /** Forgets everything (on close). */
  clear(): void {
    this.#entries.length = 0;
    this.#bytes = 0;
  }
}

/** Options of {@link ControlSendQueue}. */
export interface ControlSendQueueOptions {
  /** Most messages waiting. Default 1024. */
  maxMessages?: number;
  /** Most bytes waiting. Default 1 MiB. */
  maxBytes?: number;
}

/**
 * The control channel's queue. Policy when full: refuse the new message (`push` returns false) — control is
 * reliable, so the caller must know. Link-internal messages (ping, pong, report) jump the queue so RTT stays
 * honest, and are capped separately.
 */
export class ControlSendQueue {
  readonly #maxMessages: number;
  readonly #maxBytes: number;
  readonly #urgent: Uint8Array[] = [];
  readonly #normal: Uint8Array[] = [];
  #bytes = 0;

  constructor(options: ControlSendQueueOptions = {}) {
    this.#maxMessages = options.maxMessages ?? CONTROL_QUEUE_MAX_MESSAGES;
    this.#maxBytes = options.maxBytes ?? CONTROL_QUEUE_MAX_BYTES;
  }

  get queuedBytes(): number {
    return this.#bytes;
  }

  get length(): number {
    return this.#urgent.length + this.#normal.length;
  }

  /** Queues an application message; false (and nothing queued) when the queue is full. */
  push(bytes: Uint8Array): boolean {
    if (this.#normal.length >= this.#maxMessages || this.#bytes + bytes.byteLength > this.#maxBytes)
      return false;
    this.#normal.push(bytes);
    this.#bytes += bytes.byteLength;
    return true;
  }

  /** Queues a link-internal message ahead of application messages; at most 16 wait, older ones are dropped. */
  pushUrgent(bytes: Uint8Array): void {
    if (this.#urgent.length >= 16) this.#bytes -= this.#urgent.shift()!.byteLength;
    this.#urgent.push(bytes);
    this.#bytes += bytes.byteLength;
  }

  peekBytes(): number | undefined {
    return (this.#urgent[0] ?? this.#normal[0])?.byteLength;
  }

  shift(): Uint8Array | undefined {
    const m = this.#urgent.shift() ?? this.#normal.shift();
    if (m !== undefined) this.#bytes -= m.byteLength;
    return m;
  }

  clear(): void {
    this.#urgent.length = 0;
    this.#normal.length = 0;
    this.#bytes = 0;
  }
}
