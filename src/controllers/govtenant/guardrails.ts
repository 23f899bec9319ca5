/**
 * Pure parts of the tenant guardrails that admission enforces from namespace annotations: which
 * ingress domains a tenant owns (no two tenants ever own an overlapping domain) and which image
 * registries its workloads may pull from.
 */
import type { GovServiceClass, GovTenant } from '../../api/index.js';
import { ORIGIN_MEMBER } from '../labels.js';

/** A domain covers itself and its subdomains: budapest.example covers permits.budapest.example. */
export const domainCovers = (domain: string, host: string): boolean =>
  host === domain || host.endsWith(`.${domain}`);

/** Two domains overlap when some host is covered by both: one covers the other. */
export const domainsOverlap = (a: string, b: string): boolean => domainCovers(a, b) || domainCovers(b, a);

/** A domain and every domain above it: a.b.eu gives a.b.eu, b.eu and eu. */
export const domainSuffixes = (domain: string): string[] =>
  domain.split('.').map((_, i, labels) => labels.slice(i).join('.'));

/**
 * What holds a domain overlapping one of `domains`, from two lookups instead of a scan of every
 * holder: by each domain held (the domain itself and those above it) and by each domain held or
 * above one held (the domain's descendants).
 */
export function overlappingHolders<T>(
  domains: readonly string[],
  byDomain: (domain: string) => readonly T[],
  byDomainOrAbove: (domain: string) => readonly T[],
): T[] {
  const found = new Set<T>();
  for (const domain of domains) {
    for (const holder of byDomainOrAbove(domain)) found.add(holder);
    for (const above of domainSuffixes(domain)) for (const holder of byDomain(above)) found.add(holder);
  }
  return [...found];
}

/** Creation time first, then name: a total order, so every reconciler agrees on the elder. */
export const tenantOlder = (a: GovTenant, b: GovTenant): boolean => {
  const ta = a.metadata.creationTimestamp ?? '';
  const tb = b.metadata.creationTimestamp ?? '';
  return ta !== tb ? ta < tb : a.metadata.name < b.metadata.name;
};

export interface DomainConflict {
  domain: string;
  /** The elder tenant whose allowed domain overlaps. */
  holder: string;
  holderDomain: string;
}

export interface OwnedDomains {
  owned: string[];
  conflicts: DomainConflict[];
}

/**
 * The domains of spec.ingress.allowedDomains that the tenant owns: those that overlap no allowed
 * domain of an elder tenant. Elders are compared on what they ask, not on what they own, so that
 * two tenants never own overlapping domains whatever order they are reconciled in: of two
 * overlapping claims, the younger one always loses.
 */
export function ownedDomains(t: GovTenant, tenants: readonly GovTenant[]): OwnedDomains {
  const elders = tenants.filter((o) => o.metadata.name !== t.metadata.name && tenantOlder(o, t));
  const owned: string[] = [];
  const conflicts: DomainConflict[] = [];
  for (const domain of t.spec?.ingress?.allowedDomains ?? []) {
    const clash = elders
      .flatMap((o) => (o.spec?.ingress?.allowedDomains ?? []).map((d) => ({ holder: o, holderDomain: d })))
      .filter((c) => domainsOverlap(c.holderDomain, domain))
      .sort((a, b) => (tenantOlder(a.holder, b.holder) ? -1 : 1))[0];
    if (clash)
      conflicts.push({ domain, holder: clash.holder.metadata.name, holderDomain: clash.holderDomain });
    else owned.push(domain);
  }
  return { owned, conflicts };
}

/** Whether a host (possibly *.name when wildcards are allowed) falls under one of the domains. */
export function hostAllowed(host: string, domains: readonly string[], allowWildcard: boolean): boolean {
  const wildcard = host.startsWith('*.');
  if (wildcard && !allowWildcard) return false;
  const name = wildcard ? host.slice(2) : host;
  return domains.some((d) => domainCovers(d, name));
}

/**
 * The registry of an image reference as the container runtime resolves it: the first path
 * component when it looks like a host (has a dot or a port, or is localhost), else docker.io.
 */
export function registryOf(image: string): string {
  const slash = image.indexOf('/');
  const first = slash < 0 ? '' : image.slice(0, slash);
  return first && (first.includes('.') || first.includes(':') || first === 'localhost') ? first : 'docker.io';
}

/** A class the tenant may instantiate: named, or covered by * unless imported from a peer. */
export const classUsableBy = (t: GovTenant, cls: GovServiceClass): boolean => {
  const allowed = t.spec?.allowedServiceClasses ?? ['*'];
  return (
    allowed.includes(cls.metadata.name) || (allowed.includes('*') && !cls.metadata.labels?.[ORIGIN_MEMBER])
  );
};

/**
 * Registries the tenant's workloads may pull from: spec.workloads.allowedRegistries, or by default
 * the registries of the GovServiceClass images it may use, sorted and without repeats.
 */
export function allowedRegistries(t: GovTenant, classes: readonly GovServiceClass[]): string[] {
  const explicit = t.spec?.workloads?.allowedRegistries;
  const registries =
    explicit ?? classes.filter((c) => c.spec && classUsableBy(t, c)).map((c) => registryOf(c.spec!.image));
  return [...new Set(registries)].sort();
}
