import { format } from 'node:util';
import { DEFAULTS, ServerFailure } from '@parley/schema';
import type { Logger } from '../logger';
import { isRefusal } from '../sync/validation/Refusal';
import { isResyncClosing } from '../sync/validation/ResyncClosing';
import { LogBudget } from './LogBudget';

/**
 * Hocuspocus reports through `console.error`/`console.warn`: a multi-line
 * dump for every refused update (which the validation extension has already
 * logged in one line) and a line for every bad frame or limit a client trips.
 * A client decides how often those happen, so they go to the server's logger
 * instead: refusals at debug level, everything else as one compact JSON line
 * within a budget (see LogBudget).
 */
export function routeConsoleToLogger(logger: Logger): void {
  const budget = new LogBudget(DEFAULTS.refusalLogsPerWindow, DEFAULTS.refusalLogWindowMs);
  const route =
    (level: 'warn' | 'error') =>
    (...args: unknown[]): void => {
      // Logged once by ValidationExtension already.
      if (args.some(isResyncClosing)) return logger.debug({ reason: ServerFailure.resyncNeeded }, 'hocuspocus closed a document for a resync');
      const refusal = args.find(isRefusal);
      if (refusal) return logger.debug({ reason: refusal.reason }, 'hocuspocus closed a refused document');
      const { allowed, suppressed } = budget.take();
      if (!allowed) return;
      const error = args.find((a): a is Error => a instanceof Error);
      const text = format(...args.filter((a) => a !== error)).replace(/\s+/g, ' ').slice(0, 500);
      logger[level]({ source: 'hocuspocus', ...(error && { error: `${error.name}: ${error.message}` }), ...(suppressed && { suppressed }) }, text);
    };
  console.error = route('error');
  console.warn = route('warn');
}
