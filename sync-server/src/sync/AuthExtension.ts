import type { Extension, onAuthenticatePayload, onDisconnectPayload } from '@hocuspocus/server';
import { AuthFailure, DEFAULTS } from '@parley/schema';
import type { SessionRegistry } from './SessionRegistry';
import { TokenError, type TokenVerifier } from '../auth/TokenVerifier';
import type { Logger } from '../logger';
import type { Metrics } from '../metrics';
import type { Storage } from '../storage/Storage';
import type { AccessPolicy } from './AccessPolicy';
import type { ConnectionContext } from './context';

/** Thrown to Hocuspocus: `reason` reaches the provider's onAuthenticationFailed. No `message`, so Hocuspocus does not log it as a crash. */
const refuse = (reason: string) => ({ reason });

/**
 * Verifies the token sent for each document, checks access to it, and ties
 * the socket to its user (see SocketSession).
 */
export class AuthExtension implements Extension {
  priority = 1000;

  constructor(
    private readonly deps: { verifier: TokenVerifier; access: AccessPolicy; storage: Storage; sessions: SessionRegistry; metrics: Metrics; logger: Logger },
  ) {}

  async onAuthenticate({ token, documentName, context }: onAuthenticatePayload): Promise<Partial<ConnectionContext>> {
    const { session } = context as ConnectionContext;
    const { verifier, access, metrics, storage, sessions } = this.deps;
    let identity;
    try {
      identity = await verifier.verify(token);
    } catch (error) {
      const reason = error instanceof TokenError ? error.reason : AuthFailure.invalidToken;
      metrics.authFailures.inc({ reason });
      throw refuse(reason);
    }
    const admission =
      session.admit(identity, documentName) ??
      (!session.identity && sessions.count(identity.userId) >= DEFAULTS.connectionsPerUser ? AuthFailure.tooManyConnections : null);
    if (admission) {
      metrics.authFailures.inc({ reason: admission });
      throw refuse(admission);
    }
    if (!(await access.canOpen(identity, documentName))) {
      metrics.authFailures.inc({ reason: AuthFailure.forbidden });
      throw refuse(AuthFailure.forbidden);
    }
    session.attach(identity, documentName);
    sessions.add(identity.userId, session);
    await storage.users.remember(identity.userId, identity.name);
    return { identity };
  }

  async onDisconnect({ documentName, context }: onDisconnectPayload): Promise<void> {
    (context as Partial<ConnectionContext>).session?.detach(documentName);
  }
}
