import { DEFAULTS, type Identity, type SearchPage, type SearchQuery } from '@parley/schema';
import { ApiError } from '../../http/ApiError';
import type { Storage } from '../../storage/Storage';
import { publicMessage } from './publicMessage';
import { parseSearchCursor, searchCursor } from './searchCursor';
import { searchMatch } from './searchMatch';
import { snippetHtml } from './snippetHtml';

/**
 * `GET /api/search`: full-text search over the message index, best match
 * first, among the conversations the caller is a member of now (admins and
 * services included: search follows membership, not moderation rights).
 * Deleted messages never match (their text is gone from the index); an edit
 * is matched by its new text.
 */
export class MessageSearch {
  constructor(private readonly storage: Storage) {}

  async search(caller: Identity, query: SearchQuery): Promise<SearchPage> {
    const match = searchMatch(query.q, DEFAULTS.searchTermsMax);
    if (!match) throw ApiError.badRequest('q: give at least one word to search for (letters or digits)');
    if (query.conversationId !== undefined) await this.requireMember(caller, query.conversationId);
    const limit = query.limit ?? DEFAULTS.searchPageDefault;
    const after = query.cursor !== undefined ? parseSearchCursor(query.cursor, match, query.conversationId) : undefined;
    if (after === null) throw ApiError.badRequest('cursor: not a cursor of this search; start again without one');
    const hits = await this.storage.messages.search({
      userId: caller.userId,
      match,
      ...(query.conversationId !== undefined && { conversationId: query.conversationId }),
      limit: limit + 1,
      window: DEFAULTS.searchWindow,
      ...(after && { after }),
    });
    const page = hits.slice(0, limit);
    return {
      results: page.map((hit) => ({ conversationId: hit.message.conversationId, message: publicMessage(hit.message), snippet: snippetHtml(hit.snippet) })),
      nextCursor: hits.length > limit ? searchCursor(page.at(-1)!.position, match, query.conversationId) : null,
    };
  }

  /** Searching one conversation is for its members: an unknown one is 404, someone else's 403 (as its history). */
  private async requireMember(caller: Identity, conversationId: string): Promise<void> {
    if (!(await this.storage.conversations.get(conversationId))) throw ApiError.notFound(`no conversation ${conversationId}`);
    if (!(await this.storage.conversations.role(conversationId, caller.userId))) throw ApiError.forbidden('you are not a member of this conversation');
  }
}
