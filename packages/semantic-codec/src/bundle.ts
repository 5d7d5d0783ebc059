/**
 * Loading and checking a model bundle (docs/BUNDLE.md): the manifest against its schema, every file's
 * presence and sha256, each ONNX model's opset and declared inputs/outputs, then one onnxruntime session
 * per stage, created once and reused. Each failure is a BundleError naming the file and a `reason`.
 */
import { DEFAULT_EXECUTION_PROVIDERS, MAX_BUNDLE_FORMAT_VERSION, MAX_SUPPORTED_OPSET } from './defaults.js';
import { BundleError, InvalidStateError, UnsupportedError } from './errors.js';
import { type LinearImageCode, parseImageCode } from './imageCode.js';
import {
  type Manifest,
  parseManifest,
  STAGE_NAMES,
  type StageName,
  type StageSpec,
  type TensorSpec,
} from './manifest.js';
import { ONNX_ELEM_TYPES, OnnxParseError, type OnnxValueInfo, readOnnxModelInfo } from './onnxProto.js';
import type {
  ExecutionProvider,
  OrtLike,
  OrtSessionLike,
  OrtSessionOptions,
  OrtTensorLike,
} from './ortTypes.js';
import { createTokenizer, type Tokenizer } from './tokenizer.js';

/** Reads one bundle file by its relative name; rejects (any error) when it does not exist. */
export type BundleReader = (file: string) => Promise<Uint8Array>;

/** Where a bundle lives: a directory path (Node), an http(s) URL (fetch), or a reader function. */
export type BundleSource = string | URL | BundleReader;

/**
 * Which stages to load: `all` (the default), `sender` (the encoders, the channel encoders and the private trunk:
 * what encodeSample runs) or `receiver` (the channel decoders, image/text/task decoders: what decodeSample runs).
 * A receiver of the default bundle loads about half its ONNX bytes.
 */
export type BundleRole = 'all' | 'sender' | 'receiver';
export const BUNDLE_ROLES: readonly BundleRole[] = ['all', 'sender', 'receiver'];

/** The stages a receiver runs (by stage name, or by role within a stream: `private.channel_decoder`). */
const DECODING_STAGES: ReadonlySet<string> = new Set([
  'channel_decoder',
  'image_decoder',
  'text_decoder',
  'task_decoder',
  'synthesis',
]);

/** Whether a bundle loaded for `role` loads the stage `key` (a stage name or `stream.role`). */
export function roleLoads(role: BundleRole, key: string): boolean {
  if (role === 'all') return true;
  return DECODING_STAGES.has(key.slice(key.indexOf('.') + 1)) === (role === 'receiver');
}

export interface LoadBundleOptions {
  /** The onnxruntime module (node or web); required. */
  ort: OrtLike;
  /** Which stages to load; default `all`. */
  role?: BundleRole;
  /** Execution providers in order of preference; default ['cpu']. */
  executionProviders?: readonly ExecutionProvider[];
  /** Extra onnxruntime session options (merged under `executionProviders`). */
  sessionOptions?: OrtSessionOptions;
}

/** One stage: its spec and its session. */
export interface Stage {
  readonly name: string;
  readonly spec: StageSpec;
  readonly session: OrtSessionLike;
  /** Runs the session. Inputs are checked by onnxruntime. */
  run(feeds: Record<string, OrtTensorLike>): Promise<Record<string, OrtTensorLike>>;
}

/** The channel coder pair for a stream kind. */
export interface ChannelCoder {
  readonly encoder: Stage;
  readonly decoder: Stage;
}

/** The public image stream's own code (`streams.image`): analysis, synthesis and the linear code between. */
export interface ImageStream {
  /** image [B, 3, H, W] → coefs [B, Nb, K] (sender). */
  readonly analysis: Stage;
  /** coefs [B, Nb, K] and grid [hb, wb] → image [B, 3, H, W] (receiver). */
  readonly synthesis: Stage;
  readonly code: LinearImageCode;
}

