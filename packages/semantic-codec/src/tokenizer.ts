/**
 * Tokenizers of `tokenizer.json` (docs/BUNDLE.md): vocabularies for instructions, text and task outputs.
 * Splitting is the regex `[a-z0-9']+|[^\sa-z0-9']` on the lower-cased string, as in `training/`. A text
 * vocabulary with `"pieces": "wordpiece"` then cuts each word into word pieces: its longest vocabulary prefix,
 * then the longest continuation (`##` + the rest's longest prefix), and so on (greedy longest match, as BERT's
 * WordPiece); a word it cannot cut stays one token, `<unk>`. Ids are positions in `vocab`; `<pad>`=0,
 * `<bos>`=1, `<eos>`=2, `<unk>`=3 in every vocabulary.
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
      z
        .object({
          lowercase: z.boolean().optional(),
          split: z.literal('words-and-punct').optional(),
          pieces: z.literal('wordpiece').optional(),
          continuation: z.string().min(1).max(8).optional(),
        })
        .loose(),
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
  /** Word-piece vocabularies: the prefix of a piece that continues the word before it (`##`); else null. */
  readonly continuation: string | null;
}

/** The continuation prefix of word pieces when `tokenizer.json` names none. */
export const DEFAULT_CONTINUATION = '##';

/** The three vocabularies of a bundle. */
export interface Tokenizer {
  readonly instruction: Vocab;
  readonly text: Vocab;
  readonly output: Vocab;
}

function makeVocab(tokens: readonly string[], maxLen: number, continuation: string | null = null): Vocab {
  const index = new Map<string, number>();
  tokens.forEach((t, i) => {
    index.set(t, i);
  });
  return {
    tokens,
    maxLen,
    id: (t) => index.get(t) ?? UNK_ID,
    has: (t) => index.has(t),
    continuation,
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
    text: makeVocab(
      t.text.vocab,
      t.text.maxLen,
      t.text.pieces === 'wordpiece' ? (t.text.continuation ?? DEFAULT_CONTINUATION) : null,
    ),
    output: makeVocab(t.output.vocab, t.output.maxLen),
  };
}

const utf8 = new TextEncoder();
// A word is a run of letters, digits (any script) and apostrophes; any other character but whitespace is a word
// of its own. On ASCII text this is the first tokenizer's /[a-z0-9']+|[^\sa-z0-9']/.
const WORD_RE = /(?:[\p{L}\p{N}]|')+|[^\p{L}\p{N}\s']/gu;

/**
 * NFC-normalises, lower-cases and splits into words and punctuation marks, exactly as the Python tokenizer
 * does: "Café" is one word, "café" (composed or not), and punctuation, "€" or "_" a word each.
 */
export function splitWords(text: string): string[] {
  if (typeof text !== 'string') throw new TypeError('text must be a string');
  return text.normalize('NFC').toLowerCase().match(WORD_RE) ?? [];
}

/**
 * A word as pieces of a word-piece vocabulary (greedy longest match), or null when it cannot be cut (a
 * character the vocabulary lacks). A word-level vocabulary gives the word itself when it has it, else null.
 */
export function wordPieces(vocab: Vocab, word: string): string[] | null {
  const cont = vocab.continuation;
  if (cont === null) return vocab.has(word) ? [word] : null;
  const out: string[] = [];
  let s = 0;
  while (s < word.length) {
    let e = word.length;
    for (; e > s; e--) {
      const piece = s === 0 ? word.slice(0, e) : cont + word.slice(s, e);
      if (vocab.has(piece)) {
        out.push(piece);
        break;
      }
    }
    if (e === s) return null;
    s = e;
  }
  return out;
}

/** Words → tokens: each word's pieces, or the word itself (it encodes as `<unk>`) when it has none. */
function wordsToTokens(vocab: Vocab, words: readonly string[]): string[] {
  const out: string[] = [];
  for (const w of words) out.push(...(wordPieces(vocab, w) ?? [w]));
  return out;
}

export interface EncodeTextOptions {
  /** Cut text longer than `text.maxLen − 1` tokens instead of refusing it; default false. */
  truncate?: boolean;
  /** Pad with `<pad>` to `text.maxLen` ids; default false (tokens + `<eos>` only: fewer tokens to send). */
  pad?: boolean;
}

/**
 * Text → the tokens {@link encodeText} sends, as strings: words (a word-level vocabulary) or word pieces; a
 * word the vocabulary cannot spell is one token, the word itself (its id is `<unk>`'s). Throws TypeError on
 * text that is not a string, too long, empty, or of more than `text.maxLen − 1` tokens unless `truncate`.
 */
export function textTokens(
  tokenizer: Tokenizer,
  text: string,
  options: { truncate?: boolean } = {},
): string[] {
  if (typeof text !== 'string') throw new TypeError('text must be a string');
  if (text.length > MAX_TEXT_CHARS)
    throw new TypeError(`text of ${text.length} chars exceeds ${MAX_TEXT_CHARS}`);
  const words = splitWords(text);
  if (words.length === 0) throw new TypeError('text is empty (no words)');
  const tokens = wordsToTokens(tokenizer.text, words);
  const room = tokenizer.text.maxLen - 1;
  if (tokens.length > room && !options.truncate) {
    const unit = tokenizer.text.continuation === null ? 'words' : 'tokens';
    throw new TypeError(
      `text has ${tokens.length} ${unit}; the bundle takes at most ${room} (split it or pass truncate)`,
    );
  }
  return tokens.slice(0, room);
}

