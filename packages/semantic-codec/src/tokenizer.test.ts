import { describe, expect, it } from 'vitest';
import { UnsupportedError } from './errors.js';
import { encodeInstruction, instructionKey, parseInstruction } from './instruction.js';
import {
  applyLiterals,
  createTokenizer,
  decodeIds,
  encodeText,
  splitWords,
  textLiterals,
  textTokens,
  vocabularyWords,
  wordPieces,
} from './tokenizer.js';

const specials = ['<pad>', '<bos>', '<eos>', '<unk>'];
const json = {
  instruction: {
    vocab: [
      ...specials,
      '<task:classify>',
      '<task:answer>',
      '<task:reconstruct>',
      '<mod:image>',
      '<out:label>',
      '<out:text>',
      '<out:image>',
      'what',
      'colour',
      '?',
    ],
    maxLen: 10,
  },
  text: {
    vocab: [...specials, 'hello', 'world', ',', '!'],
    maxLen: 6,
    lowercase: true,
    split: 'words-and-punct',
  },
  output: { vocab: [...specials, 'red', 'circle', '.'], maxLen: 4 },
};
const tok = createTokenizer(json);

describe('splitWords', () => {
  it('splits words and punctuation like the Python regex', () => {
    expect(splitWords("What's the COLOUR, of 2 circles?!")).toEqual([
      "what's",
      'the',
      'colour',
      ',',
      'of',
      '2',
      'circles',
      '?',
      '!',
    ]);
    expect(splitWords('  ')).toEqual([]);
  });

  it('keeps letters of any script inside a word, composed or not; other symbols are words of their own', () => {
    const decomposed = 'cafe\u0301';
    expect(splitWords(`Señor Ørsted's ${decomposed}_bar costs 5€.`)).toEqual([
      'señor',
      "ørsted's",
      'café',
      '_',
      'bar',
      'costs',
      '5',
      '€',
      '.',
    ]);
    expect(splitWords('Ελλάδα 東京 №7')).toEqual(['ελλάδα', '東京', '№', '7']);
  });

  it('splits any ASCII text exactly as the first, ASCII-only tokenizer did', () => {
    const first = /[a-z0-9']+|[^\sa-z0-9']/g;
    let seed = 7;
    const next = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed;
    };
    for (let n = 0; n < 500; n++) {
      const text = String.fromCharCode(
        ...Array.from({ length: 1 + (next() % 40) }, () => 9 + (next() % 118)),
      );
      expect(splitWords(text)).toEqual(text.toLowerCase().match(first) ?? []);
    }
  });
});

describe('tokenizer', () => {
  it('encodes text to int64 ids, then <eos>, with <unk> for unknown words; pads on request', () => {
    expect(Array.from(encodeText(tok, 'Hello, planet!'))).toEqual([4n, 6n, 3n, 7n, 2n]);
    expect(Array.from(encodeText(tok, 'hello', { pad: true }))).toEqual([4n, 2n, 0n, 0n, 0n, 0n]);
  });

  it('refuses empty and over-long text with TypeError; truncate opts in', () => {
    expect(() => encodeText(tok, ' ')).toThrow(TypeError);
    expect(() => encodeText(tok, 'hello hello hello hello hello hello')).toThrow(TypeError);
    expect(Array.from(encodeText(tok, 'hello hello hello hello hello hello', { truncate: true }))).toEqual([
      4n,
      4n,
      4n,
      4n,
      4n,
      2n,
    ]);
  });

  it('decodes up to <eos> or <pad>, skipping <bos>, without a space before punctuation', () => {
    expect(decodeIds(tok.output, [1, 4, 5, 6, 2, 4])).toEqual({
      tokens: ['red', 'circle', '.'],
      words: ['red', 'circle', '.'],
      text: 'red circle.',
    });
    expect(decodeIds(tok.output, [4n, 99n]).words).toEqual(['red', '<unk>']);
  });

  it('rejects a tokenizer.json whose vocab does not start with the specials', () => {
    expect(() => createTokenizer({ ...json, output: { vocab: ['a', 'b', 'c', 'd'], maxLen: 2 } })).toThrow(
      TypeError,
    );
    expect(() => createTokenizer(null)).toThrow(TypeError);
  });
});

