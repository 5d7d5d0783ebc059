// --device: `cpu` always works, `auto` falls back to the CPU and says why, `cuda` refuses clearly when
// CUDA is missing (this repository installs onnxruntime-node without its CUDA provider; see README).
import { cudaProviderLibraries } from '@m4sc/sender';
import { describe, expect, it } from 'vitest';
import { BIN, run } from './helpers.js';

const cuda = cudaProviderLibraries();

describe('m4sc-send --device', () => {
  it('cpu runs every stage on the CPU and says so in one line, naming the sender stages it loaded', async () => {
    const p = run(BIN.send, ['--device', 'cpu', '--signal-port', '0', '--duration', '1', '--quiet']);
    expect(await p.exited).toBe(0);
    const line = /execution provider cpu for every stage a sender runs \((.*)\); requested/.exec(p.stderr());
    expect(line, p.stderr()).not.toBeNull();
    expect(line![1]).toMatch(/^image_encoder, .*channel_encoder/);
    expect(line![1]).not.toMatch(/decoder/); // the sender loads no decoder (codec role 'sender')
  }, 30_000);

  it.runIf(!cuda.ok)(
    'auto falls back to the CPU, naming what CUDA lacks',
    async () => {
      const p = run(BIN.send, ['--device', 'auto', '--signal-port', '0', '--duration', '1', '--quiet']);
      expect(await p.exited).toBe(0);
      expect(p.stderr()).toMatch(
        new RegExp(
          `execution provider cpu .*CUDA unavailable: ${cuda.missing!.replace(/\./g, '\\.')} not found`,
        ),
      );
    },
    30_000,
  );

  it.runIf(!cuda.ok)(
    'cuda refuses with a clear error naming the missing library, exit 1',
    async () => {
      const p = run(BIN.send, ['--device', 'cuda', '--signal-port', '0', '--duration', '1', '--quiet']);
      expect(await p.exited).toBe(1);
      expect(p.stderr()).toMatch(
        /m4sc-send: --device cuda: CUDA unavailable: libonnxruntime_providers_\w+\.so not found .*ONNXRUNTIME_NODE_INSTALL=cuda12/,
      );
      expect(p.stderr()).not.toMatch(/^\s+at /m); // no stack trace
    },
    30_000,
  );

  it('a wrong device is a flag error (exit 2)', async () => {
    const p = run(BIN.send, ['--device', 'tpu']);
    expect(await p.exited).toBe(2);
    expect(p.stderr()).toMatch(/--device must be cpu, cuda or auto, got 'tpu'/);
  });
});