/**
 * Text → ids (BigInt64Array): the tokens' ids ({@link textTokens}), then `<eos>`, as training/pipeline.py
 * `text_ids` (optionally padded to `maxLen`). Throws TypeError on empty text, or on more than `maxLen − 1`
 * tokens unless `truncate`.
 */
export function encodeText(
  tokenizer: Tokenizer,
  text: string,
  options: EncodeTextOptions = {},
): BigInt64Array {
  const tokens = textTokens(tokenizer, text, options);
  const n = tokens.length;
  const ids = new BigInt64Array(options.pad ? tokenizer.text.maxLen : n + 1);
  for (let i = 0; i < n; i++) ids[i] = BigInt(tokenizer.text.id(tokens[i]!));
  ids[n] = BigInt(EOS_ID);
  return ids;
}

/**
 * The words of `text` the text vocabulary cannot spell, with their token positions (as {@link encodeText}
 * cuts and truncates it): what the packet's literal trailer carries so the receiver can put them back. Words
 * of more than {@link MAX_LITERAL_BYTES} UTF-8 bytes, at positions from {@link MAX_LITERAL_TOKEN} on, and
 * any beyond the {@link MAX_LITERALS}th stay `<unk>`. Text {@link textTokens} refuses has none.
 */
export function textLiterals(
  tokenizer: Tokenizer,
  text: string,
  options: { truncate?: boolean } = {},
): TextLiteral[] {
  let tokens: string[];
  try {
    tokens = textTokens(tokenizer, text, options);
  } catch {
    return [];
  }
  const out: TextLiteral[] = [];
  for (let t = 0; t < Math.min(tokens.length, MAX_LITERAL_TOKEN) && out.length < MAX_LITERALS; t++) {
    const w = tokens[t]!;
    if (!tokenizer.text.has(w) && utf8.encode(w).length <= MAX_LITERAL_BYTES) out.push({ t, word: w });
  }
  return out;
}

/**
 * What a perfect decoder of `text` would output: its words as {@link encodeText} sends them (truncated), a
 * word the vocabulary cannot spell as `<unk>`. The reference of the in-vocabulary BLEU, and of its ceiling.
 */
export function vocabularyWords(tokenizer: Tokenizer, text: string): string[] {
  const v = tokenizer.text;
  return joinPieces(
    v,
    textTokens(tokenizer, text, { truncate: true }).map((t) => (v.has(t) ? t : '<unk>')),
  );
}

/** Tokens → words: a word-piece vocabulary's continuation pieces join the word before them (or start one). */
export function joinPieces(vocab: Vocab, tokens: readonly string[]): string[] {
  const cont = vocab.continuation;
  if (cont === null) return [...tokens];
  const words: string[] = [];
  for (const t of tokens) {
    if (t.startsWith(cont) && t.length > cont.length) {
      if (words.length > 0) words[words.length - 1] += t.slice(cont.length);
      else words.push(t.slice(cont.length));
    } else words.push(t);
  }
  return words;
}

/** Joins words as {@link decodeIds} does: spaces, none before . , ! ? ; : */
export function joinWords(words: readonly string[]): string {
  let text = '';
  for (const w of words) text += text === '' || /^[.,!?;:]$/.test(w) ? w : ` ${w}`;
  return text;
}

/**
 * A decoded text's tokens ({@link TextResult}`.tokens`) with literal words put back at their token
 * positions, then joined into words; positions past the decoded tokens are dropped (the decoder ended the
 * text before them).
 */
export function applyLiterals(
  vocab: Vocab,
  tokens: readonly string[],
  literals: readonly TextLiteral[],
): { words: string[]; text: string } {
  const out = [...tokens];
  for (const l of literals) if (l.t < out.length) out[l.t] = l.word;
  const words = joinPieces(vocab, out);
  return { words, text: joinWords(words) };
}

/**
 * Ids → tokens, words and a string, as the Python `Vocab.decode` then `detokenize`: stops at the first
 * `<eos>` or `<pad>`, skips `<bos>`, shows out-of-range ids as `<unk>`, joins word pieces into words. The
 * string joins words by spaces, with no space before . , ! ? ; : (BLEU uses the words).
 */
export function decodeIds(
  vocab: Vocab,
  ids: ArrayLike<number | bigint>,
): { tokens: string[]; words: string[]; text: string } {
  const tokens: string[] = [];
  for (let i = 0; i < ids.length; i++) {
    const id = Number(ids[i]!);
    if (id === EOS_ID || id === PAD_ID) break;
    if (id === BOS_ID) continue;
    tokens.push(vocab.tokens[id] ?? '<unk>');
  }
  const words = joinPieces(vocab, tokens);
  return { tokens, words, text: joinWords(words) };
}