describe('instruction template', () => {
  it('fills modality and output per task and encodes <bos> task mod out query <eos> <pad>…', () => {
    const i = parseInstruction({ task: 'answer', query: 'What colour?' }, { maxLen: 10 });
    expect(i).toEqual({ task: 'answer', modality: 'image', output: 'text', query: ['what', 'colour', '?'] });
    expect(Array.from(encodeInstruction(tok, i))).toEqual([1n, 5n, 7n, 9n, 11n, 12n, 13n, 2n, 0n, 0n]);
    expect(instructionKey(i)).toBe('answer/image/text/what colour ?');
  });

  it('unknown or unsupported task → UnsupportedError; bad fields, long query, empty answer → TypeError', () => {
    expect(() => parseInstruction({ task: 'dance' })).toThrow(UnsupportedError);
    expect(() => parseInstruction({ task: 'caption' }, { tasks: ['classify'] })).toThrow(UnsupportedError);
    expect(() => parseInstruction({ task: 'classify', modality: 'audio' })).toThrow(UnsupportedError);
    expect(() => parseInstruction({ task: 5 as unknown as string })).toThrow(TypeError);
    expect(() => parseInstruction({ task: 'answer', query: 'a b c d e f' }, { maxLen: 10 })).toThrow(
      TypeError,
    );
    expect(() => parseInstruction({ task: 'answer' })).toThrow(TypeError);
    expect(() => parseInstruction({ task: 'answer', query: 'x'.repeat(10_000) })).toThrow(TypeError);
  });

  it('refuses to encode a task whose token the vocabulary lacks', () => {
    expect(() => encodeInstruction(tok, parseInstruction({ task: 'caption' }))).toThrow(UnsupportedError);
  });
});

describe('word pieces', () => {
  const pieces = createTokenizer({
    ...json,
    text: {
      vocab: [
        ...specials,
        'un',
        'under',
        'stand',
        '##stand',
        '##ing',
        '##s',
        's',
        't',
        '##t',
        '##a',
        '##n',
        '##d',
        '.',
      ],
      maxLen: 8,
      lowercase: true,
      split: 'words-and-punct',
      pieces: 'wordpiece',
      continuation: '##',
    },
  });

  it('cuts a word by greedy longest match, and refuses one with a character the vocabulary lacks', () => {
    expect(wordPieces(pieces.text, 'understanding')).toEqual(['under', '##stand', '##ing']);
    expect(wordPieces(pieces.text, 'stands')).toEqual(['stand', '##s']);
    expect(wordPieces(pieces.text, 'stant')).toEqual(['s', '##t', '##a', '##n', '##t']);
    expect(wordPieces(pieces.text, 'unx')).toBeNull();
    expect(wordPieces(tok.text, 'hello')).toEqual(['hello']);
    expect(wordPieces(tok.text, 'planet')).toBeNull();
  });

  it('encodes pieces, a word it cannot spell as one <unk>, and counts tokens against maxLen', () => {
    expect(textTokens(pieces, 'Understanding unx.')).toEqual(['under', '##stand', '##ing', 'unx', '.']);
    expect(Array.from(encodeText(pieces, 'Understanding unx.'))).toEqual([5n, 7n, 8n, 3n, 16n, 2n]);
    // 2 words but 8 tokens: more than maxLen − 1 = 7
    expect(() => encodeText(pieces, 'stant stant')).toThrow(/10 tokens; the bundle takes at most 7/);
    expect(textTokens(pieces, 'stant stant', { truncate: true })).toHaveLength(7);
  });

  it('joins pieces into words when decoding; a leading continuation starts a word', () => {
    expect(decodeIds(pieces.text, [5, 7, 8, 16, 2])).toEqual({
      tokens: ['under', '##stand', '##ing', '.'],
      words: ['understanding', '.'],
      text: 'understanding.',
    });
    expect(decodeIds(pieces.text, [9, 4]).words).toEqual(['s', 'un']);
  });

  it('sends a word it cannot spell as a literal at its token position, and puts it back before joining', () => {
    const lits = textLiterals(pieces, 'understanding unx stands');
    expect(lits).toEqual([{ t: 3, word: 'unx' }]);
    const decoded = decodeIds(pieces.text, [5, 7, 8, 3, 6, 9, 2]);
    expect(decoded.words).toEqual(['understanding', '<unk>', 'stands']);
    expect(applyLiterals(pieces.text, decoded.tokens, lits)).toEqual({
      words: ['understanding', 'unx', 'stands'],
      text: 'understanding unx stands',
    });
    expect(vocabularyWords(pieces, 'understanding unx stands')).toEqual(['understanding', '<unk>', 'stands']);
  });
});
