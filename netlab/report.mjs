// The lab's report: per receiver over time — operating point / rate (from the sender's stats lines), quality
// against the synthetic ground truth (PSNR of reconstructed frames, caption/answer accuracy), latency p50/p95,
// packet loss, and the longest stall. Markdown, JSON and a PNG plot (an SVG rasterised by sharp).
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  generateScene,
  psnr,
  SCENE_SIZE,
  sceneCaption,
  sceneQuestions,
  sentenceBleu,
} from '@m4sc/semantic-codec';
import sharp from 'sharp';
import { sceneFrame, seedOf } from './frames.mjs';

export function pct(sorted, p) {
  if (sorted.length === 0) return Number.NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i];
}
const sortNum = (a) => [...a].sort((x, y) => x - y);
const mean = (a) => (a.length ? a.reduce((x, y) => x + y, 0) / a.length : Number.NaN);
const r1 = (x) => (Number.isFinite(x) ? Math.round(x * 10) / 10 : null);

/** Quality of one result line against the ground truth: PSNR in dB, or 1/0 for text tasks. */
async function quality(r, line, frames) {
  if (r.kind === 'jpeg') return line.psnr;
  if (r.task === 'reconstruct') {
    if (!line.file) return undefined;
    try {
      const { data, info } = await sharp(readFileSync(line.file)).raw().toBuffer({ resolveWithObject: true });
      const rgb = info.channels === 3 ? data : data.filter((_, i) => i % info.channels < 3);
      // At frameSize ≠ 32 the sender loops over `frames.count` pre-rendered files (netlab/frames.mjs).
      const seq = frames.count ? line.seq % frames.count : line.seq;
      return psnr(sceneFrame(seq, frames.size), rgb);
    } catch {
      return undefined;
    }
  }
  const scene = generateScene(seedOf(line.seq));
  // Captions: sentence BLEU (add-1 smoothed) against the true caption; the early bundle never matches exactly.
  if (r.task === 'caption')
    return sentenceBleu([sceneCaption(scene).split(' ')], String(line.result ?? '').split(' ')).bleu;
  if (r.task === 'answer') {
    const qa = sceneQuestions(scene).find(([q]) => q === r.query);
    return qa ? (line.result === qa[1] ? 1 : 0) : undefined;
  }
  return undefined;
}

/** Parses the sender's per-receiver stats lines: `  <peerId> <state> task=… via=… kbit/s=… rtt=… [op=…] …`. */
function parseSenderLines(senderStats) {
  const byPeer = new Map();
  let opAtStart;
  for (const { tMs, line } of senderStats) {
    const op = /operating point (\S+) \(rate (\d+) symbols\/token, (\d+) bits\)/.exec(line);
    if (op) opAtStart = `${op[1]} r${op[2]}b${op[3]}`;
    const m = /^\s+(\S+) (\S+) task=.* kbit\/s=(\S+) rtt=(\S+)/.exec(line);
    if (!m) continue;
    const o = /\bop=(\S+)/.exec(line);
    if (!byPeer.has(m[1])) byPeer.set(m[1], []);
    byPeer.get(m[1]).push({
      tMs,
      kbps: Number(m[3]) || 0,
      rttMs: Number.parseFloat(m[4]) || undefined,
      op: o ? o[1] : undefined,
    });
  }
  return { byPeer, opAtStart };
}

function window(lines, from, to) {
  return lines.filter((l) => l.tMs >= from && l.tMs < to);
}

function figures(lines, from, to, fps) {
  const ls = window(lines, from, to);
  const lat = sortNum(ls.map((l) => l.latencyMs));
  const q = ls.map((l) => l.q).filter((x) => x !== undefined && Number.isFinite(x));
  const packets = ls.reduce((a, l) => a + (l.packets ?? 0), 0);
  const lost = ls.reduce((a, l) => a + (l.lostPackets ?? 0), 0);
  // Longest time without a new result (a stall), counting the window's edges.
  let gap = 0;
  let prev = from;
  for (const l of ls) {
    gap = Math.max(gap, l.tMs - prev);
    prev = l.tMs;
  }
  gap = Math.max(gap, to - prev);
  return {
    results: ls.length,
    expected: Math.round(((to - from) / 1000) * fps),
    latencyP50Ms: r1(pct(lat, 50)),
    latencyP95Ms: r1(pct(lat, 95)),
    latencyMaxMs: r1(lat.at(-1)),
    lossRate: packets ? Math.round((lost / packets) * 1000) / 1000 : null,
    quality: q.length ? Math.round(mean(q) * 1000) / 1000 : null,
    maxGapMs: Math.round(gap),
  };
}

