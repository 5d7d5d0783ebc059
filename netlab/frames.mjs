// Frames of the lab's synthetic source at any size. The scene generator renders 32×32 (SCENE_SIZE); a scenario
// with `frameSize` (e.g. 64, issue 4's frame size) streams each scene scaled up by pixel replication, written as
// PPM files that m4sc-send reads with `--source images:DIR` (looped: frame seq is file seq % count). The same
// function gives the JPEG baseline its frames and the report its ground truth.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateScene, renderScene, SCENE_SIZE, scaleScene } from '@m4sc/semantic-codec';

export const seedOf = (seq) => 9 + 10 * seq;

/** RGB bytes of frame `seq` at size × size (nearest-neighbour scaling of the 32×32 scene). */
export function sceneFrame(seq, size = SCENE_SIZE) {
  return scaleScene(renderScene(generateScene(seedOf(seq))), size);
}

/** Writes frames 0..count−1 as PPM files into `dir` (names sort in frame order). */
export function writeSceneFrames(dir, size, count) {
  mkdirSync(dir, { recursive: true });
  for (let i = 0; i < count; i++) {
    const header = Buffer.from(`P6\n${size} ${size}\n255\n`);
    writeFileSync(
      join(dir, `${String(i).padStart(6, '0')}.ppm`),
      Buffer.concat([header, sceneFrame(i, size)]),
    );
  }
}
