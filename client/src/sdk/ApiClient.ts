import type { AdminReport, BlockEntry, ConversationListItem, HistoryPage, HttpErrorBody, Message, PresenceEntry, Prefs, Report, SearchPage } from '@parley/schema';
import type { TokenSource } from './TokenSource';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** The HTTP API (CONTRACT section 4), bearer-authenticated, one retry after a 401. */
export class ApiClient {
  constructor(
    private readonly baseUrl: string,
    private readonly tokens: TokenSource,
  ) {}

  async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    let response = await this.send(method, path, body, await this.tokens.get());
    if (response.status === 401) response = await this.send(method, path, body, (await this.tokens.refresh()).token);
    const text = await response.text();
    const json: unknown = text ? JSON.parse(text) : null;
    if (!response.ok) {
      const error = (json as Partial<HttpErrorBody> | null)?.error;
      throw new ApiError(response.status, error?.code ?? 'http_error', error?.message ?? `${method} ${path}: ${response.status}`);
    }
    return json as T;
  }

  private send(method: string, path: string, body: unknown, token: string): Promise<Response> {
    return fetch(`${this.baseUrl}/api${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body !== undefined && { 'content-type': 'application/json' }),
      },
      ...(body !== undefined && { body: JSON.stringify(body) }),
    });
  }

  listConversations(): Promise<ConversationListItem[]> {
    return this.request<ConversationListItem[] | { conversations: ConversationListItem[] }>('GET', '/conversations').then((body) =>
      Array.isArray(body) ? body : body.conversations,
    );
  }

  createConversation(body: { members: string[]; title?: string; kind?: 'direct' | 'group' }): Promise<{ id: string }> {
    return this.request('POST', '/conversations', body);
  }

  addMember(conversationId: string, userId: string): Promise<{ added: boolean }> {
    return this.request('POST', `/conversations/${encodeURIComponent(conversationId)}/members`, { userId });
  }

  removeMember(conversationId: string, userId: string): Promise<unknown> {
    return this.request('DELETE', `/conversations/${encodeURIComponent(conversationId)}/members/${encodeURIComponent(userId)}`);
  }

  rename(conversationId: string, title: string): Promise<{ id: string; title: string }> {
    return this.request('PATCH', `/conversations/${encodeURIComponent(conversationId)}`, { title });
  }

  history(conversationId: string, before?: string, limit?: number): Promise<HistoryPage> {
    const query = new URLSearchParams();
    if (before) query.set('before', before);
    if (limit) query.set('limit', String(limit));
    return this.request('GET', `/conversations/${encodeURIComponent(conversationId)}/messages?${query}`);
  }

  // --- issue 9: search and the REST message calls (changes to messages outside the live replica) ---
  search(q: string, options: { conversationId?: string; limit?: number; cursor?: string } = {}): Promise<SearchPage> {
    const query = new URLSearchParams({ q });
    if (options.conversationId) query.set('conversationId', options.conversationId);
    if (options.limit) query.set('limit', String(options.limit));
    if (options.cursor) query.set('cursor', options.cursor);
    return this.request('GET', `/search?${query}`);
  }

  private messagePath(conversationId: string, messageId: string): string {
    return `/conversations/${encodeURIComponent(conversationId)}/messages/${encodeURIComponent(messageId)}`;
  }

  /** One message as the server holds it now (`GET .../messages/:messageId`), in or outside the live window. */
  message(conversationId: string, messageId: string): Promise<{ message: Message }> {
    return this.request('GET', this.messagePath(conversationId, messageId));
  }

  editMessage(conversationId: string, messageId: string, text: string): Promise<{ message: Message }> {
    return this.request('PATCH', this.messagePath(conversationId, messageId), { text });
  }

  /** Soft deletion over REST: the author's, or an admin's of anyone's message (moderation). */
  deleteMessage(conversationId: string, messageId: string): Promise<{ message: Message }> {
    return this.request('DELETE', this.messagePath(conversationId, messageId));
  }

  setReaction(conversationId: string, messageId: string, emoji: string, on: boolean): Promise<{ message: Message }> {
    return this.request(on ? 'PUT' : 'DELETE', `${this.messagePath(conversationId, messageId)}/reactions/${encodeURIComponent(emoji)}`);
  }

  presence(users: string[]): Promise<Record<string, PresenceEntry>> {
    return this.request('GET', `/presence?users=${users.map(encodeURIComponent).join(',')}`);
  }

  preferences(): Promise<Prefs> {
    return this.request('GET', '/notifications/preferences');
  }

  // --- Blocks, reports and moderation (issue 14) ---
  blocks(): Promise<{ blocks: BlockEntry[] }> {
    return this.request('GET', '/users/me/blocks');
  }

  block(userId: string): Promise<{ block: BlockEntry }> {
    return this.request('PUT', `/users/me/blocks/${encodeURIComponent(userId)}`);
  }

  unblock(userId: string): Promise<{ userId: string; unblocked: boolean }> {
    return this.request('DELETE', `/users/me/blocks/${encodeURIComponent(userId)}`);
  }

  report(conversationId: string, messageId: string, reason: string): Promise<{ report: Report }> {
    return this.request('POST', `/conversations/${encodeURIComponent(conversationId)}/messages/${encodeURIComponent(messageId)}/report`, { reason });
  }

  adminReports(state: 'open' | 'closed' | 'all' = 'open'): Promise<{ reports: AdminReport[] }> {
    return this.request('GET', `/admin/reports?state=${state}`);
  }

  closeReport(id: string): Promise<{ report: Report }> {
    return this.request('POST', `/admin/reports/${encodeURIComponent(id)}/close`);
  }
}

/** The dev login (development and test servers only). */
export async function devLogin(baseUrl: string, userId: string, name?: string): Promise<{ token: string; userId: string; name: string; expiresAt: number }> {
  const response = await fetch(`${baseUrl}/api/dev/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ userId, ...(name && { name }) }),
  });
  if (!response.ok) throw new ApiError(response.status, 'dev_login_failed', `dev login failed: ${response.status}`);
  const body = (await response.json()) as { token: string; userId: string; name?: string; expiresAt: number | string };
  return { token: body.token, userId: body.userId, name: body.name ?? body.userId, expiresAt: toEpochMs(body.expiresAt) };
}

/** Accepts ms epoch, seconds epoch or an ISO date. */
export function toEpochMs(value: number | string): number {
  if (typeof value === 'string') return Date.parse(value);
  return value < 1e12 ? value * 1000 : value;
}
