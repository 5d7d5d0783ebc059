import { describe, expect, it } from 'vitest';
import { parseSenderMessage } from './session.js';

const hello = { t: 'hello', codec: 'semantic', modality: 'image', fps: 15, source: 'pattern' };

describe('the sender’s hello', () => {
  it('carries the link-report period the sender asks for, and refuses one out of 20..5000 ms', () => {
    expect(parseSenderMessage(hello)).toEqual(hello); // a sender that predates it
    expect(parseSenderMessage({ ...hello, reportMs: 100 })).toEqual({ ...hello, reportMs: 100 });
    for (const reportMs of [0, 10, 6000, Number.NaN, '100', null])
      expect(parseSenderMessage({ ...hello, reportMs }), String(reportMs)).toBeUndefined();
  });
});
