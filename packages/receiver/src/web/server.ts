/**
 * The web server of `m4sc-recv --web`: a small node:http server for the browser receiver page, the model
 * bundle it decodes with, and the onnxruntime-web files. It carries no media: the page joins the room
 * itself (signaling over WebSocket, data over the browser's RTCPeerConnection).
 *
 * Routes (GET and HEAD only):
 * - `/`                 the page (`web/index.html`); `/app.js` its bundled script; `/app.css` its style
 * - `/config.json`      defaults for the page's form, the bundle's name and version, and the address this
 *                       server sees the browser at (used to replace Chromium's mDNS host candidates)
 * - `/bundle/<file>`    files of the model bundle: `manifest.json`, `tokenizer.json`, and the stage files
 *                       the manifest names; nothing else
 * - `/ort/<file>`       onnxruntime-web's `ort*.mjs` builds and `ort-wasm-*.{mjs,wasm}` files
 *
 * Every response is cross-origin isolated (COOP same-origin, COEP require-corp), so the page may use
 * SharedArrayBuffer and onnxruntime-web's wasm threads.
 */
import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { dirname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundlePage, WEB_DIR } from './pageBundle.js';

/** The bundled default model, `models/default` at the repository root. */
export const DEFAULT_WEB_BUNDLE_DIR = fileURLToPath(new URL('../../../../models/default', import.meta.url));
/** Port of `m4sc-recv --web` when `--port` is not given (0 = any free port). */
export const DEFAULT_WEB_PORT = 8790;
/** Interface the page is served on by default: loopback, since the page is a local tool. */
export const DEFAULT_WEB_HOST = '127.0.0.1';

/** What the page's form starts with; each can also be given in the page's query string. */
export interface PageDefaults {
  /** Signaling URL, ws://host:port. */
  signal?: string;
  room?: string;
  task?: string;
  query?: string;
  token?: string;
}

/** Options of {@link createWebServer}. */
export interface WebServerOptions {
  /** Interface to listen on. Default `127.0.0.1`. */
  host?: string;
  /** TCP port; 0 picks a free one. Default 8790. */
  port?: number;
  /** Model bundle directory served under `/bundle/`. Default the repository's `models/default`. */
  bundleDir?: string;
  /** Form defaults handed to the page in `/config.json`. */
  defaults?: PageDefaults;
}

/** A running web server. */
export interface WebServer {
  /** `http://host:port/` */
  readonly url: string;
  readonly port: number;
  /** Time esbuild took to bundle the page, milliseconds. */
  readonly bundleMs: number;
  /** Stops listening and drops open connections. Idempotent. */
  close(): Promise<void>;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.wasm': 'application/wasm',
  '.onnx': 'application/octet-stream',
};

const ORT_FILE = /^ort(?:-wasm-simd-threaded)?(?:\.[a-z]+)*\.(?:mjs|wasm)$/;

function typeOf(file: string): string {
  const i = file.lastIndexOf('.');
  return TYPES[i < 0 ? '' : file.slice(i)] ?? 'application/octet-stream';
}

/** The onnxruntime-web `dist/` directory. */
function ortDistDir(): string {
  const require = createRequire(import.meta.url);
  // The package's exports resolve `onnxruntime-web` to dist/ort.node.min.js under Node.
  return dirname(require.resolve('onnxruntime-web'));
}

/** Files of a bundle the page may fetch: the manifest, the tokenizer and every `file` the manifest names. */
async function bundleFiles(
  bundleDir: string,
): Promise<{ files: Set<string>; name: string; version: string }> {
  const text = await readFile(join(bundleDir, 'manifest.json'), 'utf8').catch((err: unknown) => {
    throw new Error(`cannot read the model bundle's manifest in ${bundleDir}: ${(err as Error).message}`);
  });
  const manifest = JSON.parse(text) as { name?: string; version?: string };
  const files = new Set(['manifest.json', 'tokenizer.json']);
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === 'object') {
      for (const [k, x] of Object.entries(v)) {
        if (k === 'file' && typeof x === 'string') files.add(x);
        else walk(x);
      }
    }
  };
  walk(manifest);
  return { files, name: String(manifest.name ?? ''), version: String(manifest.version ?? '') };
}

function clientAddress(req: IncomingMessage): string {
  const a = req.socket.remoteAddress ?? '';
  return a.startsWith('::ffff:') ? a.slice(7) : a;
}

