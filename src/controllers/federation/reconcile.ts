/**
 * Federation reconciler: publish an export per peer -> per peer: credentials, probe, pull its
 * export for us, import or withdraw or mark Stale -> status. It writes only into this cluster.
 */
import type {
  Federation,
  FederationStatus,
  GovConsumption,
  GovService,
  GovServiceClass,
  GovServiceImport,
  GovTenant,
} from '../../api/index.js';
import type { Informer } from '../../runtime/cache.js';
import type { ReconcileResult } from '../../runtime/controller.js';
import { Controller } from '../../runtime/controller.js';
import { setCondition, statusChanged, type ConditionUpdate } from '../../runtime/conditions.js';
import type { Manager } from '../../runtime/manager.js';
import { resources } from '../resources.js';
import type { Condition, KubeObject } from '../../runtime/types.js';
import {
  CREATED_BY_UID,
  EXPORT_TO,
  FEDERATION,
  FINALIZER,
  managedSelector,
  MANAGED_BY,
  OPERATOR,
  ORIGIN_MEMBER,
  TENANT,
} from '../labels.js';
import { namespaceName } from '../govtenant/desired.js';
import type * as Exchange from './exchange.js';
import type { LocalView, Peer, Skipped } from './exchange.js';
import {
  applyImports,
  importedFrom,
  importsOf,
  markStale,
  withdraw,
  type ImportContext,
  type Store,
} from './imports.js';
import {
  forgetPeer,
  peerExported,
  peerImported,
  peerReachable,
  peerSyncDuration,
  peerSyncErrors,
} from './metrics.js';
import { EXPORT_DATA_KEY, exportName, reservedNamespaces } from './names.js';
import { credentialsFrom, isoSeconds, PeerLinks, type PeerLink } from './peers.js';
import { keepReported } from './reported.js';

/**
 * The exchange with peers (its zod schemas, some 5 MiB of heap) is loaded by the first Federation
 * reconciled: a cluster that federates with no one never loads it.
 */
let exchangeModule: Promise<typeof Exchange> | undefined;
const exchange = (): Promise<typeof Exchange> => (exchangeModule ??= import('./exchange.js'));

/** A ConfigMap holds at most 1 MiB; an export is refused before the API server would refuse it. */
const MAX_EXPORT_BYTES = 900 * 1024;
const MAX_SKIPPED = 256;

export interface FederationSettings {
  /** The operator's namespace: peer credentials are read and exports published only there. */
  namespace: string;
  /** The ingress controller's namespace: reserved, like the operator's, from any import. */
  ingressNamespace: string;
  workers: number;
}

interface FederationContext extends ImportContext {
  settings: FederationSettings;
  federations: Informer<Federation>;
  tenants: Informer<GovTenant>;
  services: Informer<GovService>;
  classes: Informer<GovServiceClass>;
  /** The ledger (read for export.consumption) and the records peers reported (import.consumption). */
  ledgers: Informer<GovConsumption>;
  secrets: Informer;
  configMaps: Informer;
  links: PeerLinks;
  enqueue: (key: string) => void;
}

/** What happened with one peer in this reconcile, for the status and the next wake-up. */
interface PeerReport {
  peer: Peer;
  problem?: { reason: string; message: string };
  link?: PeerLink;
  observedAt?: string;
  stale: boolean;
  exported: number;
  /** The tenants this member offers the peer: a report about any other is refused. */
  offered: Map<string, GovTenant>;
  imported: number;
  skipped: Skipped[];
  wakeInMs?: number;
}

