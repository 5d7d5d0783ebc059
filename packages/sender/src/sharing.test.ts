import { describe, expect, it } from 'vitest';
import { createWordEditSharingPolicy, groupInstructions, queryWords } from './sharing.js';

const answer = (query: string) => ({ task: 'answer', modality: 'image', query });
const policy = createWordEditSharingPolicy();

describe('semantic sharing policy', () => {
  it('treats case, spacing and punctuation as identical (the model cannot see them)', () => {
    expect(queryWords('What colour is the Circle?')).toEqual(['what', 'colour', 'is', 'the', 'circle']);
    expect(
      policy.similarity(answer('What colour is the circle?'), answer('what colour is  the circle')),
    ).toBe(1);
  });

  it('never merges mirror-image questions that share every word', () => {
    const a = answer('is the red circle left of the blue square ?');
    const b = answer('is the blue square left of the red circle ?');
    expect(policy.similarity(a, b)).toBeLessThan(policy.threshold);
  });

  it('never merges different tasks, even with the same query', () => {
    expect(policy.similarity({ task: 'caption', modality: 'image', query: '' }, answer(''))).toBe(0);
  });

  it('merges a long question that differs by one word in ten', () => {
    const a = answer('is the red circle left of the big blue square over there ?');
    const b = answer('is the red circle left of the big blue square over here ?');
    expect(policy.similarity(a, b)).toBeGreaterThanOrEqual(0.9);
    expect(
      groupInstructions(
        [
          ['r1', a],
          ['r2', b],
        ],
        policy,
      ),
    ).toHaveLength(1);
  });

  it('groups in join order, one group per distinct instruction', () => {
    const groups = groupInstructions(
      [
        ['r1', answer('how many shapes are there ?')],
        ['r2', { task: 'caption', modality: 'image', query: '' }],
        ['r3', answer('How many shapes are there')],
        ['r4', answer('how many circles are there ?')],
      ],
      policy,
    );
    expect(groups.map((g) => g.members)).toEqual([['r1', 'r3'], ['r2'], ['r4']]);
    expect(groups[0]!.instruction.query).toBe('how many shapes are there ?');
  });

  it('rejects a threshold outside (0, 1]', () => {
    expect(() => createWordEditSharingPolicy(0)).toThrow(TypeError);
    expect(() => createWordEditSharingPolicy(1.5)).toThrow(TypeError);
  });
});
