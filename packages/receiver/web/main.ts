/**
 * The browser receiver page: the same receiver core, codec, transport and signaling client as `m4sc-recv`,
 * on onnxruntime-web and the browser's RTCPeerConnection.
 *
 * Query string (each also has a form field or a default from the server's /config.json):
 *   signal=ws://…  room=…  token=…  task=reconstruct|classify|caption|answer|transmit  query=…
 *   backend=auto|wasm|webgpu  threads=N  candidateAddress=IP  autojoin=0
 * The page joins at once when a signaling URL is known (unless autojoin=0).
 *
 * `window.m4sc` exposes the page's state and recent results for tests and the benchmark.
 */
import { createReceiver, type Receiver, type ReceiverResult } from '@m4sc/receiver/browser';
import type { OperatingPoint, SemanticCodec } from '@m4sc/semantic-codec';
import type { Logger } from '@m4sc/signaling/client';
import { benchDecode } from './bench.js';
import { describeJoinError, describeModelError, type PageError } from './errors.js';
import { drawRgbFrame, readRgbFrame } from './frame.js';
import { chooseCandidatePolicy, wrapPeerConnection } from './mdns.js';
import { drawPlot, type PlotSpec, TimeSeries } from './plots.js';
import { type BackendChoice, type BrowserCodec, createBrowserCodec } from './runtime.js';
import { ensureSubtleDigest } from './sha256.js';

/** Seconds after joining with no sender before the page says so. */
const SENDER_ABSENT_WARN_MS = 5_000;
/** Results kept in `window.m4sc.results`. */
const KEEP_RESULTS = 500;

interface PageConfig {
  defaults?: { signal?: string; room?: string; task?: string; query?: string; token?: string };
  bundle?: { name: string; version: string };
  clientAddress?: string;
}

/** What tests and the benchmark read. */
interface PageState {
  state: string;
  backend?: string;
  fallback?: string;
  modelLoadMs?: number;
  /** The bundle stages the page loaded (the receiver's: decoders only). */
  stages?: readonly string[];
  results: (Omit<ReceiverResult, 'image' | 'op'> & { op?: OperatingPoint; at: number })[];
  frames: number;
  /** The frame on the canvas: its seq and the integer scale it was drawn at. */
  frame?: { seq: number; scale: number; width: number; height: number };
  /** Capture-to-canvas latency of recent frames: receiver latency + time to the next animation frame, ms. */
  canvasLatencyMs: number[];
  errors: PageError[];
  events: string[];
  log: string[];
  bench?: (opts?: { samples?: number; tasks?: string[] }) => ReturnType<typeof benchDecode>;
  /** The frame on the canvas, read back from its pixels (one per scaled block). */
  readCanvas(): { seq: number; width: number; height: number; rgb: number[] } | undefined;
}

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const ui = {
  state: $('state'),
  runtime: $('runtime'),
  connect: $<HTMLFormElement>('connect'),
  signal: $<HTMLInputElement>('signal'),
  room: $<HTMLInputElement>('room'),
  token: $<HTMLInputElement>('token'),
  join: $<HTMLButtonElement>('join'),
  leave: $<HTMLButtonElement>('leave'),
  instruction: $<HTMLFormElement>('instruction'),
  task: $<HTMLSelectElement>('task'),
  query: $<HTMLInputElement>('query'),
  queryLabel: $('query-label'),
  served: $('served'),
  error: $('error'),
  errorText: $('error-text'),
  retry: $<HTMLButtonElement>('retry'),
  canvas: $<HTMLCanvasElement>('frame'),
  frameInfo: $('frame-info'),
  counters: $('counters'),
  plots: $('plots'),
};

const page: PageState = {
  readCanvas() {
    const f = page.frame;
    if (!f) return undefined;
    return {
      seq: Number(ui.canvas.dataset.seq),
      width: f.width,
      height: f.height,
      rgb: Array.from(readRgbFrame(ui.canvas, f.scale)),
    };
  },
  state: 'starting',
  results: [],
  frames: 0,
  canvasLatencyMs: [],
  errors: [],
  events: [],
  log: [],
};
(globalThis as unknown as { m4sc: PageState }).m4sc = page;

const params = new URLSearchParams(location.search);
let config: PageConfig = {};
let model: Promise<BrowserCodec> | undefined;
let receiver: Receiver | undefined;
let joining = false;
let absentTimer: ReturnType<typeof setTimeout> | undefined;
/** The operating point of the sample being decoded (the receiver decodes one sample at a time). */
let decodingOp: OperatingPoint | undefined;

