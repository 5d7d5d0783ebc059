/**
 * The synthetic scene generator, ported step by step from `training/data/scenes.md` (reference:
 * `training/data/scenes.py`): a seed gives the same scene, pixel for pixel, with the same caption and Q/A.
 * The evaluation uses the held-out seeds 9, 19, 29, … (seed % 10 == 9), which training never draws.
 */
import { createRng } from '../rng.js';

/** Canvas side in pixels. */
export const SCENE_SIZE = 32;
/** Colour names and RGB, in the spec's order. */
export const SCENE_COLOURS: readonly (readonly [string, readonly [number, number, number]])[] = [
  ['red', [230, 40, 40]],
  ['green', [40, 200, 60]],
  ['blue', [50, 90, 240]],
  ['yellow', [240, 220, 40]],
  ['white', [245, 245, 245]],
];
export const SCENE_SHAPES = ['circle', 'square', 'triangle'] as const;
const PLURAL: Record<string, string> = { circle: 'circles', square: 'squares', triangle: 'triangles' };
const NUMBERS = ['zero', 'one', 'two', 'three'];
const MAX_TRIES = 200;

export interface SceneShape {
  readonly shape: (typeof SCENE_SHAPES)[number];
  readonly colour: string;
  /** Half-size in pixels (4..6). */
  readonly r: number;
  readonly x: number;
  readonly y: number;
}

export interface Scene {
  readonly seed: number;
  /** Sorted left to right (by x). */
  readonly shapes: readonly SceneShape[];
}

/** The first `n` held-out scene seeds: 9, 19, 29, … */
export function heldOutSceneSeeds(n: number): number[] {
  return Array.from({ length: n }, (_, k) => 9 + 10 * k);
}

function ok(c: SceneShape, placed: readonly SceneShape[]): boolean {
  for (const p of placed) {
    if (Math.abs(c.x - p.x) < 3) return false;
    const gapX = Math.abs(c.x - p.x) - (c.r + p.r);
    const gapY = Math.abs(c.y - p.y) - (c.r + p.r);
    if (gapX < 1 && gapY < 1) return false;
  }
  return true;
}

/** The scene of `seed` (scenes.md, "Drawing a scene"). */
export function generateScene(seed: number): Scene {
  const rng = createRng(seed);
  const randint = (n: number) => Math.floor(rng.next() * n);
  const n = 1 + randint(3);
  const pool = SCENE_COLOURS.map(([name]) => name);
  const specs: { shape: SceneShape['shape']; colour: string; r: number }[] = [];
  for (let i = 0; i < n; i++) {
    const colour = pool.splice(randint(pool.length), 1)[0]!;
    const shape = SCENE_SHAPES[randint(3)]!;
    const r = 4 + randint(3);
    specs.push({ shape, colour, r });
  }
  for (;;) {
    const placed: SceneShape[] = [];
    for (const s of specs) {
      let done = false;
      for (let attempt = 0; attempt < MAX_TRIES; attempt++) {
        const x = s.r + randint(SCENE_SIZE - 2 * s.r + 1);
        const y = s.r + randint(SCENE_SIZE - 2 * s.r + 1);
        const c = { ...s, x, y };
        if (ok(c, placed)) {
          placed.push(c);
          done = true;
          break;
        }
      }
      if (!done) break;
    }
    if (placed.length === n) {
      placed.sort((a, b) => a.x - b.x);
      return { seed, shapes: placed };
    }
  }
}

/** RGB bytes, HWC, SCENE_SIZE² pixels (scenes.md, "Rendering"). */
export function renderScene(scene: Scene): Uint8Array {
  const img = new Uint8Array(SCENE_SIZE * SCENE_SIZE * 3);
  const colours = new Map(SCENE_COLOURS);
  for (const s of scene.shapes) {
    const rgb = colours.get(s.colour)!;
    for (let py = 0; py < SCENE_SIZE; py++) {
      for (let px = 0; px < SCENE_SIZE; px++) {
        const dx = px + 0.5 - s.x;
        const dy = py + 0.5 - s.y;
        const r = s.r;
        const inside =
          s.shape === 'circle'
            ? dx * dx + dy * dy <= r * r
            : s.shape === 'square'
              ? Math.abs(dx) <= r - 0.5 && Math.abs(dy) <= r - 0.5
              : dy >= -r && dy <= r && Math.abs(dx) <= (dy + r) / 2;
        if (inside) img.set(rgb, 3 * (py * SCENE_SIZE + px));
      }
    }
  }
  return img;
}

/**
 * A rendered scene at `size` × `size` by pixel replication (nearest neighbour): how the network lab and the
 * eval's frame loss sweep show scenes at the sender's frame size.
 */
export function scaleScene(rgb: Uint8Array, size: number): Uint8Array {
  if (size === SCENE_SIZE) return rgb;
  const out = new Uint8Array(size * size * 3);
  for (let y = 0; y < size; y++) {
    const sy = Math.floor((y * SCENE_SIZE) / size);
    for (let x = 0; x < size; x++) {
      const s = 3 * (sy * SCENE_SIZE + Math.floor((x * SCENE_SIZE) / size));
      out.set(rgb.subarray(s, s + 3), 3 * (y * size + x));
    }
  }
  return out;
}

/** "a red circle left of a blue square" */
export function sceneCaption(scene: Scene): string {
  return scene.shapes.map((s) => `a ${s.colour} ${s.shape}`).join(' left of ');
}

/** Every question and answer of the templates, in the spec's fixed order. */
export function sceneQuestions(scene: Scene): [string, string][] {
  const sh = scene.shapes;
  const qa: [string, string][] = [['how many shapes are there ?', NUMBERS[sh.length]!]];
  for (const kind of SCENE_SHAPES) {
    qa.push([`how many ${PLURAL[kind]} are there ?`, NUMBERS[sh.filter((s) => s.shape === kind).length]!]);
  }
  for (const kind of SCENE_SHAPES) {
    const same = sh.filter((s) => s.shape === kind);
    if (same.length === 1) qa.push([`what colour is the ${kind} ?`, same[0]!.colour]);
  }
  for (const s of sh) qa.push([`what shape is the ${s.colour} one ?`, s.shape]);
  for (const a of sh) {
    for (const b of sh) {
      if (a !== b) {
        qa.push([
          `is the ${a.colour} ${a.shape} left of the ${b.colour} ${b.shape} ?`,
          a.x < b.x ? 'yes' : 'no',
        ]);
      }
    }
  }
  for (const [c] of SCENE_COLOURS) {
    qa.push([`is there a ${c} shape ?`, sh.some((s) => s.colour === c) ? 'yes' : 'no']);
  }
  return qa;
}
