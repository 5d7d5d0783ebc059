/**
 * One evaluation suite per task: the held-out samples, encoded once (image/text encoder, backbone, and
 * for private tasks the instruction-conditioned encoder), then `evaluate(condition)` sends them through
 * the channel, decodes, and scores. Image and text suites also score the classical baseline under the
 * same condition, on the same samples.
 */
import type { SemanticCodec, Tokens } from '../codecTypes.js';
import { arrivalProbability, parityFor } from '../fec.js';
import type { RgbImage } from '../image.js';
import type { InstructionInput, Task } from '../instruction.js';
import { corpusBleu, psnr, ssim } from '../metrics.js';
import type { TextLiteral } from '../packet.js';
import { encodeLiterals } from '../packet.js';
import { createRng } from '../rng.js';
import { applyLiterals, splitWords, textLiterals, textTokens, vocabularyWords } from '../tokenizer.js';
import {
  BASELINE_MTU_BYTES,
  ClassicalImage,
  capacityBits,
  frameLost,
  type ImageFormat,
  packetsFor,
  rayleighPowerGain,
  utf8Bytes,
} from './baseline.js';
import {
  type Condition,
  concatTokens,
  conditionState,
  sliceTokens,
  type TransmitStats,
  transmit,
  transmitImages,
} from './pipeline.js';

export type Metrics = Record<string, number>;

export interface Suite {
  readonly task: Task;
  /** Held-out samples scored per point. */
  readonly size: number;
  /** Real channel symbols per sample at full rate (T·C; for text the mean over sentences). */
  readonly symbolsPerSample: number;
  evaluate(condition: Condition, seed: number): Promise<Metrics>;
}

/** Draws of the raw-text baseline's random losses or fades per point (their corpus BLEU is averaged). */
export const RAW_TEXT_DRAWS = 16;

const mean = (xs: readonly number[]) => xs.reduce((s, x) => s + x, 0) / Math.max(1, xs.length);

async function encodeImages(
  codec: SemanticCodec,
  images: readonly Uint8Array[],
  size: number,
): Promise<Tokens> {
  const parts: Tokens[] = [];
  for (let s = 0; s < images.length; s += 128) {
    const batch = images.slice(s, s + 128).map((data) => ({ data, width: size, height: size }));
    parts.push(await codec.publicEncode(await codec.encodeImage(batch)));
  }
  return concatTokens(parts);
}

