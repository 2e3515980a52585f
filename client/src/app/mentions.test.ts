import { describe, expect, it } from 'vitest';
import { completeMention, mentionAtCaret, mentionCandidates, mentionsIn } from './mentions';

describe('mentions in the composer', () => {
  it('finds the @word at the caret, not an email address', () => {
    expect(mentionAtCaret('hi @bo', 6)).toEqual({ start: 3, query: 'bo' });
    expect(mentionAtCaret('@', 1)).toEqual({ start: 0, query: '' });
    expect(mentionAtCaret('mail me@bob', 11)).toBeNull();
    expect(mentionAtCaret('hi bob', 6)).toBeNull();
  });

  it('completes and lists candidates, prefix matches first', () => {
    expect(mentionCandidates(['jbo', 'bobby', 'bob', 'al'], 'bo')).toEqual(['bob', 'bobby', 'jbo']);
    expect(completeMention('hi @bo, ok', 3, 6, 'bobby')).toEqual({ text: 'hi @bobby , ok', caret: 10 });
  });

  it('reads the mentions of a text: whole ids of members only, never the author', () => {
    expect(mentionsIn('@bob and @bobby, also @al.', ['bob', 'bobby', 'al', 'me'], 'me')).toEqual(['bob', 'bobby', 'al']);
    expect(mentionsIn('@me and bob@bob and @stranger', ['bob', 'me'], 'me')).toEqual([]);
  });
});
