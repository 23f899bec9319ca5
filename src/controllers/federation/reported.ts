/**
 * Keeping what peers report about the consumption of this cluster's tenants: one GovConsumption
 * record per tenant, month and reporting member, written only when the reported totals change. A
 * record is never deleted: when a peer stops reporting (or stops running the tenant) the last
 * report stays, like the ledger itself. An object of that name that this federation did not write
 * for that peer is never touched.
 */
import type { Federation, GovConsumption } from '../../api/index.js';
import { isSubset } from '../../runtime/apply.js';
import type { Logger } from '../../runtime/log.js';
import type { Manager } from '../../runtime/manager.js';
import { FEDERATION, REPORTED_BY } from '../labels.js';
import type { Peer, Skipped } from './exchange.js';
import type { Store } from './imports.js';

export interface ReportedContext {
  manager: Manager;
  log: Logger;
  /** The cache of GovConsumption objects the operator manages. */
  ledgers: Store;
}

/** Whether a record was written by this federation for what `peer` reported. */
const reportedFrom = (o: GovConsumption, federation: string, peer: string): boolean =>
  o.metadata.labels?.[REPORTED_BY] === peer && o.metadata.labels?.[FEDERATION] === federation;

/** Creates or updates the records of a report; returns how many it holds and what it left alone. */
export async function keepReported(
  ctx: ReportedContext,
  f: Federation,
  peer: Peer,
  records: GovConsumption[],
): Promise<{ kept: number; skipped: Skipped[] }> {
  const out = { kept: 0, skipped: [] as Skipped[] };
  for (const desired of records) {
    const { name } = desired.metadata;
    const live = ctx.ledgers.get(name) as GovConsumption | undefined;
    if (live && !reportedFrom(live, f.metadata.name, peer.name)) {
      const message = `GovConsumption ${name} exists here and was not written by this federation for ${peer.name}; left untouched`;
      out.skipped.push({ kind: 'GovConsumption', name, reason: 'Conflict', message });
      continue;
    }
    out.kept++;
    const { status, ...object } = desired;
    // No request when the cache already holds it; the status is written only when the totals changed.
    const { object: applied, action } = await ctx.manager.applier.apply(object);
    if (!isSubset(status, applied.status)) await ctx.manager.applier.applyStatus(applied, status);
    if (action === 'created') ctx.log.info('consumption reported', { federation: f.metadata.name, peer: peer.name, record: name }); // prettier-ignore
  }
  return out;
}
