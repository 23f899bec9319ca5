/**
 * The operator's Prometheus metrics, named and labelled as controller-runtime and client-go name them so
 * that existing dashboards and alerts work unchanged.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export const registry = new Registry();
collectDefaultMetrics({ register: registry });

// controller-runtime's reconcile buckets: 5 ms to 60 s.
const reconcileBuckets = [
  0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.25,
  1.5, 1.75, 2.0, 2.5, 3.0, 3.5, 4.0, 4.5, 5, 6, 7, 8, 9, 10, 15, 20, 25, 30, 40, 50, 60,
];
// client-go's workqueue buckets, written out so the `le` labels stay exact decimal powers of ten.
const workqueueBuckets = [1e-8, 1e-7, 1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 0.1, 1, 10];
// client-go's REST latency buckets.
const restBuckets = [0.005, 0.025, 0.1, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 15.0, 30.0, 60.0];

const registers = [registry];
const controllerLabel = ['controller'] as const;
const queueLabels = ['name', 'controller'] as const;

// result: success | error | requeue | requeue_after, as in controller-runtime.
export const reconcileTotal = new Counter({
  name: 'controller_runtime_reconcile_total',
  help: 'Total number of reconciliations per controller',
  labelNames: ['controller', 'result'] as const,
  registers,
});

export const reconcileErrors = new Counter({
  name: 'controller_runtime_reconcile_errors_total',
  help: 'Total number of reconciliation errors per controller',
  labelNames: controllerLabel,
  registers,
});

export const terminalReconcileErrors = new Counter({
  name: 'controller_runtime_terminal_reconcile_errors_total',
  help: 'Total number of terminal reconciliation errors per controller',
  labelNames: controllerLabel,
  registers,
});

export const reconcilePanics = new Counter({
  name: 'controller_runtime_reconcile_panics_total',
  help: 'Total number of reconciliation panics per controller',
  labelNames: controllerLabel,
  registers,
});

export const reconcileTime = new Histogram({
  name: 'controller_runtime_reconcile_time_seconds',
  help: 'Length of time per reconciliation per controller',
  labelNames: controllerLabel,
  buckets: reconcileBuckets,
  registers,
});

export const activeWorkers = new Gauge({
  name: 'controller_runtime_active_workers',
  help: 'Number of currently used workers per controller',
  labelNames: controllerLabel,
  registers,
});

export const maxConcurrentReconciles = new Gauge({
  name: 'controller_runtime_max_concurrent_reconciles',
  help: 'Maximum number of concurrent reconciles per controller',
  labelNames: controllerLabel,
  registers,
});

export const workqueueDepth = new Gauge({
  name: 'workqueue_depth',
  help: 'Current depth of workqueue',
  labelNames: queueLabels,
  registers,
});

export const workqueueAdds = new Counter({
  name: 'workqueue_adds_total',
  help: 'Total number of adds handled by workqueue',
  labelNames: queueLabels,
  registers,
});

export const workqueueQueueDuration = new Histogram({
  name: 'workqueue_queue_duration_seconds',
  help: 'How long in seconds an item stays in workqueue before being requested',
  labelNames: queueLabels,
  buckets: workqueueBuckets,
  registers,
});

export const workqueueWorkDuration = new Histogram({
  name: 'workqueue_work_duration_seconds',
  help: 'How long in seconds processing an item from workqueue takes.',
  labelNames: queueLabels,
  buckets: workqueueBuckets,
  registers,
});

// In-flight work is only known to the queues, so they report it when the gauges are read.
const inFlightReporters = new Set<() => void>();

/** Runs `report` whenever the in-flight workqueue gauges are scraped; returns a function that stops it. */
export function reportInFlightOnScrape(report: () => void): () => void {
  inFlightReporters.add(report);
  return () => inFlightReporters.delete(report);
}

function reportInFlight(): void {
  for (const report of inFlightReporters) report();
}

export const workqueueUnfinishedWork = new Gauge({
  name: 'workqueue_unfinished_work_seconds',
  help:
    "How many seconds of work has been done that is in progress and hasn't been observed by work_duration. " +
    'Large values indicate stuck threads. One can deduce the number of stuck threads by observing the rate ' +
    'at which this increases.',
  labelNames: queueLabels,
  registers,
  collect: reportInFlight,
});

export const workqueueLongestRunningProcessor = new Gauge({
  name: 'workqueue_longest_running_processor_seconds',
  help: 'How many seconds has the longest running processor for workqueue been running.',
  labelNames: queueLabels,
  registers,
  collect: reportInFlight,
});

export const workqueueRetries = new Counter({
  name: 'workqueue_retries_total',
  help: 'Total number of retries handled by workqueue',
  labelNames: queueLabels,
  registers,
});

export const restClientRequests = new Counter({
  name: 'rest_client_requests_total',
  help: 'Number of HTTP requests, partitioned by status code, method, and host.',
  labelNames: ['code', 'method', 'host'] as const,
  registers,
});

// No `path` label: object names in URLs would make one series per object.
export const restClientRequestDuration = new Histogram({
  name: 'rest_client_request_duration_seconds',
  help: 'Request latency in seconds. Broken down by verb, and host.',
  labelNames: ['verb', 'host'] as const,
  buckets: restBuckets,
  registers,
});

export const leaderElectionMasterStatus = new Gauge({
  name: 'leader_election_master_status',
  help:
    'Gauge of if the reporting system is master of the relevant lease, 0 indicates backup, 1 indicates ' +
    "master. 'name' is the string used to identify the lease. Please make sure to group by name.",
  labelNames: ['name'] as const,
  registers,
});
