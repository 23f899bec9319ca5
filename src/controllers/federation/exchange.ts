/**
 * What crosses a border, as pure functions. A member publishes one export document per peer (what
 * that peer may see) and pulls the one each peer publishes for it. Residency is checked twice, by
 * two parties that do not trust each other: the exporter offers a tenant only to peers in its
 * allowed countries, and the importer takes it only if its own country is allowed.
 */
import { z } from 'zod';
import type {
  Federation,
  FederationSpec,
  GovConsumption,
  GovService,
  GovServiceClass,
  GovTenant,
  GovServiceImportSpec,
} from '../../api/index.js';
import { API_VERSION, govServiceClassSpec, govServiceImportSpec, govTenantSpec } from '../../api/index.js';
import { quantityValue } from '../../runtime/apply.js';
import type { KubeObject } from '../../runtime/types.js';
import { namespaceName } from '../govtenant/desired.js';
import { serviceUrl } from '../govservice/desired.js';
import { FEDERATION, MANAGED_BY, OPERATOR, ORIGIN_COUNTRY, ORIGIN_MEMBER, STALE_SINCE } from '../labels.js';
import { consumptionFor, reportedConsumption, type ReportInput, type ReportPlan } from './consumption.js';
import { EXPORT_KIND, exportName } from './names.js';

export type Peer = FederationSpec['peers'][number];
export type LabelSelector = NonNullable<FederationSpec['export']['tenantSelector']>;

/** Why an object was not exchanged with a peer. */
export interface Skipped {
  kind: string;
  name: string;
  reason:
    | 'DataResidency'
    | 'CountryNotAccepted'
    | 'Conflict'
    | 'InvalidExport'
    | 'NotAddressedToUs'
    | 'TenantNotImported'
    | 'NamespaceNotReady'
    | 'ReservedNamespace'
    | 'NamespaceTaken'
    | 'NotExported'
    | 'ConsumptionNotAccepted';
  message: string;
}

const party = z.object({ member: z.string(), country: z.string() });
const namedSpec = z.object({ name: z.string(), spec: z.unknown() });
const exportedService = z.object({
  namespace: z.string(),
  name: z.string(),
  tenant: z.string(),
  class: z.string(),
  version: z.string().optional(),
  url: z.string().optional(),
  classification: z.string(),
});

/** The document a member publishes for one peer; every item is checked again on import. */
export const exportDocument = z.object({
  apiVersion: z.literal(API_VERSION),
  kind: z.literal(EXPORT_KIND),
  from: party,
  to: party,
  tenants: z.array(namedSpec),
  serviceClasses: z.array(namedSpec),
  services: z.array(exportedService),
  /** Present only with export.consumption; checked entry by entry on the reading side (consumption.ts). */
  consumption: z.unknown().optional(),
});
export type ExportDocument = z.infer<typeof exportDocument>;

/** Whether labels satisfy a Kubernetes label selector (matchLabels and matchExpressions). */
export function selectorMatches(selector: LabelSelector, labels: Record<string, string> = {}): boolean {
  const exact = Object.entries(selector.matchLabels ?? {}).every(([k, v]) => labels[k] === v);
  return (
    exact &&
    (selector.matchExpressions ?? []).every(({ key, operator, values = [] }) => {
      const has = key in labels;
      if (operator === 'Exists') return has;
      if (operator === 'DoesNotExist') return !has;
      const inValues = has && values.includes(labels[key]!);
      return operator === 'In' ? inValues : !inValues;
    })
  );
}

/** The one residency rule: a tenant's workloads and data may be placed only in its allowed countries. */
export const residencyAllows = (country: string, tenant: { dataResidency: { allowedCountries: string[] } }) =>
  tenant.dataResidency.allowedCountries.includes(country);

export const isImported = (o: KubeObject): boolean => !!o.metadata.labels?.[ORIGIN_MEMBER];

const byName = <T extends { name: string }>(a: T, b: T): number => a.name.localeCompare(b.name);

export interface ExportInput {
  federation: Federation;
  peer: Peer;
  tenants: GovTenant[];
  services: GovService[];
  classes: GovServiceClass[];
  /** The ledger objects of this cluster: read only with export.consumption. */
  ledgers?: GovConsumption[];
  /** Epoch milliseconds: which months a consumption report covers. */
  now?: number;
}

export interface ExportResult {
  document: ExportDocument;
  skipped: Skipped[];
}

