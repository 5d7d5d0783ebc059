/**
 * A `--quick` run of m4sc-eval on the shipped bundle (models/default, or $M4SC_BUNDLE_DIR) writes a report
 * with every section, every plot as SVG and PNG, and no missing numbers. Fails, not skips, without a bundle.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { main } from './main.js';
import { REPORT_SECTIONS } from './report.js';

const BUNDLE =
  process.env.M4SC_BUNDLE_DIR ?? fileURLToPath(new URL('../../../../models/default', import.meta.url));

describe('m4sc-eval --quick', () => {
  it('writes a complete report and its plots from the shipped bundle', async () => {
    expect(existsSync(`${BUNDLE}/manifest.json`), `no model bundle at ${BUNDLE}`).toBe(true);
    const dir = await mkdtemp(join(tmpdir(), 'm4sc-eval-'));
    try {
      let err = '';
      const out = join(dir, 'EVAL.md');
      const code = await main(['--quick', '--bundle', BUNDLE, '--out', out, '--threads', '1'], {
        stdout: () => {},
        stderr: (s) => (err += s),
      });
      expect(code, err).toBe(0);
      expect(err).toContain('[m4sc-eval');
      const md = await readFile(out, 'utf8');
      for (const s of REPORT_SECTIONS) expect(md).toContain(s);
      expect(md).toContain('QUICK RUN');
      expect(md).toMatch(/manifest sha256 `[0-9a-f]{16}`/);
      expect(md).toContain('m4sc-eval --quick');
      // Every task's table is there, with numbers, and no NaN / undefined leaked into the text.
      for (const h of [
        'M4SC AWGN PSNR',
        'classify acc',
        'caption exact',
        'answer acc',
        'text BLEU-1',
        'raw UTF-8 BLEU-1',
        'M4SC 64×64 photos PSNR',
        'M4SC 64×64 scenes PSNR',
      ]) {
        expect(md).toContain(h);
      }
      expect(md).not.toMatch(/NaN|undefined|Infinity/);
      // The private tasks at the sender's frame size, resampled to the bundle's imageSize.
      expect(md).toMatch(
        /At the sender's 64×64 frame .*imageSize`, 32×32\): caption exact match [0-9.]+% \([0-9.]+% at 32×32\); answer accuracy/,
      );
      // Each target row has a verdict.
      const targets = md.slice(md.indexOf('## Targets'), md.indexOf('## Held-out data'));
      expect(targets.match(/✅|❌|— \|/g)?.length).toBeGreaterThanOrEqual(14);
      for (const f of ['photo crops', 'scenes'])
        expect(targets).toMatch(
          new RegExp(
            `on 64×64 ${f} in the sender's packets \\| [0-9.]+ dB vs [0-9.]+ dB \\(−[0-9.]+ dB; [0-9]+ packets/frame(; with [0-9.]+ parity packets/frame, \\+[0-9]+% bytes)?\\)`,
          ),
        );
      const plots = (await readdir(join(dir, 'eval'))).sort();
      const names = [
        'bandwidth-image',
        'loss-image',
        'loss-tasks',
        'snr-image',
        'snr-tasks-awgn',
        'snr-tasks-rayleigh',
      ];
      expect(plots).toEqual(names.flatMap((n) => [`${n}.png`, `${n}.svg`]));
      for (const n of names) expect(md).toContain(`(eval/${n}.png)`);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
