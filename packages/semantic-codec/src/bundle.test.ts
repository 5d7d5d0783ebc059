import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ortNode from 'onnxruntime-node';
import { afterAll, describe, expect, it } from 'vitest';
import { addFakeTrunk, FAKE, FAKE_MODELS, FAKE_TRUNK, writeFakeBundle } from '../test/fakeBundle.js';
import { buildOnnx } from '../test/onnxBuilder.js';
import { bundleRefusal } from '../test/refusal.js';
import { loadBundle } from './bundle.js';
import { BundleError, InvalidStateError, UnsupportedError } from './errors.js';
import { OnnxParseError, readOnnxModelInfo } from './onnxProto.js';
import type { OrtLike } from './ortTypes.js';

const ort: OrtLike = ortNode;
const root = mkdtempSync(join(tmpdir(), 'm4sc-bundle-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const fresh = (mutate?: Parameters<typeof writeFakeBundle>[1]) => {
  const dir = join(root, `b${n++}`);
  writeFakeBundle(dir, mutate);
  return dir;
};

const refusal = (dir: string): Promise<BundleError> => bundleRefusal(dir, ort);

describe('readOnnxModelInfo', () => {
  it('reads the opset and the declared inputs and outputs', () => {
    const info = readOnnxModelInfo(buildOnnx(FAKE_MODELS.channel_decoder!));
    expect(info.opsets.get('')).toBe(17);
    expect(info.inputs.map((i) => i.name)).toEqual(['symbols', 'mask', 'state']);
    expect(info.inputs[0]).toEqual({ name: 'symbols', elemType: 1, shape: ['B', 'T', FAKE.C] });
    expect(info.outputs.map((o) => o.name)).toEqual(['tokens']);
  });

  it('throws OnnxParseError, never anything else, on truncated or random bytes', () => {
    const good = buildOnnx(FAKE_MODELS.image_encoder!);
    for (let cut = 0; cut < good.length; cut += 7) {
      try {
        readOnnxModelInfo(good.subarray(0, cut));
      } catch (e) {
        expect(e).toBeInstanceOf(OnnxParseError);
      }
    }
    expect(() => readOnnxModelInfo(new TextEncoder().encode('not a model at all'))).toThrow(OnnxParseError);
    expect(() => readOnnxModelInfo(new Uint8Array(0))).toThrow(OnnxParseError);
  });
});

describe('loadBundle', () => {
  it('loads a valid bundle, creates every stage session once, and closes idempotently', async () => {
    const b = await loadBundle(fresh(), { ort, executionProviders: ['cpu'] });
    expect(b.manifest.name).toBe('fake');
    expect(b.has('image_encoder')).toBe(true);
    expect(b.stage('image_encoder')).toBe(b.stage('image_encoder'));
    expect(b.channelCoder('private').encoder).toBe(b.stage('channel_encoder'));
    expect(b.tokenizer.instruction.maxLen).toBe(FAKE.Li);
    await b.close();
    await b.close();
    expect(() => b.stage('image_encoder')).toThrow(InvalidStateError);
  });

  it("loads only a role's stages (sender: encoders and the trunk; receiver: decoders), naming what it left out", async () => {
    const dir = fresh(addFakeTrunk());
    const opened: string[] = [];
    const counting: OrtLike = {
      ...ort,
      InferenceSession: {
        create: (bytes: Uint8Array, o?: unknown) => {
          opened.push(String(bytes.length));
          return ort.InferenceSession.create(bytes, o as never);
        },
      },
    } as OrtLike;
    const rx = await loadBundle(dir, { ort: counting, role: 'receiver' });
    expect(rx.role).toBe('receiver');
    expect(opened).toHaveLength(4); // the channel decoder, the image, text and task decoders
    for (const s of ['channel_decoder', 'image_decoder', 'text_decoder', 'task_decoder'] as const)
      expect(rx.has(s)).toBe(true);
    expect(rx.has('image_encoder')).toBe(false);
    expect(rx.channelCoder('private').decoder.spec.file).toBe('channel_decoder.onnx');
    expect(() => rx.stage('image_encoder')).toThrow(
      /loaded for the receiver role, without its stage 'image_encoder'/,
    );
    expect(() => rx.channelCoder('public').encoder).toThrow(UnsupportedError);
    expect(() => rx.privateTrunk()).toThrow(UnsupportedError);
    await rx.close();
    opened.length = 0;
    const tx = await loadBundle(dir, { ort: counting, role: 'sender' });
    expect(opened).toHaveLength(6); // the image, text, public and private encoders, the channel encoder, the trunk
    expect(tx.privateTrunk()?.spec.file).toBe('private_trunk.onnx');
    expect(tx.channelCoder('private').encoder.spec.file).toBe('channel_encoder.onnx');
    expect(() => tx.stage('image_decoder')).toThrow(/loaded for the sender role/);
    expect(() => tx.stage('nope' as never)).toThrow(/has no stage 'nope'/);
    await tx.close();
    await expect(loadBundle(dir, { ort, role: 'relay' as never })).rejects.toThrow(TypeError);
  });

  it('checks the manifest of the stages a role leaves out', async () => {
    const dir = fresh((m) => {
      const enc = (m.stages as Record<string, { outputs: Record<string, { shape: unknown[] }> }>)
        .image_encoder!;
      enc.outputs.tokens!.shape = ['B', 'N', 3];
    });
    await expect(loadBundle(dir, { ort, role: 'receiver' })).rejects.toThrow(BundleError);
  });

  it('loads a private trunk (streams.private.trunk) and has none without one', async () => {
    const plain = await loadBundle(fresh(), { ort });
    expect(plain.privateTrunk()).toBeUndefined();
    await plain.close();
    const b = await loadBundle(fresh(addFakeTrunk()), { ort });
    expect(b.privateTrunk()?.spec.file).toBe('private_trunk.onnx');
    expect(b.channelCoder('private').encoder).toBe(b.stage('channel_encoder'));
    await b.close();
  });

  it('refuses a private trunk that does not map image to tokens, naming its file', async () => {
    const e = await refusal(
      fresh(addFakeTrunk({ ...FAKE_TRUNK, outputs: [{ ...FAKE_TRUNK.outputs[0]!, name: 'public' }] })),
    );
    expect([e.reason, e.file]).toEqual(['manifest', 'private_trunk.onnx']);
    expect(e.message).toMatch(/'image' to 'tokens'/);
  });

  it('refuses a private stream with one channel coder half', async () => {
    const e = await refusal(
      fresh((m) => {
        m.streams = { private: { channel_encoder: 'channel_encoder' } };
      }),
    );
    expect(e.reason).toBe('manifest');
    expect(e.message).toMatch(/both channel_encoder and channel_decoder/);
  });

  it('refuses a missing file, naming it', async () => {
    const e = await refusal(fresh((_m, files) => files.delete('text_decoder.onnx')));
    expect(e.reason).toBe('missing-file');
    expect(e.file).toBe('text_decoder.onnx');
  });

  it('refuses a missing manifest', async () => {
    const dir = fresh();
    rmSync(join(dir, 'manifest.json'));
    expect((await refusal(dir)).reason).toBe('missing-file');
  });

  it('refuses a checksum mismatch', async () => {
    const dir = fresh();
    const p = join(dir, 'public_encoder.onnx');
    const bytes = readFileSync(p);
    bytes[bytes.length - 1]! ^= 1;
    writeFileSync(p, bytes);
    const e = await refusal(dir);
    expect([e.reason, e.file]).toEqual(['checksum', 'public_encoder.onnx']);
  });

  it('refuses a corrupt ONNX file with a clear error, not a crash', async () => {
    const e = await refusal(
      fresh((m, files) => {
        const junk = new TextEncoder().encode('{"this is": "not onnx"}');
        files.set('task_decoder.onnx', junk);
        const st = (m.stages as Record<string, { sha256: string }>).task_decoder!;
        st.sha256 = createHash('sha256').update(junk).digest('hex');
      }),
    );
    expect([e.reason, e.file]).toEqual(['corrupt', 'task_decoder.onnx']);
    expect(e.message).toMatch(/task_decoder\.onnx/);
  });

  it('refuses a well-formed ONNX file that onnxruntime cannot load as corrupt', async () => {
    const e = await refusal(
      fresh((m, files) => {
        const bytes = buildOnnx({
          ...FAKE_MODELS.public_encoder!,
          nodes: [{ op: 'NoSuchOperator', inputs: ['tokens'], outputs: ['public'] }],
        });
        files.set('public_encoder.onnx', bytes);
        const st = (m.stages as Record<string, { sha256: string }>).public_encoder!;
        st.sha256 = createHash('sha256').update(bytes).digest('hex');
      }),
    );
    expect([e.reason, e.file]).toEqual(['corrupt', 'public_encoder.onnx']);
  });

  it('refuses an opset above 17', async () => {
    const e = await refusal(
      fresh((m, files) => {
        const bytes = buildOnnx({ ...FAKE_MODELS.public_encoder!, opset: 21 });
        files.set('public_encoder.onnx', bytes);
        const st = (m.stages as Record<string, { sha256: string }>).public_encoder!;
        st.sha256 = createHash('sha256').update(bytes).digest('hex');
      }),
    );
    expect([e.reason, e.file]).toEqual(['opset', 'public_encoder.onnx']);
  });

  it('refuses inputs or shapes that differ from the manifest', async () => {
    const renamed = await refusal(
      fresh((m) => {
        const st = (m.stages as Record<string, { inputs: Record<string, unknown> }>).channel_encoder!;
        st.inputs = { tokens: st.inputs.tokens, snr: st.inputs.state };
      }),
    );
    expect([renamed.reason, renamed.file]).toEqual(['shape', 'channel_encoder.onnx']);
    const width = await refusal(
      fresh((m) => {
        const st = (m.stages as Record<string, { outputs: Record<string, { shape: unknown[] }> }>)
          .public_encoder!;
        st.outputs.public!.shape = ['B', 'T', 7];
      }),
    );
    expect(width.reason).toBe('shape');
    const p = await refusal(
      fresh((m) => {
        const st = (m.stages as Record<string, { outputs: Record<string, { shape: unknown[] }> }>)
          .private_encoder!;
        st.outputs.private!.shape = ['B', 5, FAKE.D];
      }),
    );
    expect([p.reason, p.file]).toEqual(['shape', 'private_encoder.onnx']);
  });

  it('refuses an invalid manifest and an unknown stage as manifest errors', async () => {
    expect((await refusal(fresh((m) => delete m.dims))).reason).toBe('manifest');
    expect((await refusal(fresh((m) => Object.assign(m, { format: 'zip' })))).reason).toBe('manifest');
    const e = await refusal(
      fresh((m) => {
        (m.stages as Record<string, unknown>).audio_encoder = (
          m.stages as Record<string, unknown>
        ).image_encoder;
      }),
    );
    expect(e.message).toMatch(/audio_encoder/);
    const esc = await refusal(
      fresh((m) => {
        (m.stages as Record<string, { file: string }>).image_encoder!.file = '../../etc/passwd';
      }),
    );
    expect(esc.reason).toBe('manifest');
    // streams.private.imageSize is [width, height] of positive integers.
    for (const bad of [[0, 32], [32], '32x32', [32.5, 32]]) {
      const r = await refusal(fresh((m) => Object.assign(m, { streams: { private: { imageSize: bad } } })));
      expect([r.reason, r.message.includes('imageSize')], JSON.stringify(bad)).toEqual(['manifest', true]);
    }
  });

  it('refuses a newer manifest format with UnsupportedError and a bad ort with TypeError', async () => {
    await expect(
      loadBundle(
        fresh((m) => Object.assign(m, { formatVersion: 2 })),
        { ort },
      ),
    ).rejects.toThrow(UnsupportedError);
    await expect(loadBundle(fresh(), { ort: {} as OrtLike })).rejects.toThrow(TypeError);
  });

  it('passes executionProviders and session options through to every session it creates', async () => {
    const seen: unknown[] = [];
    const spy: OrtLike = {
      Tensor: ort.Tensor,
      InferenceSession: {
        create: (model, options) => {
          seen.push(options);
          return ort.InferenceSession.create(model, options);
        },
      },
    };
    const b = await loadBundle(fresh(), {
      ort: spy,
      executionProviders: ['cpu'],
      sessionOptions: { intraOpNumThreads: 1 },
    });
    expect(seen.length).toBe(9);
    for (const o of seen) expect(o).toEqual({ intraOpNumThreads: 1, executionProviders: ['cpu'] });
    await b.close();
  });

  it('reads through a custom reader function (the browser path)', async () => {
    const dir = fresh();
    const b = await loadBundle(async (file) => new Uint8Array(readFileSync(join(dir, file))), { ort });
    expect(b.manifest.version).toBe('0.0.1');
    await b.close();
  });
});
