/**
 * Packet-level forward erasure correction: a systematic Reed-Solomon code over GF(2⁸) with a Cauchy generator
 * (as in RFC 6865's Reed-Solomon FEC schemes and Jerasure's Cauchy RS). N data shards of L bytes give m parity
 * shards; any N of the N + m shards give every data shard back. The data packets travel unchanged, so a
 * receiver that never reads parity decodes exactly as before.
 *
 * Hand-written (about 100 lines) because no maintained npm package does this in plain JavaScript for both Node
 * and browsers: `@ronomon/reed-solomon` is a native addon, `@subspace/reed-solomon-erasure.wasm` (0.2.5) is
 * unmaintained.
 */

/** x⁸ + x⁴ + x³ + x² + 1, the usual primitive polynomial of GF(2⁸). */
const PRIMITIVE = 0x11d;
const EXP = new Uint8Array(512);
const LOG = new Uint8Array(256);
{
  let x = 1;
  for (let i = 0; i < 255; i++) {
    EXP[i] = x;
    LOG[x] = i;
    x <<= 1;
    if (x & 0x100) x ^= PRIMITIVE;
  }
  for (let i = 255; i < 512; i++) EXP[i] = EXP[i - 255]!;
}

const mul = (a: number, b: number): number => (a === 0 || b === 0 ? 0 : EXP[LOG[a]! + LOG[b]!]!);
const inv = (a: number): number => EXP[255 - LOG[a]!]!;

/** Most shards (data + parity) one code can have: the Cauchy points must be distinct elements of GF(2⁸). */
export const MAX_FEC_SHARDS = 256;

/** Generator entry of parity row j for data shard i: 1 / (x_j + y_i), x_j = N + j, y_i = i (all distinct). */
const cauchy = (j: number, i: number, N: number): number => inv((N + j) ^ i);

/** dst ^= c · src, bytewise in GF(2⁸). */
function addScaled(dst: Uint8Array, src: Uint8Array, c: number): void {
  if (c === 0) return;
  const lc = LOG[c]!;
  const n = Math.min(dst.length, src.length);
  for (let b = 0; b < n; b++) {
    const s = src[b]!;
    if (s !== 0) dst[b]! ^= EXP[lc + LOG[s]!]!;
  }
}

function checkShape(N: number, m: number): void {
  if (!Number.isInteger(N) || N < 1) throw new TypeError(`data shards must be an integer ≥ 1, got ${N}`);
  if (!Number.isInteger(m) || m < 0) throw new TypeError(`parity shards must be an integer ≥ 0, got ${m}`);
  if (N + m > MAX_FEC_SHARDS)
    throw new TypeError(`${N} data + ${m} parity shards exceed the code's ${MAX_FEC_SHARDS}`);
}

/**
 * The m parity shards of `data` (N shards; shorter ones count as zero-padded to the longest, L bytes). Each
 * parity shard has L bytes.
 */
export function fecEncode(data: readonly Uint8Array[], m: number): Uint8Array[] {
  const N = data.length;
  checkShape(N, m);
  const L = Math.max(...data.map((d) => d.length));
  const parity: Uint8Array[] = [];
  for (let j = 0; j < m; j++) {
    const p = new Uint8Array(L);
    for (let i = 0; i < N; i++) addScaled(p, data[i]!, cauchy(j, i, N));
    parity.push(p);
  }
  return parity;
}

/**
 * Recovers the missing data shards. `data` has N entries (undefined where lost; present ones may be shorter
 * than L, zero-padded), `parity` m entries (undefined where lost; each L bytes). Returns the N data shards,
 * recovered ones L bytes long (zero-padded), or undefined when fewer than N of the N + m shards are present.
 */
export function fecDecode(
  data: readonly (Uint8Array | undefined)[],
  parity: readonly (Uint8Array | undefined)[],
): Uint8Array[] | undefined {
  const N = data.length;
  checkShape(N, parity.length);
  const missing: number[] = [];
  data.forEach((d, i) => {
    if (d === undefined) missing.push(i);
  });
  const rows = parity.flatMap((p, j) => (p === undefined ? [] : [j]));
  if (missing.length === 0) return data as Uint8Array[];
  if (rows.length < missing.length) return undefined;
  const e = missing.length;
  const use = rows.slice(0, e);
  const L = parity[use[0]!]!.length;
  // s_j = parity_j − Σ_{i present} C[j][i]·d_i = Σ_{i missing} C[j][i]·d_i, one equation per parity row used.
  const rhs = use.map((j) => {
    const s = parity[j]!.slice();
    if (s.length !== L) throw new TypeError('parity shards differ in length');
    data.forEach((d, i) => {
      if (d !== undefined) addScaled(s, d, cauchy(j, i, N));
    });
    return s;
  });
  // Gauss-Jordan on the e×e Cauchy submatrix (every square submatrix of a Cauchy matrix is invertible).
  const a = use.map((j) => missing.map((i) => cauchy(j, i, N)));
  for (let col = 0; col < e; col++) {
    let pivot = col;
    while (a[pivot]![col] === 0) pivot++;
    if (pivot !== col) {
      [a[pivot], a[col]] = [a[col]!, a[pivot]!];
      [rhs[pivot], rhs[col]] = [rhs[col]!, rhs[pivot]!];
    }
    const scale = inv(a[col]![col]!);
    const row = a[col]!;
    for (let k = 0; k < e; k++) row[k] = mul(row[k]!, scale);
    const r = rhs[col]!;
    for (let b = 0; b < L; b++) r[b] = mul(r[b]!, scale);
    for (let other = 0; other < e; other++) {
      const f = a[other]![col]!;
      if (other === col || f === 0) continue;
      for (let k = 0; k < e; k++) a[other]![k]! ^= mul(f, row[k]!);
      addScaled(rhs[other]!, r, f);
    }
  }
  const out = data.slice() as Uint8Array[];
  missing.forEach((i, k) => {
    out[i] = rhs[k]!;
  });
  return out;
}

/**
 * Parity shards for N data packets on a link losing `lossRate` of its packets independently: the fewest m
 * (at most N, so at most doubling the bytes) for which a sample loses more than m of its N + m packets with
 * probability at most `residual`. 0 when lossRate is 0.
 */
export function parityFor(N: number, lossRate: number, residual = 0.1): number {
  if (!Number.isInteger(N) || N < 1) throw new TypeError(`N must be an integer ≥ 1, got ${N}`);
  if (!(lossRate >= 0 && lossRate <= 1)) throw new TypeError(`lossRate must be in [0, 1], got ${lossRate}`);
  if (!(residual > 0 && residual < 1)) throw new TypeError(`residual must be in (0, 1), got ${residual}`);
  if (lossRate === 0) return 0;
  const maxM = Math.max(0, Math.min(N, MAX_FEC_SHARDS - N));
  if (lossRate === 1) return maxM;
  for (let m = 0; m <= maxM; m++) {
    if (1 - arrivalProbability(N, m, lossRate) <= residual) return m;
  }
  return maxM;
}

/**
 * P(a sample of N data and m parity packets arrives whole, after recovery): at most m of its N + m packets
 * lost, each independently with probability p.
 */
export function arrivalProbability(N: number, m: number, p: number): number {
  const n = N + m;
  if (p <= 0) return 1;
  if (p >= 1) return 0;
  let ok = 0;
  let term = (1 - p) ** n; // k = 0 lost
  for (let k = 0; k <= m; k++) {
    ok += term;
    term *= ((n - k) / (k + 1)) * (p / (1 - p));
  }
  return Math.min(1, ok);
}