/**
 * What this member offers one peer: the selected tenants whose allowed countries include the
 * peer's, the classes their services use, and (if enabled) their federated services. Imported
 * tenants are never offered again: only an origin decides where its tenants go.
 */
export function exportFor(input: ExportInput): ExportResult {
  const { federation, peer, tenants, services, classes } = input;
  const spec = federation.spec!;
  const selector = spec.export.tenantSelector;
  const skipped: Skipped[] = [];
  const offered = tenants.filter(
    (t) =>
      selector &&
      t.spec &&
      !t.metadata.deletionTimestamp &&
      !isImported(t) &&
      selectorMatches(selector, t.metadata.labels),
  );
  const exported = offered.filter((t) => {
    if (residencyAllows(peer.country, t.spec!)) return true;
    skipped.push({
      kind: 'GovTenant',
      name: t.metadata.name,
      reason: 'DataResidency',
      message: `${peer.country} is not among the allowed countries ${t.spec!.dataResidency.allowedCountries.join(', ')}`,
    });
    return false;
  });
  const received = new Set(exported.map((t) => t.metadata.name));
  const namespaces = new Map(
    exported.flatMap((t) => t.spec!.environments.map((e) => [namespaceName(t.metadata.name, e.name), t])),
  );
  const tenantServices = services.filter((s) => s.spec && namespaces.has(s.metadata.namespace ?? ''));
  const classNames = new Set(tenantServices.map((s) => s.spec!.class));
  const federated = spec.export.federatedServices
    ? tenantServices.filter((s) => s.spec!.exposure === 'federated' && !s.metadata.deletionTimestamp)
    : [];
  const consumption = consumptionFor({
    ...input,
    ledgers: input.ledgers ?? [],
    now: input.now ?? Date.now(),
  });
  return {
    skipped,
    document: {
      apiVersion: API_VERSION,
      kind: EXPORT_KIND,
      from: { member: spec.localMember, country: spec.localCountry },
      to: { member: peer.name, country: peer.country },
      tenants: exported
        .map((t) => ({ name: t.metadata.name, spec: exportedTenantSpec(t.spec!, received) }))
        .sort(byName),
      serviceClasses: classes
        .filter((c) => c.spec && classNames.has(c.metadata.name) && !isImported(c))
        .map((c) => ({ name: c.metadata.name, spec: c.spec }))
        .sort(byName),
      services: federated
        .map((s) => {
          const tenant = namespaces.get(s.metadata.namespace!)!;
          return {
            namespace: s.metadata.namespace!,
            name: s.metadata.name,
            tenant: tenant.metadata.name,
            class: s.spec!.class,
            version: s.status?.version ?? s.spec!.version,
            url: s.status?.url ?? serviceUrl(s),
            classification: tenant.spec!.dataResidency.classification,
          };
        })
        .sort((a, b) => `${a.namespace}/${a.name}`.localeCompare(`${b.namespace}/${b.name}`)),
      ...(consumption ? { consumption } : {}),
    },
  };
}

type TenantSpec = NonNullable<GovTenant['spec']>;

/** Who the administration is: the same on both sides of the border. */
const identityOf = (
  spec: TenantSpec,
): Pick<TenantSpec, 'displayName' | 'country' | 'level' | 'officialId'> => ({
  displayName: spec.displayName,
  country: spec.country,
  level: spec.level,
  ...(spec.officialId ? { officialId: spec.officialId } : {}),
});

/**
 * The part of a tenant a peer needs to run or list it, and nothing else: no contacts, no access
 * subjects, no egress ranges, and only the allowFromTenants that the same peer also receives.
 * The README's "What crosses the border" table lists these fields.
 */
export function exportedTenantSpec(spec: TenantSpec, received: Set<string>): z.input<typeof govTenantSpec> {
  const allowFrom = (spec.network?.allowFromTenants ?? []).filter((n) => received.has(n));
  return {
    ...identityOf(spec),
    environments: spec.environments,
    ...(spec.quota ? { quota: spec.quota } : {}),
    ...(spec.limits ? { limits: spec.limits } : {}),
    ...(allowFrom.length ? { network: { isolation: 'strict', allowFromTenants: allowFrom } } : {}),
    dataResidency: spec.dataResidency,
    allowedServiceClasses: spec.allowedServiceClasses,
    suspended: spec.suspended,
  };
}

/** What to import from one peer: desired local objects, and what was refused with why. */
export interface ImportPlan {
  tenants: KubeObject[];
  classes: KubeObject[];
  serviceImports: KubeObject[];
  skipped: Skipped[];
  /** False when the document was refused or not accepted: nothing may be concluded from it (no withdrawal). */
  valid: boolean;
}

