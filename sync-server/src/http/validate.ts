import type { z } from 'zod';
import { ApiError } from './ApiError';

/** Parses input at the edge; the first problem becomes a 400 naming the field. */
export function validate<S extends z.ZodType>(schema: S, input: unknown, where: 'body' | 'query' | 'params' = 'body'): z.infer<S> {
  const result = schema.safeParse(input ?? (where === 'body' ? undefined : {}));
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const path = issue.path.length ? issue.path.join('.') : where;
  const message = issue.code === 'unrecognized_keys' ? `unknown field ${issue.keys.map((k) => `"${k}"`).join(', ')} in ${path}` : `${path}: ${issue.message}`;
  throw ApiError.badRequest(message, result.error.issues.slice(0, 5).map((i) => ({ path: i.path.join('.'), message: i.message })));
}
