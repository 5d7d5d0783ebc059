import type { ReassembledSample } from '@m4sc/transport';

/** The header of a raw RGB sample (`m4sc-send --codec raw`). */
interface RawRgbOp {
  kind: 'raw-rgb';
  width: number;
  height: number;
  packetBytes: number;
}

function isRawRgbOp(op: unknown): op is RawRgbOp {
  const o = op as Partial<RawRgbOp> | null;
  return (
    !!o &&
    o.kind === 'raw-rgb' &&
    Number.isInteger(o.width) &&
    Number.isInteger(o.height) &&
    Number.isInteger(o.packetBytes) &&
    o.width! > 0 &&
    o.height! > 0 &&
    o.width! * o.height! <= 4096 * 4096 &&
    o.packetBytes! > 0
  );
}

/** Raw RGB sample → pixels; missing packets become zeros at their offsets. `undefined` if not raw. */
export function rawFrameFromSample(
  sample: ReassembledSample,
): { data: Uint8Array; width: number; height: number; lost: number } | undefined {
  if (!isRawRgbOp(sample.op)) return undefined;
  const { width, height, packetBytes } = sample.op;
  const data = new Uint8Array(width * height * 3);
  if (Math.ceil(data.byteLength / packetBytes) !== sample.count) return undefined;
  let lost = 0;
  sample.packets.forEach((p, i) => {
    if (!p) {
      lost++;
      return;
    }
    const offset = i * packetBytes;
    data.set(p.subarray(0, Math.max(0, Math.min(p.byteLength, data.byteLength - offset))), offset);
  });
  return { data, width, height, lost };
}
