/** Defaults of the semantic codec, in one place (STYLE §8). Units are in the names. */

/** Execution providers passed to onnxruntime when none are given. GPU selection is the caller's. */
export const DEFAULT_EXECUTION_PROVIDERS: readonly string[] = ['cpu'];

/** Highest ONNX opset (default domain) this runtime accepts; the bundle contract exports at 17. */
export const MAX_SUPPORTED_OPSET = 17;

/** Bundle manifest `format` and the highest `formatVersion` understood. */
export const BUNDLE_FORMAT = 'm4sc-bundle';
export const MAX_BUNDLE_FORMAT_VERSION = 1;

/** Seed of the channel simulators when none is given. */
export const DEFAULT_SEED = 1;

/**
 * Largest symbol packet produced when the caller gives no limit, header included. 1100 bytes leaves room
 * for the wire header (msgpackr), SCTP/DTLS/UDP/IP overhead under a 1280-byte IPv6 minimum path MTU.
 */
export const DEFAULT_MAX_PACKET_BYTES = 1100;

/** Bits per symbol when an operating point does not say. */
export const DEFAULT_BITS = 8;

/** Longest instruction query accepted, in characters (before the word limit set by `instruction.maxLen`). */
export const MAX_QUERY_CHARS = 512;

/**
 * Most tokens a received public image sample may claim (T = h·w from its packet headers; 4096 is a
 * 256×256 image at stride 4; m4sc-send defaults to 64×64, T = 256). The channel decoder's attention
 * grows as T²: a 25-byte packet claiming T = 16384 took 23 s and 9 GB to decode (found by tests/fuzz).
 * Text samples are bounded by the bundle's `text.maxLen`.
 */
export const MAX_DECODE_IMAGE_TOKENS = 4096;

/** Longest text accepted by `encodeText`, in characters; longer text is refused, not truncated silently. */
export const MAX_TEXT_CHARS = 4096;

/** SSIM window: Gaussian 11×11, σ = 1.5, K1 = 0.01, K2 = 0.03 (Wang et al. 2004). */
export const SSIM_WINDOW_PX = 11;
export const SSIM_SIGMA_PX = 1.5;
export const SSIM_K1 = 0.01;
export const SSIM_K2 = 0.03;

/** Highest n-gram order of BLEU (BLEU-4, Papineni et al. 2002). */
export const BLEU_MAX_ORDER = 4;

/** Most literal words (out-of-vocabulary words sent as UTF-8 beside a text sample's symbols) per sample. */
export const MAX_LITERALS = 32;
/** Most UTF-8 bytes of one literal word; longer words stay `<unk>`. */
export const MAX_LITERAL_BYTES = 48;
/** Literal words sit at token positions below this (the trailer's position is one byte). */
export const MAX_LITERAL_TOKEN = 256;