/** Builds the summary of a lab run. */
export async function analyse(run) {
  const { scenario, endMs, receivers, applied } = run;
  const { byPeer, opAtStart } = parseSenderLines(run.senderStats);
  const edges = [...new Set([0, ...applied.map((a) => a.appliedMs), endMs])].sort((a, b) => a - b);
  const out = [];
  for (const r of receivers) {
    const frames = { size: scenario.frameSize ?? SCENE_SIZE, count: run.frameCount };
    for (const l of r.lines) l.q = await quality(r, l, frames);
    const lines = r.lines.filter((l) => l.tMs >= 0 && l.tMs <= endMs);
    const qualityUnit =
      r.kind === 'jpeg' || r.task === 'reconstruct' ? 'PSNR dB' : r.task === 'caption' ? 'BLEU' : 'accuracy';
    const phases = [];
    for (let i = 0; i + 1 < edges.length; i++) {
      if (edges[i + 1] - edges[i] < 300) continue;
      const on = applied.filter((a) => a.link === r.link && a.appliedMs <= edges[i]).at(-1);
      phases.push({
        fromS: r1(edges[i] / 1000),
        toS: r1(edges[i + 1] / 1000),
        link: on ? on.state : 'clean',
        ...figures(lines, edges[i], edges[i + 1], scenario.fps),
      });
    }
    const sender = r.peerId ? (byPeer.get(r.peerId) ?? []) : [];
    const series = [];
    for (let s = 0; s * 1000 < endMs; s++) {
      const f = figures(lines, s * 1000, Math.min(endMs, (s + 1) * 1000), scenario.fps);
      const st = sender.filter((x) => x.tMs >= s * 1000 && x.tMs < (s + 1) * 1000).at(-1);
      series.push({ t: s, ...f, kbps: st?.kbps ?? null, op: st?.op ?? null });
    }
    out.push({
      name: r.name,
      kind: r.kind,
      peerId: r.peerId ?? null,
      task: r.kind === 'jpeg' ? 'reconstruct (JPEG q75, reliable ordered)' : r.task,
      link: r.link,
      qualityUnit,
      operatingPoint:
        r.kind === 'm4sc' ? (sender.findLast?.((x) => x.op)?.op ?? opAtStart ?? null) : 'jpeg q75',
      total: figures(lines, 0, endMs, scenario.fps),
      phases,
      series,
    });
  }
  return {
    scenario: scenario.name,
    description: scenario.description,
    mode: run.mode,
    fps: scenario.fps,
    frameSize: scenario.frameSize ?? SCENE_SIZE,
    durationS: r1(endMs / 1000),
    timeline: applied,
    relays: run.relayStats?.links ?? null,
    receivers: out,
  };
}

const COLOURS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b'];

