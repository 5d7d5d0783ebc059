/**
 * A tiny ONNX protobuf writer for tests: builds small runnable models (and deliberately broken ones)
 * without Python. Only the fields the tests need are written.
 */

class Writer {
  private chunks: number[] = [];
  varint(v: number | bigint): this {
    let x = BigInt.asUintN(64, BigInt(v));
    do {
      let b = Number(x & 0x7fn);
      x >>= 7n;
      if (x > 0n) b |= 0x80;
      this.chunks.push(b);
    } while (x > 0n);
    return this;
  }
  tag(field: number, wire: number): this {
    return this.varint(field * 8 + wire);
  }
  int(field: number, v: number | bigint): this {
    return this.tag(field, 0).varint(v);
  }
  bytes(field: number, b: Uint8Array): this {
    this.tag(field, 2).varint(b.length);
    for (const x of b) this.chunks.push(x);
    return this;
  }
  string(field: number, s: string): this {
    return this.bytes(field, new TextEncoder().encode(s));
  }
  float(field: number, f: number): this {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, f, true);
    this.tag(field, 5);
    for (const x of b) this.chunks.push(x);
    return this;
  }
  finish(): Uint8Array {
    return Uint8Array.from(this.chunks);
  }
}

export type Dim = number | string;
export type Attr = number | number[] | string;
export interface NodeSpec {
  op: string;
  inputs: string[];
  outputs: string[];
  attrs?: Record<string, Attr>;
}
export interface ValueSpec {
  name: string;
  elemType: 'float32' | 'int64';
  shape: Dim[];
}
export interface InitSpec {
  name: string;
  dims: number[];
  data: Float32Array | BigInt64Array;
}
export interface ModelSpec {
  nodes: NodeSpec[];
  inputs: ValueSpec[];
  outputs: ValueSpec[];
  initializers?: InitSpec[];
  opset?: number;
}

const ELEM = { float32: 1, int64: 7 } as const;

function valueInfo(v: ValueSpec): Uint8Array {
  const shape = new Writer();
  for (const d of v.shape) {
    const dim = new Writer();
    if (typeof d === 'number') dim.int(1, d);
    else dim.string(2, d);
    shape.bytes(1, dim.finish());
  }
  const tensor = new Writer().int(1, ELEM[v.elemType]).bytes(2, shape.finish());
  const type = new Writer().bytes(1, tensor.finish());
  return new Writer().string(1, v.name).bytes(2, type.finish()).finish();
}

function attribute(name: string, a: Attr): Uint8Array {
  const w = new Writer().string(1, name);
  if (typeof a === 'string') w.bytes(4, new TextEncoder().encode(a)).int(20, 3);
  else if (Array.isArray(a)) {
    for (const x of a) w.int(8, x);
    w.int(20, 7);
  } else w.int(3, a).int(20, 2);
  return w.finish();
}

function node(n: NodeSpec, i: number): Uint8Array {
  const w = new Writer();
  for (const x of n.inputs) w.string(1, x);
  for (const x of n.outputs) w.string(2, x);
  w.string(3, `n${i}`).string(4, n.op);
  for (const [k, v] of Object.entries(n.attrs ?? {})) w.bytes(5, attribute(k, v));
  return w.finish();
}

function initializer(t: InitSpec): Uint8Array {
  const w = new Writer();
  for (const d of t.dims) w.int(1, d);
  w.int(2, t.data instanceof Float32Array ? 1 : 7).string(8, t.name);
  w.bytes(9, new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
  return w.finish();
}

/** Serialises a model (ir_version 8, default-domain opset `opset`, default 17). */
export function buildOnnx(spec: ModelSpec): Uint8Array {
  const g = new Writer();
  spec.nodes.forEach((n, i) => {
    g.bytes(1, node(n, i));
  });
  g.string(2, 'g');
  for (const t of spec.initializers ?? []) g.bytes(5, initializer(t));
  for (const v of spec.inputs) g.bytes(11, valueInfo(v));
  for (const v of spec.outputs) g.bytes(12, valueInfo(v));
  const opset = new Writer().string(1, '').int(2, spec.opset ?? 17);
  return new Writer().int(1, 8).string(2, 'm4sc-test').bytes(8, opset.finish()).bytes(7, g.finish()).finish();
}
