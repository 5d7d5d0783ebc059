/** The web server of `m4sc-recv --web`: what it serves, and what it refuses. No browser. */
import { createWebServer, type WebServer } from '@m4sc/receiver/web';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, BUNDLE_DIR, start } from './helpers.js';

let server: WebServer;
beforeAll(async () => {
  server = await createWebServer({
    port: 0,
    bundleDir: BUNDLE_DIR,
    defaults: { room: 'lab', task: 'caption' },
  });
}, 30_000);
afterAll(() => server?.close());

const get = (path: string, init?: RequestInit) => fetch(new URL(path, server.url), init);

describe('createWebServer', () => {
  it('serves the page, its bundled script and style, cross-origin isolated', async () => {
    const page = await get('/');
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/text\/html/);
    expect(page.headers.get('cross-origin-opener-policy')).toBe('same-origin');
    expect(page.headers.get('cross-origin-embedder-policy')).toBe('require-corp');
    expect(await page.text()).toContain('<script type="module" src="/app.js">');
    const js = await get('/app.js');
    expect(js.headers.get('content-type')).toMatch(/javascript/);
    expect((await js.text()).length).toBeGreaterThan(10_000);
    expect((await get('/app.css')).status).toBe(200);
  });

  it('hands the page its defaults, the bundle name and the address it sees the browser at', async () => {
    const cfg = (await (await get('/config.json')).json()) as Record<string, unknown>;
    expect(cfg.defaults).toEqual({ room: 'lab', task: 'caption' });
    expect(cfg.clientAddress).toBe('127.0.0.1');
    expect((cfg.bundle as { name: string }).name).toBe('default'); // models/default's manifest name
  });

  it('serves the bundle files the manifest names, and nothing else', async () => {
    const manifest = (await (await get('/bundle/manifest.json')).json()) as {
      stages: Record<string, { file: string }>;
    };
    const file = Object.values(manifest.stages)[0]!.file;
    const stage = await get(`/bundle/${file}`);
    expect(stage.status).toBe(200);
    expect((await stage.arrayBuffer()).byteLength).toBeGreaterThan(100);
    for (const bad of [
      '/bundle/../package.json',
      '/bundle/%2e%2e/package.json',
      '/bundle/nope.onnx',
      '/bundle/',
    ])
      expect((await get(bad)).status, bad).toBe(404);
  });

  it('serves onnxruntime-web builds and wasm, and refuses other paths', async () => {
    const h = await get('/ort/ort.wasm.min.mjs', { method: 'HEAD' });
    expect(h.status).toBe(200);
    expect(h.headers.get('content-type')).toMatch(/javascript/);
    const w = await get('/ort/ort-wasm-simd-threaded.wasm', { method: 'HEAD' });
    expect(w.status).toBe(200);
    expect(w.headers.get('content-type')).toBe('application/wasm');
    expect((await get('/ort/package.json')).status).toBe(404);
    expect((await get('/ort/../../package.json')).status).toBe(404);
    expect((await get('/nothing')).status).toBe(404);
    expect((await get('/', { method: 'POST' })).status).toBe(405);
  });

  it('close() is idempotent', async () => {
    const s = await createWebServer({ port: 0, bundleDir: BUNDLE_DIR });
    await Promise.all([s.close(), s.close()]);
    await expect(fetch(s.url)).rejects.toThrow();
  });
});

describe('m4sc-recv --web flags', () => {
  it.each([
    [['--web', '--out', 'frames/'], /--out does not apply to --web/],
    [['--web', '--port', 'eighty'], /--port must be an integer in 0\.\.65535/],
    [['--web', '--signal', 'localhost:1'], /--signal must be a ws:\/\/ or wss:\/\/ URL/],
    [['--web', '--task', 'dance'], /unknown --task 'dance'/],
    [['--signal', 'ws://127.0.0.1:1', '--port', '1'], /--port and --host apply to --web only/],
  ])('%j exits 2 with a clear message', async (args, message) => {
    const p = start(BIN.recv, args);
    await new Promise((r) => p.child.once('close', r));
    expect(p.child.exitCode).toBe(2);
    expect(p.output()).toMatch(message);
  });

  it('prints the page URL with the signaling URL and room in its query', async () => {
    const p = start(BIN.recv, ['--web', '--port', '0', '--signal', 'ws://127.0.0.1:8787', '--room', 'lab']);
    try {
      const m = await p.waitFor(/open (http:\/\/127\.0\.0\.1:\d+\/\S*)/);
      const url = new URL(m[1]!);
      expect(url.searchParams.get('signal')).toBe('ws://127.0.0.1:8787');
      expect(url.searchParams.get('room')).toBe('lab');
      expect((await fetch(url)).status).toBe(200);
    } finally {
      await p.stop();
    }
  });
});
