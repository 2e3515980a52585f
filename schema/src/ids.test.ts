import { describe, expect, it } from 'vitest';
import { parseDocName } from './ids';

describe('parseDocName', () => {
  it('reads conversation and inbox names and refuses anything else', () => {
    expect(parseDocName('conversation:abc')).toEqual({ type: 'conversation', id: 'abc' });
    expect(parseDocName('inbox:u.1')).toEqual({ type: 'inbox', userId: 'u.1' });
    expect(parseDocName('inbox:')).toBeNull();
    expect(parseDocName('inbox:a/b')).toBeNull();
    expect(parseDocName(`conversation:${'x'.repeat(65)}`)).toBeNull();
    expect(parseDocName('other:abc')).toBeNull();
  });
});