/** `reconstruct`: PSNR and SSIM of held-out photo crops, with JPEG/WebP over the same channel. */
export async function reconstructSuite(
  codec: SemanticCodec,
  images: readonly Uint8Array[],
  size: number,
  options: { baseline?: boolean; path?: 'code' | 'learned' } = {},
): Promise<Suite> {
  // The learned token path, or the bundle's public image code (streams.image).
  const code = options.path === 'code';
  const pub = code ? undefined : await encodeImages(codec, images, size);
  const rgb = images.map((data) => ({ data, width: size, height: size }));
  const T = pub ? pub.T : (size / codec.manifest.dims.imageStride) ** 2;
  const refs = images.map((im) => Float32Array.from(im, (v) => v / 255));
  const classical = options.baseline === false ? [] : images.map((im) => new ClassicalImage(im, size, size));
  const C = codec.manifest.dims.C;
  return {
    task: 'reconstruct',
    size: images.length,
    symbolsPerSample: T * C,
    async evaluate(condition, seed) {
      let decoded: RgbImage[];
      let stats: TransmitStats;
      if (pub) {
        const sent = await transmit(codec, pub, 'public', condition, seed);
        stats = sent.stats;
        decoded = [];
        for (let s = 0; s < sent.tokens.batch; s += 128)
          decoded.push(
            ...(await codec.decodeImage(sliceTokens(sent.tokens, s, Math.min(128, sent.tokens.batch - s)))),
          );
      } else {
        ({ images: decoded, stats } = await transmitImages(codec, rgb, condition, seed));
      }
      const ps: number[] = [];
      const ss: number[] = [];
      decoded.forEach((im, i) => {
        const ref = refs[i]!;
        ps.push(psnr(ref, im.data));
        ss.push(ssim({ data: ref, width: size, height: size }, im));
      });
      const m: Metrics = { psnr: mean(ps), ssim: mean(ss) };
      if (condition.path === 'symbols') m.k = (Math.min(C, condition.rateSymbols) * T) / 2;
      else {
        m.bytes = mean(stats.bytes);
        m.packets = mean(stats.packets);
        if (condition.fec) m.parity = mean(stats.parityPackets);
      }
      if (classical.length === 0) return m;
      m['grey.psnr'] = mean(classical.map((c) => c.grey.psnr));
      m['grey.ssim'] = mean(classical.map((c) => c.grey.ssim));
      for (const format of ['jpeg', 'webp'] as ImageFormat[]) {
        const rng = createRng(seed ^ 0x5bd1e995);
        const bp: number[] = [];
        const bs: number[] = [];
        const qs: number[] = [];
        let delivered = 0;
        for (let i = 0; i < classical.length; i++) {
          const c = classical[i]!;
          let budget: number;
          if (condition.path === 'symbols') {
            // Same channel uses as M4SC; Rayleigh: a genie sender that knows this frame's fade |h|².
            const gain = condition.channel === 'rayleigh' ? rayleighPowerGain(rng) : 1;
            budget = Math.floor(capacityBits(m.k!, condition.snrDb, gain) / 8);
          } else {
            // The bytes M4SC put on the wire for this frame; with parity, its data bytes, and the frame gets
            // parity packets by the same rule (parityFor) on top.
            budget = stats.bytes[i]! - stats.parityBytes[i]!;
          }
          const r = await c.atBudget(format, budget);
          // Under packet loss: the exact expectation over losses, P(frame arrives) = (1 − p)^packets, or with
          // parity P(at most m of its d + m packets lost).
          const d = packetsFor(r.bytes, BASELINE_MTU_BYTES);
          const arrives =
            r.quality === 0
              ? 0
              : condition.path === 'packets'
                ? arrivalProbability(
                    d,
                    condition.fec ? parityFor(d, conditionState(condition).lossRate) : 0,
                    condition.lossRate,
                  )
                : 1;
          if (r.quality > 0) qs.push(r.quality);
          delivered += arrives;
          bp.push(arrives * r.psnr + (1 - arrives) * c.grey.psnr);
          bs.push(arrives * r.ssim + (1 - arrives) * c.grey.ssim);
        }
        m[`${format}.psnr`] = mean(bp);
        m[`${format}.ssim`] = mean(bs);
        m[`${format}.delivered`] = delivered / classical.length;
        m[`${format}.quality`] = qs.length ? mean(qs) : 0;
      }
      return m;
    },
  };
}

interface PrivateItem {
  readonly image: Uint8Array;
  readonly instruction: InstructionInput;
  /** Expected output words. */
  readonly target: readonly string[];
}

/** classify / caption / answer: instruction-conditioned private streams, scored word for word. */
export async function privateSuite(
  codec: SemanticCodec,
  task: 'classify' | 'caption' | 'answer',
  items: readonly PrivateItem[],
  size: number,
): Promise<Suite> {
  const parts: Tokens[] = [];
  for (let s = 0; s < items.length; s += 128) {
    const chunk = items.slice(s, s + 128);
    const src = await codec.privateSource(chunk.map((c) => ({ data: c.image, width: size, height: size })));
    parts.push(
      await codec.privateEncode(
        src,
        chunk.map((c) => c.instruction),
      ),
    );
  }
  const priv = concatTokens(parts);
  const C = codec.manifest.dims.C;
  // Always giving the most common expected output: the floor a useful model must beat.
  const counts = new Map<string, number>();
  for (const c of items) counts.set(c.target.join(' '), (counts.get(c.target.join(' ')) ?? 0) + 1);
  const majority = Math.max(...counts.values()) / items.length;
  return {
    task,
    size: items.length,
    symbolsPerSample: priv.T * C,
    async evaluate(condition, seed) {
      const { tokens, stats } = await transmit(codec, priv, 'private', condition, seed);
      const hyps: (readonly string[])[] = [];
      for (let s = 0; s < tokens.batch; s += 128) {
        const n = Math.min(128, tokens.batch - s);
        const out = await codec.decodeTask(
          sliceTokens(tokens, s, n),
          items.slice(s, s + n).map((c) => c.instruction),
        );
        for (const r of out) hyps.push(r.words);
      }
      const exact = mean(hyps.map((h, i) => (h.join(' ') === items[i]!.target.join(' ') ? 1 : 0)));
      const m: Metrics = task === 'caption' ? { exact } : { accuracy: exact };
      m.majority = majority;
      if (task === 'caption') {
        m.bleu4 = corpusBleu(
          items.map((c) => [c.target]),
          hyps,
        ).bleu;
      }
      if (condition.path === 'symbols') m.k = (Math.min(C, condition.rateSymbols) * priv.T) / 2;
      else {
        m.bytes = mean(stats.bytes);
        m.packets = mean(stats.packets);
      }
      return m;
    },
  };
}

