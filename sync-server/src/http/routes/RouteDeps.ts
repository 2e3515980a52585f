import type { Config } from '../../config';
import type { TokenVerifier } from '../../auth/TokenVerifier';
import type { Conversations } from '../../domain/Conversations';
import type { MessageActions } from '../../domain/MessageActions';
import type { MessageSearch } from '../../domain/history/MessageSearch';
import type { Notifications } from '../../domain/notifications/Notifications';
import type { EventProcessor } from '../../domain/notifications/EventProcessor';
import type { Cleanup } from '../../domain/notifications/Cleanup';
import type { Presence } from '../../domain/Presence';
import type { JobRunner } from '../../jobs/JobRunner';
import type { Delivery } from '../../delivery/Delivery';
import type { Metrics } from '../../metrics';
import type { Storage } from '../../storage/Storage';
import type { Blocks } from '../../domain/moderation/Blocks';
import type { Reports } from '../../domain/moderation/Reports';

import type { Attachments } from '../../domain/attachments/Attachments';

/** What route handlers may use. Routes reach storage only through the domain, except for plain reads. */
export interface RouteDeps {
  config: Config;
  verifier: TokenVerifier;
  metrics: Metrics;
  storage: Storage;
  conversations: Conversations;
  messageActions: MessageActions;
  search: MessageSearch;
  notifications: Notifications;
  events: EventProcessor;
  presence: Presence;
  cleanup: Cleanup;
  jobs: JobRunner;
  /** Issue 14: blocks and reports. */
  blocks: Blocks;
  reports: Reports;

  attachments: Attachments;

  delivery: Delivery;
  /** False while shutting down, so load balancers stop sending. */
  /** What /healthz answers (see cluster/Readiness). */
  health(): { ready: boolean; body: unknown };
}