// ---- status and errors -------------------------------------------------------------------------------

function setState(text: string, tone: '' | 'ok' | 'bad' = '') {
  page.state = text;
  ui.state.textContent = text;
  ui.state.className = `pill ${tone}`;
}

function showError(e: PageError) {
  page.errors.push(e);
  ui.errorText.textContent = e.message;
  ui.error.dataset.kind = e.kind;
  ui.error.hidden = false;
  log('error', e.message);
}

function clearError(kind?: PageError['kind']) {
  if (kind && ui.error.dataset.kind !== kind) return;
  ui.error.hidden = true;
  ui.errorText.textContent = '';
  delete ui.error.dataset.kind;
}

function log(level: string, message: string, ctx?: unknown) {
  const line = `${new Date().toISOString().slice(11, 23)} ${level} ${message}${ctx ? ` ${JSON.stringify(ctx)}` : ''}`;
  page.log.push(line);
  if (page.log.length > 200) page.log.shift();
  if (level === 'error' || level === 'warn') console.warn(line);
}

const logger: Logger = {
  debug: () => {},
  info: (m, c) => log('info', m, c),
  warn: (m, c) => {
    log('warn', m, c);
    if (m === 'connection to sender failed')
      showError({
        kind: 'peer-failed',
        message: `The WebRTC link to the sender failed (${String((c as { error?: unknown })?.error ?? 'no route')}). If the sender is on another machine, run it with --network; see the receiver README on mDNS candidates.`,
      });
  },
  error: (m, c) => log('error', m, c),
};

// ---- model --------------------------------------------------------------------------------------------

function loadModel(): Promise<BrowserCodec> {
  setState('loading model');
  const base = new URL('/', location.href);
  const threads = Number(params.get('threads') ?? 1);
  const where = {
    ortBase: new URL('ort/', base).href,
    bundleBase: new URL('bundle/', base).href,
    threads: Number.isInteger(threads) && threads > 0 ? threads : 1,
  };
  const p = createBrowserCodec({ ...where, backend: (params.get('backend') ?? 'auto') as BackendChoice });
  p.then(
    (m) => {
      page.backend = m.backend;
      page.modelLoadMs = m.loadMs;
      page.stages = m.codec.bundle.loaded;
      if (m.fallback) page.fallback = m.fallback;
      const b = m.codec.manifest;
      ui.runtime.textContent = `${b.name} ${b.version} on onnxruntime-web ${m.backend}${m.fallback ? ` (${m.fallback})` : ''}, loaded in ${(m.loadMs / 1000).toFixed(1)} s`;
      // The page loads the receiver's stages only; the benchmark's encoder (the sender's stages, on the same
      // backend) is loaded on its first call.
      let encoder: Promise<BrowserCodec> | undefined;
      page.bench = async (opts) => {
        encoder ??= createBrowserCodec({ ...where, backend: m.backend, role: 'sender' });
        return benchDecode(m.codec, { ...opts, encoder: (await encoder).codec });
      };
      if (!receiver && !joining) setState('ready');
    },
    (err: unknown) => {
      setState('model failed', 'bad');
      showError(describeModelError(err));
    },
  );
  return p;
}

/** The codec, with the operating point of each decode noted for the plot. */
function instrumented(codec: SemanticCodec): SemanticCodec {
  return new Proxy(codec, {
    get(target, prop, recv) {
      if (prop === 'decodeSample')
        return (input: Parameters<SemanticCodec['decodeSample']>[0]) => {
          decodingOp = input.op;
          return target.decodeSample(input);
        };
      const v = Reflect.get(target, prop, recv);
      return typeof v === 'function' ? v.bind(target) : v;
    },
  });
}

// ---- plots --------------------------------------------------------------------------------------------

const series = {
  kbps: new TimeSeries(),
  loss: new TimeSeries(),
  rtt: new TimeSeries(),
  latency: new TimeSeries(),
  op: new TimeSeries(),
};
let opName = '';
const plotSpecs: PlotSpec[] = [
  { title: 'received', unit: 'kbit/s', series: series.kbps },
  { title: 'loss', unit: '%', series: series.loss, format: (v) => v.toFixed(1) },
  { title: 'RTT', unit: 'ms', series: series.rtt },
  { title: 'latency (capture → decoded)', unit: 'ms', series: series.latency },
  {
    title: 'operating point',
    unit: 'bits/token',
    series: series.op,
    format: (v) => v.toFixed(0),
    note: () => (opName ? `(${opName})` : ''),
  },
];
const plotCanvases = plotSpecs.map((spec) => {
  const c = document.createElement('canvas');
  c.setAttribute('aria-label', spec.title);
  ui.plots.append(c);
  return c;
});
function drawPlots() {
  const now = performance.now();
  plotSpecs.forEach((spec, i) => {
    spec.series.prune(now);
    drawPlot(plotCanvases[i]!, spec, now);
  });
}
setInterval(drawPlots, 500);