/** `transmit`: held-out sentences through the text path (BLEU vs the original words), and raw UTF-8. */
export async function transmitSuite(codec: SemanticCodec, sentences: readonly string[]): Promise<Suite> {
  // Each sentence is its own sample (no padding to a batch's longest); equal lengths share model runs.
  const room = codec.tokenizer.text.maxLen - 1;
  const groups = new Map<number, number[]>();
  sentences.forEach((s, i) => {
    const T = textTokens(codec.tokenizer, s, { truncate: true }).length + 1;
    groups.set(T, [...(groups.get(T) ?? []), i]);
  });
  const encoded: { idx: number[]; tokens: Tokens }[] = [];
  for (const [, idx] of [...groups].sort((a, b) => a[0] - b[0])) {
    const parts: Tokens[] = [];
    for (let s = 0; s < idx.length; s += 128) {
      const texts = idx.slice(s, s + 128).map((i) => sentences[i]!);
      parts.push(await codec.publicEncode(await codec.encodeText(texts)));
    }
    encoded.push({ idx, tokens: concatTokens(parts) });
  }
  const refs = sentences.map((s) => splitWords(s));
  // The words outside the vocabulary, sent as UTF-8 beside the symbols (the packets' literal trailer).
  const literals = sentences.map((s) => textLiterals(codec.tokenizer, s, { truncate: true }));
  const literalBytes = literals.map((l) => (l.length ? encodeLiterals(l, room + 1).length : 0));
  const vocab = codec.tokenizer.text;
  const refsUnk = sentences.map((s) => vocabularyWords(codec.tokenizer, s));
  const C = codec.manifest.dims.C;
  const tokensOf = sentences.map(() => 0);
  for (const g of encoded) for (const i of g.idx) tokensOf[i] = g.tokens.T;
  return {
    task: 'transmit',
    size: sentences.length,
    symbolsPerSample: mean(tokensOf) * C,
    async evaluate(condition, seed) {
      const hyps: (readonly string[])[] = sentences.map(() => []);
      const hypTokens: (readonly string[])[] = sentences.map(() => []);
      const hypsLit: (readonly string[])[] = sentences.map(() => []);
      const bytes: number[] = [];
      const bytesLit: number[] = [];
      /** Decodes a transmitted group into `into`; `lit`: the literals each sample restores (none: plain). */
      const decode = async (
        out: Tokens,
        idx: number[],
        into: (readonly string[])[],
        lit?: (j: number) => readonly TextLiteral[],
      ) => {
        for (let s = 0; s < out.batch; s += 128) {
          const n = Math.min(128, out.batch - s);
          const res = await codec.decodeText(sliceTokens(out, s, n));
          res.forEach((r, j) => {
            into[idx[s + j]!] = lit ? applyLiterals(vocab, r.tokens, lit(s + j)).words : r.words;
            if (!lit) hypTokens[idx[s + j]!] = r.tokens;
          });
        }
      };
      let g = 0;
      for (const { idx, tokens } of encoded) {
        const sd = seed + 7919 * g++;
        const { tokens: out, stats } = await transmit(codec, tokens, 'public', condition, sd);
        await decode(out, idx, hyps);
        bytes.push(...stats.bytes);
        if (condition.path === 'symbols') {
          // The literals go over a digital side channel at capacity (its cost: `literal.overhead`).
          for (const i of idx) hypsLit[i] = applyLiterals(vocab, hypTokens[i]!, literals[i]!).words;
        } else {
          // Over packets they ride in every packet of the sentence: the real bytes, lost only with them all.
          const withLit = await transmit(
            codec,
            tokens,
            'public',
            condition,
            sd,
            idx.map((i) => literals[i]!),
          );
          await decode(withLit.tokens, idx, hypsLit, (j) => withLit.stats.literals[j]!);
          bytesLit.push(...withLit.stats.bytes);
        }
      }
      const bleu = (h: readonly (readonly string[])[], order: number) =>
        corpusBleu(
          refs.map((r) => [r]),
          h,
          { maxOrder: order },
        ).bleu;
      const m: Metrics = { bleu1: bleu(hyps, 1), bleu4: bleu(hyps, 4) };
      // Against the <unk>-mapped reference, as training's `*_invocab` (OOV words cannot be sent).
      const bleuUnk = (order: number) =>
        corpusBleu(
          refsUnk.map((r) => [r]),
          hyps,
          { maxOrder: order },
        ).bleu;
      m.bleu1_invocab = bleuUnk(1);
      m.bleu4_invocab = bleuUnk(4);
      // With out-of-vocabulary words sent as literals, against the original words.
      m['literal.bleu1'] = bleu(hypsLit, 1);
      m['literal.bleu4'] = bleu(hypsLit, 4);
      if (condition.path === 'symbols') {
        // Extra channel uses for the literals, as a fraction of M4SC's own (complex uses = real symbols / 2),
        // at the capacity log2(1 + SNR) bits per complex use of an ideal code at this (mean) SNR.
        const perUse = Math.log2(1 + 10 ** (condition.snrDb / 10));
        const own = tokensOf.map((t) => (Math.min(C, condition.rateSymbols) * t) / 2);
        m['literal.overhead'] = mean(literalBytes.map((b, i) => (8 * b) / perUse / own[i]!));
      } else {
        m['literal.bytes'] = mean(bytesLit);
      }
      // Raw UTF-8: delivered whole when it fits (capacity of the same channel uses) and no packet is lost;
      // otherwise the sentence is lost — an empty hypothesis in the corpus BLEU (no truncation).
      // Random fades / losses are drawn RAW_TEXT_DRAWS times and the corpus BLEU averaged, to keep the
      // baseline's sampling noise well below the differences it is compared on.
      const rng = createRng(seed ^ 0x27d4eb2f);
      const random = condition.path === 'packets' || condition.channel === 'rayleigh';
      const draws = random ? RAW_TEXT_DRAWS : 1;
      let b1 = 0;
      let b4 = 0;
      let sent = 0;
      for (let d = 0; d < draws; d++) {
        const raw = sentences.map((s, i) => {
          const b = utf8Bytes(s);
          if (condition.path === 'symbols') {
            const k = (Math.min(C, condition.rateSymbols) * tokensOf[i]!) / 2;
            const gain = condition.channel === 'rayleigh' ? rayleighPowerGain(rng) : 1;
            return 8 * b <= capacityBits(k, condition.snrDb, gain);
          }
          return !frameLost(rng, packetsFor(b, BASELINE_MTU_BYTES), condition.lossRate);
        });
        const rawHyps = refs.map((r, i) => (raw[i] ? r : []));
        b1 += bleu(rawHyps, 1);
        b4 += bleu(rawHyps, 4);
        sent += mean(raw.map((x) => (x ? 1 : 0)));
      }
      m['raw.bleu1'] = b1 / draws;
      m['raw.bleu4'] = b4 / draws;
      m['raw.delivered'] = sent / draws;
      if (condition.path === 'packets') m.bytes = mean(bytes);
      return m;
    },
  };
}

/** Ceiling of `transmit`: BLEU of each sentence against itself with out-of-vocabulary words as `<unk>`. */
export function vocabularyCeiling(
  codec: SemanticCodec,
  sentences: readonly string[],
): { bleu1: number; bleu4: number } {
  const refs = sentences.map((s) => splitWords(s));
  const hyps = sentences.map((s) => vocabularyWords(codec.tokenizer, s));
  const b = (order: number) =>
    corpusBleu(
      refs.map((r) => [r]),
      hyps,
      { maxOrder: order },
    ).bleu;
  return { bleu1: b(1), bleu4: b(4) };
}
