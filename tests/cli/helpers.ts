import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const BIN = {
  send: `${ROOT}packages/sender/dist/cli.js`,
  recv: `${ROOT}packages/receiver/dist/cli.js`,
  signal: `${ROOT}packages/signaling/dist/cli.js`,
} as const;

export interface Proc {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<number | null>;
  /** `exited` resolves on `close`: after the exit *and* the last stdout/stderr data. */
  /** Resolves with the first match of `re` on stdout+stderr, rejects after `timeoutMs`. */
  waitFor(re: RegExp, timeoutMs?: number): Promise<RegExpExecArray>;
}

/** Spawns a built CLI with node; output is captured for assertions. */
export function run(bin: string, args: string[], options: { stdin?: 'pipe' | 'ignore' } = {}): Proc {
  const child = spawn(process.execPath, [bin, ...args], {
    stdio: [options.stdin ?? 'ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d) => {
    out += d;
  });
  child.stderr!.on('data', (d) => {
    err += d;
  });
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    exited,
    waitFor(re, timeoutMs = 15_000) {
      return new Promise((resolve, reject) => {
        const started = Date.now();
        const poll = () => {
          const m = re.exec(out + err);
          if (m) return resolve(m);
          if (Date.now() - started > timeoutMs) {
            return reject(new Error(`timed out waiting for ${re} in:\n${out}\n${err}`));
          }
          setTimeout(poll, 50);
        };
        poll();
      });
    },
  };
}
