import type { Logger } from '../logger';
import type { Metrics } from '../metrics';
import type { Storage } from '../storage/Storage';
import type { JobRunner } from '../jobs/JobRunner';
import type { InboxLookup } from './InboxLookup';

/** What every delivery step uses. */
export interface DeliveryDeps {
  storage: Storage;
  metrics: Metrics;
  logger: Logger;
  jobs: JobRunner;
  inbox: InboxLookup;
  /** Whether the user has an open WebSocket (CONTRACT 7: "offline" is none, anywhere). */
  isOnline(userId: string): boolean;
  /** Where users reach the web app, without a trailing slash. */
  publicUrl: string;
}

/** A link into the web app: a notification's own path (`/c/<id>`) under PUBLIC_URL, or the app itself. */
export function appLink(publicUrl: string, path: unknown): string {
  if (typeof path === 'string' && path.startsWith('/') && !path.startsWith('//')) return `${publicUrl}${path}`;
  return `${publicUrl}/`;
}
