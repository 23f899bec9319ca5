/** Per-peer federation metrics; labels are the Federation and peer names only (at most 32 peers each). */
import { Counter, Gauge, Histogram } from 'prom-client';
import { registry } from '../../runtime/metrics.js';

const labelNames = ['federation', 'peer'] as const;
const registers = [registry];

export const peerReachable = new Gauge({
  name: 'secovia_federation_peer_reachable',
  help: '1 when the last health probe of the peer succeeded, else 0',
  labelNames,
  registers,
});

export const peerSyncDuration = new Histogram({
  name: 'secovia_federation_sync_duration_seconds',
  help: 'Time to probe a peer and apply its export',
  labelNames,
  buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
  registers,
});

export const peerSyncErrors = new Counter({
  name: 'secovia_federation_sync_errors_total',
  help: 'Failed probes, unreadable exports and refused imports per peer',
  labelNames,
  registers,
});

export const peerExported = new Gauge({
  name: 'secovia_federation_exported_objects',
  help: 'Objects this cluster offers the peer (tenants, service classes, services)',
  labelNames,
  registers,
});

export const peerImported = new Gauge({
  name: 'secovia_federation_imported_objects',
  help: 'Objects this cluster holds as imported from the peer',
  labelNames,
  registers,
});

/** Forgets the series of a peer that left the spec, so that no stale value is scraped forever. */
export function forgetPeer(federation: string, peer: string): void {
  for (const m of [peerReachable, peerSyncDuration, peerSyncErrors, peerExported, peerImported]) {
    m.remove({ federation, peer });
  }
}
