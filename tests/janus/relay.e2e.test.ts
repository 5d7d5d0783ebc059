// The public stream through Janus, with real processes: m4sc-send --relay and m4sc-recv --relay against
// Janus instances this file starts (scripts/janus: generated config, own network namespace). Skipped, with
// the reason, when Janus cannot run here (not installed, or no root to create its namespace).
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { psnr, type SemanticCodec } from '@m4sc/semantic-codec';
import { createNodeSemanticCodec } from '@m4sc/semantic-codec/node';
import { DEFAULT_BUNDLE_DIR } from '@m4sc/sender';
import sharp from 'sharp';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { janusUnavailableReason, startJanus } from '../../scripts/janus/janus.mjs';
import { BIN, type Proc, run } from '../cli/helpers.js';
import { localDecode } from '../e2e/localDecode.js';

const skip = janusUnavailableReason();
if (skip) console.warn(`tests/janus skipped: ${skip}`);

interface Line {
  seq: number;
  task: string;
  result?: string;
  file?: string;
  latencyMs: number;
  lostPackets: number;
  stream: string;
}
interface StatsLine {
  samples: number;
  receivers: { peerId: string; bytes: { public: number } }[];
  relay?: { samples: number; bytes: number; state: string; cascades: number; droppedNotUp: number };
  publicEncodes: number;
}
type Janus = Awaited<ReturnType<typeof startJanus>>;

const QUESTION = 'how many shapes are there ?';
const procs: Proc[] = [];
const janus: Janus[] = [];
let codec: SemanticCodec;

const start = (bin: string, args: string[]) => {
  const p = run(bin, args);
  procs.push(p);
  return p;
};
const lines = (p: Proc): Line[] =>
  p
    .stdout()
    .trim()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Line);
const statsLines = (file: string): StatsLine[] =>
  readFileSync(file, 'utf8')
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as StatsLine);
const peerIdOf = async (p: Proc) => (await p.waitFor(/joined room '\S+' as (\S+),/, 30_000))[1]!;
const count = (text: string, re: RegExp) => (text.match(new RegExp(re, 'g')) ?? []).length;

async function startSender(room: string, relays: string[], extra: string[] = []) {
  const stats = join(mkdtempSync(join(tmpdir(), 'm4sc-relay-')), 'stats.jsonl');
  // A fixed operating point: results are compared with a local decode at the bundle's first point.
  const args = [
    '--signal-port',
    '0',
    '--fps',
    '6',
    '--room',
    room,
    '--stats-json',
    stats,
    '--quiet',
    '--adapt',
    'off',
  ];
  for (const r of relays) args.push('--relay', r);
  const sender = start(BIN.send, [...args, ...extra]);
  const [, url] = await sender.waitFor(/listening on (ws:\/\/\S+)/, 30_000);
  return { sender, url: url!, stats };
}

const local = (seq: number, task: string, query?: string) => localDecode(codec, seq, task, query);

async function reconstructPsnr(x: Line): Promise<number> {
  const { data } = await sharp(x.file!).raw().toBuffer({ resolveWithObject: true });
  const expected = (await local(x.seq, 'reconstruct')) as { data: Float32Array | Uint8Array };
  const exp8 = Uint8Array.from(expected.data as ArrayLike<number>, (v) =>
    expected.data instanceof Uint8Array ? v : Math.max(0, Math.min(255, Math.round(v * 255))),
  );
  return psnr(exp8, new Uint8Array(data));
}

/** The stats lines that list `peerId` (it leaves before the sender stops). */
const withPeer = (s: StatsLine[], peerId: string) =>
  s.filter((l) => l.receivers.some((r) => r.peerId === peerId));
/** The direct public bytes the sender sent `peerId`, `ago` stats lines before the last that lists it. */
const directPublic = (s: StatsLine[], peerId: string, ago: number) => {
  const w = withPeer(s, peerId);
  return w[w.length - 1 - ago]?.receivers.find((r) => r.peerId === peerId)?.bytes.public;
};

