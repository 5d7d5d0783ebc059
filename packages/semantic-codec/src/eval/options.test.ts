/** m4sc-eval's command line: defaults, validation, and exit code 2 for a wrong flag. */
import { describe, expect, it } from 'vitest';
import { main } from './main.js';
import { DEFAULT_SAMPLES, makePlan, parseEvalArgs, SECTIONS, UsageError } from './options.js';

async function run(argv: string[]) {
  let out = '';
  let err = '';
  const code = await main(argv, { stdout: (s) => (out += s), stderr: (s) => (err += s) });
  return { code, out, err };
}

describe('parseEvalArgs', () => {
  it('has the documented defaults', () => {
    const p = parseEvalArgs([]);
    expect(p.help).toBe(false);
    if (p.help) return;
    expect(p.options).toEqual({
      bundle: 'models/default',
      out: 'docs/EVAL.md',
      seed: 1,
      quick: false,
      only: [...SECTIONS],
      packets: 8,
      threads: 0,
      imagePath: 'auto',
    });
    expect(makePlan(p.options).samples).toEqual(DEFAULT_SAMPLES);
  });

  it('reads every flag, and --only accepts aliases', () => {
    const p = parseEvalArgs([
      '--bundle=b',
      '--out',
      'o.md',
      '--samples',
      '12',
      '--seed',
      '5',
      '--only',
      'image, text,timing',
      '--packets',
      '4',
      '--threads',
      '1',
      '--image-path',
      'code',
    ]);
    if (p.help) throw new Error('help');
    expect(p.options).toMatchObject({
      bundle: 'b',
      out: 'o.md',
      samples: 12,
      seed: 5,
      packets: 4,
      threads: 1,
      imagePath: 'code',
    });
    expect(p.options.only).toEqual(['reconstruct', 'transmit', 'timing']);
    expect(makePlan(p.options).samples.classify).toBe(12);
  });

  it('a quick plan is tiny but keeps the points the targets need (10 dB, 20% loss, k/n = 1/6)', () => {
    const p = parseEvalArgs(['--quick']);
    if (p.help) throw new Error('help');
    const plan = makePlan(p.options);
    expect(Math.max(...Object.values(plan.samples))).toBeLessThanOrEqual(16);
    expect(plan.snrDb).toContain(10);
    expect(plan.lossRates).toContain(0.2);
    expect(plan.bandwidthDenominators).toContain(6);
  });

  it.each([
    [['--bogus'], /bogus/],
    [['--samples'], /samples/],
    [['--samples', 'ten'], /--samples must be an integer/],
    [['--samples', '0'], /--samples must be in 1\.\./],
    [['--seed=-1'], /--seed must be in/],
    [['--seed', '-1'], /ambiguous/],
    [['--only', 'image,sound'], /unknown section 'sound'/],
    [['--only', ','], /lists no section/],
    [['--quick', '--samples', '3'], /not both/],
    [['extra'], /positional|Unexpected argument/i],
    [['--quick=yes'], /quick/],
    [['--out', ''], /--out needs a value/],
    [['--image-path', 'jpeg'], /--image-path must be auto, learned or code/],
  ])('rejects %j with a UsageError', (argv, message) => {
    expect(() => parseEvalArgs(argv)).toThrow(UsageError);
    expect(() => parseEvalArgs(argv)).toThrow(message);
  });
});

describe('main', () => {
  it('exits 2 with a clear message on a wrong flag, and writes nothing to stdout', async () => {
    const r = await run(['--sampels', '5']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^m4sc-eval: .*sampels/);
    expect(r.err).toContain('--help');
    expect(r.out).toBe('');
  });

  it('exits 2 on a bad value', async () => {
    expect((await run(['--packets', '0'])).code).toBe(2);
  });

  it('prints the usage on --help and -h, exit 0', async () => {
    for (const flag of ['--help', '-h']) {
      const r = await run([flag]);
      expect(r.code).toBe(0);
      expect(r.out).toMatch(/^Usage: m4sc-eval/);
      for (const f of ['--bundle', '--out', '--samples', '--seed', '--quick', '--only'])
        expect(r.out).toContain(f);
    }
  });

  it('exits 1 naming the directory when the bundle is missing', async () => {
    const r = await run(['--quick', '--bundle', '/nonexistent/bundle']);
    expect(r.code).toBe(1);
    expect(r.err).toContain('/nonexistent/bundle');
  });
});
