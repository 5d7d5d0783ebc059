/**
 * The semantic session protocol: messages on the `control` channel between a sender and one receiver
 * (msgpack objects, `t` = type). Shared by `m4sc-send`, `m4sc-recv` and the browser receiver. Each side
 * validates what it gets with the guards below; anything else is dropped, counted and logged.
 */

/** Receiver → sender: "serve me this". `id` echoes in the sender's `serve` or `error`. */
export interface InstructionMessage {
  t: 'instruction';
  id: number;
  task: string;
  query?: string;
}

/** Receiver → sender, once a second: how decoding goes. */
export interface DecodeReportMessage {
  t: 'decode-report';
  samples: number;
  decodeMsP50: number;
  decodeMsP95: number;
  latencyMsP50: number;
  latencyMsP95: number;
  errors: number;
}

/** Sender → receiver, on connect: what is being streamed. */
export interface HelloMessage {
  t: 'hello';
  codec: 'semantic' | 'raw';
  bundle?: { name: string; version: string };
  modality: 'image' | 'text';
  fps: number;
  source: string;
  /**
   * How often the sender wants the receiver's link reports, ms (transport `linkReportIntervalMs`): its adaptation
   * decides every stats interval with the latest report, so 100 with adaptation on; without it the reports only
   * feed its stats, and 500 spares a large room's sender ten messages a second per receiver. 20..5000; absent
   * from a sender that predates it (the receiver keeps its own).
   */
  reportMs?: number;
}

/**
 * Sender → receiver: how its instruction is served. `ik` tags the samples that carry its results
 * (`op.ik`); `instruction` is the one the results were computed for (the group's, when shared), which the
 * receiver decodes with. `stream`: `public` (reconstruct/transmit), `shared:<ik>` or `private:<peer>`.
 */
export interface ServeMessage {
  t: 'serve';
  ref: number;
  ik: string;
  instruction: { task: string; modality: string; output: string; query: string };
  stream: string;
  /** Receivers served by the same encode (1 = not shared). */
  members: number;
}

/** Sender → receiver: a refused request, in words. */
export interface ErrorMessage {
  t: 'error';
  ref?: number;
  code: 'bad-message' | 'unknown-task' | 'bad-instruction' | 'modality-mismatch';
  message: string;
}

/**
 * Sender → receiver that takes the public stream from a Janus relay: subscribe to the first `n` public
 * layers (each layer has its own relay room; Janus cannot choose per subscriber). `n` is the adaptation's
 * choice for this receiver, sent when it changes.
 */
export interface RelayLayersMessage {
  t: 'relay-layers';
  n: number;
}

/** Most public layers a sender may ask a relay receiver to take. */
export const MAX_PUBLIC_LAYERS = 16;

export type ReceiverToSender = InstructionMessage | DecodeReportMessage;
export type SenderToReceiver = HelloMessage | ServeMessage | ErrorMessage | RelayLayersMessage;

const isObj = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
const finite = (v: unknown) => typeof v === 'number' && Number.isFinite(v);

/** Longest query accepted over control, characters (the bundle's instruction length limits it further). */
export const MAX_QUERY_CHARS = 512;

/** Validates a receiver's control message; `undefined` for anything that is not one. */
export function parseReceiverMessage(v: unknown): ReceiverToSender | undefined {
  if (!isObj(v)) return undefined;
  if (v.t === 'instruction') {
    if (!Number.isInteger(v.id) || typeof v.task !== 'string' || v.task.length > 32) return undefined;
    if (v.query !== undefined && (typeof v.query !== 'string' || v.query.length > MAX_QUERY_CHARS))
      return undefined;
    return v as unknown as InstructionMessage;
  }
  if (v.t === 'decode-report') {
    for (const k of ['samples', 'decodeMsP50', 'decodeMsP95', 'latencyMsP50', 'latencyMsP95', 'errors']) {
      if (!finite(v[k])) return undefined;
    }
    return v as unknown as DecodeReportMessage;
  }
  return undefined;
}

/** Validates a sender's control message; `undefined` for anything that is not one. */
export function parseSenderMessage(v: unknown): SenderToReceiver | undefined {
  if (!isObj(v)) return undefined;
  if (v.t === 'hello') {
    if ((v.codec !== 'semantic' && v.codec !== 'raw') || (v.modality !== 'image' && v.modality !== 'text'))
      return undefined;
    // Receivers print these: a map here (e.g. with a `toString` key) would throw inside their handlers.
    if (!finite(v.fps) || typeof v.source !== 'string') return undefined;
    const b = v.bundle;
    if (b !== undefined && !(isObj(b) && typeof b.name === 'string' && typeof b.version === 'string'))
      return undefined;
    const r = v.reportMs;
    if (r !== undefined && !(typeof r === 'number' && Number.isFinite(r) && r >= 20 && r <= 5000))
      return undefined;
    return v as unknown as HelloMessage;
  }
  if (v.t === 'serve') {
    const i = v.instruction;
    if (typeof v.ik !== 'string' || typeof v.stream !== 'string' || !isObj(i)) return undefined;
    if (
      typeof i.task !== 'string' ||
      typeof i.modality !== 'string' ||
      typeof i.output !== 'string' ||
      typeof i.query !== 'string'
    )
      return undefined;
    if (!Number.isInteger(v.ref) || !Number.isInteger(v.members)) return undefined;
    return v as unknown as ServeMessage;
  }
  if (v.t === 'relay-layers') {
    if (!Number.isInteger(v.n) || (v.n as number) < 1 || (v.n as number) > MAX_PUBLIC_LAYERS)
      return undefined;
    return v as unknown as RelayLayersMessage;
  }
  if (v.t === 'error') {
    if (typeof v.code !== 'string' || typeof v.message !== 'string') return undefined;
    if (v.ref !== undefined && !Number.isInteger(v.ref)) return undefined;
    return v as unknown as ErrorMessage;
  }
  return undefined;
}