export function federationController(manager: Manager, settings: FederationSettings): Controller {
  const federations = manager.informer<Federation>(resources.Federation);
  const tenants = manager.informer<GovTenant>(resources.GovTenant);
  const services = manager.informer<GovService>(resources.GovService);
  const classes = manager.informer<GovServiceClass>(resources.GovServiceClass);
  const ledgers = manager.informer<GovConsumption>(resources.GovConsumption, managedSelector);
  const imports = manager.informer<GovServiceImport>(resources.GovServiceImport);
  const namespaces = manager.informer(resources.Namespace);
  const secrets = manager.informer(resources.Secret, undefined, settings.namespace);
  const configMaps = manager.informer(resources.ConfigMap, managedSelector);
  const log = manager.logger.child({ controller: 'federation' });
  const links = new PeerLinks(log, (federation) => ctx.enqueue(federation));
  const ctx: FederationContext = {
    manager,
    log,
    settings,
    federations,
    tenants,
    services,
    classes,
    ledgers,
    secrets,
    configMaps,
    namespaces,
    links,
    imported: new Map<string, Store>([
      ['GovServiceClass', classes],
      ['GovTenant', tenants],
      ['GovServiceImport', imports],
    ]),
    enqueue: () => undefined,
  };
  const all = (): string[] => federations.list().map((f) => f.metadata.name);
  const byFederationLabel = (o: KubeObject): string[] =>
    o.metadata.labels?.[FEDERATION] ? [o.metadata.labels[FEDERATION]] : [];
  const referencing = (s: KubeObject): string[] =>
    federations
      .list((f) =>
        (f.spec?.peers ?? []).some(
          (p) =>
            p.kubeconfigSecretRef.name === s.metadata.name &&
            p.kubeconfigSecretRef.namespace === s.metadata.namespace,
        ),
      )
      .map((f) => f.metadata.name);
  const importedTenantNamespace = (ns: KubeObject): string[] => {
    const tenant = tenants.get(ns.metadata.labels?.[TENANT] ?? '');
    return tenant?.metadata.labels?.[ORIGIN_MEMBER] ? all() : [];
  };
  const controller = new Controller({
    name: 'federation',
    primary: federations,
    watches: [
      { informer: tenants, map: (o, old) => (exportRelevant(tenants, o, old) ? all() : []) },
      { informer: services, map: (o, old) => (exportRelevant(services, o, old) ? all() : []) },
      { informer: classes, map: (o, old) => (exportRelevant(classes, o, old) ? all() : []) },
      { informer: imports, map: byFederationLabel },
      { informer: configMaps, map: byFederationLabel },
      { informer: secrets, map: referencing },
      { informer: namespaces, map: importedTenantNamespace },
    ],
    workers: settings.workers,
    logger: log,
    reconcile: (key) => reconcileFederation(key, ctx),
  });
  ctx.enqueue = (key) => controller.queue.add(key);
  manager.onStop(() => links.closeAll());
  return controller;
}

/** Status-only changes (the bulk of events) do not change what is exported; a deletion does. */
function exportRelevant(informer: Store, o: KubeObject, old?: KubeObject): boolean {
  if (!old || !informer.get(o.metadata.name, o.metadata.namespace)) return true;
  const status = (x: KubeObject) => x.status as { url?: string; version?: string } | undefined;
  return (
    o.metadata.generation !== old.metadata.generation ||
    o.metadata.deletionTimestamp !== old.metadata.deletionTimestamp ||
    JSON.stringify(o.metadata.labels) !== JSON.stringify(old.metadata.labels) ||
    JSON.stringify(o.metadata.annotations) !== JSON.stringify(old.metadata.annotations) ||
    status(o)?.url !== status(old)?.url ||
    status(o)?.version !== status(old)?.version
  );
}

export async function reconcileFederation(
  key: string,
  ctx: FederationContext,
): Promise<ReconcileResult | void> {
  const f = ctx.federations.get(key);
  if (!f?.spec) return ctx.links.retain(key, new Set());
  if (f.metadata.deletionTimestamp) return finalizeFederation(f, ctx);
  await ctx.manager.applier.setFinalizer(f, FINALIZER, true);
  const exports = await publishExports(f, ctx);
  const reports = await Promise.all(f.spec.peers.map((p) => syncPeer(f, p, ctx, exports.get(p.name)!)));
  await ctx.links.retain(f.metadata.name, new Set(f.spec.peers.map((p) => p.name)));
  for (const gone of (f.status?.peers ?? []).filter((s) => !f.spec!.peers.some((p) => p.name === s.name)))
    forgetPeer(f.metadata.name, gone.name);
  await writeStatus(f, ctx, reports);
  // Ledgers are not watched: with export.consumption, what they hold is published at each sync.
  const publish = f.spec.export.consumption ? [f.spec.syncIntervalSeconds * 1000] : [];
  const wake = [...reports.map((r) => r.wakeInMs), ...publish].filter((ms): ms is number => ms !== undefined);
  return wake.length ? { requeueAfterMs: Math.max(1000, Math.min(...wake)) } : undefined;
}

interface ExportOutcome {
  exported: number;
  /** The tenants offered to the peer, by name: the only ones whose reported consumption is kept. */
  offered: Map<string, GovTenant>;
  skipped: Skipped[];
  problem?: { reason: string; message: string };
}