/** A loaded, checked bundle. */
export interface Bundle {
  readonly manifest: Manifest;
  readonly tokenizer: Tokenizer;
  readonly ort: OrtLike;
  /** The stages it was loaded for. */
  readonly role: BundleRole;
  /** The loaded stages' keys: stage names, and `stream.role` for those named under manifest.streams. */
  readonly loaded: readonly string[];
  /** Whether the bundle has this stage, loaded. */
  has(name: StageName): boolean;
  /** A stage; throws UnsupportedError when the bundle lacks it or its role left it out. */
  stage(name: StageName): Stage;
  /** The channel coder of a stream kind (per-stream if the manifest names one, else the shared pair). */
  channelCoder(stream: 'public' | 'private'): ChannelCoder;
  /** The private stream's own image trunk (image → tokens, `streams.private.trunk`), where the bundle has one. */
  privateTrunk(): Stage | undefined;
  /** The public image stream's own code, where the bundle has one (`streams.image`). */
  imageStream(): ImageStream | undefined;
  /** Releases the sessions. Idempotent; later `stage()` calls throw InvalidStateError. */
  close(): Promise<void>;
  readonly closed: boolean;
}

function makeReader(source: BundleSource): BundleReader {
  if (typeof source === 'function') return source;
  const s = String(source);
  if (/^https?:/i.test(s) || source instanceof URL) {
    const base = s.endsWith('/') ? s : `${s}/`;
    if (source instanceof URL && source.protocol === 'file:') {
      return nodeReader(decodeURIComponent(source.pathname));
    }
    return async (file) => {
      const res = await fetch(new URL(file, base));
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      return new Uint8Array(await res.arrayBuffer());
    };
  }
  return nodeReader(s);
}

function nodeReader(dir: string): BundleReader {
  return async (file) => {
    const fs = await import('node:fs/promises');
    const buf = await fs.readFile(`${dir.replace(/\/+$/, '')}/${file}`);
    return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
  };
}

async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const digest = await globalThis.crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('');
}

async function checkSha256(bytes: Uint8Array, want: string, file: string): Promise<void> {
  const digest = await sha256Hex(bytes);
  if (digest !== want.toLowerCase()) {
    throw new BundleError('checksum', file, `sha256 ${digest} does not match the manifest's ${want}`);
  }
}

/** Reads a bundle file named in `manifest.testdata` and checks its sha256 (for tests and tools). */
export async function readBundleTestdata(
  source: BundleSource,
  manifest: Manifest,
  key: string,
): Promise<Uint8Array> {
  const entry = manifest.testdata?.[key];
  if (!entry) throw new UnsupportedError(`bundle '${manifest.name}' ships no testdata '${key}'`);
  const bytes = await readFile(makeReader(source), entry.file);
  await checkSha256(bytes, entry.sha256, entry.file);
  return bytes;
}

async function readFile(read: BundleReader, file: string): Promise<Uint8Array> {
  try {
    return await read(file);
  } catch (e) {
    throw new BundleError(
      'missing-file',
      file,
      `cannot read: ${e instanceof Error ? e.message : String(e)}`,
      {
        cause: e,
      },
    );
  }
}

function parseJson(bytes: Uint8Array, file: string): unknown {
  try {
    return JSON.parse(new TextDecoder().decode(bytes));
  } catch (e) {
    throw new BundleError('manifest', file, `not valid JSON: ${e instanceof Error ? e.message : String(e)}`);
  }
}

function fmt(shape: readonly (number | string)[] | undefined): string {
  return shape === undefined ? '(unknown rank)' : `[${shape.join(', ')}]`;
}

/** Checks the model's declared tensors against the manifest's; throws BundleError('shape'). */
function checkTensors(
  file: string,
  kind: 'input' | 'output',
  declared: Record<string, TensorSpec>,
  actual: readonly OnnxValueInfo[],
): void {
  const want = Object.keys(declared).sort();
  const have = actual.map((a) => a.name).sort();
  if (want.join('\u0000') !== have.join('\u0000')) {
    throw new BundleError(
      'shape',
      file,
      `model ${kind}s [${have.join(', ')}] differ from the manifest's [${want.join(', ')}]`,
    );
  }
  for (const a of actual) {
    const spec = declared[a.name]!;
    const dtype = ONNX_ELEM_TYPES[a.elemType];
    if (a.elemType !== 0 && dtype !== spec.dtype) {
      throw new BundleError(
        'shape',
        file,
        `${kind} '${a.name}' is ${dtype ?? `type ${a.elemType}`}, manifest says ${spec.dtype}`,
      );
    }
    if (a.shape === undefined) continue;
    if (a.shape.length !== spec.shape.length) {
      throw new BundleError(
        'shape',
        file,
        `${kind} '${a.name}' has shape ${fmt(a.shape)}, manifest says ${fmt(spec.shape)}`,
      );
    }
    a.shape.forEach((d, i) => {
      const m = spec.shape[i];
      if (typeof d === 'number' && d > 0 && typeof m === 'number' && d !== m) {
        throw new BundleError(
          'shape',
          file,
          `${kind} '${a.name}' has shape ${fmt(a.shape)}, manifest says ${fmt(spec.shape)}`,
        );
      }
    });
  }
}

