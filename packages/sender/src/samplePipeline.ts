import {
  type Instruction,
  instructionKey,
  type OperatingPoint,
  type SemanticCodec,
  toWireOperatingPoint,
} from '@m4sc/semantic-codec';
import type { Logger } from '@m4sc/signaling';
import { splitPayload } from '@m4sc/transport';
import { cheaper, minPacketsForLoss, PUBLIC_TASKS, withLossConditioning } from './operatingPoints.js';
import type { RelayPath } from './relayPath.js';
import { type Session, sendControl } from './session.js';
import { groupInstructions, type SharingPolicy } from './sharing.js';
import type { SourceSample } from './sources/source.js';

/** 8 hex digits of FNV-1a: a short tag for an instruction key in stream ids and sample headers. */
export function instructionTag(key: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0).toString(16).padStart(8, '0');
}

/** What {@link createSamplePipeline} needs. */
export interface SamplePipelineOptions {
  /** The semantic codec; without it samples go as raw RGB pixels. */
  codec: SemanticCodec | undefined;
  /** Operating point of the public stream (semantic mode). */
  op: OperatingPoint | undefined;
  /** Operating point of the private and shared streams, before each receiver's adaptation. */
  privateOp: OperatingPoint | undefined;
  /** How instructions are grouped into shared encodes, or `'naive'`: one encode per receiver. */
  sharing: SharingPolicy | 'naive';
  /** Public layer bounds in symbols per token, or undefined for an unlayered public stream. */
  layerBounds: readonly number[] | undefined;
  /** Where the public stream is published once per sample, and who takes it from there. */
  relay: RelayPath;
  /** A session by receiver peer id (sharing groups name their members). */
  session(peerId: string): Session | undefined;
  log: Logger;
  /** Image samples' public path (encodeSample's `publicImage`); default `learned`. */
  publicImage?: 'learned' | 'code';
}

/**
 * Encodes each sample and hands it to the receivers' links: raw pixels, or in semantic mode one public
 * encode (layered, published to the relay) plus one private encode per sharing group, each fanned out to
 * its members, with a `serve` to each receiver whose stream changed.
 */
export interface SamplePipeline {
  /** Encodes and sends one sample to `connected`; resolves with the receivers it went to (any stream). */
  send(sample: SourceSample, connected: Session[], captureTsMs: number): Promise<string[]>;
  /** Model encodes since start: public, and private (one per group per sample). */
  readonly publicEncodes: number;
  readonly privateEncodes: number;
  /** Bytes of the last sample: the public stream, and all private/shared streams together. */
  readonly publicBytesPerSample: number;
  readonly privateBytesPerSample: number;
  /** Bytes of each public layer of the last sample, for the adaptation policy's view of the stream's rate. */
  readonly layerBytes: readonly number[];
}

