import { describe, expect, it } from 'vitest';
import { TokenBucket } from './rateLimit.js';

describe('TokenBucket', () => {
  it('allows a full burst, then drops, then refills at the configured rate', () => {
    const bucket = new TokenBucket(10, 5, 100, 0);
    const burst = Array.from({ length: 6 }, () => bucket.take(0));
    expect(burst).toEqual(['allow', 'allow', 'allow', 'allow', 'allow', 'drop']);
    expect(bucket.take(50)).toBe('drop'); // half a token
    expect(bucket.take(100)).toBe('allow'); // 10 msg/s → one token per 100 ms
  });

  it('asks to close after closeAfterDropped drops without a pause', () => {
    const bucket = new TokenBucket(1, 1, 3, 0);
    expect([bucket.take(0), bucket.take(0), bucket.take(0), bucket.take(0)]).toEqual([
      'allow',
      'drop',
      'drop',
      'close',
    ]);
  });

  it('forgives earlier drops once the bucket has refilled completely', () => {
    const bucket = new TokenBucket(10, 2, 3, 0);
    bucket.take(0);
    bucket.take(0);
    expect(bucket.take(0)).toBe('drop');
    expect(bucket.take(0)).toBe('drop');
    expect(bucket.dropped).toBe(2);
    expect(bucket.take(1000)).toBe('allow');
    expect(bucket.dropped).toBe(0);
  });
});
