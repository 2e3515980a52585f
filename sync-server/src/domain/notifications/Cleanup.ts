import * as Y from 'yjs';
import { DEFAULTS, inboxDocName, inboxParts } from '@parley/schema';
import type { Logger } from '../../logger';
import type { Storage } from '../../storage/Storage';
import type { ServerWriter } from '../../sync/ServerWriter';

export interface CleanupResult {
  notificationsRemoved: number;
  eventsPruned: number;
  inboxes: number;
}

/**
 * Removes notifications that were read or archived more than `maxAgeMs` ago
 * (by their last change) from every inbox, and prunes applied events older
 * than that (which also ends their duplicate window). Idempotent: a second
 * run finds nothing.
 */
export class Cleanup {
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly deps: { storage: Storage; writer: ServerWriter; logger: Logger },
    readonly maxAgeMs: number = DEFAULTS.cleanupMaxAgeMs,
  ) {}

  start(intervalMs: number = DEFAULTS.cleanupIntervalMs): void {
    this.timer = setInterval(() => {
      this.run().catch((error: unknown) => this.deps.logger.error({ err: error }, 'clean-up failed'));
    }, intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  async run(now = Date.now()): Promise<CleanupResult> {
    const cutoff = now - this.maxAgeMs;
    const users = await this.deps.storage.users.all();
    let notificationsRemoved = 0;
    for (const userId of users) {
      notificationsRemoved += await this.deps.writer.write(inboxDocName(userId), (doc) => {
        const notifications = inboxParts(doc).notifications;
        const expired: string[] = [];
        notifications.forEach((map, id) => {
          if (!(map instanceof Y.Map)) return;
          const readAt = map.get('readAt') as number | null;
          const archivedAt = map.get('archivedAt') as number | null;
          const settledAt = Math.max(readAt ?? -1, archivedAt ?? -1);
          const changedAt = Math.max(settledAt, (map.get('updatedAt') as number) ?? 0);
          if (settledAt >= 0 && changedAt < cutoff) expired.push(id);
        });
        for (const id of expired) notifications.delete(id);
        return expired.length;
      });
    }
    const eventsPruned = await this.deps.storage.events.pruneApplied(cutoff);
    const result = { notificationsRemoved, eventsPruned, inboxes: users.length };
    this.deps.logger.info(result, 'clean-up done');
    return result;
  }
}
