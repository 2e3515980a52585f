import { DEFAULTS } from '@parley/schema';

/**
 * User ids as people type them. The server's ids are case-sensitive; the app
 * lowercases what a person types (login, new conversation, add member), so
 * "Alice" and "alice" reach the same account.
 */
export const USER_ID_PATTERN = `[A-Za-z0-9_.\\-]{1,${DEFAULTS.idMaxLength}}`;
export const USER_ID_HINT = `Letters a-z, digits, "_", "." and "-", up to ${DEFAULTS.idMaxLength}. Not case-sensitive: Alice is alice.`;
const ONE = new RegExp(`^${USER_ID_PATTERN}$`);

export const normalizeUserId = (typed: string): string => typed.trim().toLowerCase();

/** "bob, Carol dave" -> ids, lowercased, without duplicates; `bad` lists what is not an id. */
export function parseUserIds(typed: string): { ids: string[]; bad: string[] } {
  const parts = typed.split(/[\s,;]+/).map(normalizeUserId).filter(Boolean);
  return { ids: [...new Set(parts.filter((p) => ONE.test(p)))], bad: parts.filter((p) => !ONE.test(p)) };
}
