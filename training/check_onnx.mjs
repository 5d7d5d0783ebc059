// Loads every stage of a bundle with onnxruntime-node, checks sha256 and declared shapes, runs each
// once and then the public and private chains end to end.  node training/check_onnx.mjs models/default
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';

const dir = process.argv[2] ?? 'models/default';
const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
const tok = JSON.parse(readFileSync(join(dir, 'tokenizer.json'), 'utf8'));
const { D, C, P } = manifest.dims;
let failures = 0;
const fail = (msg) => {
  failures++;
  console.error(`FAIL ${msg}`);
};

// a per-stream coder pair given inline under manifest.streams (e.g. streams.private.channel_encoder)
const specs = { ...manifest.stages };
for (const [stream, coder] of Object.entries(manifest.streams ?? {}))
  for (const [role, ref] of Object.entries(coder))
    if (typeof ref?.file === 'string' && ref.inputs) specs[`${stream}.${role}`] = ref;
// The public image code's own file (streams.image.code: variances and mixing matrices, not a model).
const imageCode = manifest.streams?.image?.code;
if (imageCode) {
  const buf = readFileSync(join(dir, imageCode.file));
  const sha = createHash('sha256').update(buf).digest('hex');
  if (sha !== imageCode.sha256) fail(`${imageCode.file}: sha256 ${sha} != manifest ${imageCode.sha256}`);
  const sizes = imageCode.groups.map(([a, b]) => (b - a) ** 2);
  const want = 4 * (imageCode.coefficients + sizes.reduce((x, y) => x + y, 0));
  if (buf.length !== want) fail(`${imageCode.file}: ${buf.length} bytes, expected ${want}`);
}
const coder = (stream, role) => {
  const ref = manifest.streams?.[stream]?.[role];
  return ref === undefined ? role : typeof ref === 'string' ? ref : `${stream}.${role}`;
};
const sessions = {};
for (const [name, st] of Object.entries(specs)) {
  const buf = readFileSync(join(dir, st.file));
  const sha = createHash('sha256').update(buf).digest('hex');
  if (sha !== st.sha256) fail(`${st.file}: sha256 ${sha} != manifest ${st.sha256}`);
  const s = await ort.InferenceSession.create(buf, { intraOpNumThreads: 1 });
  const ins = Object.keys(st.inputs);
  const outs = Object.keys(st.outputs);
  if (JSON.stringify(s.inputNames) !== JSON.stringify(ins)) fail(`${st.file}: inputs ${s.inputNames} != ${ins}`);
  if (JSON.stringify(s.outputNames) !== JSON.stringify(outs)) fail(`${st.file}: outputs ${s.outputNames} != ${outs}`);
  sessions[name] = s;
}

const f32 = (shape, fn = () => Math.random()) => {
  const n = shape.reduce((a, b) => a * b, 1);
  return new ort.Tensor('float32', Float32Array.from({ length: n }, fn), shape);
};
const i64 = (shape, values) => new ort.Tensor('int64', BigInt64Array.from(values.map(BigInt)), shape);
const run = async (name, feeds) => {
  const out = await sessions[name].run(feeds);
  const [k] = Object.keys(specs[name].outputs);
  const t = out[k];
  if (!t.data.every(Number.isFinite)) fail(`${name}: non-finite output`);
  return t;
};
// What the private stream reads (as the codec's privateSource): the bundle's own trunk where it has one
// (streams.private.trunk), else the public tokens (`pub` when given).
const privateSource = async (image, pub) => {
  if (manifest.streams?.private?.trunk) return run(coder('private', 'trunk'), { image });
  return pub ?? run('public_encoder', { tokens: await run('image_encoder', { image }) });
};
const expect = (name, t, shape) => {
  if (JSON.stringify(t.dims) !== JSON.stringify(shape)) fail(`${name}: dims ${t.dims} != ${shape}`);
  else console.log(`ok ${name} [${t.dims}]`);
};

const instr = (words) => {
  const v = tok.instruction.vocab;
  const ids = [1, ...words.map((w) => (v.includes(w) ? v.indexOf(w) : 3)), 2];
  while (ids.length < tok.instruction.maxLen) ids.push(0);
  return ids;
};
const state = new ort.Tensor('float32', Float32Array.from([10, 0, 5, 0.2]), [2, 2]);

