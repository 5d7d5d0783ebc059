/**
 * The semantic codec: the bundle's stages behind validated calls, one code path for onnxruntime-node and
 * onnxruntime-web. Bad input throws TypeError (shape, NaN, empty text), UnsupportedError (task, modality,
 * stage the bundle lacks, or a model run that fails), PacketError (packets), InvalidStateError (after
 * close); nothing else.
 */
import { type Bundle, loadBundle, type Stage } from './bundle.js';
import type {
  ChannelState,
  DecodedSample,
  DecodeSampleInput,
  EncodedSample,
  EncodeSampleOptions,
  ReceivedSymbols,
  Sample,
  SemanticCodec,
  SemanticCodecOptions,
  StreamKind,
  Symbols,
  TextResult,
  Tokens,
} from './codecTypes.js';
import { DEFAULT_MAX_PACKET_BYTES } from './defaults.js';
import { InvalidStateError, UnsupportedError } from './errors.js';
import { checkRgbImage, chwToHwc, hwcToChw, type RgbImage, resampleArea } from './image.js';
import {
  encodeInstruction,
  type Instruction,
  type InstructionInput,
  parseInstruction,
} from './instruction.js';
import type { StageName } from './manifest.js';
import { createOperatingPoint, type OperatingPoint, parseOperatingPoint } from './operatingPoint.js';
import { depacketize, type PacketizeOptions, packetize, type TextLiteral } from './packet.js';
import { decodeSample, encodeSample } from './sample.js';
import { argmaxRows, f32, type Host, i64, runStage } from './stageRunner.js';
import { decodeIds, encodeText, PAD_ID, type Vocab } from './tokenizer.js';

/** Creates a codec from a loaded bundle or by loading one. */
export async function createSemanticCodec(options: SemanticCodecOptions): Promise<SemanticCodec> {
  if (typeof options !== 'object' || options === null) throw new TypeError('options must be an object');
  if (options.bundle && options.bundleDir !== undefined) {
    throw new TypeError('give either bundle or bundleDir, not both');
  }
  if (options.bundle && (options.executionProviders || options.role)) {
    throw new TypeError(
      'executionProviders and role apply when loading (bundleDir); the given bundle already has sessions',
    );
  }
  let bundle: Bundle;
  let owns = false;
  if (options.bundle) {
    bundle = options.bundle;
    if (bundle.closed) throw new InvalidStateError('the given bundle is closed');
  } else if (options.bundleDir !== undefined) {
    if (!options.ort) throw new TypeError('ort is required with bundleDir');
    bundle = await loadBundle(options.bundleDir, {
      ort: options.ort,
      ...(options.executionProviders ? { executionProviders: options.executionProviders } : {}),
      ...(options.role ? { role: options.role } : {}),
    });
    owns = true;
  } else {
    throw new TypeError('bundle or bundleDir is required');
  }
  return new Codec(bundle, owns);
}

function asArray<T>(x: T | readonly T[]): readonly T[] {
  return Array.isArray(x) ? (x as readonly T[]) : [x as T];
}

class Codec implements SemanticCodec {
  readonly operatingPoints: readonly OperatingPoint[];
  #closed = false;

  constructor(
    readonly bundle: Bundle,
    private readonly owns: boolean,
  ) {
    const ch = (bundle.manifest as { channel?: { quantiserSnrDb?: Record<string, number> } }).channel;
    const table = ch?.quantiserSnrDb;
    this.operatingPoints = bundle.manifest.operatingPoints.map((p) =>
      createOperatingPoint(
        {
          name: p.name,
          rateSymbols: p.rateSymbols,
          bits: p.bits,
          ...(p.version !== undefined ? { version: p.version } : {}),
          ...(p.snrDb !== undefined ? { snrDb: p.snrDb } : {}),
          ...(p.lossRate !== undefined ? { lossRate: p.lossRate } : {}),
        },
        { C: bundle.manifest.dims.C, ...(table ? { quantiserSnrDb: table } : {}) },
      ),
    );
  }

  get manifest() {
    return this.bundle.manifest;
  }
  get tokenizer() {
    return this.bundle.tokenizer;
  }
  get closed() {
    return this.#closed;
  }