/** One ConfigMap per peer, readable by that peer's credentials alone; those of removed peers go. */
async function publishExports(f: Federation, ctx: FederationContext): Promise<Map<string, ExportOutcome>> {
  const out = new Map<string, ExportOutcome>();
  const { exportFor } = await exchange();
  const inputs = {
    federation: f,
    tenants: ctx.tenants.list(),
    services: ctx.services.list(),
    classes: ctx.classes.list(),
    ledgers: f.spec!.export.consumption ? ctx.ledgers.list() : [],
    now: Date.now(),
  };
  for (const peer of f.spec!.peers) {
    const { document, skipped } = exportFor({ ...inputs, peer });
    const names = new Set(document.tenants.map((t) => t.name));
    const offered = new Map(inputs.tenants.filter((t) => names.has(t.metadata.name)).map((t) => [t.metadata.name, t])); // prettier-ignore
    const exported = document.tenants.length + document.serviceClasses.length + document.services.length;
    const text = JSON.stringify(document, null, 1);
    if (Buffer.byteLength(text) > MAX_EXPORT_BYTES) {
      const message = `the export for ${peer.name} is ${Buffer.byteLength(text)} bytes, over the ${MAX_EXPORT_BYTES} a ConfigMap can hold; narrow export.tenantSelector`;
      out.set(peer.name, { exported: 0, offered, skipped, problem: { reason: 'ExportTooLarge', message } });
      continue;
    }
    const { action } = await ctx.manager.applier.apply(
      exportConfigMap(f, peer, ctx.settings.namespace, text),
    );
    if (action !== 'unchanged') {
      // With consumption, the totals move at every sync: the recorder writes the same event once in ten minutes.
      const reported = Array.isArray(document.consumption) ? `, consumption of ${document.consumption.length} tenant-month(s)` : ''; // prettier-ignore
      const message = `Published the export for ${peer.name} (${peer.country}): ${document.tenants.length} tenant(s), ${document.serviceClasses.length} class(es), ${document.services.length} service(s)${reported}`;
      ctx.manager.events.record(f, 'Normal', 'ExportPublished', message);
      ctx.log.info('export published', { federation: f.metadata.name, peer: peer.name, exported });
    }
    peerExported.set({ federation: f.metadata.name, peer: peer.name }, exported);
    out.set(peer.name, { exported, offered, skipped });
  }
  const peers = new Set(f.spec!.peers.map((p) => p.name));
  const stale = ctx.configMaps.list(
    (cm) =>
      cm.metadata.labels?.[FEDERATION] === f.metadata.name &&
      !peers.has(cm.metadata.labels?.[EXPORT_TO] ?? ''),
  );
  for (const cm of stale) await ctx.manager.applier.delete(resources.ConfigMap, cm);
  return out;
}

function exportConfigMap(f: Federation, peer: Peer, namespace: string, text: string): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: {
      name: exportName(peer.name),
      namespace,
      labels: { [MANAGED_BY]: OPERATOR, [FEDERATION]: f.metadata.name, [EXPORT_TO]: peer.name },
      ownerReferences: [
        {
          apiVersion: f.apiVersion,
          kind: f.kind,
          name: f.metadata.name,
          uid: f.metadata.uid!,
          controller: true,
        },
      ],
    },
    data: { [EXPORT_DATA_KEY]: text },
  };
}

/** Credentials, probe, then import, withdraw or mark Stale; never throws for the peer's faults. */
async function syncPeer(
  f: Federation,
  peer: Peer,
  ctx: FederationContext,
  exp: ExportOutcome,
): Promise<PeerReport> {
  const labels = { federation: f.metadata.name, peer: peer.name };
  const end = peerSyncDuration.startTimer(labels);
  const report: PeerReport = {
    peer,
    stale: false,
    exported: exp.exported,
    offered: exp.offered,
    imported: 0,
    skipped: [...exp.skipped],
  };
  try {
    await connect(f, peer, ctx, report);
    await importFrom(f, peer, ctx, report);
  } finally {
    end();
  }
  report.problem ??= exp.problem;
  if (report.problem) peerSyncErrors.inc(labels);
  peerReachable.set(labels, report.link?.reachable ? 1 : 0);
  peerImported.set(labels, report.imported);
  return report;
}