for (const [H, W] of [
  [32, 32],
  [64, 48],
]) {
  const h = H / 4;
  const w = W / 4;
  const img = f32([2, 3, H, W]);
  const tokens = await run('image_encoder', { image: img });
  expect('image_encoder', tokens, [2, h * w, D]);
  const pub = await run('public_encoder', { tokens });
  expect('public_encoder', pub, [2, h * w, D]);
  const sym = await run('channel_encoder', { tokens: pub, state });
  expect('channel_encoder', sym, [2, h * w, C]);
  let p = 0;
  for (const x of sym.data) p += x * x;
  p /= sym.data.length;
  if (Math.abs(p - 1) > 0.05) fail(`channel_encoder: mean power ${p}`);
  const mask = f32([2, h * w, C], () => 1);
  const rec = await run('channel_decoder', { symbols: sym, mask, state });
  expect('channel_decoder', rec, [2, h * w, D]);
  const out = await run('image_decoder', { tokens: rec, grid: i64([2], [h, w]) });
  expect('image_decoder', out, [2, 3, H, W]);
  if (!out.data.every((x) => x >= 0 && x <= 1)) fail('image_decoder: output outside [0,1]');
  const ins = i64([2, tok.instruction.maxLen], [
    ...instr(['<task:answer>', '<mod:image>', '<out:text>', 'how', 'many', 'shapes', 'are', 'there', '?']),
    ...instr(['<task:classify>', '<mod:image>', '<out:label>']),
  ]);
  const src = await privateSource(img, pub);
  expect('private source', src, [2, h * w, D]);
  const priv = await run('private_encoder', { public: src, instr: ins });
  expect('private_encoder', priv, [2, P, D]);
  const psym = await run(coder('private', 'channel_encoder'), { tokens: priv, state });
  expect(coder('private', 'channel_encoder'), psym, [2, P, C]);
  let pp = 0;
  for (const x of psym.data) pp += x * x;
  pp /= psym.data.length;
  if (Math.abs(pp - 1) > 0.05) fail(`private channel_encoder: mean power ${pp}`);
  const prec = await run(coder('private', 'channel_decoder'), { symbols: psym, mask: f32([2, P, C], () => 1), state });
  const logits = await run('task_decoder', { private: prec, instr: ins });
  expect('task_decoder', logits, [2, tok.output.maxLen, tok.output.vocab.length]);
}
// The public image code's stages: analysis then synthesis gives the frame back to within what its kept
// coefficients hold (a smooth test frame: error well under the signal).
if (imageCode) {
  const b = imageCode.block;
  for (const [H, W] of [
    [32, 32],
    [64, 48],
  ]) {
    const img = f32([2, 3, H, W], (_, i) => {
      const x = i % W;
      const y = Math.floor(i / W) % H;
      return 0.5 + 0.2 * Math.sin((2 * Math.PI * x) / W) * Math.cos((2 * Math.PI * y) / H);
    });
    const coefs = await run('image.analysis', { image: img });
    expect('image.analysis', coefs, [2, (H / b) * (W / b), imageCode.coefficients]);
    const back = await run('image.synthesis', { coefs, grid: i64([2], [H / b, W / b]) });
    expect('image.synthesis', back, [2, 3, H, W]);
    let err = 0;
    for (let i = 0; i < back.data.length; i++) err += (back.data[i] - img.data[i]) ** 2;
    if (err / back.data.length > 1e-3) fail(`image.synthesis(image.analysis(x)): mean squared error ${err / back.data.length}`);
  }
}
const ids = i64([2, 5], [10, 11, 12, 13, 2, 20, 21, 22, 2, 0]);
const tt = await run('text_encoder', { ids });
expect('text_encoder', tt, [2, 5, D]);
const tp = await run('public_encoder', { tokens: tt });
const ts = await run('channel_encoder', { tokens: tp, state });
const tr = await run('channel_decoder', { symbols: ts, mask: f32([2, 5, C], () => 1), state });
const tl = await run('text_decoder', { tokens: tr });
expect('text_decoder', tl, [2, 5, tok.text.vocab.length]);

// PyTorch reference cases over a noiseless channel: ONNX must give the same logits (1e-3).
const pipePath = join(dir, 'testdata', 'pipeline.json');
if (existsSync(pipePath)) {
  const pipe = JSON.parse(readFileSync(pipePath, 'utf8'));
  const scenes = JSON.parse(readFileSync(join(dir, 'testdata', 'scenes.json'), 'utf8')).scenes;
  const st1 = new ort.Tensor('float32', Float32Array.from([40, 0]), [1, 2]);
  const chan = async (tokens, stream = 'public') => {
    const sym = await run(coder(stream, 'channel_encoder'), { tokens, state: st1 });
    const mask = f32(sym.dims, () => 1);
    return run(coder(stream, 'channel_decoder'), { symbols: sym, mask, state: st1 });
  };
  const compare = (what, logits, c) => {
    const V = logits.dims[2];
    c.outputIds.forEach((id, pos) => {
      const row = logits.data.subarray(pos * V, (pos + 1) * V);
      const mx = Math.max(...row);
      if (Math.abs(row[id] - c.maxLogits[pos]) > 1e-3 || mx > c.maxLogits[pos] + 1e-3)
        fail(`pipeline ${what} pos ${pos}: onnx ${row[id]} (max ${mx}) vs torch ${c.maxLogits[pos]}`);
    });
  };
  let checked = 0;
  for (const c of pipe.cases) {
    if (c.kind === 'scene' && c.maxLogits) {
      const sc = scenes.find((s) => s.seed === c.seed);
      const rgb = Buffer.from(sc.rgb, 'base64');
      const S = 32;
      const img = new Float32Array(3 * S * S);
      for (let p = 0; p < S * S; p++) for (let ch = 0; ch < 3; ch++) img[ch * S * S + p] = rgb[p * 3 + ch] / 255;
      const src = await privateSource(new ort.Tensor('float32', img, [1, 3, S, S]));
      const ins = i64([1, c.instr.length], c.instr);
      const priv = await chan(await run('private_encoder', { public: src, instr: ins }), 'private');
      compare(`${c.task} seed ${c.seed}`, await run('task_decoder', { private: priv, instr: ins }), c);
      checked++;
    } else if (c.kind === 'text') {
      const ids = i64([1, c.ids.length], c.ids);
      const pub = await run('public_encoder', { tokens: await run('text_encoder', { ids }) });
      compare(`transmit "${c.text}"`, await run('text_decoder', { tokens: await chan(pub) }), c);
      checked++;
    }
  }
  console.log(`ok pipeline.json: ${checked} PyTorch reference cases match`);
}

if (failures) {
  console.error(`${failures} failure(s) in ${dir}`);
  process.exit(1);
}
console.log(`bundle ${dir}: all ${Object.keys(sessions).length} stages load and run`);