export interface ImportInput {
  federation: Federation;
  peer: Peer;
  /** The peer's export document as published (untrusted JSON). */
  document: unknown;
  /** Last contact time when the peer has been out of reach for too long. */
  staleSince?: string;
  /** What exists in this cluster: names an import must not take. Empty when not given. */
  local?: LocalView;
}

/** The local facts an import is checked against, read from this cluster's caches. */
export interface LocalView {
  /** Namespaces no import may ever use: kube-*, default, the operator's, the ingress controller's. */
  reserved: (namespace: string) => boolean;
  /** Existing namespaces and the uid of the tenant that created each (undefined: not made by a tenant). */
  namespaces: Map<string, string | undefined>;
  /** Existing tenants: uid, and whether this federation imported it from this peer. */
  tenants: Map<string, { uid?: string; fromThisPeer: boolean }>;
  /** Namespace -> the tenant whose spec names it as an environment. */
  claimed: Map<string, string>;
}

const EMPTY_VIEW: LocalView = {
  reserved: () => false,
  namespaces: new Map(),
  tenants: new Map(),
  claimed: new Map(),
};

const issues = (e: z.ZodError): string =>
  e.issues
    .slice(0, 3)
    .map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`)
    .join('; ');

const refusedPlan = (skipped: Skipped[]): ImportPlan => ({
  tenants: [],
  classes: [],
  serviceImports: [],
  skipped,
  valid: false,
});

/** Checks who the document is from and for; returns the reason to refuse it, if any. */
function refuseDocument(spec: FederationSpec, peer: Peer, doc: ExportDocument): Skipped | undefined {
  const name = exportName(spec.localMember);
  if (doc.from.member !== peer.name || doc.from.country !== peer.country) {
    const message = `the export says it is from ${doc.from.member} (${doc.from.country}), expected ${peer.name} (${peer.country})`;
    return { kind: EXPORT_KIND, name, reason: 'InvalidExport', message };
  }
  if (doc.to.member !== spec.localMember || doc.to.country !== spec.localCountry) {
    const message = `the export is for ${doc.to.member} (${doc.to.country}), this member is ${spec.localMember} (${spec.localCountry})`;
    return { kind: EXPORT_KIND, name, reason: 'NotAddressedToUs', message };
  }
  return undefined;
}

/**
 * The consumption a peer reports in its export for this member, read only from a document that is
 * from that peer and for this member (importPlan reports a refused document); what is kept is
 * decided in consumption.ts.
 */
export function consumptionPlan(input: Omit<ReportInput, 'report'> & { document: unknown }): ReportPlan {
  const parsed = exportDocument.safeParse(input.document);
  if (!parsed.success || refuseDocument(input.federation.spec!, input.peer, parsed.data))
    return { records: [], skipped: [] };
  return reportedConsumption({ ...input, report: parsed.data.consumption });
}

/**
 * The importer's own decision on a peer's export: only from accepted countries, only tenants that
 * may live in this member's country, only valid specs (checked with this member's own schemas).
 */
export function importPlan({
  federation,
  peer,
  document,
  staleSince,
  local = EMPTY_VIEW,
}: ImportInput): ImportPlan {
  const spec = federation.spec!;
  const parsed = exportDocument.safeParse(document);
  if (!parsed.success) {
    const message = `not a ${EXPORT_KIND} document: ${issues(parsed.error)}`;
    return refusedPlan([
      { kind: EXPORT_KIND, name: exportName(spec.localMember), reason: 'InvalidExport', message },
    ]);
  }
  const doc = parsed.data;
  const refused = refuseDocument(spec, peer, doc);
  if (refused) return refusedPlan([refused]);
  if (!spec.import.acceptCountries.includes(peer.country)) {
    // A local decision, not the peer's: what was imported before stays as it is.
    const message = `imports from ${peer.country} are not accepted (import.acceptCountries)`;
    return refusedPlan(
      doc.tenants.map((t) => ({ kind: 'GovTenant', name: t.name, reason: 'CountryNotAccepted', message })),
    );
  }
  const meta = (name: string, namespace?: string): KubeObject['metadata'] => ({
    name,
    ...(namespace ? { namespace } : {}),
    labels: {
      [MANAGED_BY]: OPERATOR,
      [ORIGIN_MEMBER]: peer.name,
      [ORIGIN_COUNTRY]: peer.country,
      [FEDERATION]: federation.metadata.name,
    },
    ...(staleSince ? { annotations: { [STALE_SINCE]: staleSince } } : {}),
  });
  const skipped: Skipped[] = [];
  const build: Build = { spec, peer, skipped, meta, local };
  const tenants = importTenants(doc, build);
  const classes = doc.serviceClasses.flatMap(({ name, spec: classSpec }) => {
    const checked = govServiceClassSpec.safeParse(classSpec);
    if (checked.success && isDnsLabel(name))
      return [{ apiVersion: API_VERSION, kind: 'GovServiceClass', metadata: meta(name), spec: checked.data }];
    const message = checked.success ? 'name is not a DNS label' : issues(checked.error);
    skipped.push({ kind: 'GovServiceClass', name, reason: 'InvalidExport', message });
    return [];
  });
  const serviceImports = importServices(doc, tenants, build);
  return { tenants, classes, serviceImports, skipped, valid: true };
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const isDnsLabel = (s: string): boolean => DNS_LABEL.test(s);

/** What every imported object is built with: its federation and peer, the refusals, metadata, local facts. */
interface Build {
  spec: FederationSpec;
  peer: Peer;
  skipped: Skipped[];
  meta: (name: string, namespace?: string) => KubeObject['metadata'];
  local: LocalView;
}

/** Tenants are checked one by one, then shaped by local rules knowing which of them were accepted. */
function importTenants(doc: ExportDocument, build: Build): KubeObject[] {
  const accepted = doc.tenants.flatMap(({ name, spec }) => {
    const checked = acceptTenant(name, spec, build);
    if ('reason' in checked) {
      build.skipped.push({ kind: 'GovTenant', name, ...checked });
      return [];
    }
    return [{ name, spec: checked }];
  });
  const sameOrigin = new Set(accepted.map((t) => t.name));
  return accepted.map(({ name, spec }) => ({
    apiVersion: API_VERSION,
    kind: 'GovTenant',
    metadata: build.meta(name),
    spec: localTenantSpec(spec, { peer: build.peer, policy: build.spec.import, sameOrigin }),
  }));
}

type Refusal = Pick<Skipped, 'reason' | 'message'>;

/** The peer's tenant as this member's schema reads it, or why it is not taken. */
function acceptTenant(name: string, tenantSpec: unknown, { spec, local, peer }: Build): TenantSpec | Refusal {
  const checked = govTenantSpec.safeParse(tenantSpec);
  if (!checked.success || !isDnsLabel(name)) {
    const message = checked.success ? 'name is not a DNS label' : issues(checked.error);
    return { reason: 'InvalidExport', message };
  }
  if (!residencyAllows(spec.localCountry, checked.data)) {
    const allowed = checked.data.dataResidency.allowedCountries.join(', ');
    return {
      reason: 'DataResidency',
      message: `${spec.localCountry} is not among the allowed countries ${allowed}`,
    };
  }
  return namespaceRefusal(name, checked.data, local, peer) ?? checked.data;
}

/**
 * An import takes only namespaces that are free or that it created itself: never a platform
 * namespace, another tenant's, or one left behind by a namesake (the creator uid decides).
 */
function namespaceRefusal(name: string, t: TenantSpec, local: LocalView, peer: Peer): Refusal | undefined {
  const self = local.tenants.get(name);
  if (self && !self.fromThisPeer)
    return {
      reason: 'Conflict',
      message: `GovTenant ${name} exists here and was not created by this federation from ${peer.name}; left untouched`,
    };
  for (const env of t.environments) {
    const ns = namespaceName(name, env.name);
    if (local.reserved(ns))
      return {
        reason: 'ReservedNamespace',
        message: `environment ${env.name} would take namespace ${ns}, which is reserved for the platform`,
      };
    const claimant = local.claimed.get(ns);
    if (claimant && claimant !== name)
      return { reason: 'NamespaceTaken', message: `namespace ${ns} is an environment of tenant ${claimant}` };
    if (!local.namespaces.has(ns)) continue;
    const creator = local.namespaces.get(ns);
    if (!self?.fromThisPeer || !creator || creator !== self.uid)
      return {
        reason: 'NamespaceTaken',
        message: `namespace ${ns} exists and was not created by this import from ${peer.name}; it is left untouched`,
      };
  }
  return undefined;
}

/**
 * The local tenant an import becomes: identity, environments, residency and suspension follow the
 * origin; access, isolation, Pod Security, quota, limits and deletion are this member's decisions.
 */
export function localTenantSpec(
  origin: TenantSpec,
  o: { peer: Peer; policy: FederationSpec['import']; sameOrigin: Set<string> },
): TenantSpec {
  const allowFrom = (origin.network?.allowFromTenants ?? []).filter((n) => o.sameOrigin.has(n));
  const access = o.peer.importAccess;
  const capQuota = (q?: Quota): Quota => capped(q ?? {}, o.policy.maxQuota, QUOTA_KEYS);
  const capLimits = (l?: Limits): Limits => cappedLimits(l, o.policy.maxLimits);
  return {
    ...identityOf(origin),
    environments: origin.environments.map((e) => ({
      name: e.name,
      ...(e.quota ? { quota: capQuota(e.quota) } : {}),
      ...(e.limits ? { limits: capLimits(e.limits) } : {}),
    })),
    quota: capQuota(origin.quota),
    limits: capLimits(origin.limits),
    ...(access?.admins?.length || access?.viewers?.length ? { access } : {}),
    network: {
      isolation: 'strict',
      allowedServiceTypes: ['ClusterIP'],
      ...(allowFrom.length ? { allowFromTenants: allowFrom } : {}),
    },
    // No host and the catalog's registries: what an import may expose or run here is decided here.
    ingress: { allowWildcard: false },
    workloads: {},
    podSecurity: 'restricted',
    dataResidency: origin.dataResidency,
    allowedServiceClasses: origin.allowedServiceClasses,
    suspended: origin.suspended,
    deletionPolicy: 'Retain',
  };
}

type Quota = NonNullable<TenantSpec['quota']>;
type Limits = NonNullable<TenantSpec['limits']>;
const QUOTA_KEYS = ['cpu', 'memory', 'storage', 'pods'] as const;

/** Each capped key is the lower of the asked and the allowed value; an unasked key gets the cap. */
function capped<T extends Record<string, string | number | undefined>>(
  asked: T,
  cap: T,
  keys: readonly (keyof T)[],
): T {
  const out: T = { ...asked };
  for (const key of keys) {
    const [a, c] = [asked[key], cap[key]];
    if (c === undefined) continue;
    const lower = a !== undefined && (quantityValue(a) ?? Infinity) <= (quantityValue(c) ?? Infinity);
    out[key] = (lower ? a : c) as T[keyof T];
  }
  return out;
}

/** Maxima are capped; a default above its (capped) maximum comes down to it, so the LimitRange stays valid. */
function cappedLimits(asked: Limits | undefined, cap: Limits): Limits {
  const out = capped(asked ?? {}, cap, ['maxCpu', 'maxMemory']);
  for (const [dflt, max] of [
    ['defaultCpu', 'maxCpu'],
    ['defaultMemory', 'maxMemory'],
  ] as const) {
    if ((quantityValue(out[dflt]) ?? 0) > (quantityValue(out[max]) ?? Infinity)) out[dflt] = out[max];
  }
  return out;
}

function importServices(
  doc: ExportDocument,
  tenants: KubeObject[],
  { peer, skipped, meta }: Build,
): KubeObject[] {
  const accepted = new Map(tenants.map((t) => [t.metadata.name, t.spec as GovTenant['spec']]));
  return doc.services.flatMap((s) => {
    const name = `${s.namespace}/${s.name}`;
    const tenant = accepted.get(s.tenant);
    if (!tenant) {
      const message = `its tenant ${s.tenant} is not imported`;
      skipped.push({ kind: 'GovServiceImport', name, reason: 'TenantNotImported', message });
      return [];
    }
    const inTenant = tenant.environments.some((e) => namespaceName(s.tenant, e.name) === s.namespace);
    const checked = govServiceImportSpec.safeParse({
      originMember: peer.name,
      originCountry: peer.country,
      tenant: s.tenant,
      service: s.name,
      class: s.class,
      version: s.version,
      url: s.url,
      classification: s.classification,
    } satisfies Record<keyof GovServiceImportSpec, unknown>);
    if (!checked.success || !inTenant || !isDnsLabel(s.name)) {
      const message = checked.success
        ? `namespace ${s.namespace} is not an environment of tenant ${s.tenant}`
        : issues(checked.error);
      skipped.push({ kind: 'GovServiceImport', name, reason: 'InvalidExport', message });
      return [];
    }
    return [
      {
        apiVersion: API_VERSION,
        kind: 'GovServiceImport',
        metadata: meta(s.name, s.namespace),
        spec: checked.data,
      },
    ];
  });
}
