/**
 * Fuzzing the bundle loader on a temp copy of models/default: mutated manifest.json (deleted keys,
 * hostile values, path escapes, deep nesting, huge arrays) and corrupt or truncated ONNX files (with the
 * manifest's sha256 updated, so the ONNX reader and onnxruntime see them). Allowed: BundleError,
 * UnsupportedError, TypeError — never another exception, never a crash of the process, each case in time.
 */
import { createHash } from 'node:crypto';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  BundleError,
  createSemanticCodec,
  loadBundle,
  STAGE_NAMES,
  UnsupportedError,
} from '@m4sc/semantic-codec';
import { loadOrtNode } from '@m4sc/semantic-codec/node';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fcParams, hostileValue, nested, within } from './helpers.js';

const RUNS = { manifest: 120, onnx: 25 };
const CASE_MS = 15_000;

const SRC = fileURLToPath(new URL('../../models/default', import.meta.url));
let dir: string;
let manifestText: string;
let manifest: Record<string, unknown>;
let ort: Awaited<ReturnType<typeof loadOrtNode>>;
const outcomes: Record<string, number> = {};

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'm4sc-fuzz-bundle-'));
  cpSync(SRC, dir, { recursive: true });
  manifestText = readFileSync(join(dir, 'manifest.json'), 'utf8');
  manifest = JSON.parse(manifestText);
  ort = await loadOrtNode();
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Loads the temp bundle, builds a codec on it, closes both; returns the outcome's name. */
async function tryLoad(): Promise<string> {
  try {
    const bundle = await within(CASE_MS, 'loadBundle', loadBundle(dir, { ort }));
    try {
      const codec = await createSemanticCodec({ bundle });
      await codec.close();
    } finally {
      await bundle.close();
    }
    return 'ok';
  } catch (e) {
    if (e instanceof BundleError) return `BundleError:${e.reason}`;
    if (e instanceof UnsupportedError || e instanceof TypeError) return e.name;
    throw e;
  }
}

const PATHS: string[][] = (() => {
  const out: string[][] = [];
  const walk = (v: unknown, path: string[]) => {
    out.push(path);
    if (path.length >= 5 || typeof v !== 'object' || v === null) return;
    for (const [k, c] of Object.entries(v)) walk(c, [...path, k]);
  };
  walk(JSON.parse(readFileSync(join(SRC, 'manifest.json'), 'utf8')), []);
  return out.filter((p) => p.length > 0);
})();

const replacement = fc.oneof(
  hostileValue,
  fc.constantFrom(
    '../manifest.json',
    '/etc/passwd',
    'tokenizer.json',
    'manifest.json',
    'testdata/scenes.json',
    'a\\b.onnx',
    'x'.repeat(10_000),
    '0'.repeat(64),
    18,
    99,
    2,
    [],
    [1, 2, 3],
    Array.from({ length: 10_000 }, (_, i) => i),
    nested(3_000),
    nested(2_000, 1, true),
    { format: 'm4sc-bundle' },
  ),
  fc.jsonValue({ maxDepth: 3 }),
);

type Edit = { path: string[]; op: 'set' | 'delete'; value: unknown };
const edit: fc.Arbitrary<Edit> = fc.record({
  path: fc.constantFrom(...PATHS),
  op: fc.constantFrom('set', 'set', 'delete'),
  value: replacement,
});

function applyEdits(base: unknown, edits: Edit[]): unknown {
  const root = structuredClone(base) as Record<string, unknown>;
  for (const e of edits) {
    let o: Record<string, unknown> = root;
    for (const k of e.path.slice(0, -1)) {
      const next = o[k];
      if (typeof next !== 'object' || next === null) return root;
      o = next as Record<string, unknown>;
    }
    const last = e.path[e.path.length - 1]!;
    if (e.op === 'delete') delete o[last];
    else o[last] = e.value;
  }
  return root;
}

