import { type ChildProcessWithoutNullStreams, execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { connectSignaling } from './client.js';
import { verifyRoomToken } from './token.js';

const root = fileURLToPath(new URL('../../..', import.meta.url));
const cli = fileURLToPath(new URL('../dist/cli.js', import.meta.url));

// The CLI runs from dist/; build it (incremental, a no-op when up to date) so the test never runs stale code.
beforeAll(() => {
  execFileSync(process.execPath, [`${root}node_modules/typescript/bin/tsc`, '-b', 'packages/signaling'], {
    cwd: root,
  });
});

function run(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [cli, ...args]);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => {
    stdout += d;
  });
  child.stderr.on('data', (d) => {
    stderr += d;
  });
  return once(child, 'close').then(([code]) => ({ code: code as number | null, stdout, stderr }));
}

async function startServer(
  args: string[],
): Promise<{ child: ChildProcessWithoutNullStreams; url: string; stderr: () => string }> {
  const child = spawn(process.execPath, [cli, '--port', '0', ...args]);
  let err = '';
  child.stderr.on('data', (d) => {
    err += d;
  });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      const m = /^(ws:\/\/\S+)\n/.exec(out);
      if (m) resolve(m[1]!);
    });
    child.once('exit', (code) => reject(new Error(`exited ${code}: ${err}`)));
  });
  return { child, url, stderr: () => err };
}

describe('m4sc-signal CLI', () => {
  it('--port 0 prints its URL, logs joins on stderr, and exits 0 on SIGTERM', async () => {
    const { child, url, stderr } = await startServer([]);
    expect(url).toMatch(/^ws:\/\/127\.0\.0\.1:\d+$/);
    const c = await connectSignaling({ url, room: 'cli', role: 'sender' });
    c.close();
    await new Promise((r) => setTimeout(r, 100));
    expect(stderr()).toMatch(/m4sc:signaling info join room=cli/);
    child.kill('SIGTERM');
    const [code] = await once(child, 'exit');
    expect(code).toBe(0);
  });

  it('a wrong flag prints a clear message and exits 2', async () => {
    const r = await run(['--prot', '1']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/Unknown option '--prot'/);
    expect(r.stderr).toMatch(/--help/);
    const bad = await run(['--port', 'eighty']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--port must be an integer/);
  });

  it('--help prints usage and exits 0', async () => {
    const r = await run(['--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/m4sc-signal token --secret/);
  });

  it('token mints a token the server with the same --secret accepts', async () => {
    const minted = await run(['token', '--secret', 'S', '--room', 'R', '--role', 'receiver', '--ttl', '60']);
    expect(minted.code).toBe(0);
    const token = minted.stdout.trim();
    expect(verifyRoomToken({ secret: 'S', token, room: 'R', role: 'receiver' })).toMatchObject({ ok: true });
    const { child, url } = await startServer(['--secret', 'S']);
    try {
      const c = await connectSignaling({ url, room: 'R', role: 'receiver', token });
      c.close();
      const refused = await connectSignaling({ url, room: 'R', role: 'receiver' }).catch((e) => e);
      expect(refused).toMatchObject({ reason: 'refused', code: 'token-missing' });
    } finally {
      child.kill('SIGINT');
      await once(child, 'exit');
    }
    expect((await run(['token', '--room', 'R', '--role', 'receiver'])).code).toBe(2);
  });
});