// ---- results ------------------------------------------------------------------------------------------

function onResult(r: ReceiverResult) {
  const at = performance.now();
  const op = decodingOp;
  decodingOp = undefined;
  // The page keeps the validated operating point it decoded with, not the raw header object.
  const { image, op: _headerOp, ...rest } = r;
  page.results.push({ ...rest, ...(op ? { op: { ...op } } : {}), at });
  if (page.results.length > KEEP_RESULTS) page.results.shift();
  series.latency.push(at, r.latencyMs);
  if (op) {
    series.op.push(at, op.rateSymbols * op.bits);
    opName = op.name;
  }
  const row = document.querySelector<HTMLTableRowElement>(
    `tr[data-task="${r.task === 'raw' ? 'reconstruct' : r.task}"]`,
  );
  if (row) {
    row.querySelector('.text')!.textContent = image ? `${image.width}×${image.height}` : (r.text ?? '');
    row.querySelector('.seq')!.textContent = `#${r.seq}`;
    row.querySelector('.lat')!.textContent = `${r.latencyMs.toFixed(0)} ms`;
    row.querySelector('.dec')!.textContent = `decode ${r.decodeMs.toFixed(1)} ms`;
  }
  if (image) {
    const scale = drawRgbFrame(ui.canvas, image);
    ui.canvas.dataset.seq = String(r.seq);
    page.frames++;
    page.frame = { seq: r.seq, scale, width: image.width, height: image.height };
    ui.frameInfo.textContent = `#${r.seq} ${image.width}×${image.height} ×${scale}, ${r.lostPackets}/${r.packets} packets lost${r.recoveredPackets > 0 ? `, ${r.recoveredPackets} rebuilt from parity` : ''}`;
    const latency = r.latencyMs;
    requestAnimationFrame(() => {
      page.canvasLatencyMs.push(latency + (performance.now() - at));
      if (page.canvasLatencyMs.length > KEEP_RESULTS) page.canvasLatencyMs.shift();
    });
  }
}

// ---- join / leave -------------------------------------------------------------------------------------

function currentInstruction(): { task: string; query?: string } {
  const task = ui.task.value;
  const query = ui.query.value.trim();
  return task === 'answer' ? { task, query } : { task };
}

async function leave() {
  clearTimeout(absentTimer);
  const r = receiver;
  receiver = undefined;
  ui.leave.disabled = true;
  ui.join.disabled = false;
  ui.served.textContent = '';
  if (r) await r.close();
}

