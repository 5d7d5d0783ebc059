/**
 * The codec on onnxruntime-web. The page loads one onnxruntime-web build from the server's `/ort/` at run
 * time: the WebGPU build when `navigator.gpu` gives an adapter (its sessions list `webgpu` then `wasm`),
 * else the plain wasm build. If the WebGPU sessions cannot be created, it falls back to wasm silently
 * (the reason is kept in `fallback` for the runtime line).
 */
import { type BundleRole, createSemanticCodec, type OrtLike, type SemanticCodec } from '@m4sc/semantic-codec';

/** Which onnxruntime-web backend to use: `auto` (WebGPU when available, else wasm), or forced. */
export type BackendChoice = 'auto' | 'wasm' | 'webgpu';

export interface BrowserCodecOptions {
  /** Base URL of the onnxruntime-web files, e.g. `/ort/` resolved against the page. */
  ortBase: string;
  /** Base URL of the model bundle's files. */
  bundleBase: string;
  /** Default `auto`. */
  backend?: BackendChoice;
  /** wasm threads; default 1 (tiny models: thread hand-offs cost more than they save; see README). */
  threads?: number;
  /** The bundle's stages to load; default `receiver` (the decoders: about half the bytes). */
  role?: BundleRole;
}

export interface BrowserCodec {
  codec: SemanticCodec;
  /** The backend the sessions run on. */
  backend: 'webgpu' | 'wasm';
  /** Why WebGPU was not used, when it was not. */
  fallback?: string;
  /** Time to fetch, check and load the bundle, milliseconds. */
  loadMs: number;
}

type OrtWeb = OrtLike & {
  env: { wasm: { wasmPaths?: string; numThreads?: number; proxy?: boolean }; logLevel?: string };
};

async function webgpuAdapter(): Promise<string | undefined> {
  const gpu = (navigator as { gpu?: { requestAdapter(): Promise<unknown> } }).gpu;
  if (!gpu) return 'navigator.gpu is not available';
  try {
    return (await gpu.requestAdapter()) ? undefined : 'no WebGPU adapter';
  } catch (err) {
    return `no WebGPU adapter (${String(err)})`;
  }
}

async function importOrt(build: string, base: string, threads: number): Promise<OrtWeb> {
  const url = new URL(build, base).href;
  const mod = (await import(/* @vite-ignore */ url)) as OrtWeb & { default?: OrtWeb };
  const ort = mod.InferenceSession ? mod : mod.default!;
  ort.env.wasm.wasmPaths = base;
  ort.env.wasm.numThreads = threads;
  ort.env.logLevel = 'error';
  return ort;
}

/** Fetches bundle files over HTTP, with the file and status in the error. */
export function httpBundleReader(base: string): (file: string) => Promise<Uint8Array> {
  return async (file) => {
    const url = new URL(file, base);
    const res = await fetch(url);
    if (!res.ok) throw new Error(`GET ${url.pathname}: HTTP ${res.status}`);
    return new Uint8Array(await res.arrayBuffer());
  };
}

/** Loads onnxruntime-web and the bundle; WebGPU first when chosen or available, wasm otherwise. */
export async function createBrowserCodec(options: BrowserCodecOptions): Promise<BrowserCodec> {
  const t0 = performance.now();
  const choice = options.backend ?? 'auto';
  const threads = options.threads ?? 1;
  const read = httpBundleReader(options.bundleBase);
  const role = options.role ?? 'receiver';
  let fallback: string | undefined;
  if (choice !== 'wasm') {
    fallback = await webgpuAdapter();
    if (!fallback) {
      try {
        const ort = await importOrt('ort.webgpu.min.mjs', options.ortBase, threads);
        const codec = await createSemanticCodec({
          bundleDir: read,
          ort,
          executionProviders: ['webgpu', 'wasm'],
          role,
        });
        return { codec, backend: 'webgpu', loadMs: performance.now() - t0 };
      } catch (err) {
        // A bundle error is the bundle's fault, not WebGPU's: report it rather than retry on wasm.
        if ((err as Error).name === 'BundleError') throw err;
        fallback = `WebGPU failed: ${(err as Error).message}`;
      }
    }
    if (choice === 'webgpu') throw new Error(`WebGPU was asked for but ${fallback}`);
  }
  const ort = await importOrt('ort.wasm.min.mjs', options.ortBase, threads);
  const codec = await createSemanticCodec({ bundleDir: read, ort, executionProviders: ['wasm'], role });
  return { codec, backend: 'wasm', ...(fallback ? { fallback } : {}), loadMs: performance.now() - t0 };
}
