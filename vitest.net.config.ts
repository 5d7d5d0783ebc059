import { defineConfig } from 'vitest/config';
import base from './vitest.config.js';

// The network-lab suite (tests/net), run after the main suite by `npm test`: one file at a time, alone on
// the machine, because it asserts timing targets that a loaded CPU would bend. Same aliases as the main
// config; its own include (spread, not merged: vitest's mergeConfig would concatenate the lists).
export default defineConfig({
  ...base,
  test: {
    ...base.test,
    include: ['tests/net/**/*.test.ts'],
    exclude: ['**/node_modules/**'],
    fileParallelism: false,
    maxWorkers: 1,
  },
});
