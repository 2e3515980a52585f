import { describe, expect, it } from 'vitest';
import { byteRange } from './byteRange';

describe('byteRange', () => {
  it('reads the three forms of one range', () => {
    expect(byteRange('bytes=0-9', 100)).toEqual({ start: 0, end: 9 });
    expect(byteRange('bytes=90-', 100)).toEqual({ start: 90, end: 99 });
    expect(byteRange('bytes=-10', 100)).toEqual({ start: 90, end: 99 });
    expect(byteRange('bytes=50-500', 100)).toEqual({ start: 50, end: 99 });
    expect(byteRange('bytes=-500', 100)).toEqual({ start: 0, end: 99 });
  });
  it('answers unsatisfiable outside the file, and null (the whole file) for what it does not serve', () => {
    expect(byteRange('bytes=100-', 100)).toBe('unsatisfiable');
    expect(byteRange('bytes=9-3', 100)).toBe('unsatisfiable');
    expect(byteRange('bytes=-0', 100)).toBe('unsatisfiable');
    for (const header of [undefined, '', 'bytes=-', 'items=0-1', 'bytes=0-1,5-9', 'bytes=a-b']) expect(byteRange(header, 100)).toBeNull();
  });
});
