import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { SemanticCodec } from '@m4sc/semantic-codec';
import { createNodeSemanticCodec } from '@m4sc/semantic-codec/node';

/** Where the sender runs the model: `--device`. */
export type Device = 'cpu' | 'cuda' | 'auto';

/** The outcome of a device choice, for the one log line the CLI prints. */
export interface DeviceChoice {
  codec: SemanticCodec;
  /** The execution provider every stage runs on. */
  provider: 'cuda' | 'cpu';
  /** Why, in words (e.g. why `auto` fell back to the CPU). */
  reason: string;
}

/** A `--device cuda` that cannot be honoured: names what is missing. */
export class DeviceError extends Error {
  override name = 'DeviceError';
}

/**
 * The CUDA execution provider's own libraries, which onnxruntime-node downloads at install time unless
 * `.npmrc` skips it (this repository does, for offline installs; see README "GPU (CUDA)").
 */
const CUDA_PROVIDER_LIBS = ['libonnxruntime_providers_shared.so', 'libonnxruntime_providers_cuda.so'];

/** Whether onnxruntime-node has its CUDA provider libraries; `missing` names the first absent file. */
export function cudaProviderLibraries(): { ok: boolean; dir: string; missing?: string } {
  const require = createRequire(import.meta.url);
  let dir: string;
  try {
    const pkg = require.resolve('onnxruntime-node/package.json');
    dir = join(dirname(pkg), 'bin', 'napi-v6', process.platform, process.arch);
  } catch {
    return { ok: false, dir: '', missing: 'onnxruntime-node itself' };
  }
  const missing = CUDA_PROVIDER_LIBS.find((f) => !existsSync(join(dir, f)));
  return missing ? { ok: false, dir, missing } : { ok: true, dir };
}

const HINT =
  'onnxruntime-node was installed without its CUDA provider (onnxruntime-node-install=skip in .npmrc); ' +
  'reinstall with ONNXRUNTIME_NODE_INSTALL=cuda12 npm ci on a machine with internet and CUDA 12 (README "GPU (CUDA)")';

/**
 * Loads the bundle on the chosen device. `cpu` always works; `cuda` fails with a DeviceError naming what is
 * missing; `auto` uses CUDA when its libraries load and the CPU otherwise, saying why.
 */
export async function loadCodecOnDevice(device: Device, bundleDir: string): Promise<DeviceChoice> {
  if (device === 'cpu') {
    return {
      codec: await createNodeSemanticCodec({ bundleDir, executionProviders: ['cpu'], role: 'sender' }),
      provider: 'cpu',
      reason: 'requested',
    };
  }
  const libs = cudaProviderLibraries();
  if (!libs.ok) {
    const why = `CUDA unavailable: ${libs.missing} not found in ${libs.dir || 'node_modules'}; ${HINT}`;
    if (device === 'cuda') throw new DeviceError(`--device cuda: ${why}`);
    return {
      codec: await createNodeSemanticCodec({ bundleDir, executionProviders: ['cpu'], role: 'sender' }),
      provider: 'cpu',
      reason: why,
    };
  }
  try {
    // Only CUDA in the list, so a provider that fails to load is an error here rather than a silent CPU run.
    const codec = await createNodeSemanticCodec({ bundleDir, executionProviders: ['cuda'], role: 'sender' });
    return { codec, provider: 'cuda', reason: device === 'cuda' ? 'requested' : 'CUDA libraries loaded' };
  } catch (err) {
    const why = `CUDA failed to load: ${(err as Error).message}`;
    if (device === 'cuda') throw new DeviceError(`--device cuda: ${why}`);
    return {
      codec: await createNodeSemanticCodec({ bundleDir, executionProviders: ['cpu'], role: 'sender' }),
      provider: 'cpu',
      reason: why,
    };
  }
}
