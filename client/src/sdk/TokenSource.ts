import type { SessionToken, TokenFetcher } from './types';

/**
 * The session's token: cached, refreshed a minute before it expires, one
 * refresh at a time. When refreshing fails (offline), the last token is
 * still handed out so the client keeps trying; the server tells it apart.
 */
export class TokenSource {
  private current: SessionToken | null;
  private refreshing: Promise<SessionToken> | null = null;

  constructor(
    private readonly fetchToken: TokenFetcher,
    initial: SessionToken | null = null,
    private readonly refreshBeforeMs = 60_000,
    private readonly onChange: (token: SessionToken) => void = () => {},
  ) {
    this.current = initial;
  }

  get cached(): SessionToken | null {
    return this.current;
  }

  async get(): Promise<string> {
    if (this.current && this.current.expiresAt - Date.now() > this.refreshBeforeMs) return this.current.token;
    try {
      return (await this.refresh()).token;
    } catch (error) {
      if (this.current) return this.current.token;
      throw error;
    }
  }

  /** Fetches a new token now (after a 401, or when expiring). */
  refresh(): Promise<SessionToken> {
    this.refreshing ??= this.fetchToken()
      .then((token) => {
        this.current = token;
        this.onChange(token);
        return token;
      })
      .finally(() => {
        this.refreshing = null;
      });
    return this.refreshing;
  }
}
