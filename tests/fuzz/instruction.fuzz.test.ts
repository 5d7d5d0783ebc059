/**
 * Fuzzing the instruction path: `parseInstruction` and `encodeInstruction` (allowed: TypeError,
 * UnsupportedError), and the control-message guards `parseReceiverMessage` / `parseSenderMessage`
 * (never throw; what they accept must have, in every field a consumer reads, the type it declares).
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  createTokenizer,
  MAX_QUERY_CHARS,
  parseReceiverMessage,
  parseSenderMessage,
  UnsupportedError,
} from '@m4sc/semantic-codec';
import fc from 'fast-check';
import { Packr } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import { encodeInstruction, parseInstruction, TASKS } from '../../packages/semantic-codec/src/instruction.js';
import { fcParams, hostileValue, nested } from './helpers.js';

const RUNS = { instruction: 3000, receiverMessage: 3000, senderMessage: 3000 };

const tokenizer = createTokenizer(
  JSON.parse(
    readFileSync(fileURLToPath(new URL('../../models/default/tokenizer.json', import.meta.url)), 'utf8'),
  ),
);
const packr = new Packr({ useRecords: false, moreTypes: false });
/** What a message looks like after the control channel: msgpack there and back (maps become objects). */
const overWire = (v: unknown): unknown => {
  try {
    return packr.unpack(packr.pack(v));
  } catch {
    return v;
  }
};

const words = fc.constantFrom(
  'what',
  'colour',
  'is',
  'the',
  'circle',
  '?',
  'zzzunknown',
  "it's",
  'ÄÖ',
  '',
  ' ',
);
const query = fc.oneof(
  fc.array(words, { maxLength: 30 }).map((w) => w.join(' ')),
  fc.string({ maxLength: 600 }),
  fc.constantFrom('a'.repeat(MAX_QUERY_CHARS), 'a '.repeat(300), '\u0000\uffff\ud800', '😀 '.repeat(10)),
);
const field = (good: fc.Arbitrary<unknown>) =>
  fc.oneof({ weight: 3, arbitrary: good }, { weight: 1, arbitrary: hostileValue });

describe('fuzz: instructions', () => {
  it('parseInstruction → a valid Instruction, TypeError or UnsupportedError; encodeInstruction fits maxLen', () => {
    const input = fc.oneof(
      fc.record(
        {
          task: field(fc.constantFrom(...TASKS, 'Caption', 'hack', '__proto__', 'constructor')),
          modality: field(fc.constantFrom('image', 'text', 'audio')),
          output: field(fc.constantFrom('image', 'label', 'text', 'video')),
          query: field(query),
        },
        { requiredKeys: [] },
      ),
      hostileValue,
      fc.constant(nested(5000, 'x', true)),
    );
    fc.assert(
      fc.property(input, fc.constantFrom(undefined, 24, 5, 1), (raw, maxLen) => {
        let instr: ReturnType<typeof parseInstruction>;
        try {
          instr = parseInstruction(raw as never, maxLen === undefined ? {} : { maxLen });
        } catch (e) {
          if (!(e instanceof TypeError) && !(e instanceof UnsupportedError)) throw e;
          return;
        }
        expect(TASKS).toContain(instr.task);
        expect(instr.query.length).toBeLessThanOrEqual((maxLen ?? 24) - 5);
        if (instr.task === 'answer') expect(instr.query.length).toBeGreaterThan(0);
        let ids: BigInt64Array;
        try {
          ids = encodeInstruction(tokenizer, instr);
        } catch (e) {
          if (!(e instanceof TypeError) && !(e instanceof UnsupportedError)) throw e;
          return;
        }
        expect(ids.length).toBe(tokenizer.instruction.maxLen);
        const size = BigInt(tokenizer.instruction.tokens.length);
        for (const id of ids) expect(id >= 0n && id < size).toBe(true);
      }),
      fcParams(RUNS.instruction, 21),
    );
  });
});

const validInstructionMsg = fc.record({
  t: fc.constant('instruction'),
  id: fc.integer(),
  task: fc.constantFrom(...TASKS),
  query: query,
});
const validReport = fc.record({
  t: fc.constant('decode-report'),
  samples: fc.nat(),
  decodeMsP50: fc.double({ min: 0, max: 1e4, noNaN: true }),
  decodeMsP95: fc.double({ min: 0, max: 1e4, noNaN: true }),
  latencyMsP50: fc.double({ min: 0, max: 1e4, noNaN: true }),
  latencyMsP95: fc.double({ min: 0, max: 1e4, noNaN: true }),
  errors: fc.nat(),
});

