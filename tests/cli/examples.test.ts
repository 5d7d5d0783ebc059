// The examples' flags: --help prints the usage and exits 0; a wrong flag or value is refused with the usage,
// exit 2, before anything starts (they used to ignore what they did not know, and ran).
import { describe, expect, it } from 'vitest';
import { ROOT, run } from './helpers.js';

const example = (name: string) => `${ROOT}examples/${name}.mjs`;

describe('examples', () => {
  it.each(['classroom', 'semantic-call', 'lossy-link', 'demo'])(
    '%s --help prints its usage, exit 0',
    async (name) => {
      const p = run(example(name), ['--help']);
      expect(await p.exited).toBe(0);
      expect(p.stdout()).toMatch(/^usage: node examples\/\S+\.mjs \[--seconds N\]/);
      expect(p.stderr()).toBe('');
    },
  );

  it.each([
    ['classroom', ['--secondz', '3'], /Unknown option '--secondz'/],
    ['classroom', ['--seconds=-1'], /--seconds must be a positive number, got '-1'/],
    ['classroom', ['--seconds', '-1'], /Option '--seconds' argument is ambiguous/],
    ['classroom', ['--', '--fps', '5'], /no arguments after '--'/],
    ['lossy-link', ['--loss', 'ten'], /--loss must be a percentage 0-100, got 'ten'/],
    ['lossy-link', ['--loss', '150'], /--loss must be a percentage 0-100, got '150'/],
    ['semantic-call', ['extra'], /Unexpected argument 'extra'/],
  ])('%s %j exits 2 with a clear message and the usage', async (name, args, message) => {
    const p = run(example(name), args as string[]);
    expect(await p.exited).toBe(2);
    expect(p.stderr()).toMatch(message);
    expect(p.stderr()).toMatch(/usage: node examples\//);
    expect(p.stdout()).toBe(''); // nothing started
  });
});
