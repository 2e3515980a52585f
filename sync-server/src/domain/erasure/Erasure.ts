import { z } from 'zod';
import { DEFAULTS, conversationDocName, inboxDocName } from '@parley/schema';
import type { Logger } from '../../logger';
import type { JobRunner } from '../../jobs/JobRunner';
import type { NewJob, Storage } from '../../storage/Storage';
import { mergeDocumentParts } from '../../sync/Compactor';
import type { Attachments } from '../attachments/Attachments';
import type { ServerWriter } from '../../sync/ServerWriter';
import { inTurns } from '../inTurns';
import { requoteInbox } from './requoteInbox';

export const ERASE_QUEUE = 'message.erase';
const EraseData = z.object({ conversationId: z.string() });

/**
 * The job a soft deletion queues, in its update's own transaction: one per
 * conversation at a time (a deletion while one waits adds nothing), a few
 * seconds later so a burst of deletions shares one run.
 */
export const eraseJob = (conversationId: string, now: number = Date.now()): NewJob => ({
  queue: ERASE_QUEUE,
  data: { conversationId },
  key: conversationId,
  runAt: now + DEFAULTS.erasureDelayMs,
});

/**
 * Erasure of soft-deleted messages (issue 14, item 5), well within the
 * contract's 60 s. The index row and its full-text entries lose the text in
 * the deletion's own transaction (FTS5 `secure-delete`); this job then
 * 1. removes the files no message refers to any more,
 * 2. rewrites the quotes of every notification about the conversation, for
 *    its members and for those who left (`former_members`: no recompute
 *    visits their inboxes), in their inbox documents and in the archive,
 * 3. folds the conversation's document and those users' inboxes into new
 *    snapshots built with Yjs garbage collection, which drops the content of
 *    deleted items: the old text leaves the update log and the snapshot,
 * 4. scrubs the database file (freed pages are zeroed by `secure_delete`; the
 *    WAL is checkpointed and truncated).
 * A former member whose inbox and archive hold nothing about the
 * conversation any more is forgotten, so the set stays those who have
 * something to erase. Idempotent: a second run finds nothing more to drop.
 */
export class Erasure {
  constructor(private readonly deps: { storage: Storage; writer: ServerWriter; attachments: Attachments; jobs: JobRunner; logger: Logger }) {
    deps.jobs.define(ERASE_QUEUE, async (job) => {
      await this.run(EraseData.parse(job.data).conversationId);
    }, { concurrency: 1 });
  }

  async run(conversationId: string): Promise<{ files: number; documents: number }> {
    const { storage, attachments } = this.deps;
    const files = await attachments.release(conversationId);
    const members = (await storage.conversations.members(conversationId)).map((m) => m.userId);
    const former = (await storage.conversations.formerMembers(conversationId)).filter((userId) => !members.includes(userId));
    const held = new Map<string, number>();
    await inTurns([...members, ...former], DEFAULTS.chatNotifyInboxesPerTurn, async (userId) => {
      held.set(userId, await requoteInbox(this.deps, userId, conversationId));
    });
    const docs = [conversationDocName(conversationId), ...members.map(inboxDocName), ...former.map(inboxDocName)];
    let documents = 0;
    for (const doc of docs) {
      // majorRatio 0: always a full fold into a garbage-collected snapshot, never a squash of the log alone.
      const { folded } = await storage.documents.compact(doc, mergeDocumentParts, 0);
      if (folded > 0) documents++;
    }
    // Forgotten only after the fold: a run cut off before it still finds them next time.
    for (const userId of former) if (held.get(userId) === 0) await storage.conversations.forgetFormerMember(conversationId, userId);
    await storage.scrub();
    return { files, documents };
  }
}