const manifestCase = fc.oneof(
  { weight: 6, arbitrary: fc.array(edit, { minLength: 1, maxLength: 3 }).map((edits) => ({ edits })) },
  {
    weight: 1,
    arbitrary: fc
      .oneof(
        fc.nat({ max: 6500 }).map((n) => ({ text: 'TRUNC', n })),
        fc.string({ maxLength: 200 }).map((t) => ({ text: t, n: 0 })),
        fc.constantFrom(
          '',
          'null',
          '[]',
          '{}',
          '"x"',
          `${'['.repeat(100_000)}${']'.repeat(100_000)}`,
          '\uFEFF{}',
        ),
      )
      .map((t) => ({
        raw: typeof t === 'string' ? t : t.text === 'TRUNC' ? undefined : t.text,
        cut: typeof t === 'string' ? undefined : t.n,
      })),
  },
);

describe('fuzz: bundle loader', () => {
  it('a mutated manifest.json gives a bundle or BundleError/UnsupportedError/TypeError', async () => {
    await fc.assert(
      fc.asyncProperty(manifestCase, async (k) => {
        let text: string;
        if ('edits' in k) text = JSON.stringify(applyEdits(manifest, k.edits));
        else text = k.raw ?? manifestText.slice(0, k.cut);
        writeFileSync(join(dir, 'manifest.json'), text);
        try {
          const o = await tryLoad();
          outcomes[o] = (outcomes[o] ?? 0) + 1;
        } finally {
          writeFileSync(join(dir, 'manifest.json'), manifestText);
        }
      }),
      fcParams(RUNS.manifest, 51),
    );
  }, 300_000);

  it('a corrupt or truncated ONNX file (checksum updated) gives BundleError, never a crash', async () => {
    const stages = manifest.stages as Record<string, { file: string; sha256: string }>;
    const small = ['channel_encoder', 'channel_decoder', 'public_encoder', 'task_decoder'].filter((s) =>
      (STAGE_NAMES as readonly string[]).includes(s),
    );
    const corruption = fc.record({
      stage: fc.constantFrom(...small),
      how: fc.constantFrom('truncate', 'flip', 'zero-run', 'garbage', 'empty', 'swap-file'),
      at: fc.double({ min: 0, max: 1, noNaN: true }),
      bytes: fc.uint8Array({ minLength: 1, maxLength: 16 }),
    });
    await fc.assert(
      fc.asyncProperty(corruption, async (c) => {
        const file = stages[c.stage]!.file;
        const original = readFileSync(join(dir, file));
        let bad: Buffer;
        const at = Math.floor(c.at * original.length);
        if (c.how === 'truncate') bad = original.subarray(0, at);
        else if (c.how === 'empty') bad = Buffer.alloc(0);
        else if (c.how === 'garbage') bad = Buffer.from(c.bytes);
        else if (c.how === 'swap-file') bad = readFileSync(join(dir, 'tokenizer.json'));
        else {
          bad = Buffer.from(original);
          for (let i = 0; i < c.bytes.length; i++)
            bad[(at + i * 997) % bad.length] =
              c.how === 'flip' ? bad[(at + i * 997) % bad.length]! ^ (c.bytes[i]! | 1) : 0;
        }
        const m = structuredClone(manifest) as { stages: Record<string, { sha256: string }> };
        m.stages[c.stage]!.sha256 = createHash('sha256').update(bad).digest('hex');
        writeFileSync(join(dir, file), bad);
        writeFileSync(join(dir, 'manifest.json'), JSON.stringify(m));
        try {
          const o = await tryLoad();
          outcomes[`onnx ${o}`] = (outcomes[`onnx ${o}`] ?? 0) + 1;
        } finally {
          writeFileSync(join(dir, file), original);
          writeFileSync(join(dir, 'manifest.json'), manifestText);
        }
      }),
      fcParams(RUNS.onnx, 52),
    );
    expect(Object.keys(outcomes).length).toBeGreaterThan(2);
  }, 300_000);
});
