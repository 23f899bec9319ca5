/**
 * The one write path: server-side apply with a single field manager, skipped entirely when the
 * cached live object already holds the desired state; prune of what we created and no longer want.
 * Fields handed over to another controller are set apart (hold), under a manager of their own.
 */
import { createHash } from 'node:crypto';
import type { KubeClient } from './kube.js';
import { isNotFound } from './kube.js';
import type { ResourceResolver, ResourceType } from './resources.js';
import { objectPath } from './resources.js';
import type { KubeObject } from './types.js';

/** The Applier's identity on the wire and its resource types: set once by the operator that uses it. */
export interface ApplyOptions {
  /** Field manager of every server-side apply. */
  fieldManager: string;
  /** Annotation with the hash of what was last applied: a changed desired state is applied even where a subset check passes (removed fields). */
  appliedHashAnnotation: string;
  resourceFor: ResourceResolver;
}

export type ApplyAction = 'created' | 'configured' | 'unchanged';
export interface ApplyOutcome {
  object: KubeObject;
  action: ApplyAction;
}

/** Returns the cached object, undefined when the cache knows it is absent, or 'uncached'. */
export type Lookup = (
  r: ResourceType,
  name: string,
  namespace?: string,
) => KubeObject | undefined | 'uncached';

/** Kubernetes quantity: a decimal number and a binary or decimal SI suffix, or a decimal exponent. */
const QUANTITY = /^([+-]?(?:\d+(?:\.\d*)?|\.\d+))([eE][+-]?\d+|n|u|m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$/;
const SUFFIX: Record<string, number> = {
  '': 1, n: 1e-9, u: 1e-6, m: 1e-3, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18,
  Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60,
}; // prettier-ignore

/** The value of a resource quantity, or undefined when the string is not one. */
export function quantityValue(v: unknown): number | undefined {
  const s = typeof v === 'number' ? String(v) : v;
  const m = typeof s === 'string' ? QUANTITY.exec(s) : null;
  if (!m) return undefined;
  const [, num, suffix = ''] = m;
  return /^[eE]./.test(suffix) ? Number(`${num}e${suffix.slice(1)}`) : Number(num) * SUFFIX[suffix]!;
}

/** Equal quantities, whatever their notation ("0.7" and "700m"), up to floating point rounding. */
function sameQuantity(a: number | undefined, b: number | undefined): boolean {
  if (a === undefined || b === undefined) return false;
  return a === b || Math.abs(a - b) <= 1e-9 * Math.max(Math.abs(a), Math.abs(b));
}

/** True when every field of `desired` is present with an equal value in `live` (quantities by value). */
export function isSubset(desired: unknown, live: unknown): boolean {
  if (Array.isArray(desired)) {
    return (
      Array.isArray(live) && live.length === desired.length && desired.every((d, i) => isSubset(d, live[i]))
    );
  }
  if (desired !== null && typeof desired === 'object') {
    if (live === null || typeof live !== 'object' || Array.isArray(live)) return false;
    const l = live as Record<string, unknown>;
    return Object.entries(desired).every(([k, v]) => v === undefined || isSubset(v, l[k]));
  }
  if (desired === live) return true;
  return typeof live !== 'boolean' && sameQuantity(quantityValue(desired), quantityValue(live));
}

export function hashOf(value: unknown): string {
  return createHash('sha256').update(JSON.stringify(value)).digest('hex').slice(0, 16);
}

/** The desired object with the hash of its own content recorded in the annotation `key`. */
export function withAppliedHash(desired: KubeObject, key: string): KubeObject {
  const annotations = { ...desired.metadata.annotations, [key]: hashOf(desired) };
  return { ...desired, metadata: { ...desired.metadata, annotations } };
}

export class Applier {
  constructor(
    private readonly client: KubeClient,
    private readonly lookup: Lookup,
    private readonly opts: ApplyOptions,
  ) {}

  /** Applies `desired` unless the live object already matches it; never sends a request then. */
  async apply(desired: KubeObject): Promise<ApplyOutcome> {
    const resource = this.opts.resourceFor(desired.apiVersion, desired.kind);
    const { name, namespace } = desired.metadata;
    const body = withAppliedHash(desired, this.opts.appliedHashAnnotation);
    const live = this.lookup(resource, name, namespace);
    if (live && live !== 'uncached' && isSubset(body, live)) return { object: live, action: 'unchanged' };
    const object = await this.client.request<KubeObject>('PATCH', objectPath(resource, name, namespace), {
      query: { fieldManager: this.opts.fieldManager, force: true },
      contentType: 'application/apply-patch+yaml',
      body,
    });
    return { object, action: live ? 'configured' : 'created' };
  }

  /**
   * Sets `fields` of an existing object under a field manager of their own, `<fieldManager>-<holder>`,
   * that only ever holds them: the objects `apply` sends must leave them out, so that an apply neither
   * removes them (a field its manager stops applying and nobody else owns goes, back to its default)
   * nor takes them back from the controller that changes them next, which then owns them alone (the
   * replicas an HPA scales). Forced: it takes them from `apply`'s manager where that one held them.
   */
  async hold(obj: KubeObject, fields: Record<string, unknown>, holder: string): Promise<KubeObject> {
    const resource = this.opts.resourceFor(obj.apiVersion, obj.kind);
    const { name, namespace } = obj.metadata;
    return this.client.request<KubeObject>('PATCH', objectPath(resource, name, namespace), {
      query: { fieldManager: `${this.opts.fieldManager}-${holder}`, force: true },
      contentType: 'application/apply-patch+yaml',
      body: { apiVersion: obj.apiVersion, kind: obj.kind, metadata: { name, namespace }, ...fields },
    });
  }

  /**
   * Applies the status through the status subresource. The caller decides whether it changed. With
   * `ifUnchangedSince`, the object's resourceVersion is a precondition: a status computed from a
   * stale copy is refused (409) instead of overwriting a newer one.
   */
  async applyStatus(
    obj: KubeObject,
    status: unknown,
    opts: { ifUnchangedSince?: string } = {},
  ): Promise<KubeObject> {
    const resource = this.opts.resourceFor(obj.apiVersion, obj.kind);
    const { name, namespace } = obj.metadata;
    const resourceVersion = opts.ifUnchangedSince;
    return this.client.request<KubeObject>('PATCH', `${objectPath(resource, name, namespace)}/status`, {
      query: { fieldManager: this.opts.fieldManager, force: true },
      contentType: 'application/apply-patch+yaml',
      body: {
        apiVersion: obj.apiVersion,
        kind: obj.kind,
        metadata: { name, namespace, resourceVersion },
        status,
      },
    });
  }

  /** Sets or clears our finalizer on an object; other finalizers belong to others and stay. */
  async setFinalizer(obj: KubeObject, finalizer: string, present: boolean): Promise<void> {
    const has = obj.metadata.finalizers?.includes(finalizer) ?? false;
    if (has === present) return;
    const resource = this.opts.resourceFor(obj.apiVersion, obj.kind);
    const { name, namespace } = obj.metadata;
    const finalizers = (obj.metadata.finalizers ?? [])
      .filter((f) => f !== finalizer)
      .concat(present ? [finalizer] : []);
    // The resourceVersion makes the merge patch conditional: a concurrent change becomes a 409, retried.
    try {
      await this.client.request('PATCH', objectPath(resource, name, namespace), {
        contentType: 'application/merge-patch+json',
        body: { metadata: { finalizers, resourceVersion: obj.metadata.resourceVersion } },
      });
    } catch (e) {
      // Gone already (its last finalizer was removed): nothing left to do.
      if (!isNotFound(e)) throw e;
    }
  }

  /** Deletes an object we created; the uid precondition guarantees we never delete a same-named successor. */
  async delete(resource: ResourceType, obj: KubeObject): Promise<boolean> {
    try {
      await this.client.request('DELETE', objectPath(resource, obj.metadata.name, obj.metadata.namespace), {
        body: { propagationPolicy: 'Background', preconditions: { uid: obj.metadata.uid } },
      });
      return true;
    } catch (e) {
      if (isNotFound(e)) return false;
      throw e;
    }
  }
}
