/**
 * Tokenizers of `tokenizer.json` (docs/BUNDLE.md): word-level vocabularies for instructions, text and task
 * outputs. Splitting is the regex `[a-z0-9']+|[^\sa-z0-9']` on the lower-cased string, as in `training/`.
 * Ids are positions in `vocab`; `<pad>`=0, `<bos>`=1, `<eos>`=2, `<unk>`=3 in every vocabulary.
 */
import { z } from 'zod';
import { MAX_LITERAL_BYTES, MAX_LITERAL_TOKEN, MAX_LITERALS, MAX_TEXT_CHARS } from './defaults.js';
import type { TextLiteral } from './packet.js';

export const PAD_ID = 0;
export const BOS_ID = 1;
export const EOS_ID = 2;
export const UNK_ID = 3;
const SPECIALS = ['<pad>', '<bos>', '<eos>', '<unk>'] as const;

const vocabSchema = z
  .object({
    vocab: z.array(z.string()).min(4),
    maxLen: z.number().int().positive().max(65535),
  })
  .loose()
  .refine((v) => SPECIALS.every((s, i) => v.vocab[i] === s), {
    message: 'vocab must start with <pad>, <bos>, <eos>, <unk>',
  })
  .refine((v) => new Set(v.vocab).size === v.vocab.length, { message: 'vocab has duplicate entries' });

export const tokenizerSchema = z
  .object({
    instruction: vocabSchema,
    text: vocabSchema.and(
      z.object({ lowercase: z.boolean().optional(), split: z.literal('words-and-punct').optional() }).loose(),
    ),
    output: vocabSchema,
  })
  .loose();

/** One vocabulary. */
export interface Vocab {
  readonly tokens: readonly string[];
  readonly maxLen: number;
  /** Id of a token, or `<unk>`'s. */
  id(token: string): number;
  /** Whether the vocabulary has this token. */
  has(token: string): boolean;
}

/** The three vocabularies of a bundle. */
export interface Tokenizer {
  readonly instruction: Vocab;
  readonly text: Vocab;
  readonly output: Vocab;
}

function makeVocab(tokens: readonly string[], maxLen: number): Vocab {
  const index = new Map<string, number>();
  tokens.forEach((t, i) => {
    index.set(t, i);
  });
  return {
    tokens,
    maxLen,
    id: (t) => index.get(t) ?? UNK_ID,
    has: (t) => index.has(t),
  };
}

/** Builds a tokenizer from parsed `tokenizer.json`; throws TypeError listing what is wrong. */
export function createTokenizer(json: unknown): Tokenizer {
  const parsed = tokenizerSchema.safeParse(json);
  if (!parsed.success) {
    throw new TypeError(`invalid tokenizer.json: ${z.prettifyError(parsed.error)}`);
  }
  const t = parsed.data;
  return {
    instruction: makeVocab(t.instruction.vocab, t.instruction.maxLen),
    text: makeVocab(t.text.vocab, t.text.maxLen),
    output: makeVocab(t.output.vocab, t.output.maxLen),
  };
}

const utf8 = new TextEncoder();
const WORD_RE = /[a-z0-9']+|[^\sa-z0-9']/g;

/** Lower-cases and splits into words and punctuation marks, exactly as the Python tokenizer does. */
export function splitWords(text: string): string[] {
  if (typeof text !== 'string') throw new TypeError('text must be a string');
  return text.toLowerCase().match(WORD_RE) ?? [];
}

export interface EncodeTextOptions {
  /** Cut text longer than `text.maxLen − 1` words instead of refusing it; default false. */
  truncate?: boolean;
  /** Pad with `<pad>` to `text.maxLen` ids; default false (words + `<eos>` only: fewer tokens to send). */
  pad?: boolean;
}

/**
 * Text → ids (BigInt64Array): the words' ids, then `<eos>`, as training/pipeline.py `text_ids` (optionally
 * padded to `maxLen`). Throws TypeError on empty text, or on more than `maxLen − 1` words unless `truncate`.
 */
export function encodeText(
  tokenizer: Tokenizer,
  text: string,
  options: EncodeTextOptions = {},
): BigInt64Array {
  if (typeof text !== 'string') throw new TypeError('text must be a string');
  if (text.length > MAX_TEXT_CHARS)
    throw new TypeError(`text of ${text.length} chars exceeds ${MAX_TEXT_CHARS}`);
  const words = splitWords(text);
  if (words.length === 0) throw new TypeError('text is empty (no words)');
  const room = tokenizer.text.maxLen - 1;
  if (words.length > room && !options.truncate) {
    throw new TypeError(
      `text has ${words.length} words; the bundle takes at most ${room} (split it or pass truncate)`,
    );
  }
  const n = Math.min(words.length, room);
  const ids = new BigInt64Array(options.pad ? tokenizer.text.maxLen : n + 1);
  for (let i = 0; i < n; i++) ids[i] = BigInt(tokenizer.text.id(words[i]!));
  ids[n] = BigInt(EOS_ID);
  return ids;
}

/**
 * The words of `text` the text vocabulary lacks, with their token positions (as {@link encodeText} splits
 * and truncates it): what the packet's literal trailer carries so the receiver can put them back. Words of
 * more than {@link MAX_LITERAL_BYTES} UTF-8 bytes, at positions from {@link MAX_LITERAL_TOKEN} on, and any
 * beyond the {@link MAX_LITERALS}th stay `<unk>`.
 */
export function textLiterals(
  tokenizer: Tokenizer,
  text: string,
  options: { truncate?: boolean } = {},
): TextLiteral[] {
  const words = splitWords(text);
  const n = Math.min(words.length, tokenizer.text.maxLen - 1);
  if (words.length > n && !options.truncate) return [];
  const out: TextLiteral[] = [];
  for (let t = 0; t < Math.min(n, MAX_LITERAL_TOKEN) && out.length < MAX_LITERALS; t++) {
    const w = words[t]!;
    if (!tokenizer.text.has(w) && utf8.encode(w).length <= MAX_LITERAL_BYTES) out.push({ t, word: w });
  }
  return out;
}

/** Joins words as {@link decodeIds} does: spaces, none before . , ! ? ; : */
export function joinWords(words: readonly string[]): string {
  let text = '';
  for (const w of words) text += text === '' || /^[.,!?;:]$/.test(w) ? w : ` ${w}`;
  return text;
}

/**
 * A decoded text (a copy) with literal words put back at their token positions; positions past the decoded
 * words are dropped (the decoder ended the text before them).
 */
export function applyLiterals(
  words: readonly string[],
  literals: readonly TextLiteral[],
): { words: string[]; text: string } {
  const out = [...words];
  for (const l of literals) if (l.t < out.length) out[l.t] = l.word;
  return { words: out, text: joinWords(out) };
}

/**
 * Ids → words and a string, as the Python `Vocab.decode`: stops at the first `<eos>` or `<pad>`, skips
 * `<bos>`, shows out-of-range ids as `<unk>`. The string joins words by spaces, with no space before . , ! ? ; : (BLEU uses the words).
 */
export function decodeIds(vocab: Vocab, ids: ArrayLike<number | bigint>): { words: string[]; text: string } {
  const words: string[] = [];
  for (let i = 0; i < ids.length; i++) {
    const id = Number(ids[i]!);
    if (id === EOS_ID || id === PAD_ID) break;
    if (id === BOS_ID) continue;
    words.push(vocab.tokens[id] ?? '<unk>');
  }
  return { words, text: joinWords(words) };
}