async function connect(f: Federation, peer: Peer, ctx: FederationContext, report: PeerReport): Promise<void> {
  const ref = peer.kubeconfigSecretRef;
  if (ref.namespace !== ctx.settings.namespace) {
    report.problem = {
      reason: 'CredentialsUnavailable',
      message: `kubeconfigSecretRef must name a Secret in ${ctx.settings.namespace}, the namespace of the operator`,
    };
    return;
  }
  const credentials = credentialsFrom(peer, ctx.secrets.get(ref.name, ref.namespace));
  if ('problem' in credentials) {
    report.problem = { reason: credentials.reason, message: credentials.problem };
    // A refused kubeconfig is a peer's attempt or a mistake: an event once per new refusal.
    const before = f.status?.peers?.find((p) => p.name === peer.name)?.message;
    if (credentials.reason === 'CredentialsRejected' && before !== credentials.problem.slice(0, 1024))
      ctx.manager.events.record(f, 'Warning', 'CredentialsRejected', `${peer.name}: ${credentials.problem}`);
    await ctx.links.drop(f.metadata.name, peer.name);
    return;
  }
  try {
    report.link = ctx.links.link(f.metadata.name, peer, f.spec!.localMember, credentials);
  } catch {
    report.problem = {
      reason: 'CredentialsUnavailable',
      message: `the kubeconfig of ${peer.name} cannot be used`,
    };
    return;
  }
  const now = Date.now();
  const intervalMs = f.spec!.syncIntervalSeconds * 1000;
  if (report.link.probeDue(now)) await report.link.probe(intervalMs, now);
  report.wakeInMs = report.link.untilNextProbe(Date.now());
  const expires = credentials.expiresAt;
  if (expires && Date.parse(expires) <= Date.now()) {
    report.problem = {
      reason: 'CredentialsExpired',
      message: `the credentials for ${peer.name} expired at ${expires}`,
    };
  }
}

type Problem = { reason: string; message: string };

/** The export last seen from the peer (kept while it is away), and why it is not current, if it is not. */
function readExport(link: PeerLink | undefined): { document?: unknown; problem?: Problem } {
  if (!link) return {};
  const data = link.exportData();
  if (data === undefined || data === 'unknown') return { problem: exportProblem(link, data) };
  try {
    return { document: JSON.parse(data), problem: exportProblem(link, data) };
  } catch {
    const invalid = { reason: 'ExportInvalid', message: 'the export is not valid JSON' };
    return { problem: exportProblem(link, data) ?? invalid };
  }
}

function exportProblem(link: PeerLink, data: string | undefined): Problem | undefined {
  if (!link.reachable) return { reason: 'PeerUnreachable', message: link.probeError ?? 'not probed yet' };
  if (link.exports.lastError)
    return { reason: 'ExportUnavailable', message: `cannot read the export: ${link.exports.lastError}` };
  if (data === 'unknown') return { reason: 'ExportUnavailable', message: 'the export has not been read yet' };
  if (data === undefined)
    return { reason: 'ExportNotPublished', message: 'the peer publishes no export for this member' };
  return undefined;
}

/** When the peer was last in contact: this process's own record, else the one in the status (after a restart). */
function lastSync(f: Federation, peer: Peer, link: PeerLink | undefined, fresh: boolean) {
  const previous = f.status?.peers?.find((p) => p.name === peer.name)?.observedAt;
  if (fresh && link) link.lastSynced = new Date();
  return { previous, lastSynced: link?.lastSynced ?? (previous ? new Date(previous) : undefined) };
}

/** How current the imports from a peer are: Stale once out of contact longer than staleAfterSeconds. */
function freshness(f: Federation, peer: Peer, link: PeerLink | undefined, fresh: boolean) {
  const staleAfterMs = f.spec!.import.staleAfterSeconds * 1000;
  const { previous, lastSynced } = lastSync(f, peer, link, fresh);
  // Never in contact since this process started and no record of it: count from the first attempt.
  const reference = (lastSynced ?? link?.createdAt ?? new Date()).getTime();
  const stale = !fresh && Date.now() - reference > staleAfterMs;
  return {
    stale,
    staleSince: stale ? isoSeconds(new Date(reference)) : undefined,
    observedAt: heartbeat(previous, lastSynced, staleAfterMs),
    wakeInMs: fresh ? undefined : Math.max(1000, reference + staleAfterMs - Date.now() + 1000),
  };
}

