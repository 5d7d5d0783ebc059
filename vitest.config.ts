import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const src = (file: string) => fileURLToPath(new URL(`./packages/${file}`, import.meta.url));

// Tests import workspace packages from source, so `vitest` needs no build of the libraries.
// (CLIs spawned by integration tests run from dist/, which `npm test` builds first.)
export default defineConfig({
  resolve: {
    alias: [
      { find: /^@m4sc\/semantic-codec$/, replacement: src('semantic-codec/src/index.ts') },
      { find: /^@m4sc\/semantic-codec\/node$/, replacement: src('semantic-codec/src/node.ts') },
      { find: /^@m4sc\/transport$/, replacement: src('transport/src/index.ts') },
      { find: /^@m4sc\/transport\/node$/, replacement: src('transport/src/node.ts') },
      { find: /^@m4sc\/signaling$/, replacement: src('signaling/src/index.ts') },
      { find: /^@m4sc\/signaling\/client$/, replacement: src('signaling/src/browser.ts') },
      { find: /^@m4sc\/transport\/bench$/, replacement: src('transport/src/bench.ts') },
      { find: /^@m4sc\/sender$/, replacement: src('sender/src/index.ts') },
      { find: /^@m4sc\/receiver$/, replacement: src('receiver/src/index.ts') },
    ],
  },
  test: {
    include: ['packages/*/src/**/*.test.ts', 'tests/**/*.test.ts'],
    // The network lab measures timing targets (adaptation within 1 s): it runs on its own afterwards,
    // with the machine to itself (vitest.net.config.ts), not beside the rest of the suite.
    exclude: ['tests/net/**', '**/node_modules/**'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
    fileParallelism: true,
    maxWorkers: 2,
  },
});