/** Where the manifest gives a number for a semantic width, it must match `dims`. */
function checkDims(manifest: Manifest, key: string, spec: StageSpec): void {
  const { D, C } = manifest.dims;
  // Where the manifest gives numbers, they must agree with `dims` (D, C, P).
  const widths: Record<string, number> = { tokens: D, public: D, private: D, symbols: C, mask: C };
  for (const [kind, tensors] of [
    ['input', spec.inputs],
    ['output', spec.outputs],
  ] as const) {
    for (const [name, t] of Object.entries(tensors)) {
      const want = widths[name];
      const last = t.shape[t.shape.length - 1];
      if (want !== undefined && typeof last === 'number' && t.shape.length === 3 && last !== want) {
        throw new BundleError(
          'shape',
          spec.file,
          `stage ${key} ${kind} '${name}' has width ${last}, dims say ${want}`,
        );
      }
      const rows = t.shape[1];
      if (
        name === 'private' &&
        t.shape.length === 3 &&
        typeof rows === 'number' &&
        rows !== manifest.dims.P
      ) {
        throw new BundleError(
          'shape',
          spec.file,
          `stage ${key} ${kind} 'private' has ${rows} tokens, dims say P = ${manifest.dims.P}`,
        );
      }
    }
  }
}

/**
 * Loads and checks a bundle, then creates one session per stage. Throws BundleError (reason and file) on
 * any problem, UnsupportedError for a newer manifest format, TypeError for bad options.
 */
