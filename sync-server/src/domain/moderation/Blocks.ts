import { DEFAULTS, type BlockEntry, type Identity } from '@parley/schema';
import { ApiError } from '../../http/ApiError';
import type { Storage } from '../../storage/Storage';

/**
 * A user's blocks (CONTRACT section 4): a blocked user cannot start a direct
 * conversation with the blocker, and nothing they write notifies the blocker
 * (ChatNotifier, MentionNotifier read the rows). Blocking is private: the
 * blocked user is never told, and the refusals they meet say no more than
 * "not allowed".
 */
export class Blocks {
  constructor(private readonly storage: Storage) {}

  async block(caller: Identity, userId: string): Promise<BlockEntry> {
    if (userId === caller.userId) throw ApiError.badRequest('you cannot block yourself');
    const { blocks } = this.storage;
    const now = Date.now();
    if (!(await blocks.has(caller.userId, userId)) && (await blocks.count(caller.userId)) >= DEFAULTS.blocksMaxPerUser) {
      throw ApiError.limitReached(`a user blocks at most ${DEFAULTS.blocksMaxPerUser} users; unblock some first`);
    }
    await blocks.add(caller.userId, userId, now);
    const entry = (await this.list(caller)).find((b) => b.userId === userId);
    return entry ?? { userId, name: null, createdAt: now };
  }

  /** Whether there was a block to lift. */
  unblock(caller: Identity, userId: string): Promise<boolean> {
    return this.storage.blocks.remove(caller.userId, userId);
  }

  async list(caller: Identity): Promise<BlockEntry[]> {
    const rows = await this.storage.blocks.list(caller.userId);
    const names = new Map((await this.storage.users.get(rows.map((r) => r.blocked))).map((u) => [u.id, u.name]));
    return rows.map((r) => ({ userId: r.blocked, name: names.get(r.blocked) ?? null, createdAt: r.createdAt }));
  }

  /**
   * A direct conversation started by `caller` with `other`: refused when
   * `other` blocks the caller. 403 `forbidden` with a message that does not
   * say why, the same whether the conversation exists or not.
   */
  async requireMayStartDirect(caller: Identity, other: string): Promise<void> {
    if (await this.storage.blocks.has(other, caller.userId)) throw ApiError.forbidden('you cannot start a direct conversation with this user');
  }
}
