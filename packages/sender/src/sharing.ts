/**
 * Semantic sharing: receivers whose instructions are identical, or similar beyond a threshold, are served
 * by one private encode, sent once on the public channel as a `shared:<key>` stream tagged for them.
 *
 * Similarity is a policy (STYLE §9): the default compares the *token sequences the model would see*.
 * Two instructions are identical when their tasks match and their queries tokenise to the same words
 * (case, spacing and punctuation other than words do not matter: the model cannot see them). Otherwise
 * their similarity is 1 − (word-level Levenshtein distance ÷ the longer length), order-sensitive, so
 * "is the red circle left of the blue square" and its mirror image (same words, opposite answer) score
 * 0.6 and are never merged. The default threshold 0.9 merges only queries that differ by about one word in
 * ten: a single-word change in a short VQA question usually changes its answer, so merging stays rare and
 * deliberate. Different tasks or modalities are never merged.
 */

/** What sharing needs of an instruction. */
export interface ShareableInstruction {
  readonly task: string;
  readonly modality: string;
  /** The query as typed, or already split into words (the codec's `Instruction.query`). */
  readonly query: string | readonly string[];
}

/** Decides which instructions are answered together. */
export interface SharingPolicy {
  /** Similarity in [0, 1] of two instructions; 1 = identical for the model. */
  similarity(a: ShareableInstruction, b: ShareableInstruction): number;
  /** Instructions at or above this similarity share one encode. */
  readonly threshold: number;
}

/** Default {@link SharingPolicy} threshold. */
export const DEFAULT_SHARING_THRESHOLD = 0.9;

const WORD = /[a-z0-9']+/g;

/** The query's words as the tokenizer splits them, punctuation dropped. */
export function queryWords(query: string | readonly string[]): string[] {
  return (typeof query === 'string' ? query : query.join(' ')).toLowerCase().match(WORD) ?? [];
}

function levenshtein(a: readonly string[], b: readonly string[]): number {
  const prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0]!;
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = prev[j]!;
      prev[j] = Math.min(prev[j]! + 1, prev[j - 1]! + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = tmp;
    }
  }
  return prev[b.length]!;
}

/** The default policy: word-level edit similarity over tokenised queries (see the module comment). */
export function createWordEditSharingPolicy(threshold = DEFAULT_SHARING_THRESHOLD): SharingPolicy {
  if (!(threshold > 0 && threshold <= 1))
    throw new TypeError(`sharing threshold must be in (0, 1], got ${threshold}`);
  return {
    threshold,
    similarity(a, b) {
      if (a.task !== b.task || a.modality !== b.modality) return 0;
      const wa = queryWords(a.query);
      const wb = queryWords(b.query);
      const n = Math.max(wa.length, wb.length);
      return n === 0 ? 1 : 1 - levenshtein(wa, wb) / n;
    },
  };
}

/** A set of receivers answered by one encode of `instruction` (the first member's). */
export interface ShareGroup<I extends ShareableInstruction> {
  readonly instruction: I;
  readonly members: string[];
}

/**
 * Groups receivers greedily, in the order given: each joins the first group whose representative is
 * similar enough, else starts a group. Deterministic for a given order (the sender passes join order).
 */
export function groupInstructions<I extends ShareableInstruction>(
  entries: readonly (readonly [member: string, instruction: I])[],
  policy: SharingPolicy,
): ShareGroup<I>[] {
  const groups: { instruction: I; members: string[] }[] = [];
  for (const [member, instruction] of entries) {
    const g = groups.find((g) => policy.similarity(g.instruction, instruction) >= policy.threshold);
    if (g) g.members.push(member);
    else groups.push({ instruction, members: [member] });
  }
  return groups;
}
