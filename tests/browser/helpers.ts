/**
 * Helpers of the browser tests: Debian's Chromium through playwright-core (never a downloaded browser),
 * a fresh profile per launch, the built CLIs, and the synthetic ground truth.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateScene, renderScene, sceneCaption, sceneQuestions } from '@m4sc/semantic-codec';
import { type BrowserContext, chromium, type Page } from 'playwright-core';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const CHROMIUM = process.env.M4SC_CHROMIUM ?? '/usr/bin/chromium';
export const BUNDLE_DIR = join(ROOT, 'models/default');
export const BIN = {
  send: join(ROOT, 'packages/sender/dist/cli.js'),
  recv: join(ROOT, 'packages/receiver/dist/cli.js'),
  signal: join(ROOT, 'packages/signaling/dist/cli.js'),
};

/** Flags for a quiet, self-contained headless Chromium. */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-default-apps',
  '--mute-audio',
];
/** Shows real host addresses instead of `<uuid>.local` mDNS names (the page also copes without it). */
export const NO_MDNS = '--disable-features=WebRtcHideLocalIpsWithMdns';

export interface Browser {
  context: BrowserContext;
  page: Page;
  /** Page console lines and uncaught errors, for failure messages. */
  console: string[];
  close(): Promise<void>;
}

/** Launches Chromium with a fresh profile (a new temp dir, removed on close) and opens one page. */
export async function launchBrowser(extraArgs: string[] = []): Promise<Browser> {
  const profile = await mkdtemp(join(tmpdir(), 'm4sc-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: [...CHROMIUM_ARGS, ...extraArgs],
    viewport: { width: 1280, height: 900 },
  });
  const page = context.pages()[0] ?? (await context.newPage());
  const lines: string[] = [];
  page.on('console', (m) => lines.push(`[${m.type()}] ${m.text()}`));
  page.on('pageerror', (e) => lines.push(`[pageerror] ${e.message}`));
  return {
    context,
    page,
    console: lines,
    async close() {
      await context.close().catch(() => {});
      await rm(profile, { recursive: true, force: true });
    },
  };
}

export interface Proc {
  child: ChildProcess;
  output(): string;
  /** First match of `re` in stdout+stderr; rejects after `timeoutMs`. */
  waitFor(re: RegExp, timeoutMs?: number): Promise<RegExpExecArray>;
  /** SIGTERM, then SIGKILL after 3 s; resolves when it has exited. */
  stop(): Promise<void>;
}

/** Spawns a built CLI with node. */
export function start(bin: string, args: string[]): Proc {
  const child = spawn(process.execPath, [bin, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d) => {
    out += d;
  });
  child.stderr!.on('data', (d) => {
    out += d;
  });
  const exited = new Promise<void>((r) => child.once('close', () => r()));
  return {
    child,
    output: () => out,
    waitFor(re, timeoutMs = 20_000) {
      return new Promise((resolve, reject) => {
        const t0 = Date.now();
        const poll = () => {
          const m = re.exec(out);
          if (m) return resolve(m);
          if (child.exitCode !== null)
            return reject(new Error(`exited (${child.exitCode}) before ${re}:\n${out}`));
          if (Date.now() - t0 > timeoutMs)
            return reject(new Error(`timed out waiting for ${re} in:\n${out}`));
          setTimeout(poll, 50);
        };
        poll();
      });
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(t);
    },
  };
}

/** Starts `m4sc-send --source synthetic` with its own signaling server on a free port; resolves its URL. */
export async function startSyntheticSender(extra: string[] = []): Promise<{ proc: Proc; signal: string }> {
  const proc = start(BIN.send, ['--source', 'synthetic', '--signal-port', '0', '--quiet', ...extra]);
  const m = await proc.waitFor(/listening on (ws:\/\/[\d.]+:\d+)/, 30_000);
  return { proc, signal: m[1]! };
}

/** Starts `m4sc-recv --web --port 0`; resolves the page URL (without query). */
export async function startWebServer(extra: string[] = []): Promise<{ proc: Proc; url: string }> {
  const proc = start(BIN.recv, ['--web', '--port', '0', ...extra]);
  const m = await proc.waitFor(/open (http:\/\/[^\s?]+)/, 30_000);
  return { proc, url: m[1]! };
}

/** Ground truth of the synthetic source's sample `seq` (seed 9 + 10·seq, as m4sc-send). */
export function truthOf(seq: number): { rgb: Uint8Array; caption: string; qa: [string, string][] } {
  const scene = generateScene(9 + 10 * seq);
  return { rgb: renderScene(scene), caption: sceneCaption(scene), qa: sceneQuestions(scene) };
}

/** Polls `fn` until it returns a truthy value; rejects with `what` after `timeoutMs`. */
export async function until<T>(
  fn: () => Promise<T> | T,
  what: string,
  timeoutMs = 20_000,
): Promise<NonNullable<T>> {
  const t0 = Date.now();
  for (;;) {
    const v = await fn();
    if (v) return v as NonNullable<T>;
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Result row as `window.m4sc.results` holds it. */
export interface PageResult {
  seq: number;
  task: string;
  text?: string;
  latencyMs: number;
  decodeMs: number;
  op?: { name: string; version: number; rateSymbols: number; bits: number; snrDb: number; lossRate: number };
  stream: string;
  lostPackets: number;
  packets: number;
}