function svgPlot(summary) {
  const W = 900;
  const panelH = 170;
  const left = 70;
  const right = 170;
  const top = 40;
  const panels = [
    { key: 'latencyP95Ms', label: 'latency p95 (ms)' },
    { key: 'quality', label: 'quality (PSNR dB; accuracy or BLEU ×40)' },
    { key: 'results', label: 'results per second' },
  ];
  const T = summary.durationS;
  const x = (t) => left + (t / T) * (W - left - right);
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${top + panels.length * (panelH + 30) + 20}" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${left}" y="22" font-size="15">netlab: ${summary.scenario} (${summary.mode})</text>`,
  ];
  panels.forEach((p, pi) => {
    const y0 = top + pi * (panelH + 30);
    const val = (rcv, s) => {
      const v = s[p.key];
      if (v === null || v === undefined) return null;
      return p.key === 'quality' && rcv.qualityUnit !== 'PSNR dB' ? v * 40 : v;
    };
    let max = 1;
    for (const rcv of summary.receivers) for (const s of rcv.series) max = Math.max(max, val(rcv, s) ?? 0);
    max *= 1.1;
    const y = (v) => y0 + panelH - (v / max) * panelH;
    parts.push(
      `<rect x="${left}" y="${y0}" width="${W - left - right}" height="${panelH}" fill="none" stroke="#999"/>`,
    );
    parts.push(`<text x="${left}" y="${y0 - 5}">${p.label}</text>`);
    for (const f of [0, 0.5, 1])
      parts.push(
        `<text x="${left - 5}" y="${y(max * f) + 4}" text-anchor="end">${(max * f).toFixed(0)}</text>`,
      );
    for (const e of summary.timeline)
      parts.push(
        `<line x1="${x(e.appliedMs / 1000)}" x2="${x(e.appliedMs / 1000)}" y1="${y0}" y2="${y0 + panelH}" stroke="#aaa" stroke-dasharray="4 3"/>`,
      );
    summary.receivers.forEach((rcv, ri) => {
      const pts = rcv.series
        .map((s) => [s.t + 0.5, val(rcv, s)])
        .filter(([, v]) => v !== null)
        .map(([t, v]) => `${x(t).toFixed(1)},${y(v).toFixed(1)}`);
      if (pts.length)
        parts.push(
          `<polyline fill="none" stroke="${COLOURS[ri % COLOURS.length]}" stroke-width="2" points="${pts.join(' ')}"/>`,
        );
    });
    if (pi === panels.length - 1)
      for (const t of [0, T / 4, T / 2, (3 * T) / 4, T])
        parts.push(`<text x="${x(t)}" y="${y0 + panelH + 15}" text-anchor="middle">${t.toFixed(0)} s</text>`);
  });
  summary.receivers.forEach((rcv, ri) => {
    parts.push(
      `<rect x="${W - right + 10}" y="${top + ri * 18}" width="12" height="12" fill="${COLOURS[ri % COLOURS.length]}"/>`,
      `<text x="${W - right + 28}" y="${top + ri * 18 + 11}">${rcv.name}</text>`,
    );
  });
  parts.push('</svg>');
  return parts.join('\n');
}

const cell = (v) => (v === null || v === undefined ? '-' : String(v));

export function markdown(summary) {
  const L = [];
  L.push(
    `### netlab: ${summary.scenario} (${summary.mode}, ${summary.durationS} s at ${summary.fps} fps)`,
    '',
  );
  if (summary.description) L.push(summary.description, '');
  L.push('Timeline (t = 0 when every receiver had decoded its first sample over clean links):', '');
  for (const e of summary.timeline)
    L.push(`- t=${(e.appliedMs / 1000).toFixed(1)} s, link \`${e.link}\`: ${e.state}`);
  L.push(
    '',
    '| receiver | link | task | op / codec | results | latency p50 / p95 / max ms | packet loss | quality | longest stall ms |',
  );
  L.push('|---|---|---|---|---|---|---|---|---|');
  for (const r of summary.receivers) {
    const t = r.total;
    L.push(
      `| ${r.name} | ${r.link} | ${r.task} | ${cell(r.operatingPoint)} | ${t.results}/${t.expected} | ${cell(t.latencyP50Ms)} / ${cell(t.latencyP95Ms)} / ${cell(t.latencyMaxMs)} | ${t.lossRate === null ? '-' : `${(t.lossRate * 100).toFixed(1)}%`} | ${cell(t.quality)} ${r.qualityUnit} | ${t.maxGapMs} |`,
    );
  }
  L.push(
    '',
    'Per phase:',
    '',
    '| receiver | phase | link state | results | latency p50 / p95 ms | loss | quality | longest stall ms |',
  );
  L.push('|---|---|---|---|---|---|---|---|');
  for (const r of summary.receivers)
    for (const p of r.phases)
      L.push(
        `| ${r.name} | ${p.fromS}–${p.toS} s | ${p.link} | ${p.results}/${p.expected} | ${cell(p.latencyP50Ms)} / ${cell(p.latencyP95Ms)} | ${p.lossRate === null ? '-' : `${(p.lossRate * 100).toFixed(1)}%`} | ${cell(p.quality)} | ${p.maxGapMs} |`,
      );
  return L.join('\n');
}

/** Writes report.md, plot.svg and plot.png into `dir`. */
export async function writeReport(summary, dir) {
  const svg = svgPlot(summary);
  const md = markdown(summary);
  const files = { markdown: join(dir, 'report.md'), svg: join(dir, 'plot.svg'), png: join(dir, 'plot.png') };
  writeFileSync(files.svg, svg);
  writeFileSync(files.markdown, `${md}\n\n![plot](plot.png)\n`);
  await sharp(Buffer.from(svg)).png().toFile(files.png);
  return { ...files, markdownText: md };
}
