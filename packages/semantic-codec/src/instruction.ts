/**
 * The unified task-instruction template (docs/BUNDLE.md):
 * `<bos> <task:T> <mod:M> <out:O> query words… <eos> <pad>…`, length `instruction.maxLen`.
 */
import { MAX_QUERY_CHARS } from './defaults.js';
import { UnsupportedError } from './errors.js';
import { BOS_ID, EOS_ID, splitWords, type Tokenizer } from './tokenizer.js';

export const TASKS = ['reconstruct', 'classify', 'caption', 'answer', 'transmit'] as const;
export const MODALITIES = ['image', 'text'] as const;
export const OUTPUTS = ['image', 'label', 'text'] as const;
export type Task = (typeof TASKS)[number];
export type Modality = (typeof MODALITIES)[number];
export type OutputKind = (typeof OUTPUTS)[number];

/** A validated instruction. */
export interface Instruction {
  readonly task: Task;
  readonly modality: Modality;
  readonly output: OutputKind;
  /** Query words (lower-cased, split), empty when there is no query. */
  readonly query: readonly string[];
}

/** What a receiver asks for; modality and output default per task. */
export interface InstructionInput {
  task: string;
  modality?: string;
  query?: string;
  output?: string;
}

/** Default modality and output form of each task. */
export const TASK_DEFAULTS: Readonly<Record<Task, { modality: Modality; output: OutputKind }>> = {
  reconstruct: { modality: 'image', output: 'image' },
  classify: { modality: 'image', output: 'label' },
  caption: { modality: 'image', output: 'text' },
  answer: { modality: 'image', output: 'text' },
  transmit: { modality: 'text', output: 'text' },
};

export interface ParseInstructionOptions {
  /** Tasks the bundle supports; default all of `TASKS`. */
  tasks?: readonly string[];
  /** Modalities the bundle supports; default all of `MODALITIES`. */
  modalities?: readonly string[];
  /** Instruction length in tokens (`instruction.maxLen`); the query gets maxLen − 5 words. Default 24. */
  maxLen?: number;
}

/**
 * Validates an instruction. Unknown or unsupported task/modality/output → UnsupportedError; a missing or
 * malformed field, a query over the length limit, or an `answer` with no query → TypeError.
 */
export function parseInstruction(
  input: InstructionInput,
  options: ParseInstructionOptions = {},
): Instruction {
  if (typeof input !== 'object' || input === null) throw new TypeError('instruction must be an object');
  const { task, modality, query, output } = input;
  if (typeof task !== 'string') throw new TypeError('instruction.task must be a string');
  if (!(TASKS as readonly string[]).includes(task) || (options.tasks && !options.tasks.includes(task))) {
    throw new UnsupportedError(`unsupported task '${task}'`);
  }
  const t = task as Task;
  const m = modality ?? TASK_DEFAULTS[t].modality;
  if (typeof m !== 'string') throw new TypeError('instruction.modality must be a string');
  if (
    !(MODALITIES as readonly string[]).includes(m) ||
    (options.modalities && !options.modalities.includes(m))
  ) {
    throw new UnsupportedError(`unsupported modality '${m}'`);
  }
  const o = output ?? TASK_DEFAULTS[t].output;
  if (typeof o !== 'string') throw new TypeError('instruction.output must be a string');
  if (!(OUTPUTS as readonly string[]).includes(o)) throw new UnsupportedError(`unsupported output '${o}'`);
  if (query !== undefined && typeof query !== 'string')
    throw new TypeError('instruction.query must be a string');
  const q = query ?? '';
  if (q.length > MAX_QUERY_CHARS)
    throw new TypeError(`query of ${q.length} chars exceeds ${MAX_QUERY_CHARS}`);
  const words = splitWords(q);
  const maxLen = options.maxLen ?? 24;
  if (words.length > maxLen - 5) {
    throw new TypeError(`query has ${words.length} words; at most ${maxLen - 5} fit the instruction`);
  }
  if (t === 'answer' && words.length === 0) throw new TypeError("task 'answer' needs a query");
  return { task: t, modality: m as Modality, output: o as OutputKind, query: words };
}

/** A stable string key of an instruction (identical requests share one encode). */
export function instructionKey(instr: Instruction): string {
  return `${instr.task}/${instr.modality}/${instr.output}/${instr.query.join(' ')}`;
}

/**
 * Instruction → ids [maxLen] (BigInt64Array). The task, modality and output tokens must be in the
 * vocabulary (UnsupportedError otherwise); unknown query words map to `<unk>`.
 */
export function encodeInstruction(tokenizer: Tokenizer, instr: Instruction): BigInt64Array {
  const v = tokenizer.instruction;
  const specials = [`<task:${instr.task}>`, `<mod:${instr.modality}>`, `<out:${instr.output}>`];
  for (const s of specials)
    if (!v.has(s)) throw new UnsupportedError(`the bundle's instruction vocabulary lacks ${s}`);
  const seq = [BOS_ID, ...specials.map((s) => v.id(s)), ...instr.query.map((w) => v.id(w)), EOS_ID];
  if (seq.length > v.maxLen)
    throw new TypeError(`instruction of ${seq.length} tokens exceeds maxLen ${v.maxLen}`);
  const ids = new BigInt64Array(v.maxLen);
  seq.forEach((id, i) => {
    ids[i] = BigInt(id);
  });
  return ids;
}
