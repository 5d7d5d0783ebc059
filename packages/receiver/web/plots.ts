/**
 * Live plots of the last minute, drawn on canvases by hand (no chart library: five line plots do not need
 * one). `TimeSeries` is the pure part: timestamped values, pruned to a window.
 */

/** Seconds of history each plot shows. */
export const PLOT_WINDOW_MS = 60_000;

/** Timestamped values over a sliding window. */
export class TimeSeries {
  readonly #windowMs: number;
  readonly t: number[] = [];
  readonly v: number[] = [];
  constructor(windowMs = PLOT_WINDOW_MS) {
    this.#windowMs = windowMs;
  }
  /** Adds a point at `tMs` (milliseconds, increasing) and drops points older than the window. */
  push(tMs: number, value: number): void {
    if (!Number.isFinite(value)) return;
    this.t.push(tMs);
    this.v.push(value);
    this.prune(tMs);
  }
  prune(nowMs: number): void {
    let i = 0;
    while (i < this.t.length && this.t[i]! < nowMs - this.#windowMs) i++;
    if (i > 0) {
      this.t.splice(0, i);
      this.v.splice(0, i);
    }
  }
  get last(): number | undefined {
    return this.v[this.v.length - 1];
  }
  /** Largest value, or 0 when empty. */
  max(): number {
    let m = 0;
    for (const x of this.v) if (x > m) m = x;
    return m;
  }
}

/** One plot: a title, a unit, a series and how to format its values. */
export interface PlotSpec {
  title: string;
  unit: string;
  series: TimeSeries;
  /** Fixed top of the y axis; default: the series' max, rounded up. */
  yMax?: number;
  format?: (v: number) => string;
  /** Text after the value, e.g. the operating point's name. */
  note?: () => string;
}

/** A "nice" axis top ≥ v: 1, 2 or 5 × 10^k. */
export function niceCeil(v: number): number {
  if (!(v > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

/** Draws `spec` on `canvas` (sized to its CSS box × devicePixelRatio) for the window ending at `nowMs`. */
export function drawPlot(
  canvas: HTMLCanvasElement,
  spec: PlotSpec,
  nowMs: number,
  windowMs = PLOT_WINDOW_MS,
): void {
  const dpr = globalThis.devicePixelRatio || 1;
  const w = Math.max(1, Math.round(canvas.clientWidth * dpr));
  const h = Math.max(1, Math.round(canvas.clientHeight * dpr));
  if (canvas.width !== w || canvas.height !== h) {
    canvas.width = w;
    canvas.height = h;
  }
  const ctx = canvas.getContext('2d');
  if (!ctx) return;
  const style = getComputedStyle(canvas);
  const fg = style.color || '#222';
  ctx.clearRect(0, 0, w, h);
  ctx.font = `${11 * dpr}px system-ui, sans-serif`;
  ctx.fillStyle = fg;
  const s = spec.series;
  const fmt = spec.format ?? ((v: number) => (v >= 100 ? v.toFixed(0) : v.toFixed(1)));
  const last = s.last;
  const head = `${spec.title}: ${last === undefined ? '–' : `${fmt(last)} ${spec.unit}`}${spec.note ? ` ${spec.note()}` : ''}`;
  ctx.fillText(head, 6 * dpr, 13 * dpr);
  const top = 20 * dpr;
  const bottom = h - 4 * dpr;
  const left = 4 * dpr;
  const right = w - 40 * dpr;
  const yMax = spec.yMax ?? niceCeil(s.max() * 1.1);
  ctx.globalAlpha = 0.5;
  ctx.fillText(fmt(yMax), right + 4 * dpr, top + 8 * dpr);
  ctx.fillText('0', right + 4 * dpr, bottom);
  ctx.strokeStyle = fg;
  ctx.lineWidth = 1;
  ctx.beginPath();
  ctx.moveTo(left, bottom);
  ctx.lineTo(right, bottom);
  ctx.stroke();
  ctx.globalAlpha = 1;
  if (s.t.length === 0) return;
  const x = (t: number) => right - ((nowMs - t) / windowMs) * (right - left);
  const y = (v: number) => bottom - (Math.min(v, yMax) / yMax) * (bottom - top);
  ctx.strokeStyle = '#1e88e5';
  ctx.lineWidth = 1.5 * dpr;
  ctx.beginPath();
  s.t.forEach((t, i) => {
    const px = x(t);
    const py = y(s.v[i]!);
    if (i === 0) ctx.moveTo(px, py);
    else ctx.lineTo(px, py);
  });
  ctx.stroke();
}
