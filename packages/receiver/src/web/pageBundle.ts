/**
 * Bundles the browser receiver page (`packages/receiver/web/main.ts`) with esbuild, in memory, when the
 * web server starts. The page imports the workspace packages by name, so esbuild resolves them through
 * node_modules to their built `dist/` (the same code the Node CLI runs); `npm run build` (tsc -b) must
 * have run first, as for the CLI itself. onnxruntime-web is not bundled: the page loads the build it
 * needs (wasm or webgpu) from `/ort/` at run time.
 */
import { fileURLToPath } from 'node:url';

/** The page source directory, `packages/receiver/web/` (the same from src/web and dist/web). */
export const WEB_DIR = fileURLToPath(new URL('../../web/', import.meta.url));

/** The bundled page script. */
export interface PageBundle {
  /** ES module source of `/app.js`. */
  js: string;
  /** Bundling time, milliseconds. */
  buildMs: number;
}

/** Bundles `web/main.ts` and everything it imports into one ES module (inline source map). */
export async function bundlePage(): Promise<PageBundle> {
  const t0 = performance.now();
  const esbuild = await import('esbuild');
  const result = await esbuild.build({
    entryPoints: [`${WEB_DIR}main.ts`],
    absWorkingDir: WEB_DIR,
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    write: false,
    minify: true,
    sourcemap: 'inline',
    // The codec reads bundle files from disk only when given a path; the page hands it a fetcher.
    external: ['node:*'],
    logLevel: 'silent',
    legalComments: 'none',
  });
  const out = result.outputFiles[0];
  if (!out) throw new Error('esbuild produced no output for the receiver page');
  return { js: out.text, buildMs: performance.now() - t0 };
}