describe.skipIf(skip !== undefined)('the public stream through Janus', () => {
  beforeAll(async () => {
    codec = await createNodeSemanticCodec({ bundleDir: DEFAULT_BUNDLE_DIR });
  });
  afterEach(async () => {
    for (const p of procs.splice(0)) if (p.child.exitCode === null) p.child.kill('SIGKILL');
    for (const j of janus.splice(0)) await j.stop();
  });
  afterAll(async () => {
    await codec?.close();
  });

  it('sender → Janus → three receivers on different tasks, equal to local decoding; public bytes leave the sender once', async () => {
    const J = await startJanus();
    janus.push(J);
    const relay = J.relay('tasks');
    const { sender, url, stats } = await startSender('tasks', [relay]);
    const dir = mkdtempSync(join(tmpdir(), 'm4sc-relay-frames-'));
    const common = ['--signal', url, '--room', 'tasks', '--duration', '11', '--quiet', '--relay', relay];
    const recon = start(BIN.recv, [...common, '--task', 'reconstruct', '--out', dir]);
    const caption = start(BIN.recv, [...common, '--task', 'caption']);
    const answer = start(BIN.recv, [...common, '--task', 'answer', '--query', QUESTION]);
    const reconId = await peerIdOf(recon);
    expect(await Promise.all([recon.exited, caption.exited, answer.exited])).toEqual([0, 0, 0]);
    sender.child.kill('SIGINT');
    await sender.exited;

    const rl = lines(recon);
    const cl = lines(caption);
    const al = lines(answer);
    for (const [name, l, p] of [
      ['reconstruct', rl, recon],
      ['caption', cl, caption],
      ['answer', al, answer],
    ] as const) {
      expect(l.length, `${name}: ${p.stderr()}`).toBeGreaterThan(15);
      expect(l.every((x) => x.task === name)).toBe(true);
    }
    expect(recon.stderr()).toMatch(/relay: subscribed to \S+ in janus:\/\//);
    expect(recon.stderr()).toMatch(/public stream arrives through the relay/);
    expect(sender.stderr()).toMatch(/relay: publishing the public stream to janus:\/\/\S+\/tasks/);
    expect(sender.stderr()).toMatch(new RegExp(`receiver relay path peerId=${reconId} up=true`));
    // Private results stay direct.
    expect(cl.every((x) => x.stream.startsWith('private:'))).toBe(true);
    expect(
      rl.every((x) => x.stream === 'public' || x.stream.startsWith('public.')),
      JSON.stringify(rl.map((x) => x.stream)),
    ).toBe(true);

    // Once on the relay, the sender sends the reconstruct receiver no public bytes directly, and it keeps decoding.
    const s = statsLines(stats);
    expect(s.length).toBeGreaterThan(6);
    expect(directPublic(s, reconId, 0)).toBe(directPublic(s, reconId, 4));
    const w = withPeer(s, reconId);
    const since = w[w.length - 5]!.samples;
    expect(rl.filter((x) => x.seq > since).length).toBeGreaterThan(10);
    const last = s[s.length - 1]!.relay!;
    expect(last.state).toBe('up');
    // One publish per layer of each encoded sample, whatever the receivers: handed layer samples per sample at most
    // the layer count the reconstruct receiver was told to subscribe to (3 with the default bounds; the test said
    // "2 here" and compared with a fixed 2.5, which a quiet host, connecting every receiver quickly, exceeds:
    // 2.51 in CI). Publishing per receiver would multiply it.
    const n = Math.max(
      ...[...recon.stderr().matchAll(/relay layers from=\d+ to=(\d+)/g)].map((m) => Number(m[1])),
    );
    expect(n).toBeGreaterThanOrEqual(2);
    expect((last.samples + last.droppedNotUp) / s[s.length - 1]!.samples).toBeLessThan(n + 0.5);

    // The relay adds nothing: results equal the local decode of the same scene.
    for (const x of cl.slice(-5)) expect(x.result).toBe(await local(x.seq, 'caption'));
    for (const x of al.slice(-5)) expect(x.result).toBe(await local(x.seq, 'answer', QUESTION));
    const viaRelay = rl.filter((x) => x.seq > since && x.file).slice(-3);
    expect(viaRelay.length).toBe(3);
    for (const x of viaRelay) expect(await reconstructPsnr(x)).toBeGreaterThan(45);
  }, 120_000);

  it('layers: with adaptation on, a relay receiver is told its layers, subscribes to each layer room, reports its relay path, and decodes', async () => {
    const J = await startJanus();
    janus.push(J);
    const relay = J.relay('layers');
    const { sender, url, stats } = await startSender('layers', [relay], ['--adapt', 'on']);
    const dir = mkdtempSync(join(tmpdir(), 'm4sc-relay-frames-'));
    const rx = start(BIN.recv, [
      ...['--signal', url, '--room', 'layers', '--duration', '12', '--task', 'reconstruct'],
      ...['--relay', relay, '--out', dir, '--quiet'],
    ]);
    const rxId = await peerIdOf(rx);
    const [, to] = await rx.waitFor(/relay layers from=1 to=(\d+)/, 20_000);
    const n = Number(to);
    expect(n).toBeGreaterThanOrEqual(2);
    // One subscription per layer room: ROOM for the base, ROOM.layer<k> for enhancement k.
    for (let k = 1; k < n; k++)
      await rx.waitFor(new RegExp(`relay: subscribed to \\S+ in janus://\\S+/layers\\.layer${k}\\b`), 10_000);
    expect(await rx.exited).toBe(0);
    sender.child.kill('SIGINT');
    await sender.exited;
    expect(sender.stderr()).not.toMatch(/malformed relay-report/);
    const l = lines(rx);
    expect(l.length, rx.stderr()).toBeGreaterThan(30);
    // Every layer is handed to its publisher once per encoded sample, whatever the receivers take (samples
    // that came while a layer room's publisher was still connecting are counted as dropped there). Per public
    // encode, not per sample: the samples before the receiver asked are not encoded (on a loaded host it
    // joined late, and layers per sample read 1.90 against the 3 it was told). The layers a sample has follow
    // the adaptation, so the mean lies within the counts the receiver was told over the run.
    const s = statsLines(stats);
    const last = s[s.length - 1]!;
    const handed = (last.relay!.samples + last.relay!.droppedNotUp) / last.publicEncodes;
    const told = [...rx.stderr().matchAll(/relay layers from=\d+ to=(\d+)/g)].map((m) => Number(m[1]));
    console.info(
      '[relay layers]',
      JSON.stringify({ handed, told, samples: last.samples, encodes: last.publicEncodes }),
    );
    expect(handed, JSON.stringify(told)).toBeGreaterThan(Math.min(...told) - 0.6);
    expect(handed, JSON.stringify(told)).toBeLessThan(Math.max(...told) + 0.5);
    // Once on the relay with every layer, the sender sends it no public bytes directly.
    expect(directPublic(s, rxId, 0)).toBe(directPublic(s, rxId, 3));
    // Late frames through Janus equal the local decode at the full rate when every layer is taken (the
    // enhancement rooms really deliver: a missing layer would cost several dB, not a rounding error). A
    // layer that comes after the receiver's hold is dropped (late-layer) and its frame decodes without it,
    // counted in lostPackets: on a loaded host (load average 9 in a CI run) one of the last three frames was
    // such a frame. So: most late frames are whole, and the last three whole ones equal the local decode.
    const w = withPeer(s, rxId);
    const since = w[w.length - 4]!.samples;
    const after = l.filter((x) => x.seq > since && x.file);
    const whole = after.filter((x) => x.lostPackets === 0);
    expect(whole.length, JSON.stringify(after.map((x) => x.lostPackets))).toBeGreaterThanOrEqual(
      Math.max(3, after.length / 2),
    );
    const late = whole.slice(-3);
    if (told.at(-1) === 3) for (const x of late) expect(await reconstructPsnr(x)).toBeGreaterThan(45);
    else for (const x of late) expect(await reconstructPsnr(x)).toBeGreaterThan(15);
  }, 120_000);

  it('cascade: Janus A forwards to Janus B (remote publisher); receivers of both decode, the sender uploads once', async () => {
    const A = await startJanus();
    const B = await startJanus();
    janus.push(A, B);
    const ra = A.relay('cascade');
    const rb = B.relay('cascade');
    const { sender, url, stats } = await startSender('cascade', [ra, rb]);
    await sender.waitFor(/relay: cascade up: janus:\/\/\S+\/cascade fed by Janus forwarding/, 30_000);
    const dir = mkdtempSync(join(tmpdir(), 'm4sc-relay-frames-'));
    const common = [
      '--signal',
      url,
      '--room',
      'cascade',
      '--duration',
      '10',
      '--quiet',
      '--task',
      'reconstruct',
    ];
    const atA = start(BIN.recv, [...common, '--relay', ra]);
    const atB = start(BIN.recv, [...common, '--relay', rb, '--out', dir]);
    const [idA, idB] = await Promise.all([peerIdOf(atA), peerIdOf(atB)]);
    expect(await Promise.all([atA.exited, atB.exited])).toEqual([0, 0]);
    sender.child.kill('SIGINT');
    await sender.exited;

    for (const p of [atA, atB]) {
      expect(lines(p).length, p.stderr()).toBeGreaterThan(15);
      expect(p.stderr()).toMatch(/public stream arrives through the relay/);
    }
    expect(atB.stderr()).toContain(rb);
    const s = statsLines(stats);
    for (const id of [idA, idB]) expect(directPublic(s, id, 0)).toBe(directPublic(s, id, 3));
    const last = s[s.length - 1]!;
    expect(last.relay!.cascades).toBe(1);
    // Uploaded once: each layer handed to one publisher (Janus A) once per sample; a second upload (to B
    // as well) would double it. The layer count is what the receivers were told to subscribe to.
    const n = Math.max(
      ...[atA, atB].flatMap((p) =>
        [...p.stderr().matchAll(/relay layers from=\d+ to=(\d+)/g)].map((m) => Number(m[1])),
      ),
    );
    expect(n).toBeGreaterThanOrEqual(2);
    expect((last.relay!.samples + last.relay!.droppedNotUp) / last.samples).toBeLessThan(n + 0.5);
    const wb = withPeer(s, idB);
    const since = wb[wb.length - 4]!.samples;
    const fromB = lines(atB).filter((x) => x.seq > since && x.file);
    expect(fromB.length).toBeGreaterThan(6);
    for (const x of fromB.slice(-2)) expect(await reconstructPsnr(x)).toBeGreaterThan(45);
  }, 120_000);

  it('Janus killed and restarted mid-stream: sender and receiver reconnect on their own within 5 s, say so, and decoding goes on', async () => {
    const J = await startJanus();
    janus.push(J);
    const relay = J.relay('restart');
    const { sender, url } = await startSender('restart', [relay]);
    const rx = start(BIN.recv, [
      ...[
        '--signal',
        url,
        '--room',
        'restart',
        '--duration',
        '18',
        '--task',
        'reconstruct',
        '--relay',
        relay,
      ],
      '--quiet',
    ]);
    await rx.waitFor(/public stream arrives through the relay/, 30_000);
    await new Promise((r) => setTimeout(r, 1000));
    const before = lines(rx).length;
    const killedAt = Date.now();
    await J.restart({ crash: true });
    await sender.waitFor(/relay: connection to janus:\/\/\S+ lost/, 5_000);
    const [, senderMs] = await sender.waitFor(/relay: reconnected to janus:\/\/\S+ after (\d+) ms/, 5_000);
    await rx.waitFor(/relay: reconnected to janus:\/\/\S+ after \d+ ms/, 5_000);
    const deadline = 5_000 - (Date.now() - killedAt);
    await expect
      .poll(() => count(rx.stderr(), /public stream arrives through the relay/), {
        timeout: Math.max(deadline, 1),
      })
      .toBe(2);
    expect(Date.now() - killedAt).toBeLessThan(5_000);
    expect(Number(senderMs)).toBeLessThan(5_000);
    // Meanwhile the sender served it directly: no gap longer than a second.
    await new Promise((r) => setTimeout(r, 2000));
    const seqs = lines(rx)
      .slice(before - 1)
      .map((x) => x.seq);
    expect(seqs.length).toBeGreaterThan(10);
    let longest = 0;
    for (let i = 1; i < seqs.length; i++) longest = Math.max(longest, seqs[i]! - seqs[i - 1]!);
    expect(longest).toBeLessThanOrEqual(6);
  }, 120_000);

  it('churn: a relay receiver killed mid-stream leaves the others untouched; a late joiner decodes within 1 s of connecting', async () => {
    const J = await startJanus();
    janus.push(J);
    const relay = J.relay('churn');
    const { sender, url } = await startSender('churn', [relay]);
    const common = ['--signal', url, '--room', 'churn', '--quiet', '--task', 'reconstruct', '--relay', relay];
    const steady = start(BIN.recv, [...common, '--duration', '14']);
    const victim = start(BIN.recv, common);
    await Promise.all([
      steady.waitFor(/public stream arrives through the relay/, 30_000),
      victim.waitFor(/public stream arrives through the relay/, 30_000),
    ]);
    victim.child.kill('SIGKILL');
    await sender.waitFor(/receiver left peerId=\S+ reason=/, 10_000);
    const late = start(BIN.recv, [...common, '--duration', '4']);
    await late.waitFor(/connected to sender/, 30_000);
    const connectedAt = Date.now();
    await late.waitFor(/"task":"reconstruct"/, 5_000);
    expect(Date.now() - connectedAt).toBeLessThan(1_000);
    await late.waitFor(/public stream arrives through the relay/, 5_000);
    expect(await steady.exited).toBe(0);
    const seqs = lines(steady).map((x) => x.seq);
    expect(seqs.length).toBeGreaterThan(30);
    let gaps = 0;
    for (let i = 1; i < seqs.length; i++) if (seqs[i]! - seqs[i - 1]! > 1) gaps++;
    expect(gaps).toBeLessThanOrEqual(2);
    // What the relay path lost, from the feeds' packet numbers (so samples lost whole too): on loopback, next
    // to nothing (werift's DTLS once lost the 4th packet of every feed to Janus's replay check: patch item 14).
    const summary = JSON.parse(/m4sc-recv: summary (\{.*\})/.exec(steady.stderr())![1]!) as {
      relay: { packetsExpected: number; lostPackets: number };
    };
    expect(summary.relay.packetsExpected).toBeGreaterThan(30);
    expect(summary.relay.lostPackets).toBeLessThanOrEqual(2);
  }, 120_000);
});