async function join() {
  if (joining) return;
  joining = true;
  ui.join.disabled = true;
  clearError();
  try {
    await leave();
    const signalUrl = ui.signal.value.trim();
    const room = ui.room.value.trim() || 'demo';
    if (!signalUrl) {
      showError({
        kind: 'bad-url',
        message: 'Enter the signaling URL (ws://host:port) that m4sc-send printed.',
      });
      setState('idle');
      return;
    }
    let m: BrowserCodec;
    try {
      model ??= loadModel();
      m = await model;
    } catch {
      model = undefined; // the error is on the page; Retry loads again
      return;
    }
    const instruction = currentInstruction();
    try {
      m.codec.parseInstruction(instruction);
    } catch (err) {
      showError({ kind: 'bad-instruction', message: `Bad instruction: ${(err as Error).message}` });
      return;
    }
    setState('joining');
    const policy = chooseCandidatePolicy({
      signalUrl,
      clientAddress: config.clientAddress,
      override: params.get('candidateAddress') ?? undefined,
    });
    let r: Receiver;
    try {
      r = await createReceiver({
        signalUrl,
        room,
        ...(ui.token.value.trim() ? { token: ui.token.value.trim() } : {}),
        codec: instrumented(m.codec),
        instruction,
        createPeerConnection: () => wrapPeerConnection(new RTCPeerConnection({ iceServers: [] }), policy),
        logger,
      });
    } catch (err) {
      setState('not joined', 'bad');
      showError(describeJoinError(err, signalUrl, room));
      return;
    }
    receiver = r;
    let linked = false;
    ui.leave.disabled = false;
    setState(`joined '${room}', waiting for the sender`);
    absentTimer = setTimeout(() => {
      if (receiver === r && !linked)
        showError({
          kind: 'sender-absent',
          message: `Joined room '${room}', but no sender has connected after ${SENDER_ABSENT_WARN_MS / 1000} s. Is m4sc-send running with --room ${room}? Still waiting.`,
        });
    }, SENDER_ABSENT_WARN_MS);
    r.events$.subscribe((ev) => {
      page.events.push(ev.type);
      log('event', ev.type);
      if (ev.type === 'connected') {
        linked = true;
        clearTimeout(absentTimer);
        clearError('sender-absent');
        clearError('sender-left');
        clearError('peer-failed');
        setState('connected', 'ok');
      } else if (ev.type === 'hello') {
        ui.served.textContent = `sender: ${ev.hello.source}, ${ev.hello.codec}, ${ev.hello.modality}, ${ev.hello.fps} fps`;
      } else if (ev.type === 'served') {
        const s = ev.serve;
        const how = s.stream.startsWith('shared:')
          ? `shared with ${s.members - 1} other receiver(s)`
          : `${s.stream.split(':')[0]} stream`;
        ui.served.textContent = `${s.instruction.task} served on the ${how}`;
        clearError('sender-refused');
      } else if (ev.type === 'refused') {
        showError({
          kind: 'sender-refused',
          message: `The sender refused the request: ${ev.message} (${ev.code})`,
        });
      } else if (ev.type === 'sender-left') {
        setState('sender left', 'bad');
        showError({
          kind: 'sender-left',
          message: `The sender left (${ev.reason}); waiting for it to come back.`,
        });
      }
    });
    r.results$.subscribe(onResult);
    r.stats$.subscribe((s) => {
      const now = performance.now();
      series.kbps.push(now, (s.receivedBytesPerSec * 8) / 1000);
      const loss = s.channels.public.lossRate ?? s.channels.private.lossRate;
      if (loss !== undefined) series.loss.push(now, loss * 100);
      if (s.rttMs !== undefined) series.rtt.push(now, s.rttMs);
      const d = r.dropped;
      ui.counters.textContent = `results ${page.results.length >= KEEP_RESULTS ? `${KEEP_RESULTS}+` : page.results.length} · frames ${page.frames} · not decoded: busy ${d['decoder-busy']}, undecodable ${d.undecodable}, bad control ${d['bad-control']}`;
    });
  } finally {
    joining = false;
    if (!receiver) ui.join.disabled = false;
  }
}

// ---- controls -----------------------------------------------------------------------------------------

function syncQuery() {
  ui.queryLabel.hidden = ui.task.value !== 'answer';
}

ui.connect.addEventListener('submit', (e) => {
  e.preventDefault();
  void join();
});
ui.leave.addEventListener('click', () => {
  void leave().then(() => setState('left'));
});
ui.task.addEventListener('change', syncQuery);
ui.instruction.addEventListener('submit', (e) => {
  e.preventDefault();
  const instruction = currentInstruction();
  if (instruction.task === 'answer' && !instruction.query) {
    showError({ kind: 'bad-instruction', message: 'The answer task needs a question.' });
    return;
  }
  clearError('bad-instruction');
  if (!receiver) return; // used when joining
  try {
    receiver.setInstruction(instruction);
    log('info', 'instruction', instruction);
  } catch (err) {
    showError({ kind: 'bad-instruction', message: `Bad instruction: ${(err as Error).message}` });
  }
});
ui.retry.addEventListener('click', () => {
  clearError();
  if (!model) model = loadModel();
  void join();
});

// ---- start --------------------------------------------------------------------------------------------

async function boot() {
  ensureSubtleDigest(); // plain http from another machine: no WebCrypto, but the bundle's checksums are still checked
  try {
    const res = await fetch('/config.json');
    if (res.ok) config = (await res.json()) as PageConfig;
  } catch {
    // served some other way: the query string must say everything
  }
  const d = config.defaults ?? {};
  const pick = (k: 'signal' | 'room' | 'task' | 'query' | 'token') => params.get(k) ?? d[k] ?? '';
  ui.signal.value = pick('signal');
  ui.room.value = pick('room') || 'demo';
  ui.token.value = pick('token');
  const task = pick('task');
  if (task && [...ui.task.options].some((o) => o.value === task)) ui.task.value = task;
  ui.query.value = pick('query');
  syncQuery();
  model = loadModel();
  model.catch(() => {
    model = undefined;
  });
  if (ui.signal.value && params.get('autojoin') !== '0') await join();
  else if (!ui.signal.value) setState('enter the signaling URL');
}

void boot();
