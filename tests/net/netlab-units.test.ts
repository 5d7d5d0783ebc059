// The lab's pure parts, no root needed: scenario validation (frameSize, TURN), scaled frames, the TURN config.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateScene, renderScene, SCENE_SIZE } from '@m4sc/semantic-codec';
import { afterAll, describe, expect, it } from 'vitest';
// @ts-expect-error plain ES modules of the lab, no declarations
import { sceneFrame } from '../../netlab/frames.mjs';
// @ts-expect-error plain ES modules of the lab, no declarations
import { loadScenario } from '../../netlab/scenario.mjs';
// @ts-expect-error plain ES modules of the lab, no declarations
import { turnConfig } from '../../netlab/turn.mjs';

const dir = mkdtempSync(join(tmpdir(), 'm4sc-netlab-units-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const scenario = (o: object) => {
  const f = join(dir, `s${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(
    f,
    JSON.stringify({
      name: 't',
      durationS: 5,
      receivers: [{ name: 'a', kind: 'm4sc', link: 'l' }],
      timeline: [],
      ...o,
    }),
  );
  return () => loadScenario(f);
};

describe('netlab scenarios', () => {
  it('the shipped scenarios load, at issue 4 numbers where they say so', () => {
    const drop = loadScenario('bandwidth-drop');
    expect(drop.frameSize).toBe(64);
    expect(drop.timeline.map((e: { set: { rateKbit?: number } }) => e.set.rateKbit)).toEqual([
      2000, 200, 2000,
    ]);
    const room = loadScenario('mixed-room');
    expect(new Set(room.receivers.map((r: { link: string }) => r.link)).size).toBe(4);
    expect(loadScenario('turn-relay').ice).toBe('turn');
    const q = loadScenario('20-percent-loss');
    expect(q.frameSize).toBe(64);
    expect(q.timeline).toEqual([{ atS: 0, link: 'loss20', set: { lossPct: 20 } }]);
  });

  it('validates frameSize and TURN scenarios', () => {
    expect(scenario({ frameSize: 64 })().frameSize).toBe(64);
    expect(scenario({ frameSize: 30 })).toThrow(/frameSize must be a multiple of 4/);
    expect(scenario({ ice: 'stun' })).toThrow(/ice must be 'turn'/);
    expect(scenario({ ice: 'turn', receivers: [{ name: 'j', kind: 'jpeg', link: 'l' }] })).toThrow(
      /m4sc receivers only/,
    );
    expect(scenario({ ice: 'turn', timeline: [{ atS: 0, link: 'l', set: { delayMs: 10 } }] })).toThrow(
      /'delayMs' needs the lab's relays/,
    );
    expect(
      scenario({ ice: 'turn', timeline: [{ atS: 0, link: 'l', set: { lossPct: 5, rateKbit: 200 } }] }),
    ).not.toThrow();
  });
});

describe('netlab frames', () => {
  it('a 64×64 frame is the 32×32 scene with each pixel doubled; 32 is the scene itself', () => {
    const src = renderScene(generateScene(9 + 10 * 7));
    expect(Array.from(sceneFrame(7, SCENE_SIZE))).toEqual(Array.from(src));
    const big = sceneFrame(7, 64);
    expect(big.length).toBe(64 * 64 * 3);
    for (const [x, y] of [
      [0, 0],
      [13, 21],
      [31, 31],
    ]) {
      const s = (y * 32 + x) * 3;
      for (const [dx, dy] of [
        [0, 0],
        [1, 0],
        [0, 1],
        [1, 1],
      ]) {
        const d = ((2 * y + dy) * 64 + 2 * x + dx) * 3;
        expect([big[d], big[d + 1], big[d + 2]]).toEqual([src[s], src[s + 1], src[s + 2]]);
      }
    }
  });
});

describe('netlab TURN config', () => {
  it('listens on the lab addresses only, long-term credentials, no TLS/CLI/TCP', () => {
    const c = turnConfig({
      listenHosts: ['10.77.0.1', '10.77.1.1'],
      relayHost: '10.77.0.1',
      username: 'm4lab',
      password: 'pw',
      dir: '/tmp/x',
    }).split('\n');
    expect(c.filter((l: string) => l.startsWith('listening-ip='))).toEqual([
      'listening-ip=10.77.0.1',
      'listening-ip=10.77.1.1',
    ]);
    for (const l of [
      'relay-ip=10.77.0.1',
      'lt-cred-mech',
      'user=m4lab:pw',
      'no-cli',
      'no-tls',
      'no-dtls',
      'no-tcp',
    ])
      expect(c).toContain(l);
  });
});
