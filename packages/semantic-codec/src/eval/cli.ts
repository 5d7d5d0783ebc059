#!/usr/bin/env node
/** The `m4sc-eval` executable: see main.ts and `m4sc-eval --help`. */
import { main } from './main.js';

const code = await main(process.argv.slice(2));
// onnxruntime's thread pools can keep the event loop alive after the sessions are released.
process.exit(code);
