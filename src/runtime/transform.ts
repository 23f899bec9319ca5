/**
 * Cache transforms, as controller-runtime's cache.Options.DefaultTransform and ByObject Transform:
 * an informer runs every object of its lists and watches through them before it stores the object
 * or hands it to handlers, so that the cache keeps only what the controllers read. A transform must
 * keep metadata.name, namespace and resourceVersion: the informer's bookkeeping reads them.
 */
import type { KubeObject } from './types.js';

export type Transform = (obj: KubeObject) => KubeObject;

/** The fields of an object that pass `keep`, as a fresh object (a field deleted in place slows V8's objects down). */
const fieldsWhere = <T extends object>(obj: T, keep: (key: string) => boolean): T =>
  Object.fromEntries(Object.entries(obj).filter(([key]) => keep(key))) as T;

const omit = <T extends object>(obj: T, keys: readonly string[]): T =>
  fieldsWhere(obj, (key) => !keys.includes(key));

/** Server-side apply's bookkeeping: often the largest part of an object, never read by a controller. */
export const stripManagedFields: Transform = (obj) =>
  'managedFields' in obj.metadata ? { ...obj, metadata: omit(obj.metadata, ['managedFields']) } : obj;

export const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';

/** The copy of the whole object that `kubectl apply` (client-side) keeps in an annotation. */
export const stripLastApplied: Transform = (obj) => {
  const annotations = obj.metadata.annotations;
  if (!annotations || !(LAST_APPLIED in annotations)) return obj;
  return { ...obj, metadata: { ...obj.metadata, annotations: omit(annotations, [LAST_APPLIED]) } };
};

/** Drops top-level fields, such as a status that no controller reads. */
export const dropFields =
  (...fields: string[]): Transform =>
  (obj) =>
    fields.some((f) => f in obj) ? omit(obj, fields) : obj;

/** Keeps only the given fields of the status, such as the counts and conditions a controller reads. */
export const pickStatus =
  (...fields: string[]): Transform =>
  (obj) =>
    obj.status && typeof obj.status === 'object'
      ? { ...obj, status: fieldsWhere(obj.status, (key) => fields.includes(key)) }
      : obj;

/** The transforms one after the other. */
export const pipe =
  (...transforms: Transform[]): Transform =>
  (obj) =>
    transforms.reduce((o, t) => t(o), obj);

/** What every informer does whatever else it is told: no cached object keeps these two. */
export const defaultTransform: Transform = pipe(stripManagedFields, stripLastApplied);

/** Longer strings (documents, certificates) are seldom repeated: not worth a look-up. */
const SHARED_MAX_LENGTH = 256;

/**
 * The one copy V8 keeps of a string that is a property key (its string table drops unused ones); a
 * prototype-less object takes the key without a new hidden class for each string.
 */
function internalized(s: string): string {
  if (s.length > SHARED_MAX_LENGTH) return s;
  const keyed: Record<string, number> = Object.create(null);
  keyed[s] = 0;
  return Object.keys(keyed)[0]!;
}

/**
 * Makes equal strings of cached objects one string: JSON.parse gives every object its own copy of
 * each value (a field manager, an apiVersion, a namespace in every label...), and with a thousand
 * tenants these copies were a fifth of the heap. Unlike a transform, it changes the values of what it is
 * given, in place: the informer gives it only objects of its own, just parsed and transformed.
 */
export function shareStrings<T>(value: T): T {
  if (typeof value === 'string') return internalized(value) as T;
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) value[i] = shareStrings(value[i]);
    return value;
  }
  const fields = value as Record<string, unknown>;
  for (const key of Object.keys(fields)) fields[key] = shareStrings(fields[key]);
  return value;
}