/** Replaces up to 3 fields of a valid message with hostile values, or drops them. */
function mutateFields<T extends Record<string, unknown>>(valid: fc.Arbitrary<T>): fc.Arbitrary<unknown> {
  return valid.chain((m) =>
    fc
      .array(
        fc.tuple(fc.constantFrom(...Object.keys(m), 'extra'), fc.option(hostileValue, { nil: undefined })),
        {
          maxLength: 3,
        },
      )
      .map((edits) => {
        const out: Record<string, unknown> = { ...m };
        for (const [k, v] of edits) {
          if (v === undefined) delete out[k];
          else out[k] = v;
        }
        return out;
      }),
  );
}

const isStr = (v: unknown) => typeof v === 'string';
const isInt = (v: unknown) => Number.isInteger(v);
const isNum = (v: unknown) => typeof v === 'number' && Number.isFinite(v);

describe('fuzz: control messages', () => {
  it('parseReceiverMessage never throws; what it accepts has the declared field types', () => {
    const msg = fc.oneof(
      mutateFields(validInstructionMsg),
      mutateFields(validReport),
      fc.anything(),
      hostileValue,
      fc.constant(nested(10_000)),
    );
    fc.assert(
      fc.property(msg, (raw) => {
        const m = parseReceiverMessage(overWire(raw));
        if (m === undefined) return;
        if (m.t === 'instruction') {
          expect(isInt(m.id)).toBe(true);
          expect(isStr(m.task) && m.task.length <= 32).toBe(true);
          expect(m.query === undefined || (isStr(m.query) && m.query.length <= MAX_QUERY_CHARS)).toBe(true);
          // What the sender does next: only the codec's typed errors may come out.
          try {
            parseInstruction({ task: m.task, ...(m.query ? { query: m.query } : {}) });
          } catch (e) {
            if (!(e instanceof TypeError) && !(e instanceof UnsupportedError)) throw e;
          }
        } else {
          expect(m.t).toBe('decode-report');
          for (const k of ['samples', 'decodeMsP50', 'decodeMsP95', 'latencyMsP50', 'latencyMsP95', 'errors'])
            expect(isNum((m as unknown as Record<string, unknown>)[k])).toBe(true);
        }
      }),
      fcParams(RUNS.receiverMessage, 22),
    );
  });

  it('parseSenderMessage never throws; what it accepts has the declared field types (receivers print them)', () => {
    const hello = fc.record({
      t: fc.constant('hello'),
      codec: fc.constantFrom('semantic', 'raw'),
      bundle: fc.record({ name: fc.string(), version: fc.string() }),
      modality: fc.constantFrom('image', 'text'),
      fps: fc.integer({ min: 1, max: 60 }),
      source: fc.string(),
    });
    const serve = fc.record({
      t: fc.constant('serve'),
      ref: fc.nat(),
      ik: fc.string(),
      instruction: fc.record({
        task: fc.constantFrom(...TASKS),
        modality: fc.constantFrom('image', 'text'),
        output: fc.constantFrom('image', 'label', 'text'),
        query: fc.string(),
      }),
      stream: fc.constantFrom('public', 'private:r1', 'shared:x'),
      members: fc.integer({ min: 1, max: 64 }),
    });
    const error = fc.record({
      t: fc.constant('error'),
      ref: fc.nat(),
      code: fc.constantFrom('bad-message', 'unknown-task', 'bad-instruction', 'modality-mismatch'),
      message: fc.string(),
    });
    const msg = fc.oneof(
      mutateFields(hello),
      mutateFields(serve),
      mutateFields(error),
      fc.anything(),
      hostileValue,
    );
    fc.assert(
      fc.property(msg, (raw) => {
        const m = parseSenderMessage(overWire(raw));
        if (m === undefined) return;
        if (m.t === 'hello') {
          expect(['semantic', 'raw']).toContain(m.codec);
          expect(['image', 'text']).toContain(m.modality);
          expect(isNum(m.fps)).toBe(true);
          expect(isStr(m.source)).toBe(true);
          expect(m.bundle === undefined || (isStr(m.bundle.name) && isStr(m.bundle.version))).toBe(true);
        } else if (m.t === 'serve') {
          expect(isInt(m.ref)).toBe(true);
          expect(isStr(m.ik) && isStr(m.stream)).toBe(true);
          const i = m.instruction;
          expect(isStr(i.task) && isStr(i.modality) && isStr(i.output) && isStr(i.query)).toBe(true);
          expect(isInt(m.members)).toBe(true);
        } else {
          expect(m.t).toBe('error');
          expect(isStr(m.code) && isStr(m.message)).toBe(true);
          expect(m.ref === undefined || isInt(m.ref)).toBe(true);
        }
        // What the receivers do with it: print its declared fields (extra keys are never read).
        const declared = {
          hello: ['codec', 'modality', 'fps', 'source'],
          serve: ['ik', 'stream', 'members', 'ref'],
          error: ['code', 'message', 'ref'],
        }[m.t];
        const r = m as unknown as Record<string, unknown>;
        expect(() => declared.map((k) => `${r[k]}`).join(' ')).not.toThrow();
      }),
      fcParams(RUNS.senderMessage, 23),
    );
  });
});