export async function loadBundle(source: BundleSource, options: LoadBundleOptions): Promise<Bundle> {
  const ort = options?.ort;
  if (!ort || typeof ort.InferenceSession?.create !== 'function' || typeof ort.Tensor !== 'function') {
    throw new TypeError('options.ort must be the onnxruntime module (onnxruntime-node or onnxruntime-web)');
  }
  const eps = options.executionProviders ?? DEFAULT_EXECUTION_PROVIDERS;
  if (!Array.isArray(eps) || eps.length === 0)
    throw new TypeError('executionProviders must be a non-empty array');
  const role = options.role ?? 'all';
  if (!BUNDLE_ROLES.includes(role)) {
    throw new TypeError(`role must be one of ${BUNDLE_ROLES.join(', ')}, not '${String(role)}'`);
  }
  const read = makeReader(source);

  const parsed = parseManifest(parseJson(await readFile(read, 'manifest.json'), 'manifest.json'));
  if (!parsed.ok) throw new BundleError('manifest', 'manifest.json', parsed.error);
  const manifest = parsed.manifest;
  if (manifest.formatVersion > MAX_BUNDLE_FORMAT_VERSION) {
    throw new UnsupportedError(
      `manifest.json: formatVersion ${manifest.formatVersion} is newer than this runtime (${MAX_BUNDLE_FORMAT_VERSION})`,
    );
  }
  if (manifest.opset > MAX_SUPPORTED_OPSET) {
    throw new BundleError(
      'opset',
      'manifest.json',
      `opset ${manifest.opset} exceeds the supported ${MAX_SUPPORTED_OPSET}`,
    );
  }
  for (const key of Object.keys(manifest.stages)) {
    if (!(STAGE_NAMES as readonly string[]).includes(key)) {
      throw new BundleError('manifest', 'manifest.json', `unknown stage '${key}'`);
    }
  }

  const tokFile = manifest.tokenizer?.file ?? 'tokenizer.json';
  const tokBytes = await readFile(read, tokFile);
  if (manifest.tokenizer) await checkSha256(tokBytes, manifest.tokenizer.sha256, tokFile);
  let tokenizer: Tokenizer;
  try {
    tokenizer = createTokenizer(parseJson(tokBytes, tokFile));
  } catch (e) {
    if (e instanceof BundleError) throw e;
    throw new BundleError('manifest', tokFile, e instanceof Error ? e.message : String(e));
  }

  // Gather every stage spec: the named stages plus per-stream coders given inline.
  const specs = new Map<string, StageSpec>(Object.entries(manifest.stages));
  const streamStage = (
    stream: 'public' | 'private' | 'image',
    role: 'channel_encoder' | 'channel_decoder' | 'trunk' | 'analysis' | 'synthesis',
  ): string | undefined => {
    const s = manifest.streams?.[stream] as Record<string, string | StageSpec | undefined> | undefined;
    const ref = s?.[role];
    if (ref === undefined) return undefined;
    if (typeof ref === 'string') {
      if (!specs.has(ref))
        throw new BundleError(
          'manifest',
          'manifest.json',
          `streams.${stream}.${role} names unknown stage '${ref}'`,
        );
      return ref;
    }
    const key = `${stream}.${role}`;
    specs.set(key, ref);
    return key;
  };
  const coderKeys = {
    public: {
      encoder: streamStage('public', 'channel_encoder'),
      decoder: streamStage('public', 'channel_decoder'),
    },
    private: {
      encoder: streamStage('private', 'channel_encoder'),
      decoder: streamStage('private', 'channel_decoder'),
    },
  };
  const trunkKey = streamStage('private', 'trunk');
  if (trunkKey !== undefined) {
    // The codec feeds it `image` and reads `tokens`, as it does image_encoder.
    const t = specs.get(trunkKey)!;
    const ins = Object.keys(t.inputs).join(',');
    const outs = Object.keys(t.outputs).join(',');
    if (ins !== 'image' || outs !== 'tokens') {
      throw new BundleError(
        'manifest',
        t.file,
        `streams.private.trunk must map 'image' to 'tokens', its tensors are ${ins} → ${outs}`,
      );
    }
  }

  const imageSpec = manifest.streams?.image;
  let imageKeys: { analysis: string; synthesis: string; code: LinearImageCode } | undefined;
  if (imageSpec) {
    const analysis = streamStage('image', 'analysis')!;
    const synthesis = streamStage('image', 'synthesis')!;
    const tensors = (key: string) => {
      const t = specs.get(key)!;
      return [Object.keys(t.inputs).sort().join(','), Object.keys(t.outputs).sort().join(','), t] as const;
    };
    const [ai, ao, at] = tensors(analysis);
    const [si, so, st] = tensors(synthesis);
    if (ai !== 'image' || ao !== 'coefs')
      throw new BundleError(
        'manifest',
        at.file,
        `streams.image.analysis must map 'image' to 'coefs', not ${ai} → ${ao}`,
      );
    if (si !== 'coefs,grid' || so !== 'image')
      throw new BundleError(
        'manifest',
        st.file,
        `streams.image.synthesis must map 'coefs', 'grid' to 'image', not ${si} → ${so}`,
      );
    const c = imageSpec.code;
    const K = manifest.dims.C * (c.block / manifest.dims.imageStride) ** 2;
    if (c.coefficients !== K || c.block % manifest.dims.imageStride !== 0) {
      throw new BundleError(
        'manifest',
        c.file,
        `streams.image.code: ${c.coefficients} coefficients per ${c.block}-pixel block; C·(block/imageStride)² = ${K}`,
      );
    }
    for (const t of [at.outputs.coefs, st.inputs.coefs]) {
      const last = t?.shape[t.shape.length - 1];
      if (typeof last === 'number' && last !== K)
        throw new BundleError('shape', at.file, `streams.image: coefs width ${last}, the code has ${K}`);
    }
    const bytes = await readFile(read, c.file);
    await checkSha256(bytes, c.sha256, c.file);
    let code: LinearImageCode;
    try {
      code = parseImageCode(bytes, {
        groups: c.groups,
        block: c.block,
        stride: manifest.dims.imageStride,
        C: manifest.dims.C,
      });
    } catch (e) {
      throw new BundleError('corrupt', c.file, e instanceof Error ? e.message : String(e));
    }
    imageKeys = { analysis, synthesis, code };
  }

  const sessionOptions: OrtSessionOptions = { ...options.sessionOptions, executionProviders: eps };
  const stages = new Map<string, Stage>();
  try {
    for (const [key, spec] of specs) {
      if (roleLoads(role, key))
        stages.set(key, await loadStage(ort, read, manifest, key, spec, sessionOptions));
      else checkDims(manifest, key, spec); // unloaded, but the manifest is checked all the same
    }
  } catch (e) {
    await Promise.allSettled([...stages.values()].map((s) => s.session.release?.()));
    throw e;
  }

  let closed = false;
  const get = (key: string): Stage => {
    if (closed) throw new InvalidStateError('bundle is closed');
    const s = stages.get(key);
    if (s) return s;
    if (specs.has(key)) {
      throw new UnsupportedError(
        `bundle '${manifest.name}' was loaded for the ${role} role, without its stage '${key}' ` +
          `(a ${role === 'receiver' ? 'sender' : 'receiver'}'s): load it with role 'all' to run both`,
      );
    }
    throw new UnsupportedError(`bundle '${manifest.name}' has no stage '${key}'`);
  };
  return {
    manifest,
    tokenizer,
    ort,
    role,
    loaded: [...stages.keys()],
    has: (name) => stages.has(name),
    stage: get,
    channelCoder(stream) {
      if (stream !== 'public' && stream !== 'private') throw new TypeError(`unknown stream kind '${stream}'`);
      const k = coderKeys[stream];
      // looked up when read: a bundle loaded for one role has only one half
      return {
        get encoder() {
          return get(k.encoder ?? 'channel_encoder');
        },
        get decoder() {
          return get(k.decoder ?? 'channel_decoder');
        },
      };
    },
    privateTrunk: () => (trunkKey === undefined ? undefined : get(trunkKey)),
    imageStream() {
      if (!imageKeys) return undefined;
      const k = imageKeys;
      return {
        get analysis() {
          return get(k.analysis);
        },
        get synthesis() {
          return get(k.synthesis);
        },
        code: k.code,
      };
    },
    get closed() {
      return closed;
    },
    async close() {
      if (closed) return;
      closed = true;
      await Promise.allSettled([...stages.values()].map((s) => s.session.release?.()));
    },
  };
}