/** The encode-and-send pipeline of one sender. */
export function createSamplePipeline(o: SamplePipelineOptions): SamplePipeline {
  const { codec, op, privateOp: privOp, sharing, layerBounds, relay, session, log } = o;
  const publicImage = o.publicImage ?? 'learned';
  let publicEncodes = 0;
  let privateEncodes = 0;
  let publicBytesPerSample = 0;
  let privateBytesPerSample = 0;
  let lastLayerBytes: number[] = [];
  /** Receivers the current sample went to. */
  const sentTo = new Set<string>();

  /** Hands one sample to a session's link; counts its bytes. */
  const send = (
    s: Session,
    channel: 'public' | 'private',
    stream: string,
    kind: 'public' | 'private' | 'shared',
    seq: number,
    captureTsMs: number,
    wireOp: Record<string, unknown>,
    packets: Uint8Array[],
  ) => {
    if (s.state === 'closed') return; // left while the sample was encoding
    if (s.pausedUntilMs !== undefined && Date.now() < s.pausedUntilMs) {
      // A drain pause (adaptation: a queue built on its path): skipped, counted, logged with the decision.
      s.pauseSkipped = (s.pauseSkipped ?? 0) + 1;
      return;
    }
    try {
      s.link.sendSample(channel, { seq, captureTsMs, op: wireOp, packets, stream } as never);
      sentTo.add(s.peerId);
      for (const p of packets) s.bytes[kind] += p.byteLength;
    } catch (err) {
      log.warn('send failed', { peerId: s.peerId, error: String(err) });
    }
  };

  const serve = (s: Session, ik: string, stream: string, instruction: Instruction, members: number) => {
    const key = `${stream}|${ik}|${members}`;
    if (s.servedKey === key) return;
    s.servedKey = key;
    sendControl(
      s,
      {
        t: 'serve',
        ref: s.request?.id ?? 0,
        ik,
        instruction: {
          task: instruction.task,
          modality: instruction.modality,
          output: instruction.output,
          query: instruction.query.join(' '),
        },
        stream,
        members,
      },
      log,
    );
  };

  const sendRaw = (sample: SourceSample, connected: Session[], captureTsMs: number) => {
    const img = sample.image!;
    const packetBytes = connected[0]!.link.maxPacketPayloadBytes;
    const packets = splitPayload(img.data, packetBytes);
    const wireOp = { kind: 'raw-rgb', width: img.width, height: img.height, packetBytes };
    publicBytesPerSample = img.data.byteLength;
    relay.publish('public', sample.index, captureTsMs, wireOp, packets);
    for (const s of connected)
      if (!relay.carries(s))
        send(s, 'public', 'public', 'public', sample.index, captureTsMs, wireOp, packets);
  };

  const sendSemantic = async (sample: SourceSample, connected: Session[], captureTsMs: number) => {
    const c = codec!;
    const o = op!;
    const input = sample.image ? { image: sample.image } : { text: sample.text! };
    const maxPacketBytes = connected[0]!.link.maxPacketPayloadBytes;
    const wirePublic: Record<string, unknown> = { ...toWireOperatingPoint(o) };
    const asking = connected.filter((s) => s.instruction).sort((a, b) => a.order - b.order);
    if (asking.length === 0) return;
    if (sharing === 'naive') {
      // Baseline: everything encoded and sent per receiver, nothing shared. It runs at the sender's fixed points
      // (createSender turns adaptation off for it: a benchmark of sharing alone), so no receiver has a decision.
      publicBytesPerSample = 0;
      privateBytesPerSample = 0;
      for (const s of asking) {
        const instr = s.instruction!;
        const enc = await c.encodeSample(input, o, {
          instructions: [instr],
          privateOps: [privOp],
          maxPacketBytes,
          publicImage,
        });
        publicEncodes++;
        privateEncodes += enc.private.length;
        send(s, 'public', 'public', 'public', sample.index, captureTsMs, wirePublic, enc.public.packets);
        publicBytesPerSample = enc.public.packets.reduce((n, p) => n + p.byteLength, 0);
        const priv = enc.private[0];
        const ik = PUBLIC_TASKS.has(instr.task) ? 'pub' : instructionTag(instructionKey(instr));
        const stream = priv ? `private:${s.peerId}` : 'public';
        serve(s, ik, stream, instr, 1);
        if (priv) {
          s.codedOp = privOp;
          send(
            s,
            'private',
            stream,
            'private',
            sample.index,
            captureTsMs,
            { ...toWireOperatingPoint(privOp!), ik },
            priv.packets,
          );
          privateBytesPerSample += priv.packets.reduce((n, p) => n + p.byteLength, 0);
        }
      }
      return;
    }
    const publicReceivers = asking.filter((s) => PUBLIC_TASKS.has(s.instruction!.task));
    const privateReceivers = asking.filter((s) => !PUBLIC_TASKS.has(s.instruction!.task));
    // Sharing groups form among receivers at the same private operating point (their own link's), each coded for
    // the worst loss measured among its members.
    const pointOf = (s: Session) => cheaper(s.decision?.privateOp, privOp!);
    const byPoint = new Map<string, Session[]>();
    for (const s of privateReceivers) {
      const k = pointOf(s).name;
      byPoint.set(k, [...(byPoint.get(k) ?? []), s]);
    }
    const groups = [...byPoint.values()].flatMap((members) =>
      groupInstructions(
        members.map((s) => [s.peerId, s.instruction!] as const),
        sharing,
      ).map((g) => ({
        ...g,
        op: withLossConditioning(
          pointOf(session(g.members[0]!)!),
          g.members.map((m) => session(m)?.decision?.lossRate ?? 0),
        ),
      })),
    );
    // Spread over enough packets that the lossiest receiver rarely loses a sample whole: what arrives of a
    // spread sample decodes through its erasure mask, a sample in one lost packet does not decode at all.
    const worstLoss = Math.max(0, ...asking.map((s) => s.decision?.lossRate ?? 0));
    const enc = await c.encodeSample(input, o, {
      instructions: groups.map((g) => g.instruction),
      privateOps: groups.map((g) => g.op),
      maxPacketBytes,
      minPackets: minPacketsForLoss(worstLoss),
      publicImage,
      // The public image code's parity packets are sized for the lossiest receiver (no effect on the learned path).
      publicLossRate: worstLoss,
      ...(layerBounds ? { publicLayers: layerBounds } : {}),
    });
    publicEncodes++;
    privateEncodes += enc.private.length;
    publicBytesPerSample = enc.public.packets.reduce((n, p) => n + p.byteLength, 0);
    lastLayerBytes = (enc.publicLayers ?? []).map((l) => l.packets.reduce((n, p) => n + p.byteLength, 0));
    if (relay.enabled && publicReceivers.length > 0) {
      // Once per sample, whatever the number of receivers; every layer. A layered publisher puts each layer
      // in its own room (Janus cannot pick per subscriber); receivers subscribe to the prefix they are told.
      const layers = enc.publicLayers ?? [{ start: 0, packets: enc.public.packets }];
      layers.forEach((layer, k) => {
        const wire = enc.publicLayers
          ? { ...wirePublic, ly: k, ls: layer.start, ln: layers.length }
          : wirePublic;
        relay.publish(k === 0 ? 'public' : `public.${k}`, sample.index, captureTsMs, wire, layer.packets);
      });
    }
    for (const s of publicReceivers) {
      serve(s, 'pub', 'public', s.instruction!, 1);
      if (relay.carries(s)) {
        // Janus sends every subscriber the same: the receiver subscribes to the layer rooms it can take.
        const n = enc.publicLayers
          ? Math.min(enc.publicLayers.length, s.decision?.publicLayers ?? enc.publicLayers.length)
          : 1;
        relay.setLayers(s, n);
        continue;
      }
      if (!enc.publicLayers) {
        send(s, 'public', 'public', 'public', sample.index, captureTsMs, wirePublic, enc.public.packets);
        continue;
      }
      // Progressive layers: the base always, enhancements as this receiver's link allows.
      const n = Math.min(enc.publicLayers.length, s.decision?.publicLayers ?? enc.publicLayers.length);
      for (let k = 0; k < n; k++) {
        const layer = enc.publicLayers[k]!;
        const stream = k === 0 ? 'public' : `public.${k}`;
        const wire = { ...wirePublic, ly: k, ls: layer.start, ln: n };
        send(s, 'public', stream, 'public', sample.index, captureTsMs, wire, layer.packets);
      }
    }
    privateBytesPerSample = 0;
    const byKey = new Map(enc.private.map((p) => [`${p.key!}|${p.op!.name}`, p]));
    for (const g of groups) {
      const key = instructionKey(g.instruction);
      const priv = byKey.get(`${key}|${g.op.name}`);
      if (!priv) continue;
      const ik = instructionTag(`${key}|${g.op.name}`);
      const bytes = priv.packets.reduce((n, p) => n + p.byteLength, 0);
      privateBytesPerSample += bytes;
      const shared = g.members.length > 1;
      const wire = { ...toWireOperatingPoint(g.op), ik };
      for (const peerId of g.members) {
        const s = session(peerId);
        if (!s) continue;
        s.codedOp = g.op;
        const stream = shared ? `shared:${ik}` : `private:${peerId}`;
        serve(s, ik, stream, g.instruction, g.members.length);
        send(
          s,
          shared ? 'public' : 'private',
          stream,
          shared ? 'shared' : 'private',
          sample.index,
          captureTsMs,
          wire,
          priv.packets,
        );
      }
    }
  };

  return {
    async send(sample, connected, captureTsMs) {
      sentTo.clear();
      if (codec) await sendSemantic(sample, connected, captureTsMs);
      else sendRaw(sample, connected, captureTsMs);
      return [...sentTo];
    },
    get publicEncodes() {
      return publicEncodes;
    },
    get privateEncodes() {
      return privateEncodes;
    },
    get publicBytesPerSample() {
      return publicBytesPerSample;
    },
    get privateBytesPerSample() {
      return privateBytesPerSample;
    },
    get layerBytes() {
      return lastLayerBytes;
    },
  };
}