  operatingPoint(name: string): OperatingPoint {
    const op = this.operatingPoints.find((p) => p.name === name);
    if (!op) throw new UnsupportedError(`bundle '${this.manifest.name}' has no operating point '${name}'`);
    return op;
  }

  parseInstruction(input: InstructionInput | Instruction): Instruction {
    const i = input as Partial<Instruction>;
    const raw: InstructionInput = Array.isArray(i.query)
      ? {
          task: i.task as string,
          modality: i.modality as string,
          output: i.output as string,
          query: i.query.join(' '),
        }
      : (input as InstructionInput);
    return parseInstruction(raw, {
      tasks: this.manifest.tasks,
      modalities: this.manifest.modalities,
      maxLen: this.tokenizer.instruction.maxLen,
    });
  }

  #check(): void {
    if (this.#closed || this.bundle.closed) throw new InvalidStateError('codec is closed');
  }

  /** Runs a stage (see stageRunner.ts). */
  #run(name: StageName | Stage, feeds: Record<string, Host>, B: number): Promise<Record<string, Host>> {
    return runStage(this.bundle.ort, typeof name === 'string' ? this.bundle.stage(name) : name, feeds, B);
  }

  #checkTokens(t: Tokens, what = 'tokens'): void {
    if (typeof t !== 'object' || t === null || !(t.data instanceof Float32Array)) {
      throw new TypeError(`${what} must be { data: Float32Array, batch, T, D }`);
    }
    const { batch, T, D } = t;
    for (const [k, v] of [
      ['batch', batch],
      ['T', T],
      ['D', D],
    ] as const) {
      if (!Number.isInteger(v) || v < 1)
        throw new TypeError(`${what}.${k} must be a positive integer, got ${v}`);
    }
    if (D !== this.manifest.dims.D)
      throw new TypeError(`${what}.D is ${D}, the bundle's D is ${this.manifest.dims.D}`);
    if (t.data.length !== batch * T * D) {
      throw new TypeError(`${what} holds ${t.data.length} values, expected batch·T·D = ${batch * T * D}`);
    }
  }

  #state(state: ChannelState, B: number): Float32Array {
    if (typeof state !== 'object' || state === null) throw new TypeError('state must be { snrDb, lossRate }');
    const { snrDb, lossRate } = state;
    if (typeof snrDb !== 'number' || !Number.isFinite(snrDb))
      throw new TypeError(`state.snrDb must be finite, got ${snrDb}`);
    if (typeof lossRate !== 'number' || !(lossRate >= 0 && lossRate <= 1)) {
      throw new TypeError(`state.lossRate must be in [0, 1], got ${lossRate}`);
    }
    const s = new Float32Array(2 * B);
    for (let b = 0; b < B; b++) {
      s[2 * b] = snrDb;
      s[2 * b + 1] = lossRate;
    }
    return s;
  }

  #instructionIds(list: readonly (InstructionInput | Instruction)[]): {
    parsed: Instruction[];
    ids: BigInt64Array;
  } {
    if (list.length === 0) throw new TypeError('at least one instruction is needed');
    const parsed = list.map((i) => this.parseInstruction(i));
    const Li = this.tokenizer.instruction.maxLen;
    const ids = new BigInt64Array(parsed.length * Li);
    parsed.forEach((p, b) => {
      ids.set(encodeInstruction(this.tokenizer, p), b * Li);
    });
    return { parsed, ids };
  }

  encodeImage(image: RgbImage | readonly RgbImage[]): Promise<Tokens> {
    this.#check();
    return this.#imageTokens(this.bundle.stage('image_encoder'), image);
  }

  async privateSource(image: RgbImage | readonly RgbImage[], pub?: Tokens): Promise<Tokens> {
    this.#check();
    // The private tasks see frames at the size they were trained at (streams.private.imageSize): a 64×64
    // frame of a scene trained at 32×32 otherwise reads as another scene (caption exact match 100 → 30 %).
    const size = this.manifest.streams?.private?.imageSize;
    const images = asArray(image);
    const resize = size !== undefined && images.some((im) => im.width !== size[0] || im.height !== size[1]);
    if (resize) {
      images.forEach((im, i) => {
        checkRgbImage(im, 1, images.length > 1 ? `image ${i}` : 'image');
      });
    }
    const input = resize ? images.map((im) => resampleArea(im, size[0], size[1])) : image;
    const trunk = this.bundle.privateTrunk();
    if (trunk) return this.#imageTokens(trunk, input);
    if (pub && !resize) return pub;
    return this.publicEncode(await this.encodeImage(input));
  }

  /** Runs an image → tokens stage (image_encoder or the private trunk) on a checked batch of one size. */
  async #imageTokens(stage: Stage, image: RgbImage | readonly RgbImage[]): Promise<Tokens> {
    const stride = this.manifest.dims.imageStride;
    const { x, B, H, W } = this.#imageBatch(image, stride);
    const out = (await this.#run(stage, { image: f32(x, [B, 3, H, W]) }, B)).tokens!;
    const h = H / stride;
    const w = W / stride;
    const T = out.dims[1]!;
    if (T !== h * w) throw new UnsupportedError(`${stage.name} returned ${T} tokens for a ${h}×${w} grid`);
    return { data: out.data as Float32Array, batch: B, T, D: out.dims[2]!, grid: [h, w] };
  }

  async encodeText(text: string | readonly string[]): Promise<Tokens> {
    this.#check();
    const texts = asArray(text);
    if (texts.length === 0) throw new TypeError('no text given');
    const rows = texts.map((t) => encodeText(this.tokenizer, t));
    const L = Math.max(...rows.map((r) => r.length));
    const ids = new BigInt64Array(rows.length * L).fill(BigInt(PAD_ID));
    rows.forEach((r, b) => {
      ids.set(r, b * L);
    });
    const out = (await this.#run('text_encoder', { ids: i64(ids, [rows.length, L]) }, rows.length)).tokens!;
    return { data: out.data as Float32Array, batch: rows.length, T: out.dims[1]!, D: out.dims[2]! };
  }

  async publicEncode(tokens: Tokens): Promise<Tokens> {
    this.#check();
    this.#checkTokens(tokens);
    const { batch: B, T, D } = tokens;
    const out = (await this.#run('public_encoder', { tokens: f32(tokens.data, [B, T, D]) }, B)).public!;
    return { ...tokens, data: out.data as Float32Array };
  }

  async privateEncode(
    pub: Tokens,
    instruction: InstructionInput | Instruction | readonly (InstructionInput | Instruction)[],
  ): Promise<Tokens> {
    this.#check();
    this.#checkTokens(pub, 'public');
    const { parsed, ids } = this.#instructionIds(asArray(instruction));
    const n = parsed.length;
    const { T, D } = pub;
    let data = pub.data;
    if (pub.batch === 1 && n > 1) {
      data = new Float32Array(n * T * D);
      for (let b = 0; b < n; b++) data.set(pub.data, b * T * D);
    } else if (pub.batch !== n) {
      throw new TypeError(`${n} instructions for a public batch of ${pub.batch}`);
    }
    const Li = this.tokenizer.instruction.maxLen;
    const out = (
      await this.#run('private_encoder', { public: f32(data, [n, T, D]), instr: i64(ids, [n, Li]) }, n)
    ).private!;
    return { data: out.data as Float32Array, batch: n, T: out.dims[1]!, D: out.dims[2]! };
  }

  async channelEncode(tokens: Tokens, state: ChannelState, stream: StreamKind = 'public'): Promise<Symbols> {
    this.#check();
    this.#checkTokens(tokens);
    const { batch: B, T, D } = tokens;
    const st = this.#state(state, B);
    const coder = this.bundle.channelCoder(stream).encoder;
    const out = (await this.#run(coder, { tokens: f32(tokens.data, [B, T, D]), state: f32(st, [B, 2]) }, B))
      .symbols!;
    const C = out.dims[2]!;
    const src = out.data as Float32Array;
    // [B, T, C] token-major → per-sample symbol-major (c·T + t).
    const data = new Float32Array(B * T * C);
    for (let b = 0; b < B; b++) {
      const o = b * T * C;
      for (let t = 0; t < T; t++) for (let c = 0; c < C; c++) data[o + c * T + t] = src[o + t * C + c]!;
    }
    return { data, batch: B, T, C, ...(tokens.grid ? { grid: tokens.grid } : {}) };
  }

  packetize(
    symbols: Symbols,
    op: OperatingPoint,
    maxPacketBytes: number = DEFAULT_MAX_PACKET_BYTES,
    options: {
      sampleIndex?: number;
      minPackets?: number;
      literals?: readonly TextLiteral[];
      fec?: PacketizeOptions['fec'];
    } = {},
  ): Uint8Array[] {
    this.#check();
    if (typeof symbols !== 'object' || symbols === null || !(symbols.data instanceof Float32Array)) {
      throw new TypeError('symbols must be { data: Float32Array, batch, T, C }');
    }
    const point = parseOperatingPoint(op, { C: symbols.C });
    const b = options.sampleIndex ?? 0;
    if (!Number.isInteger(b) || b < 0 || b >= symbols.batch) {
      throw new TypeError(`sampleIndex ${b} is outside the batch of ${symbols.batch}`);
    }
    const { T, C } = symbols;
    if (symbols.data.length !== symbols.batch * T * C)
      throw new TypeError('symbols.data does not hold batch·T·C values');
    return packetize(symbols.data.subarray(b * T * C, (b + 1) * T * C), {
      T,
      C,
      rateSymbols: point.rateSymbols,
      bits: point.bits,
      maxPacketBytes,
      ...(options.minPackets !== undefined ? { minPackets: options.minPackets } : {}),
      ...(options.literals?.length ? { literals: options.literals } : {}),
      ...(options.fec !== undefined ? { fec: options.fec } : {}),
      ...(symbols.grid ? { gridWidth: symbols.grid[1] } : {}),
      ...(symbols.gain ? { gain: symbols.gain[b]! } : {}),
    });
  }

  depacketize(
    packets: readonly (Uint8Array | undefined | null)[],
    expected: { T?: number; C?: number } = {},
  ) {
    this.#check();
    return depacketize(packets, { C: this.manifest.dims.C, ...expected });
  }

  /**
   * Checks a batch of received samples (channelDecode, decodeImageCode): objects with Float32Array symbols and
   * mask of T·C values, one T, C (the bundle's) and grid for all, mask values 0 or 1, finite symbols where 1.
   */
  #checkReceived(received: ReceivedSymbols | readonly ReceivedSymbols[]) {
    const list = asArray(received);
    if (list.length === 0) throw new TypeError('nothing received');
    const first = list[0]!;
    if (typeof first !== 'object' || first === null)
      throw new TypeError('received must be { symbols, mask, T, C }');
    const { T, C } = first;
    const gw = first.gridWidth ?? 0;
    if (!Number.isInteger(T) || T < 1 || C !== this.manifest.dims.C) {
      throw new TypeError(
        `received shape T=${T}, C=${C} does not fit the bundle (C = ${this.manifest.dims.C})`,
      );
    }
    const n = T * C;
    list.forEach((r, b) => {
      if (typeof r !== 'object' || r === null)
        throw new TypeError(`received ${b} must be { symbols, mask, T, C }`);
      const { symbols, mask } = r;
      if (!(symbols instanceof Float32Array) || !(mask instanceof Float32Array)) {
        throw new TypeError('received.symbols and received.mask must be Float32Arrays');
      }
      if (r.T !== T || r.C !== C || (r.gridWidth ?? 0) !== gw)
        throw new TypeError('a received batch must share T, C and grid');
      if (symbols.length !== n || mask.length !== n)
        throw new TypeError(`symbols and mask must hold T·C = ${n} values`);
      for (let j = 0; j < n; j++) {
        const mj = mask[j]!;
        if (mj !== 0 && mj !== 1) throw new TypeError(`mask value ${j} is ${mj}; must be 0 or 1`);
        if (mj === 1 && !Number.isFinite(symbols[j]!))
          throw new TypeError(`symbol ${j} is not finite (${symbols[j]})`);
      }
    });
    return { list, T, C, gw };
  }

  async channelDecode(
    received: ReceivedSymbols | readonly ReceivedSymbols[],
    state: ChannelState,
    stream: StreamKind = 'public',
  ): Promise<Tokens> {
    this.#check();
    const { list, T, C, gw } = this.#checkReceived(received);
    const B = list.length;
    const n = T * C;
    const x = new Float32Array(B * n);
    const m = new Float32Array(B * n);
    list.forEach(({ symbols, mask }, b) => {
      // Symbol-major → token-major [T, C]; lost symbols are zeroed whatever the input holds there.
      const o = b * n;
      for (let c = 0; c < C; c++) {
        for (let t = 0; t < T; t++) {
          const j = c * T + t;
          const mj = mask[j]!;
          x[o + t * C + c] = mj === 1 ? symbols[j]! : 0;
          m[o + t * C + c] = mj;
        }
      }
    });
    const coder = this.bundle.channelCoder(stream).decoder;
    const st = this.#state(state, B);
    const out = (
      await this.#run(
        coder,
        { symbols: f32(x, [B, T, C]), mask: f32(m, [B, T, C]), state: f32(st, [B, 2]) },
        B,
      )
    ).tokens!;
    if (gw > 0 && T % gw !== 0) throw new TypeError(`T=${T} is not a multiple of gridWidth ${gw}`);
    return {
      data: out.data as Float32Array,
      batch: B,
      T,
      D: out.dims[2]!,
      ...(gw > 0 ? { grid: [T / gw, gw] as const } : {}),
    };
  }

  get hasImageCode(): boolean {
    return this.bundle.imageStream() !== undefined;
  }

  /** The public image code, after checking the call's state and rate. */
  #imageStream(state: ChannelState, rateSymbols: number) {
    this.#check();
    const s = this.bundle.imageStream();
    if (!s)
      throw new UnsupportedError(`bundle '${this.manifest.name}' has no public image code (streams.image)`);
    this.#state(state, 1);
    if (!Number.isInteger(rateSymbols) || rateSymbols < 1 || rateSymbols > s.code.C)
      throw new TypeError(`rateSymbols must be an integer in 1..${s.code.C}, got ${rateSymbols}`);
    return s;
  }

  /** A checked batch of same-sized images (sides multiples of `multiple`) as CHW float32. */
  #imageBatch(image: RgbImage | readonly RgbImage[], multiple: number) {
    const images = asArray(image);
    if (images.length === 0) throw new TypeError('no image given');
    images.forEach((im, i) => {
      checkRgbImage(im, multiple, images.length > 1 ? `image ${i}` : 'image');
    });
    const { width: W, height: H } = images[0]!;
    if (images.some((im) => im.width !== W || im.height !== H))
      throw new TypeError('a batch of images must share one size');
    const B = images.length;
    const x = new Float32Array(B * 3 * W * H);
    images.forEach((im, b) => {
      hwcToChw(im, x, b * 3 * W * H);
    });
    return { x, B, H, W };
  }

  async encodeImageCode(
    image: RgbImage | readonly RgbImage[],
    state: ChannelState,
    rateSymbols: number,
  ): Promise<Symbols> {
    const stream = this.#imageStream(state, rateSymbols);
    const { code } = stream;
    const { x, B, H, W } = this.#imageBatch(image, code.block);
    const out = (await this.#run(stream.analysis, { image: f32(x, [B, 3, H, W]) }, B)).coefs!;
    const hb = H / code.block;
    const wb = W / code.block;
    if (out.dims[1] !== hb * wb || out.dims[2] !== code.K)
      throw new UnsupportedError(
        `${stream.analysis.name} returned [${out.dims.join(', ')}] for ${hb}×${wb} blocks`,
      );
    const coefs = out.data as Float32Array;
    const T = hb * wb * code.perBlock;
    const data = new Float32Array(B * code.C * T);
    const gain = new Float32Array(B);
    for (let b = 0; b < B; b++) {
      const f = code.encode(
        coefs.subarray(b * hb * wb * code.K, (b + 1) * hb * wb * code.K),
        hb,
        wb,
        state.snrDb,
        rateSymbols,
      );
      data.set(f.symbols, b * code.C * T);
      gain[b] = f.gain;
    }
    return { data, batch: B, T, C: code.C, grid: [hb * code.side, wb * code.side], gain };
  }

  async decodeImageCode(
    received: ReceivedSymbols | readonly ReceivedSymbols[],
    state: ChannelState,
    rateSymbols: number,
  ): Promise<RgbImage[]> {
    const { code, synthesis } = this.#imageStream(state, rateSymbols);
    const { list, T, gw } = this.#checkReceived(received);
    if (gw < 1 || T % gw !== 0 || gw % code.side !== 0 || (T / gw) % code.side !== 0)
      throw new TypeError(`grid width ${gw} does not tile T=${T} tokens into ${code.block}-pixel blocks`);
    const hb = T / gw / code.side;
    const wb = gw / code.side;
    const per = hb * wb * code.K;
    const coefs = new Float32Array(list.length * per);
    list.forEach((r, b) => {
      if (r.mask.indexOf(1) < 0) return; // nothing arrived: the mean image (coefficients 0)
      if (r.gain === undefined)
        throw new TypeError(`received ${b} has symbols but no gain (packets without one?)`);
      coefs.set(code.decode(r.symbols, r.mask, r.gain, hb, wb, state.snrDb, rateSymbols), b * per);
    });
    const out = (
      await this.#run(
        synthesis,
        {
          coefs: f32(coefs, [list.length, hb * wb, code.K]),
          grid: i64(BigInt64Array.from([BigInt(hb), BigInt(wb)]), [2]),
        },
        list.length,
      )
    ).image!;
    const [, , H, W] = out.dims as [number, number, number, number];
    const data = out.data as Float32Array;
    return Array.from({ length: list.length }, (_, b) => chwToHwc(data, W, H, b * 3 * H * W));
  }

  async decodeImage(tokens: Tokens, grid?: readonly [number, number]): Promise<RgbImage[]> {
    this.#check();
    this.#checkTokens(tokens);
    const g = grid ?? tokens.grid;
    if (!g) throw new TypeError('decodeImage needs the token grid [h, w] (tokens.grid or the grid argument)');
    const [h, w] = g;
    if (!Number.isInteger(h) || !Number.isInteger(w) || h < 1 || w < 1 || h * w !== tokens.T) {
      throw new TypeError(`grid ${h}×${w} does not hold T = ${tokens.T} tokens`);
    }
    const { batch: B, T, D } = tokens;
    const out = (
      await this.#run(
        'image_decoder',
        { tokens: f32(tokens.data, [B, T, D]), grid: i64(BigInt64Array.from([BigInt(h), BigInt(w)]), [2]) },
        B,
      )
    ).image!;
    const [, , H, W] = out.dims as [number, number, number, number];
    const data = out.data as Float32Array;
    return Array.from({ length: B }, (_, b) => chwToHwc(data, W, H, b * 3 * H * W));
  }

  #decodeLogits(out: Host, vocab: Vocab): TextResult[] {
    const [B, L, V] = out.dims as [number, number, number];
    const data = out.data as Float32Array;
    return Array.from({ length: B }, (_, b) => {
      const ids = argmaxRows(data.subarray(b * L * V, (b + 1) * L * V), L, V);
      return { ...decodeIds(vocab, ids), ids };
    });
  }

  async decodeText(tokens: Tokens): Promise<TextResult[]> {
    this.#check();
    this.#checkTokens(tokens);
    const { batch: B, T, D } = tokens;
    const out = (await this.#run('text_decoder', { tokens: f32(tokens.data, [B, T, D]) }, B)).logits!;
    return this.#decodeLogits(out, this.tokenizer.text);
  }

  async decodeTask(
    priv: Tokens,
    instruction: InstructionInput | Instruction | readonly (InstructionInput | Instruction)[],
  ): Promise<TextResult[]> {
    this.#check();
    this.#checkTokens(priv, 'private');
    const { ids, parsed } = this.#instructionIds(asArray(instruction));
    if (parsed.length !== priv.batch)
      throw new TypeError(`${parsed.length} instructions for a private batch of ${priv.batch}`);
    const { batch: B, T, D } = priv;
    const Li = this.tokenizer.instruction.maxLen;
    const out = (
      await this.#run('task_decoder', { private: f32(priv.data, [B, T, D]), instr: i64(ids, [B, Li]) }, B)
    ).logits!;
    return this.#decodeLogits(out, this.tokenizer.output);
  }

  encodeSample(
    sample: Sample,
    op: OperatingPoint,
    options: EncodeSampleOptions = {},
  ): Promise<EncodedSample> {
    this.#check();
    return encodeSample(this, sample, op, options);
  }

  decodeSample(input: DecodeSampleInput): Promise<DecodedSample> {
    this.#check();
    return decodeSample(this, input);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.owns) await this.bundle.close();
  }
}
