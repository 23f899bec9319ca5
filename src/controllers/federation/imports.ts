/**
 * Writing imports into this cluster: each imported object is kept equal to its origin (a local
 * edit is reverted, with an event), an object the federation did not create is never touched,
 * and only a peer's explicit withdrawal removes anything.
 */
import type { Federation, GovServiceImport } from '../../api/index.js';
import { isSubset, withAppliedHash } from '../../runtime/apply.js';
import type { Informer } from '../../runtime/cache.js';
import { setCondition, statusChanged } from '../../runtime/conditions.js';
import { ApiError } from '../../runtime/kube.js';
import type { Logger } from '../../runtime/log.js';
import type { Manager } from '../../runtime/manager.js';
import { objectPath } from '../../runtime/resources.js';
import type { Condition, KubeObject } from '../../runtime/types.js';
import {
  APPLIED_HASH,
  FEDERATION,
  isManaged,
  ORIGIN_MEMBER,
  STALE_SINCE,
  TENANT,
  WITHDRAWN_FROM,
} from '../labels.js';
import { resourceFor } from '../resources.js';
import type { ImportPlan, Peer, Skipped } from './exchange.js';

/** What the federation reads of a cache (method syntax keeps typed informers assignable). */
export interface Store {
  get(name: string, namespace?: string): KubeObject | undefined;
  list(filter?: (o: KubeObject) => boolean): KubeObject[];
}

export interface ImportContext {
  manager: Manager;
  log: Logger;
  /** Caches of the imported kinds, by kind: GovTenant, GovServiceClass, GovServiceImport. */
  imported: Map<string, Store>;
  namespaces: Informer;
}

export interface ImportOutcome {
  imported: number;
  skipped: Skipped[];
  /** Some service imports wait for their tenant's namespace. */
  waiting: boolean;
}

const keyOf = (o: KubeObject): string => `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`;
const sameValue = (a: unknown, b: unknown): boolean => isSubset(a, b) && isSubset(b, a);

/** Whether the object was imported by this Federation from this peer. */
export const importedFrom = (o: KubeObject, federation: string, peer: string): boolean =>
  o.metadata.labels?.[FEDERATION] === federation && o.metadata.labels?.[ORIGIN_MEMBER] === peer;

/** Every object this Federation imported (from one peer, or from any). */
export function importsOf(ctx: ImportContext, federation: string, peer?: string): KubeObject[] {
  return [...ctx.imported.entries()].flatMap(([kind, informer]) =>
    informer
      .list(
        (o) => o.metadata.labels?.[FEDERATION] === federation && (!peer || importedFrom(o, federation, peer)),
      )
      .map((o) => ({ ...o, kind })),
  );
}

type MirrorAction = 'created' | 'updated' | 'reverted' | 'unchanged';

/**
 * Server-side apply of the origin's object; where someone added spec fields that apply does not
 * own (and so would keep), the spec is then replaced whole: the origin's spec is the only truth.
 */
async function mirror(ctx: ImportContext, desired: KubeObject, live?: KubeObject): Promise<MirrorAction> {
  const body = withAppliedHash(desired, APPLIED_HASH);
  if (live && holds(body, live)) return 'unchanged';
  // Same applied hash with a different spec: the origin did not change, someone here did.
  const localEdit =
    !!live && live.metadata.annotations?.[APPLIED_HASH] === body.metadata.annotations![APPLIED_HASH];
  const { object } = await ctx.manager.applier.apply(desired);
  if (!sameValue(body.spec, object.spec)) {
    await ctx.manager.client.request('PATCH', pathOf(desired), {
      contentType: 'application/json-patch+json',
      body: [{ op: 'replace', path: '/spec', value: desired.spec }],
    });
  }
  // A mark set by markStale is not the apply's to remove.
  if (live && hasStaleMark(live, desired))
    await patchMetadata(ctx, desired, { annotations: { [STALE_SINCE]: null } });
  if (!live) return 'created';
  return localEdit ? 'reverted' : 'updated';
}

const pathOf = (o: KubeObject): string =>
  objectPath(resourceFor(o.apiVersion, o.kind), o.metadata.name, o.metadata.namespace);

type MetadataPatch = Record<'labels' | 'annotations', Record<string, string | null>>;

/** A merge patch of labels and annotations (null removes one): for marks that no apply owns. */
const patchMetadata = (
  ctx: ImportContext,
  o: KubeObject,
  metadata: Partial<MetadataPatch>,
): Promise<unknown> =>
  ctx.manager.client.request('PATCH', pathOf(o), {
    contentType: 'application/merge-patch+json',
    body: { metadata },
  });

