import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { JOB_STATES, type JobState } from '@parley/schema';

export type JobCounts = () => Promise<Array<{ queue: string; state: JobState; count: number }>>;

/** Every Prometheus metric the server exports, created once per server. */
/**
 * `openDocuments` and `jobCounts` are read at scrape time. In cluster mode
 * every metric carries the node's id as its `node` label (and
 * `parley_node_info{node}` is 1), so one dashboard tells the nodes apart.
 */
export function createMetrics(openDocuments: () => number = () => 0, jobCounts: JobCounts = async () => [], nodeId: string | null = null) {
  const registry = new Registry();
  if (nodeId) registry.setDefaultLabels({ node: nodeId });
  collectDefaultMetrics({ register: registry, prefix: 'parley_process_' });
  if (nodeId) new Gauge({ name: 'parley_node_info', help: 'This node of the cluster (its id is the node label)', registers: [registry] }).set(1);
  return {
    registry,
    connections: new Gauge({ name: 'parley_connections', help: 'Open WebSocket connections', registers: [registry] }),
    documentsOpen: new Gauge({
      name: 'parley_documents_open',
      help: 'Documents loaded in memory',
      registers: [registry],
      collect() {
        this.set(openDocuments());
      },
    }),
    updatesApplied: new Counter({ name: 'parley_updates_applied_total', help: 'Client updates accepted and stored', registers: [registry] }),
    updatesRejected: new Counter({
      name: 'parley_updates_rejected_total',
      help: 'Client updates refused, by reason',
      labelNames: ['reason'] as const,
      registers: [registry],
    }),
    authFailures: new Counter({
      name: 'parley_auth_failures_total',
      help: 'Refused authentications, by reason',
      labelNames: ['reason'] as const,
      registers: [registry],
    }),
    notificationsCreated: new Counter({ name: 'parley_notifications_created_total', help: 'Notifications created', labelNames: ['kind'] as const, registers: [registry] }),
    notificationsDelivered: new Counter({
      name: 'parley_notifications_delivered_total',
      help: 'Notifications delivered, by channel',
      labelNames: ['channel'] as const,
      registers: [registry],
    }),
    deliveryFailures: new Counter({
      name: 'parley_delivery_failures_total',
      help: 'Failed delivery attempts, by channel',
      labelNames: ['channel'] as const,
      registers: [registry],
    }),
    deliveries: new Counter({
      name: 'parley_deliveries_total',
      help: 'Sends beyond the app, by channel (push, email, sms) and outcome (sent, gone, retry, rejected, uncertain), one per device for push and per notification for email',
      labelNames: ['channel', 'outcome'] as const,
      registers: [registry],
    }),
    deliverySteps: new Counter({
      name: 'parley_delivery_steps_total',
      help: 'Escalation steps that ran, by channel and what they decided (go, or why not: read, online, muted, quiet, ...)',
      labelNames: ['channel', 'decision'] as const,
      registers: [registry],
    }),
    storeLatency: new Histogram({
      name: 'parley_store_latency_seconds',
      help: 'Storage operation latency',
      labelNames: ['op'] as const,
      buckets: [0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1],
      registers: [registry],
    }),
    jobs: new Gauge({
      name: 'parley_jobs',
      help: 'Jobs in the durable queue, by queue and state (every state of a queue with any job is given, zeros too)',
      labelNames: ['queue', 'state'] as const,
      registers: [registry],
      async collect() {
        const counts = await jobCounts();
        this.reset();
        for (const queue of new Set(counts.map((c) => c.queue))) for (const state of JOB_STATES) this.set({ queue, state }, 0);
        for (const { queue, state, count } of counts) this.set({ queue, state }, count);
      },
    }),
    jobsFinished: new Counter({
      name: 'parley_job_attempts_total',
      help: 'Finished job attempts, by queue and outcome (done, retry, dead)',
      labelNames: ['queue', 'outcome'] as const,
      registers: [registry],
    }),
    chatRecomputes: new Counter({
      name: 'parley_chat_recomputes_total',
      help: 'Chat notifier recomputes of a conversation: ran (this node claimed it), busy (another node held it), none (nothing left to do)',
      labelNames: ['outcome'] as const,
      registers: [registry],
    }),
    compactions: new Counter({ name: 'parley_compactions_total', help: 'Update logs folded into snapshots', registers: [registry] }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