/** Serves the browser receiver page; resolves once listening (the page is bundled first). */
export async function createWebServer(options: WebServerOptions = {}): Promise<WebServer> {
  const host = options.host ?? DEFAULT_WEB_HOST;
  const port = options.port ?? DEFAULT_WEB_PORT;
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new TypeError(`port must be an integer in 0..65535, got ${port}`);
  const bundleDir = resolve(options.bundleDir ?? DEFAULT_WEB_BUNDLE_DIR);
  const bundle = await bundleFiles(bundleDir);
  const page = await bundlePage();
  const ortDir = ortDistDir();
  const [html, css] = await Promise.all([
    readFile(join(WEB_DIR, 'index.html'), 'utf8'),
    readFile(join(WEB_DIR, 'style.css'), 'utf8'),
  ]);

  const isolation = {
    'Cross-Origin-Opener-Policy': 'same-origin',
    'Cross-Origin-Embedder-Policy': 'require-corp',
    'Cross-Origin-Resource-Policy': 'same-origin',
    'X-Content-Type-Options': 'nosniff',
  };

  const send = (res: ServerResponse, status: number, type: string, body: string | Buffer, head: boolean) => {
    res.writeHead(status, {
      ...isolation,
      'Content-Type': type,
      'Content-Length': Buffer.byteLength(body),
      'Cache-Control': 'no-cache',
    });
    res.end(head ? undefined : body);
  };

  const sendFile = async (res: ServerResponse, path: string, head: boolean, cache: string): Promise<void> => {
    let size: number;
    try {
      const st = await stat(path);
      if (!st.isFile()) throw new Error('not a file');
      size = st.size;
    } catch {
      send(res, 404, 'text/plain; charset=utf-8', 'not found\n', head);
      return;
    }
    res.writeHead(200, {
      ...isolation,
      'Content-Type': typeOf(path),
      'Content-Length': size,
      'Cache-Control': cache,
    });
    if (head) {
      res.end();
      return;
    }
    const stream = createReadStream(path);
    stream.on('error', () => res.destroy());
    stream.pipe(res);
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const head = req.method === 'HEAD';
    if (req.method !== 'GET' && !head) {
      res.setHeader('Allow', 'GET, HEAD');
      send(res, 405, 'text/plain; charset=utf-8', 'method not allowed\n', false);
      return;
    }
    let path: string;
    try {
      path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    } catch {
      send(res, 400, 'text/plain; charset=utf-8', 'bad path\n', head);
      return;
    }
    if (path === '/' || path === '/index.html') return send(res, 200, TYPES['.html']!, html, head);
    if (path === '/app.js') return send(res, 200, TYPES['.js']!, page.js, head);
    if (path === '/app.css') return send(res, 200, TYPES['.css']!, css, head);
    if (path === '/config.json') {
      const body = JSON.stringify({
        defaults: options.defaults ?? {},
        bundle: { name: bundle.name, version: bundle.version },
        clientAddress: clientAddress(req),
      });
      return send(res, 200, TYPES['.json']!, body, head);
    }
    if (path.startsWith('/bundle/')) {
      const file = path.slice('/bundle/'.length);
      const full = resolve(bundleDir, file);
      if (!bundle.files.has(file) || !full.startsWith(bundleDir + sep))
        return send(res, 404, 'text/plain; charset=utf-8', 'not found\n', head);
      return sendFile(res, full, head, 'no-cache');
    }
    if (path.startsWith('/ort/')) {
      const file = path.slice('/ort/'.length);
      if (!ORT_FILE.test(file)) return send(res, 404, 'text/plain; charset=utf-8', 'not found\n', head);
      // Versioned by the installed onnxruntime-web; cached for a day.
      return sendFile(res, join(ortDir, file), head, 'public, max-age=86400');
    }
    if (path === '/favicon.ico') {
      res.writeHead(204, isolation);
      res.end();
      return;
    }
    send(res, 404, 'text/plain; charset=utf-8', 'not found\n', head);
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) send(res, 500, 'text/plain; charset=utf-8', `${String(err)}\n`, false);
      else res.destroy();
    });
  });
  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(port, host, () => {
      server.off('error', fail);
      ok();
    });
  });
  const actual = (server.address() as AddressInfo).port;
  const urlHost =
    host.includes(':') && host !== '::'
      ? `[${host}]`
      : host === '0.0.0.0' || host === '::'
        ? '127.0.0.1'
        : host;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${urlHost}:${actual}/`,
    port: actual,
    bundleMs: page.buildMs,
    close() {
      closing ??= new Promise<void>((ok) => {
        server.close(() => ok());
        server.closeAllConnections();
      });
      return closing;
    },
  };
}
