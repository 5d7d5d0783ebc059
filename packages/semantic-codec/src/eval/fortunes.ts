/**
 * Held-out sentences for `transmit`, read from Debian's fortunes exactly as `training/data/fortunes.py`
 * does: every top-level file without a dot in its name, fortunes split on "\n%\n", whitespace collapsed,
 * attributions cut, split into sentences, kept when printable ASCII with 3..30 words and ≤ 31 tokens;
 * a sentence is held out when the first byte of its SHA-1 is < 13 (~5%).
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { splitWords } from '../tokenizer.js';

export const FORTUNES_DIR = '/usr/share/games/fortunes';

// Python's str.split() also splits on the ASCII separators \x1c-\x1f and NEL, which JS's \s does not.
const PY_WS = /[\s\x1c-\x1f\x85]+/;

/** Whether training holds this sentence out (fortunes.py `is_test`). */
export function isHeldOutSentence(s: string): boolean {
  return createHash('sha1').update(s, 'utf8').digest()[0]! < 13;
}

/** All sentences that pass training's filter, sorted (fortunes.py `sentences`). */
export function fortuneSentences(dir = FORTUNES_DIR, maxWords = 30, maxTokens = 31): string[] {
  const out = new Set<string>();
  // Python decodes with errors="ignore": invalid bytes vanish (the decoder's U+FFFD stands in for them).
  const decoder = new TextDecoder('utf-8', { fatal: false });
  for (const name of readdirSync(dir).sort()) {
    if (name.startsWith('.') || name.includes('.')) continue;
    const path = join(dir, name);
    let txt: string;
    try {
      if (!statSync(path).isFile()) continue;
      txt = decoder.decode(readFileSync(path)).replaceAll('\ufffd', '');
    } catch {
      continue;
    }
    for (const fortune of txt.split('\n%\n')) {
      let flat = fortune
        .split(PY_WS)
        .filter((w) => w !== '')
        .join(' ');
      if (flat.includes('--') || flat.includes('|') || flat.includes('http')) flat = flat.split(' -- ')[0]!;
      for (const s of flat.split(/(?<=[.!?])\s+/)) {
        const words = s.split(PY_WS).filter((w) => w !== '');
        if (![...s].every((ch) => ch.charCodeAt(0) >= 32 && ch.charCodeAt(0) < 127)) continue;
        if (words.length < 3 || words.length > maxWords) continue;
        if (splitWords(s).length > maxTokens) continue;
        if (!/[a-z]/.test(s.toLowerCase())) continue;
        out.add(s);
      }
    }
  }
  return [...out].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/** The held-out sentences, in training's order (sorted). */
export function heldOutSentences(dir = FORTUNES_DIR): string[] {
  return fortuneSentences(dir).filter(isHeldOutSentence);
}
