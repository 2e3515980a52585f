import { describe, expect, it } from 'vitest';
import { searchMatch } from './searchMatch';

describe('searchMatch', () => {
  it('quotes every word as a required prefix', () => {
    expect(searchMatch('Invoice paid', 8)).toBe('"invoice"* "paid"*');
  });

  it('turns FTS syntax into plain words or nothing', () => {
    expect(searchMatch('"a" OR b* NEAR(c, d) -e ^f col:g', 20)).toBe('"a"* "or"* "b"* "near"* "c"* "d"* "e"* "f"* "col"* "g"*');
    expect(searchMatch('*** "" () : -', 8)).toBeNull();
  });

  it('keeps letters of every script and caps the number of terms', () => {
    expect(searchMatch('שלום мир 東京', 8)).toBe('"שלום"* "мир"* "東京"*');
    expect(searchMatch('a b c d e', 3)).toBe('"a"* "b"* "c"*');
  });
});
