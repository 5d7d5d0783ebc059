// Shared by the network-lab tests (tests/net/netlab*.test.ts): runs netlab/lab.mjs on a scenario and reads
// back its summary, its raw result lines and the sender's stats lines.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
export const built = ['sender', 'receiver'].every((p) => existsSync(join(ROOT, `packages/${p}/dist/cli.js`)));
export const strict = process.env.NETLAB_STRICT === '1';
if (!isRoot)
  console.warn(
    'tests/net: skipped — the network lab needs root (network namespaces, nftables, tc); CI runs as root',
  );

export interface Figures {
  results: number;
  expected: number;
  latencyP50Ms: number | null;
  latencyP95Ms: number | null;
  latencyMaxMs: number | null;
  lossRate: number | null;
  quality: number | null;
  maxGapMs: number;
}
export interface Summary {
  scenario: string;
  fps: number;
  frameSize: number;
  t0WallMs: number;
  timeline: { appliedMs: number; link: string; state: string }[];
  namespacesLeft: string[];
  /** The bottlenecks' cumulative counters, read before each timeline change and at the end. */
  tbf?: {
    tMs: number;
    link: number;
    sentBytes: number;
    packets: number;
    dropped: number;
    overlimits: number;
  }[];
  turn?: {
    allocations: number;
    permissions: number;
    channelBinds: number;
    labRelays: number;
    directPath: boolean;
  };
  receivers: {
    name: string;
    kind: string;
    peerId: string | null;
    operatingPoint: string | null;
    total: Figures;
    phases: (Figures & { fromS: number; toS: number; link: string })[];
  }[];
}
/** One decoded result, timed by the lab (ms since the timeline started). */
export interface ResultLine {
  tMs: number;
  seq: number;
  latencyMs: number;
  q?: number;
}
/** One receiver in one of the sender's stats lines (`--stats-json`), timed like the results. */
export interface SenderView {
  tMs: number;
  op?: { name: string; publicLayers: number; reason: string };
  figures?: { sentBytesPerSec: number; goodputBytesPerSec?: number; lossRate?: number; ageP95Ms?: number };
}

/** One adaptation decision that changed a receiver's point, as m4sc-send logged it (timed like the results). */
export interface OpChange {
  tMs: number;
  op: string;
  layers: number;
  reason: string;
}

export interface LabRun {
  summary: Summary;
  dir: string;
  /** The sender's logged operating-point changes for a receiver. */
  opChanges(peerId: string): OpChange[];
  results(name: string): ResultLine[];
  sender(peerId: string): SenderView[];
  rx(name: string): Summary['receivers'][number];
}

const work = mkdtempSync(join(tmpdir(), 'm4sc-netlab-'));
/** Call from afterAll. NETLAB_KEEP=1 keeps the runs' reports, results and stats (the path is printed). */
export const cleanupWork = () => {
  if (process.env.NETLAB_KEEP === '1') console.log(`tests/net: lab output kept in ${work}`);
  else rmSync(work, { recursive: true, force: true });
};

const namespaces = () =>
  execFileSync('ip', ['netns', 'list'])
    .toString()
    .split('\n')
    .filter((l) => l.startsWith('m4lab-'));

/** Runs the lab (namespaces, root) and checks it left nothing behind. `tag` names the output folder. */
export function lab(scenario: string, extra: string[] = [], tag = scenario): LabRun {
  const before = namespaces();
  const dir = join(work, tag);
  const json = join(work, `${tag}.json`);
  const r = spawnSync(
    process.execPath,
    ['netlab/lab.mjs', scenario, '--quiet', '--json', json, '--out', dir, ...extra],
    { cwd: ROOT, encoding: 'utf8', timeout: 110_000 },
  );
  if (r.status !== 0) throw new Error(`netlab ${scenario} failed (${r.status}):\n${r.stderr}`);
  // Every namespace, veth, qdisc and nftables table the lab made is gone: those named after its run id (the
  // lab's pid, as lab.mjs names them; other labs may be running on this machine at the same time).
  const mine = `m4lab-${(r.pid % 46656).toString(36)}-`;
  expect(namespaces().filter((n) => n.startsWith(mine) && !before.includes(n))).toEqual([]);
  const summary = JSON.parse(readFileSync(json, 'utf8')) as Summary;
  const lines = (f: string) =>
    existsSync(f)
      ? readFileSync(f, 'utf8')
          .split('\n')
          .filter(Boolean)
          .map((l) => JSON.parse(l))
      : [];
  return {
    summary,
    dir,
    results: (name) => (lines(join(dir, `results-${name}.jsonl`)) as ResultLine[]).filter((l) => l.tMs >= 0),
    opChanges: (peerId) =>
      readFileSync(join(dir, 'sender-stats.log'), 'utf8')
        .split('\n')
        .flatMap((l) => {
          const m = /^(-?\d+)\t.*operating point peerId=(\S+) op=(\S+) layers=(\d+) reason=(.*)$/.exec(l);
          return m && m[2] === peerId
            ? [{ tMs: Number(m[1]), op: m[3]!, layers: Number(m[4]), reason: m[5]! }]
            : [];
        }),
    sender: (peerId) =>
      lines(join(dir, 'sender-stats.jsonl')).flatMap(
        (l: { wallMs: number; receivers: ({ peerId: string } & Omit<SenderView, 'tMs'>)[] }) =>
          l.receivers
            .filter((x) => x.peerId === peerId)
            .map((x) => ({ tMs: l.wallMs - summary.t0WallMs, op: x.op, figures: x.figures })),
      ),
    rx: (name) => {
      const x = summary.receivers.find((r) => r.name === name);
      if (!x) throw new Error(`no receiver ${name} in ${summary.scenario}`);
      return x;
    },
  };
}

/** p-th percentile (nearest rank) of `values`; NaN when empty. */
export function percentile(values: number[], p: number): number {
  const s = [...values].sort((a, b) => a - b);
  if (s.length === 0) return Number.NaN;
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
}

/** Results in [fromMs, toMs), and the longest time in that window without a new result (edges count). */
export function window(lines: ResultLine[], fromMs: number, toMs: number) {
  const ls = lines.filter((l) => l.tMs >= fromMs && l.tMs < toMs);
  let gap = 0;
  let prev = fromMs;
  for (const l of ls) {
    gap = Math.max(gap, l.tMs - prev);
    prev = l.tMs;
  }
  gap = Math.max(gap, toMs - prev);
  return {
    lines: ls,
    p95: percentile(
      ls.map((l) => l.latencyMs),
      95,
    ),
    maxGapMs: Math.round(gap),
  };
}
