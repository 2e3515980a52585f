import { describe, expect, it } from 'vitest';
import { TokenSource } from './TokenSource';
import type { SessionToken } from './types';

const token = (name: string, inMs: number): SessionToken => ({ token: name, userId: 'u', name: 'u', expiresAt: Date.now() + inMs });

describe('TokenSource', () => {
  it('hands out the cached token while it has more than the margin left', async () => {
    let fetches = 0;
    const source = new TokenSource(async () => token(`t${++fetches}`, 3600_000), token('initial', 3600_000));
    expect(await source.get()).toBe('initial');
    expect(fetches).toBe(0);
  });

  it('refreshes a token about to expire, once for concurrent callers, and reports it', async () => {
    let fetches = 0;
    const seen: string[] = [];
    const source = new TokenSource(async () => token(`t${++fetches}`, 3600_000), token('old', 30_000), 60_000, (t) => seen.push(t.token));
    expect(await Promise.all([source.get(), source.get(), source.get()])).toEqual(['t1', 't1', 't1']);
    expect(fetches).toBe(1);
    expect(seen).toEqual(['t1']);
  });

  it('falls back to the last token when refreshing fails (offline), and throws with none', async () => {
    const offline = async (): Promise<SessionToken> => {
      throw new Error('offline');
    };
    expect(await new TokenSource(offline, token('stale', -1000)).get()).toBe('stale');
    await expect(new TokenSource(offline).get()).rejects.toThrow('offline');
  });
});
