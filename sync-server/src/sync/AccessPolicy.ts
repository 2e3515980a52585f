import { isAdmin, parseDocName, type Identity } from '@parley/schema';
import type { Storage } from '../storage/Storage';

/** Who may open which document: members (or admins) their conversations, each user their own inbox. */
export class AccessPolicy {
  constructor(private readonly storage: Storage) {}

  async canOpen(identity: Identity, documentName: string): Promise<boolean> {
    const name = parseDocName(documentName);
    if (!name) return false;
    if (name.type === 'inbox') return name.userId === identity.userId;
    if (isAdmin(identity)) return (await this.storage.conversations.get(name.id)) !== null;
    return (await this.storage.conversations.role(name.id, identity.userId)) !== null;
  }
}
