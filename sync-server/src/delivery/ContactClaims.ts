import { ContactEmail, ContactPhone, type Identity } from '@parley/schema';
import type { Logger } from '../logger';
import type { UserStore } from '../storage/Storage';

/** Users whose last stored claims are remembered, so a busy user's every request does not write. */
const REMEMBERED_USERS = 10_000;

/**
 * Keeps the `email` and `phone_number` claims of each user's own tokens
 * (CONTRACT 4): what is valid of them, written when it changes. A token
 * without them leaves what was kept; a value that is not an address or an
 * E.164 number is ignored rather than refusing the token.
 */
export class ContactClaims {
  private readonly stored = new Map<string, string>();

  constructor(
    private readonly users: UserStore,
    private readonly logger: Logger,
  ) {}

  record(identity: Identity): void {
    if (!identity.contact) return;
    const email = ContactEmail.safeParse(identity.contact.email ?? undefined);
    const phone = ContactPhone.safeParse(identity.contact.phone ?? undefined);
    const claims = { email: email.success ? email.data : null, phone: phone.success ? phone.data : null };
    const signature = `${claims.email}\n${claims.phone}`;
    if (this.stored.get(identity.userId) === signature) return;
    this.stored.delete(identity.userId);
    this.stored.set(identity.userId, signature);
    if (this.stored.size > REMEMBERED_USERS) this.stored.delete(this.stored.keys().next().value!);
    this.users.rememberClaims(identity.userId, claims).catch((error: unknown) => {
      this.stored.delete(identity.userId);
      this.logger.warn({ err: error, userId: identity.userId }, 'keeping the contact claims of a token failed');
    });
  }
}
