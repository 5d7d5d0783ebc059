/** Binary PGM (P5) and PPM (P6), 8-bit, as the ViSP sequences in Debian's visp-images-data ship them. */
export function decodeNetpbm(buf: Uint8Array): { width: number; height: number; data: Uint8Array } {
  const magic = String.fromCharCode(buf[0] ?? 0, buf[1] ?? 0);
  if (magic !== 'P5' && magic !== 'P6') throw new TypeError(`not a binary PGM/PPM file (magic '${magic}')`);
  const fields: number[] = [];
  let pos = 2;
  while (fields.length < 3) {
    const c = buf[pos];
    if (c === undefined) throw new TypeError('truncated PGM/PPM header');
    if (c === 0x23) {
      while (pos < buf.length && buf[pos] !== 0x0a) pos++; // comment to end of line
    } else if (c >= 0x30 && c <= 0x39) {
      let n = 0;
      while (pos < buf.length && buf[pos]! >= 0x30 && buf[pos]! <= 0x39) n = n * 10 + (buf[pos++]! - 0x30);
      fields.push(n);
      continue;
    }
    pos++;
  }
  pos++; // the single whitespace after maxval
  const [width, height, maxval] = fields as [number, number, number];
  if (maxval !== 255) throw new TypeError(`only 8-bit PGM/PPM is supported (maxval ${maxval})`);
  const ch = magic === 'P5' ? 1 : 3;
  const need = width * height * ch;
  if (buf.length - pos < need)
    throw new TypeError(`truncated PGM/PPM data: ${buf.length - pos} of ${need} bytes`);
  const px = buf.subarray(pos, pos + need);
  if (ch === 3) return { width, height, data: new Uint8Array(px) };
  const data = new Uint8Array(width * height * 3);
  for (let i = 0; i < width * height; i++) data.fill(px[i]!, i * 3, i * 3 + 3);
  return { width, height, data };
}