/** Whether the live object already is what we would apply: our labels and annotations, the exact spec. */
function holds(body: KubeObject, live: KubeObject): boolean {
  const meta = { labels: body.metadata.labels, annotations: body.metadata.annotations };
  return isSubset(meta, live.metadata) && sameValue(body.spec, live.spec) && !hasStaleMark(live, body);
}

/** A stale mark left on the live object that the desired state no longer has. */
const hasStaleMark = (live: KubeObject, desired: KubeObject): boolean =>
  !!live.metadata.annotations?.[STALE_SINCE] && !desired.metadata.annotations?.[STALE_SINCE];

const IMPORT_EVENTS: Record<Exclude<MirrorAction, 'unchanged'>, ['Normal' | 'Warning', string, string]> = {
  created: ['Normal', 'Imported', 'Imported from'],
  updated: ['Normal', 'ImportUpdated', 'Updated to the spec published by'],
  reverted: ['Warning', 'ImportReverted', 'Local change reverted: kept equal to the spec published by'],
};

/** Whether a namespace exists and belongs to the tenant (service imports go only there). */
const namespaceOf = (ctx: ImportContext, namespace: string, tenant: string): boolean => {
  const ns = ctx.namespaces.get(namespace);
  return (
    !!ns &&
    isManaged(ns.metadata.labels) &&
    ns.metadata.labels?.[TENANT] === tenant &&
    !ns.metadata.deletionTimestamp
  );
};

/** Why an object of the plan cannot be written now: someone else's object, or no namespace for it yet. */
function refusal(
  ctx: ImportContext,
  from: { federation: string; peer: Peer },
  desired: KubeObject,
  live?: KubeObject,
) {
  const { name, namespace } = desired.metadata;
  const { peer } = from;
  const label = namespace ? `${namespace}/${name}` : name;
  if (live && !importedFrom(live, from.federation, peer.name)) {
    const message =
      desired.kind === 'GovServiceClass'
        ? `a GovServiceClass ${name} exists here and was not imported from ${peer.name}; it is used as it is`
        : `${desired.kind} ${label} exists here and was not created by this federation from ${peer.name}; left untouched`;
    return { kind: desired.kind, name: label, reason: 'Conflict', message } satisfies Skipped;
  }
  const tenant = (desired.spec as { tenant?: string }).tenant;
  if (desired.kind !== 'GovServiceImport' || namespaceOf(ctx, namespace!, tenant!)) return undefined;
  const message = `namespace ${namespace} of tenant ${tenant} is not ready yet`;
  return { kind: desired.kind, name: label, reason: 'NamespaceNotReady', message } satisfies Skipped;
}

/** Applies what the plan imports: classes, then tenants, then service imports. */
export async function applyImports(
  ctx: ImportContext,
  f: Federation,
  peer: Peer,
  plan: ImportPlan,
): Promise<ImportOutcome> {
  const out: ImportOutcome = { imported: 0, skipped: [], waiting: false };
  for (const desired of [...plan.classes, ...plan.tenants, ...plan.serviceImports]) {
    const live = ctx.imported.get(desired.kind)!.get(desired.metadata.name, desired.metadata.namespace);
    const refused = refusal(ctx, { federation: f.metadata.name, peer }, desired, live);
    if (refused) {
      out.skipped.push(refused);
      out.waiting ||= refused.reason === 'NamespaceNotReady';
      continue;
    }
    if (live?.metadata.deletionTimestamp) continue;
    const action = await mirrorOrRefuse(ctx, desired, live, out);
    if (!action) continue;
    out.imported++;
    if (action !== 'unchanged') recordImport(ctx, live ?? desired, action, peer);
    if (desired.kind === 'GovServiceImport') await writeImportStatus(ctx, desired, live);
  }
  return out;
}

/** An item this cluster's API server refuses (a rule only admission checks) is skipped, not retried forever. */
async function mirrorOrRefuse(
  ctx: ImportContext,
  desired: KubeObject,
  live: KubeObject | undefined,
  out: ImportOutcome,
): Promise<MirrorAction | undefined> {
  try {
    return await mirror(ctx, desired, live);
  } catch (e) {
    if (!(e instanceof ApiError) || (e.status !== 422 && e.status !== 400)) throw e;
    const { name, namespace } = desired.metadata;
    const label = namespace ? `${namespace}/${name}` : name;
    out.skipped.push({ kind: desired.kind, name: label, reason: 'InvalidExport', message: e.message });
    return undefined;
  }
}

