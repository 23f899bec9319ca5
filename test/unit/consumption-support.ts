/** A fake cluster for the consumption ledger: objects with resourceVersions, a cache that may lag, a clock. */
import type { GovConsumption, GovService, GovTenant } from '../../src/api/index.js';
import type { LedgerContext } from '../../src/controllers/consumption/reconcile.js';
import { ApiError } from '../../src/runtime/kube.js';
import { rootLogger } from '../../src/runtime/log.js';
import type { KubeObject } from '../../src/runtime/types.js';

export const HOUR = 3_600_000;
export const MINUTE = 60_000;
export const GiB = 2 ** 30;

export const tenant = (name: string, envs = ['prod']): GovTenant => ({
  apiVersion: 'gov.secovia.eu/v1alpha1',
  kind: 'GovTenant',
  metadata: { name, uid: `uid-${name}` },
  spec: {
    displayName: `Општина ${name}`,
    country: 'MK',
    level: 'municipal',
    environments: envs.map((e) => ({ name: e })),
    dataResidency: { allowedCountries: ['MK'] },
  } as GovTenant['spec'],
});

export const quota = (namespace: string, used: Record<string, string>): KubeObject => ({
  apiVersion: 'v1',
  kind: 'ResourceQuota',
  metadata: { name: 'secovia-quota', namespace },
  status: { hard: {}, used },
});

export const service = (namespace: string, name: string, cls: string, plan: string): GovService =>
  ({
    apiVersion: 'gov.secovia.eu/v1alpha1',
    kind: 'GovService',
    metadata: { name, namespace },
    spec: { class: cls, plan, exposure: 'internal' },
  }) as GovService;

/** The API server's side: writes bump the resourceVersion; a status conditional on an older one is refused. */
export class FakeCluster {
  readonly objects = new Map<string, GovConsumption>();
  /** What the caches see: a copy taken on `sync()`, unless `live` (a cache that is never behind). */
  private snapshot = new Map<string, GovConsumption>();
  live = true;
  writes = 0;
  private rv = 0;
  tenants = new Map<string, GovTenant>();
  quotas = new Map<string, KubeObject>();
  services: GovService[] = [];

  sync(): void {
    this.snapshot = new Map(this.objects);
  }

  /** One replica of the operator with its own clock, reading this cluster. */
  replica(now: () => number, intervalMs = 15 * MINUTE): LedgerContext {
    const ledgers = () => (this.live ? this.objects : this.snapshot);
    return {
      tenants: { get: (name) => this.tenants.get(name) },
      ledgers: { get: (name) => ledgers().get(name) },
      quotas: { get: (_name, namespace) => this.quotas.get(namespace ?? '') },
      services: { list: (ns) => this.services.filter((s) => s.metadata.namespace === ns) },
      applier: {
        apply: async (desired) => {
          const live = this.objects.get(desired.metadata.name);
          if (live) return { object: live, action: 'unchanged' };
          const created = { ...desired, metadata: { ...desired.metadata, resourceVersion: this.bump(), generation: 1 } }; // prettier-ignore
          this.objects.set(desired.metadata.name, created as GovConsumption);
          return { object: created, action: 'created' };
        },
        applyStatus: async (obj, status, opts = {}) => {
          const live = this.objects.get(obj.metadata.name)!;
          if (opts.ifUnchangedSince && opts.ifUnchangedSince !== live.metadata.resourceVersion)
            throw new ApiError(409, 'Conflict', `the object has been modified: ${obj.metadata.name}`);
          const next = { ...live, metadata: { ...live.metadata, resourceVersion: this.bump() }, status };
          this.objects.set(obj.metadata.name, next as GovConsumption);
          return next;
        },
      },
      intervalMs,
      now,
      log: rootLogger,
    };
  }

  private bump(): string {
    this.writes++;
    return String(++this.rv);
  }
}

/** A clock that moves only when told. */
export class FakeClock {
  constructor(public ms: number) {}
  now = (): number => this.ms;
  advance(ms: number): number {
    return (this.ms += ms);
  }
}
