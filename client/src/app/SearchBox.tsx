import { useEffect, useMemo, useRef, useState } from 'react';
import type { SearchResult } from '@parley/schema';
import { useParley, useSession } from '../react';
import { snippetParts } from './snippetParts';
import { go } from './useHashRoute';
import { jumpTargets } from './jumpTargets';
import { friendlyError } from './friendlyError';

/** How long typing pauses before the search runs. */
const DEBOUNCE_MS = 250;

/**
 * Full-text search over the user's conversations (`GET /api/search`): best
 * match first, each result with its conversation and the snippet with the
 * match marked. Picking one opens the conversation at that message.
 */
export function SearchBox() {
  const session = useSession();
  const conversations = useParley((s) => s.conversations);
  const titles = useMemo(() => new Map(conversations.map((c) => [c.id, c.title])), [conversations]);
  const [query, setQuery] = useState('');
  const [results, setResults] = useState<SearchResult[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const latest = useRef(0);

  useEffect(() => {
    const q = query.trim();
    if (q === '') {
      setResults(null);
      setError(null);
      return;
    }
    const ask = ++latest.current;
    const timer = setTimeout(() => {
      session.api
        .search(q, { limit: 20 })
        .then((page) => {
          if (ask !== latest.current) return;
          setResults(page.results);
          setError(null);
        })
        .catch((e: unknown) => {
          if (ask !== latest.current) return;
          setResults(null);
          setError(friendlyError(e));
        });
    }, DEBOUNCE_MS);
    return () => clearTimeout(timer);
  }, [query, session]);

  const open = (result: SearchResult) => {
    setQuery('');
    jumpTargets.set(result.message.id, result.message);
    go(`#/c/${result.conversationId}/m/${result.message.id}`);
  };

  return (
    <div className="search" role="search">
      <input
        type="search"
        aria-label="Search messages"
        placeholder="Search messages"
        maxLength={256}
        value={query}
        onChange={(e) => setQuery(e.target.value)}
        onKeyDown={(e) => e.key === 'Escape' && setQuery('')}
        data-testid="search-input"
      />
      {error && (
        <p className="search-error" role="alert">
          {error}
        </p>
      )}
      {results && (
        <ul className="search-results" aria-label="Search results" data-testid="search-results">
          {results.length === 0 && <li className="empty">No messages match.</li>}
          {results.map((r) => (
            <li key={`${r.conversationId}:${r.message.id}`}>
              <button type="button" onClick={() => open(r)} data-testid="search-result">
                <span className="search-where">{titles.get(r.conversationId) ?? r.conversationId}</span>
                <span className="search-snippet" dir="auto">
                  {snippetParts(r.snippet).map((part, i) => (part.marked ? <mark key={i}>{part.text}</mark> : <span key={i}>{part.text}</span>))}
                </span>
              </button>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
