import type { Hocuspocus } from '@hocuspocus/server';
import type { Logger } from '../logger';
import { AwarenessRelay } from './AwarenessRelay';
import { ClusterPresence, type LocalUsers } from './ClusterPresence';
import { RedisBus } from './RedisBus';

/**
 * This node's part of a cluster over Redis: awareness relayed between nodes
 * and presence spanning them. Documents do not go through here (PostgreSQL
 * carries them, see the cluster core), so losing Redis loses no message.
 */
export class Cluster {
  readonly bus: RedisBus;
  readonly presence: ClusterPresence;
  readonly relay: AwarenessRelay;

  constructor(deps: { redisUrl: string; keyPrefix: string; nodeId: string; logger: Logger; local: LocalUsers }) {
    const logger = deps.logger.child({ component: 'cluster' });
    this.bus = new RedisBus(deps.redisUrl, deps.keyPrefix, logger);
    this.presence = new ClusterPresence({ bus: this.bus, local: deps.local, nodeId: deps.nodeId, logger });
    this.relay = new AwarenessRelay({ bus: this.bus, nodeId: deps.nodeId, logger });
    this.presence.onNodeGone((node) => this.relay.forgetNode(node));
  }

  start(hocuspocus: Hocuspocus): void {
    this.relay.start(hocuspocus);
    this.presence.start();
    this.bus.start();
  }

  async stop(): Promise<void> {
    await this.presence.stop();
    await this.bus.close();
  }
}
