import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const here = dirname(fileURLToPath(import.meta.url));

/** Every module specifier reachable from `file` through relative imports. */
function reachableImports(file: string, seen = new Set<string>(), out = new Set<string>()): Set<string> {
  if (seen.has(file)) return out;
  seen.add(file);
  const src = readFileSync(join(here, file), 'utf8');
  for (const m of src.matchAll(/(?:import|export)[^'"]*from\s+'([^']+)'/g)) {
    const spec = m[1]!;
    if (spec.startsWith('./')) reachableImports(spec.slice(2).replace(/\.js$/, '.ts'), seen, out);
    else out.add(spec);
  }
  return out;
}

describe('entry points', () => {
  it('the main entry imports neither werift nor node built-ins, so browsers can load it', () => {
    const external = [...reachableImports('index.ts')];
    expect(external.filter((s) => s === 'werift' || s.startsWith('node:'))).toEqual([]);
    expect(external.sort()).toEqual(['msgpackr', 'rxjs']);
  });
});
