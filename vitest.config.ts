import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const src = (p: string) => fileURLToPath(new URL(`./packages/${p}/src/index.ts`, import.meta.url));

// Tests import workspace packages from source, so `vitest` needs no build of the libraries.
// (CLIs spawned by integration tests run from dist/, which `npm test` builds first.)
export default defineConfig({
  resolve: {
    alias: {
      '@m4sc/semantic-codec': src('semantic-codec'),
      '@m4sc/transport': src('transport'),
      '@m4sc/signaling': src('signaling'),
    },
  },
  test: {
    include: ['packages/*/src/**/*.test.ts', 'tests/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
    fileParallelism: true,
    maxWorkers: 2,
  },
});