const earliest = (a: number | undefined, b: number | undefined): number | undefined =>
  a === undefined ? b : b === undefined ? a : Math.min(a, b);

async function importFrom(
  f: Federation,
  peer: Peer,
  ctx: FederationContext,
  report: PeerReport,
): Promise<void> {
  const link = report.link;
  const read = readExport(link);
  report.problem ??= read.problem;
  const fresh = !!link && !read.problem;
  const { stale, staleSince, observedAt, wakeInMs } = freshness(f, peer, link, fresh);
  Object.assign(report, { stale, observedAt, wakeInMs: earliest(report.wakeInMs, wakeInMs) });
  // A document last seen is still applied while the peer is away (with the Stale mark); nothing is withdrawn then.
  const data = read.document;
  if (data === undefined) {
    report.imported = await markStale(ctx, f, peer, staleSince);
    return;
  }
  const { consumptionPlan, importPlan } = await exchange();
  const plan = importPlan({
    federation: f,
    peer,
    document: data,
    staleSince,
    local: localView(ctx, f, peer),
  });
  const applied = await applyImports(ctx, f, peer, plan);
  if (plan.valid && fresh) await withdraw(ctx, f, peer, plan);
  const refusal = plan.skipped.find((s) => s.kind === 'FederationExport');
  if (refusal) report.problem ??= { reason: 'ExportInvalid', message: refusal.message };
  report.imported = applied.imported;
  report.skipped.push(...plan.skipped, ...applied.skipped);
  if (applied.waiting) report.wakeInMs = earliest(report.wakeInMs, 2000);
  const reported = consumptionPlan({ federation: f, peer, document: data, exported: report.offered, now: Date.now() }); // prettier-ignore
  const kept = await keepReported(ctx, f, peer, reported.records);
  report.skipped.push(...reported.skipped, ...kept.skipped);
}

/** What an import from this peer is checked against: the namespaces and tenants of this cluster. */
function localView(ctx: FederationContext, f: Federation, peer: Peer): LocalView {
  const tenants = ctx.tenants.list();
  return {
    reserved: reservedNamespaces([ctx.settings.namespace, ctx.settings.ingressNamespace]),
    namespaces: new Map(
      ctx.namespaces.list().map((ns) => [ns.metadata.name, ns.metadata.annotations?.[CREATED_BY_UID]]),
    ),
    tenants: new Map(
      tenants.map((t) => [
        t.metadata.name,
        { uid: t.metadata.uid, fromThisPeer: importedFrom(t, f.metadata.name, peer.name) },
      ]),
    ),
    claimed: new Map(
      tenants.flatMap((t) =>
        (t.spec?.environments ?? []).map((e) => [namespaceName(t.metadata.name, e.name), t.metadata.name]),
      ),
    ),
  };
}

/**
 * observedAt moves in steps of a third of staleAfterSeconds: it says when the peer was last in
 * contact to that resolution, without a status write at every probe.
 */
export function heartbeat(
  previous: string | undefined,
  lastSynced: Date | undefined,
  staleAfterMs: number,
): string | undefined {
  if (!lastSynced) return previous;
  if (previous && lastSynced.getTime() - Date.parse(previous) < staleAfterMs / 3) return previous;
  return isoSeconds(lastSynced);
}

/** Imports stay unless onFederationDelete is Delete; exports go; peers are never contacted. */
async function finalizeFederation(f: Federation, ctx: FederationContext): Promise<void> {
  if (!f.metadata.finalizers?.includes(FINALIZER)) return;
  if (f.spec!.import.onFederationDelete === 'Delete') {
    for (const obj of importsOf(ctx, f.metadata.name)) {
      if (obj.metadata.deletionTimestamp) continue;
      await ctx.manager.applier.delete(resources[obj.kind as 'GovTenant'], obj);
      ctx.log.info('import deleted with its federation', { kind: obj.kind, object: obj.metadata.name });
    }
  }
  for (const cm of ctx.configMaps.list((o) => o.metadata.labels?.[FEDERATION] === f.metadata.name))
    await ctx.manager.applier.delete(resources.ConfigMap, cm);
  await ctx.links.retain(f.metadata.name, new Set());
  for (const p of f.spec!.peers) forgetPeer(f.metadata.name, p.name);
  await ctx.manager.applier.setFinalizer(f, FINALIZER, false);
  ctx.log.info('federation finalized', {
    federation: f.metadata.name,
    imports: f.spec!.import.onFederationDelete,
  });
}