function recordImport(
  ctx: ImportContext,
  subject: KubeObject,
  action: Exclude<MirrorAction, 'unchanged'>,
  peer: Peer,
): void {
  const [type, reason, text] = IMPORT_EVENTS[action];
  ctx.manager.events.record(subject, type, reason, `${text} ${peer.name} (${peer.country})`);
  ctx.log.info(`${reason} ${subject.kind}`, {
    kind: subject.kind,
    object: subject.metadata.name,
    namespace: subject.metadata.namespace,
    peer: peer.name,
  });
}

/** Ready and Stale on a GovServiceImport; written only when they change. */
async function writeImportStatus(ctx: ImportContext, desired: KubeObject, live?: KubeObject): Promise<void> {
  const s = desired.spec as GovServiceImport['spec'] & {};
  const since = desired.metadata.annotations?.[STALE_SINCE];
  const now = new Date();
  const generation = live?.metadata.generation ?? 1;
  let conditions: Condition[] = (live?.status as GovServiceImport['status'])?.conditions ?? [];
  conditions = setCondition(
    conditions,
    {
      type: 'Ready',
      status: 'True',
      reason: 'Imported',
      message: `Offered by ${s.originMember} (${s.originCountry})`,
      observedGeneration: generation,
    },
    now,
  );
  conditions = setCondition(
    conditions,
    since
      ? {
          type: 'Stale',
          status: 'True',
          reason: 'OriginUnreachable',
          message: `No contact with ${s.originMember} since ${since}; kept as last seen`,
          observedGeneration: generation,
        }
      : {
          type: 'Stale',
          status: 'False',
          reason: 'OriginReachable',
          message: `In contact with ${s.originMember}`,
          observedGeneration: generation,
        },
    now,
  );
  const status = { observedGeneration: generation, conditions };
  if (live && !statusChanged(live.status, status)) return;
  await ctx.manager.applier.applyStatus(live ?? desired, status);
}

/**
 * The peer no longer exports these: Delete removes them (the tenant's own deletion policy then
 * decides about its namespaces); Orphan releases them as ordinary local objects.
 */
export async function withdraw(
  ctx: ImportContext,
  f: Federation,
  peer: Peer,
  plan: ImportPlan,
): Promise<void> {
  const wanted = new Set([...plan.classes, ...plan.tenants, ...plan.serviceImports].map(keyOf));
  const gone = importsOf(ctx, f.metadata.name, peer.name).filter(
    (o) => !wanted.has(keyOf(o)) && !o.metadata.deletionTimestamp,
  );
  for (const obj of gone) {
    const policy = f.spec!.import.onWithdraw;
    if (policy === 'Delete') await ctx.manager.applier.delete(resourceFor(obj.apiVersion, obj.kind), obj);
    else await release(ctx, obj, peer.name);
    const verb = policy === 'Delete' ? 'deleted' : 'released as a local object';
    ctx.manager.events.record(
      obj,
      'Normal',
      'ImportWithdrawn',
      `${peer.name} (${peer.country}) no longer exports this ${obj.kind}: ${verb} (onWithdraw ${policy})`,
    );
    ctx.log.info('import withdrawn', { kind: obj.kind, object: obj.metadata.name, peer: peer.name, policy });
  }
}

/** Removes the federation's claim on an object; it keeps its origin country and says where it came from. */
async function release(ctx: ImportContext, obj: KubeObject, peer: string): Promise<void> {
  await patchMetadata(ctx, obj, {
    labels: { [FEDERATION]: null, [ORIGIN_MEMBER]: null },
    annotations: { [STALE_SINCE]: null, [APPLIED_HASH]: null, [WITHDRAWN_FROM]: peer },
  });
}

/**
 * Without a readable export (for example after a restart while the peer is away) imports cannot
 * be re-applied, but they are still marked or unmarked Stale.
 */
export async function markStale(
  ctx: ImportContext,
  f: Federation,
  peer: Peer,
  staleSince: string | undefined,
): Promise<number> {
  const existing = importsOf(ctx, f.metadata.name, peer.name);
  for (const obj of existing) {
    if (obj.metadata.annotations?.[STALE_SINCE] === staleSince) continue;
    await patchMetadata(ctx, obj, { annotations: { [STALE_SINCE]: staleSince ?? null } });
    if (obj.kind === 'GovServiceImport') {
      const annotations: Record<string, string> = staleSince ? { [STALE_SINCE]: staleSince } : {};
      await writeImportStatus(ctx, { ...obj, metadata: { ...obj.metadata, annotations } }, obj);
    }
  }
  return existing.length;
}
