import { DEFAULTS, type HistoryPage, type Message } from '@parley/schema';
import { IdbTable } from './IdbTable';

interface CachedPage {
  conversationId: string;
  /** The `before` the page was asked with ('' for the newest page). */
  before: string;
  page: HistoryPage;
  usedAt: number;
}

/** Something that fetches a history page from the server (ApiClient.history). */
export type FetchHistory = (conversationId: string, before: string | undefined, limit: number) => Promise<HistoryPage>;

export interface LoadedPage extends HistoryPage {
  /** Where it came from: the server now, or this device's cache (offline). */
  source: 'server' | 'cache';
}

/** No network and no cached copy of the page asked for. */
export class HistoryUnavailable extends Error {
  constructor(conversationId: string, before: string | undefined) {
    super(`history of ${conversationId} before ${before ?? 'the newest'} is not cached on this device`);
  }
}

const keyOf = (conversationId: string, before: string | undefined) => `${conversationId}\n${before ?? ''}`;

/**
 * Pages of older history (`GET /api/conversations/:id/messages`) the user
 * has seen, kept in IndexedDB, so "load older" works offline as far as the
 * user scrolled before (issue 9). A page is cached under the `before` it was
 * asked with: a client that scrolls back asks the same sequence of cursors
 * (its oldest live message id, then each `nextCursor`), online or not. At
 * most `DEFAULTS.historyCachePagesMax` pages over all conversations; the
 * least recently used go first. A change queued offline to a cached message
 * (OutsideWindowOutbox) is folded into the cached copy, so it shows offline too.
 */
export class HistoryCache {
  private readonly table: IdbTable<CachedPage>;
  /** Recency of each cached key, loaded once; the order of the map is the eviction order. */
  private recency: Promise<Map<string, number>>;

  constructor(
    dbName: string,
    persist: boolean,
    private readonly fetchPage: FetchHistory,
    private readonly maxPages: number = DEFAULTS.historyCachePagesMax,
  ) {
    this.table = new IdbTable(dbName, persist);
    this.recency = this.table.all().then((rows) => new Map(rows.sort((a, b) => a.value.usedAt - b.value.usedAt).map((r) => [r.key, r.value.usedAt])));
  }

  /**
   * The page before `before` (a message id or a cursor; none: the newest),
   * from the server when it answers, else from the cache. A server that
   * answers with an error (not a member, unknown cursor) is not papered over
   * with the cache: that error is thrown.
   */
  async load(conversationId: string, before: string | undefined, limit: number = DEFAULTS.historyPageDefault): Promise<LoadedPage> {
    let page: HistoryPage;
    try {
      page = await this.fetchPage(conversationId, before, limit);
    } catch (error) {
      if (!isNetworkFailure(error)) throw error;
      const cached = await this.table.get(keyOf(conversationId, before));
      if (!cached) throw new HistoryUnavailable(conversationId, before);
      await this.touch(keyOf(conversationId, before), cached);
      return { ...cached.page, source: 'cache' };
    }
    await this.store(conversationId, before, page);
    return { ...page, source: 'server' };
  }

  /** Whether a cached page holds the message (the user has seen it in older history). */
  async holds(conversationId: string, messageId: string): Promise<boolean> {
    for (const key of (await this.recency).keys()) {
      if (key.startsWith(`${conversationId}\n`) && (await this.table.get(key))?.page.messages.some((m) => m.id === messageId)) return true;
    }
    return false;
  }

  /** Applies a change to every cached copy of a message (a change queued offline shows offline). */
  async patch(conversationId: string, messageId: string, change: (message: Message) => Message): Promise<void> {
    for (const key of (await this.recency).keys()) {
      if (!key.startsWith(`${conversationId}\n`)) continue;
      const cached = await this.table.get(key);
      if (!cached?.page.messages.some((m) => m.id === messageId)) continue;
      const messages = cached.page.messages.map((m) => (m.id === messageId ? change(m) : m));
      await this.table.put(key, { ...cached, page: { ...cached.page, messages } });
    }
  }

  async size(): Promise<number> {
    return (await this.recency).size;
  }

  get dbName(): string {
    return this.table.dbName;
  }

  close(): Promise<void> {
    return this.table.close();
  }

  private async store(conversationId: string, before: string | undefined, page: HistoryPage): Promise<void> {
    const key = keyOf(conversationId, before);
    await this.touch(key, { conversationId, before: before ?? '', page, usedAt: Date.now() });
    const recency = await this.recency;
    const evicted: string[] = [];
    for (const old of recency.keys()) {
      if (recency.size - evicted.length <= this.maxPages) break;
      evicted.push(old);
    }
    for (const old of evicted) recency.delete(old);
    if (evicted.length > 0) await this.table.delete(evicted);
  }

  private async touch(key: string, page: CachedPage): Promise<void> {
    const recency = await this.recency;
    const usedAt = Date.now();
    recency.delete(key);
    recency.set(key, usedAt);
    await this.table.put(key, { ...page, usedAt }).catch(() => {
      // Quota or a closed database: the page is still served this time.
    });
  }
}

/** fetch rejects with a TypeError when there is no network; an HTTP answer (ApiError) is not one. */
export const isNetworkFailure = (error: unknown): boolean => error instanceof TypeError;
