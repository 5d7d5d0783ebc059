/**
 * A minimal, defensive reader of the ONNX ModelProto (onnx.proto3): just the opset imports and the
 * graph's declared inputs and outputs, for the bundle loader's checks. Large fields (weights) are skipped,
 * not copied. Any malformed byte string throws `OnnxParseError`, never anything else.
 *
 * Field numbers: ModelProto{ir_version=1, opset_import=8, graph=7}; OperatorSetIdProto{domain=1,
 * version=2}; GraphProto{initializer=5, input=11, output=12}; TensorProto{name=8};
 * ValueInfoProto{name=1, type=2}; TypeProto{tensor_type=1}; TypeProto.Tensor{elem_type=1, shape=2};
 * TensorShapeProto{dim=1}; Dimension{dim_value=1, dim_param=2}.
 */

export class OnnxParseError extends Error {
  override readonly name = 'OnnxParseError';
}

/** A declared graph input or output. `shape` is undefined when the model leaves the rank unknown. */
export interface OnnxValueInfo {
  readonly name: string;
  /** ONNX TensorProto.DataType, e.g. 1 = float, 7 = int64; 0 if not a tensor. */
  readonly elemType: number;
  readonly shape: readonly (number | string)[] | undefined;
}

export interface OnnxModelInfo {
  readonly irVersion: number;
  /** domain ('' = ai.onnx) → opset version. */
  readonly opsets: ReadonlyMap<string, number>;
  /** Graph inputs that are not initializers. */
  readonly inputs: readonly OnnxValueInfo[];
  readonly outputs: readonly OnnxValueInfo[];
}

/** ONNX element type codes → onnxruntime-js tensor type names. */
export const ONNX_ELEM_TYPES: Readonly<Record<number, string>> = {
  1: 'float32',
  2: 'uint8',
  3: 'int8',
  5: 'int16',
  6: 'int32',
  7: 'int64',
  9: 'bool',
  10: 'float16',
  11: 'float64',
};

class Reader {
  pos: number;
  constructor(
    readonly buf: Uint8Array,
    start: number,
    readonly end: number,
  ) {
    this.pos = start;
  }
  get done(): boolean {
    return this.pos >= this.end;
  }
  varint(): number {
    let result = 0;
    let mul = 1;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) throw new OnnxParseError('truncated varint');
      const b = this.buf[this.pos++]!;
      result += (b & 0x7f) * mul;
      if ((b & 0x80) === 0) return result;
      mul *= 128;
    }
    throw new OnnxParseError('varint longer than 10 bytes');
  }
  /** Reads a tag; returns [field, wireType]. */
  tag(): [number, number] {
    const t = this.varint();
    const field = Math.floor(t / 8);
    if (field === 0) throw new OnnxParseError('field number 0');
    return [field, t % 8];
  }
  /** Reads a length-delimited field's bounds. */
  bytes(): [number, number] {
    const len = this.varint();
    const start = this.pos;
    if (len > this.end - start) throw new OnnxParseError('length-delimited field runs past its end');
    this.pos = start + len;
    return [start, start + len];
  }
  sub(): Reader {
    const [s, e] = this.bytes();
    return new Reader(this.buf, s, e);
  }
  string(): string {
    const [s, e] = this.bytes();
    return new TextDecoder('utf-8', { fatal: false }).decode(this.buf.subarray(s, e));
  }
  skip(wire: number): void {
    switch (wire) {
      case 0:
        this.varint();
        return;
      case 1:
        this.advance(8);
        return;
      case 2:
        this.bytes();
        return;
      case 5:
        this.advance(4);
        return;
      default:
        throw new OnnxParseError(`unsupported wire type ${wire}`);
    }
  }
  private advance(n: number): void {
    if (this.end - this.pos < n) throw new OnnxParseError('truncated fixed-width field');
    this.pos += n;
  }
}

function expectWire(wire: number, want: number, what: string): void {
  if (wire !== want) throw new OnnxParseError(`${what} has wire type ${wire}, expected ${want}`);
}

/** Parses the parts of an ONNX model the loader checks. Throws OnnxParseError on malformed bytes. */
export function readOnnxModelInfo(bytes: Uint8Array): OnnxModelInfo {
  if (!(bytes instanceof Uint8Array) || bytes.length === 0) throw new OnnxParseError('empty file');
  const r = new Reader(bytes, 0, bytes.length);
  let irVersion = 0;
  const opsets = new Map<string, number>();
  let graph: Reader | undefined;
  while (!r.done) {
    const [field, wire] = r.tag();
    if (field === 1) {
      expectWire(wire, 0, 'ir_version');
      irVersion = r.varint();
    } else if (field === 8) {
      expectWire(wire, 2, 'opset_import');
      const o = r.sub();
      let domain = '';
      let version = 0;
      while (!o.done) {
        const [f, w] = o.tag();
        if (f === 1 && w === 2) domain = o.string();
        else if (f === 2 && w === 0) version = o.varint();
        else o.skip(w);
      }
      opsets.set(domain === 'ai.onnx' ? '' : domain, version);
    } else if (field === 7) {
      expectWire(wire, 2, 'graph');
      graph = r.sub();
    } else {
      r.skip(wire);
    }
  }
  if (irVersion === 0) throw new OnnxParseError('no ir_version: not an ONNX model');
  if (!graph) throw new OnnxParseError('no graph: not an ONNX model');
  const initializers = new Set<string>();
  const inputs: OnnxValueInfo[] = [];
  const outputs: OnnxValueInfo[] = [];
  while (!graph.done) {
    const [field, wire] = graph.tag();
    if (field === 5 && wire === 2) {
      const t = graph.sub();
      while (!t.done) {
        const [f, w] = t.tag();
        if (f === 8 && w === 2) initializers.add(t.string());
        else t.skip(w);
      }
    } else if ((field === 11 || field === 12) && wire === 2) {
      (field === 11 ? inputs : outputs).push(readValueInfo(graph.sub()));
    } else {
      graph.skip(wire);
    }
  }
  return { irVersion, opsets, inputs: inputs.filter((i) => !initializers.has(i.name)), outputs };
}

function readValueInfo(r: Reader): OnnxValueInfo {
  let name = '';
  let elemType = 0;
  let shape: (number | string)[] | undefined;
  while (!r.done) {
    const [f, w] = r.tag();
    if (f === 1 && w === 2) name = r.string();
    else if (f === 2 && w === 2) {
      const type = r.sub();
      while (!type.done) {
        const [tf, tw] = type.tag();
        if (tf === 1 && tw === 2) {
          const tensor = type.sub();
          while (!tensor.done) {
            const [xf, xw] = tensor.tag();
            if (xf === 1 && xw === 0) elemType = tensor.varint();
            else if (xf === 2 && xw === 2) shape = readShape(tensor.sub());
            else tensor.skip(xw);
          }
        } else type.skip(tw);
      }
    } else r.skip(w);
  }
  return { name, elemType, shape };
}

function readShape(r: Reader): (number | string)[] {
  const dims: (number | string)[] = [];
  while (!r.done) {
    const [f, w] = r.tag();
    if (f === 1 && w === 2) {
      const d = r.sub();
      let dim: number | string = '?';
      while (!d.done) {
        const [df, dw] = d.tag();
        if (df === 1 && dw === 0) dim = d.varint();
        else if (df === 2 && dw === 2) dim = d.string();
        else d.skip(dw);
      }
      dims.push(dim);
    } else r.skip(w);
  }
  return dims;
}
