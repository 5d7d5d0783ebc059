// What the bundle decodes for a synthetic scene locally over a clean channel, at m4sc-send's default
// operating points: the reference the process tests compare network results with.
import { generateScene, renderScene, SCENE_SIZE, type SemanticCodec } from '@m4sc/semantic-codec';
import { defaultPrivateOperatingPoint } from '@m4sc/sender';

/** The scene seed of sample `seq` of `m4sc-send --source synthetic`. */
export const sceneSeed = (seq: number) => 9 + 10 * seq;

/** Decoded image (reconstruct) or text (private tasks) of sample `seq`, through packetize → depacketize. */
export async function localDecode(
  codec: SemanticCodec,
  seq: number,
  task: string,
  query?: string,
  /** Images' public path, as `m4sc-send --image-code` sets it. */
  publicImage: 'learned' | 'code' = 'learned',
) {
  const image = { data: renderScene(generateScene(sceneSeed(seq))), width: SCENE_SIZE, height: SCENE_SIZE };
  // m4sc-send's defaults: the bundle's first point for the public stream, its cheapest at full rate for private ones.
  const op =
    task === 'reconstruct' ? codec.operatingPoints[0]! : defaultPrivateOperatingPoint(codec.operatingPoints);
  const instructions = task === 'reconstruct' ? [] : [{ task, ...(query ? { query } : {}) }];
  const enc = await codec.encodeSample({ image }, op, { instructions, publicImage });
  if (task === 'reconstruct') {
    const d = await codec.decodeSample({
      stream: 'public',
      modality: 'image',
      packets: enc.public.packets,
      op,
    });
    return d.kind === 'image' ? d.image : undefined;
  }
  const d = await codec.decodeSample({
    stream: 'private',
    instruction: instructions[0]!,
    packets: enc.private[0]!.packets,
    op,
  });
  return d.kind === 'text' ? d.text.text : undefined;
}