async function loadStage(
  ort: OrtLike,
  read: BundleReader,
  manifest: Manifest,
  key: string,
  spec: StageSpec,
  sessionOptions: OrtSessionOptions,
): Promise<Stage> {
  const { file } = spec;
  const bytes = await readFile(read, file);
  await checkSha256(bytes, spec.sha256, file);
  let info: ReturnType<typeof readOnnxModelInfo>;
  try {
    info = readOnnxModelInfo(bytes);
  } catch (e) {
    if (e instanceof OnnxParseError)
      throw new BundleError('corrupt', file, `not a valid ONNX model: ${e.message}`);
    throw e;
  }
  const opset = info.opsets.get('');
  if (opset === undefined) throw new BundleError('opset', file, 'imports no default-domain (ai.onnx) opset');
  if (opset > MAX_SUPPORTED_OPSET) {
    throw new BundleError('opset', file, `opset ${opset} exceeds the supported ${MAX_SUPPORTED_OPSET}`);
  }
  checkTensors(file, 'input', spec.inputs, info.inputs);
  checkTensors(file, 'output', spec.outputs, info.outputs);
  checkDims(manifest, key, spec);
  let session: OrtSessionLike;
  try {
    session = await ort.InferenceSession.create(bytes, sessionOptions);
  } catch (e) {
    throw new BundleError(
      'corrupt',
      file,
      `onnxruntime refused it: ${e instanceof Error ? e.message : String(e)}`,
      {
        cause: e,
      },
    );
  }
  const same = (a: readonly string[], b: string[]) =>
    [...a].sort().join('\u0000') === [...b].sort().join('\u0000');
  if (
    !same(session.inputNames, Object.keys(spec.inputs)) ||
    !same(session.outputNames, Object.keys(spec.outputs))
  ) {
    await session.release?.();
    throw new BundleError(
      'shape',
      file,
      `session tensors (${session.inputNames.join(', ')} → ${session.outputNames.join(', ')}) differ from the manifest's`,
    );
  }
  return {
    name: key,
    spec,
    session,
    run: (feeds) => session.run(feeds),
  };
}
