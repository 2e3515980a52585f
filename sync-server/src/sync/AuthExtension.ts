import type { Extension, onAuthenticatePayload, onDisconnectPayload } from '@hocuspocus/server';
import { AuthFailure, CloseCode, DEFAULTS, ServerFailure } from '@parley/schema';
import type { SessionRegistry } from './SessionRegistry';
import { TokenError, type TokenVerifier } from '../auth/TokenVerifier';
import type { Logger } from '../logger';
import type { Metrics } from '../metrics';
import type { Storage } from '../storage/Storage';
import { asStorageFailure } from '../storage/StorageWriteError';
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
    const allowed = await this.whileStorageAnswers(session, () => access.canOpen(identity, documentName));
    if (!allowed) {
      metrics.authFailures.inc({ reason: AuthFailure.forbidden });
      throw refuse(AuthFailure.forbidden);
    }
    await this.whileStorageAnswers(session, () => storage.users.remember(identity.userId, identity.name));
    session.attach(identity, documentName);
    sessions.add(identity.userId, session);
    return { identity };
  }

  /**
   * Runs a lookup the opening needs; a storage that does not answer (a
   * PostgreSQL restart, a disk fault) refuses the opening with
   * `storage-unavailable`, which clients retry later. A socket with no
   * document open yet is closed with it (4507): a plain provider reconnects
   * on a close, not on a refused opening. Before, Hocuspocus answered
   * `permission-denied` and the socket waited for its authentication
   * deadline (`auth-timeout`).
   */
  private async whileStorageAnswers<T>(session: ConnectionContext['session'], lookup: () => Promise<T>): Promise<T> {
    try {
      return await lookup();
    } catch (error) {
      if (!asStorageFailure(error)) throw error;
      this.deps.metrics.authFailures.inc({ reason: ServerFailure.storageUnavailable });
      this.deps.logger.warn({ err: error instanceof Error ? error.message : String(error) }, 'a document could not be opened: storage unavailable');
      if (!session.identity) session.close(CloseCode.storageUnavailable, ServerFailure.storageUnavailable);
      throw refuse(ServerFailure.storageUnavailable);
    }
  }

  async onDisconnect({ documentName, context }: onDisconnectPayload): Promise<void> {
    (context as Partial<ConnectionContext>).session?.detach(documentName);
  }
}
