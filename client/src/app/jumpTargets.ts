import type { Message } from '@parley/schema';

/**
 * Messages a search result is about, by id, handed from the search box to
 * the conversation view it opens (`#/c/<id>/m/<messageId>`): the view shows
 * the message and loads the history around it, even when it is long out of
 * the live replica. A route opened without one (a reload) scrolls to the
 * message only if it is loaded.
 */
export const jumpTargets = new Map<string, Message>();