function peerStatus(r: PeerReport): NonNullable<FederationStatus['peers']>[number] {
  const link = r.link;
  return {
    name: r.peer.name,
    country: r.peer.country,
    reachable: link?.reachable ?? false,
    ...(r.observedAt ? { observedAt: r.observedAt } : {}),
    ...(link?.kubernetesVersion ? { kubernetesVersion: link.kubernetesVersion } : {}),
    ...(link?.credentials.expiresAt ? { credentialsExpireAt: link.credentials.expiresAt } : {}),
    stale: r.stale,
    exported: r.exported,
    imported: r.imported,
    skipped: r.skipped
      .slice(0, MAX_SKIPPED)
      .map((s) => ({ kind: s.kind, name: s.name, reason: s.reason, message: s.message.slice(0, 1024) })),
    ...(r.problem ? { message: r.problem.message.slice(0, 1024) } : {}),
  };
}

function federationConditions(f: Federation, reports: PeerReport[]): ConditionUpdate[] {
  const generation = f.metadata.generation;
  const failing = reports.filter((r) => r.problem);
  const summary = failing.map((r) => `${r.peer.name}: ${r.problem!.message}`).join('; ');
  if (!failing.length) {
    const message = reports.length ? `Exchanging with ${reports.length} peer(s)` : 'No peers';
    return [
      { type: 'Ready', status: 'True', reason: 'Synchronized', message, observedGeneration: generation },
      {
        type: 'Degraded',
        status: 'False',
        reason: 'AllPeersHealthy',
        message,
        observedGeneration: generation,
      },
    ];
  }
  const reason = failing[0]!.problem!.reason;
  return [
    { type: 'Ready', status: 'False', reason, message: summary, observedGeneration: generation },
    { type: 'Degraded', status: 'True', reason, message: summary, observedGeneration: generation },
  ];
}

async function writeStatus(f: Federation, ctx: FederationContext, reports: PeerReport[]): Promise<void> {
  const now = new Date();
  let conditions: Condition[] = f.status?.conditions ?? [];
  for (const c of federationConditions(f, reports)) conditions = setCondition(conditions, c, now);
  const status: FederationStatus = {
    observedGeneration: f.metadata.generation,
    conditions,
    peers: reports.map(peerStatus),
  };
  if (!statusChanged(f.status, status)) return;
  recordReachability(f, ctx, reports);
  recordSkipped(f, ctx, reports);
  await ctx.manager.applier.applyStatus(f, status);
}

/**
 * A Warning on the Federation for each newly refused object, one Event per peer and reason: what a
 * peer offered and this member would not take is seen in `kubectl describe`, not only in status.
 */
function recordSkipped(f: Federation, ctx: FederationContext, reports: PeerReport[]): void {
  const keyOf = (s: { kind: string; name: string; reason: string }): string =>
    `${s.kind}/${s.name}/${s.reason}`;
  for (const { peer, skipped } of reports) {
    const before = new Set((f.status?.peers?.find((p) => p.name === peer.name)?.skipped ?? []).map(keyOf));
    const fresh = new Map<string, string[]>();
    for (const s of skipped.slice(0, MAX_SKIPPED).filter((s) => !before.has(keyOf(s))))
      fresh.set(s.reason, [...(fresh.get(s.reason) ?? []), `${s.kind} ${s.name}: ${s.message}`]);
    for (const [reason, items] of fresh)
      ctx.manager.events.record(
        f,
        'Warning',
        reason,
        `${peer.name} (${peer.country}): ${items.join('; ')}`.slice(0, 1000),
      );
  }
}

/** An event on the Federation when a peer becomes unreachable or reachable again. */
function recordReachability(f: Federation, ctx: FederationContext, reports: PeerReport[]): void {
  const before = new Map((f.status?.peers ?? []).map((p) => [p.name, p.reachable]));
  for (const { peer, link } of reports) {
    if (!link || !before.has(peer.name) || before.get(peer.name) === link.reachable) continue;
    if (link.reachable)
      ctx.manager.events.record(
        f,
        'Normal',
        'PeerReachable',
        `${peer.name} (${peer.country}) is reachable again`,
      );
    else
      ctx.manager.events.record(
        f,
        'Warning',
        'PeerUnreachable',
        `${peer.name} (${peer.country}) is unreachable: ${link.probeError ?? ''}`,
      );
  }
}
