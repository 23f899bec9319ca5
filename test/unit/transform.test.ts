/** The generic cache transforms: what each drops, what each keeps, and that none changes its input. */
import {
  defaultTransform,
  dropFields,
  LAST_APPLIED,
  pickStatus,
  pipe,
  shareStrings,
  stripLastApplied,
  stripManagedFields,
  type Transform,
} from '../../src/runtime/transform.js';
import type { KubeObject } from '../../src/runtime/types.js';

/** A frozen object: a transform that changed its input in place would throw here (modules are strict). */
function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

const deployment = (): KubeObject =>
  deepFreeze({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: {
      name: 'e-permits',
      namespace: 'hr-zadar-prod',
      uid: 'u-1',
      resourceVersion: '42',
      labels: { 'app.kubernetes.io/managed-by': 'secovia-operator' },
      annotations: { 'gov.secovia.eu/applied-hash': 'abc', [LAST_APPLIED]: '{"huge":"copy"}' },
      ownerReferences: [
        { apiVersion: 'gov.secovia.eu/v1alpha1', kind: 'GovService', name: 'e-permits', uid: 'u-0' },
      ],
      managedFields: [{ manager: 'secovia-operator', fieldsV1: { 'f:spec': {} } }],
    } as KubeObject['metadata'],
    spec: { replicas: 2 },
    status: {
      replicas: 2,
      readyReplicas: 1,
      collisionCount: 0,
      conditions: [{ type: 'Available', status: 'True', reason: 'MinimumReplicasAvailable', message: 'ok' }],
    },
  });

describe('cache transforms', () => {
  it('strips managedFields and keeps the rest of the metadata', () => {
    const d = deployment();
    const out = stripManagedFields(d);
    expect(out.metadata).not.toHaveProperty('managedFields');
    const { managedFields, ...rest } = d.metadata as KubeObject['metadata'] & { managedFields: unknown };
    expect(managedFields).toBeDefined();
    expect(out.metadata).toEqual(rest);
    expect(out.spec).toBe(d.spec);
  });

  it("strips kubectl's last-applied annotation and keeps every other annotation", () => {
    const out = stripLastApplied(deployment());
    expect(out.metadata.annotations).toEqual({ 'gov.secovia.eu/applied-hash': 'abc' });
  });

  it('returns an object without anything to strip as it is', () => {
    const bare = deepFreeze({
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: 'a', annotations: {} },
    });
    expect(defaultTransform(bare)).toBe(bare);
  });

  it('drops the named top-level fields only', () => {
    const out = dropFields('status')(deployment());
    expect(Object.keys(out)).toEqual(['apiVersion', 'kind', 'metadata', 'spec']);
    expect(dropFields('spec', 'status')(deployment())).toEqual({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: deployment().metadata,
    });
  });

  it('keeps the named status fields only, and leaves an object without status alone', () => {
    const out = pickStatus('replicas', 'readyReplicas', 'updatedReplicas', 'conditions')(deployment());
    expect(out.status).toEqual({
      replicas: 2,
      readyReplicas: 1,
      conditions: [{ type: 'Available', status: 'True', reason: 'MinimumReplicasAvailable', message: 'ok' }],
    });
    const noStatus = deepFreeze({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'a' } });
    expect(pickStatus('replicas')(noStatus)).toBe(noStatus);
  });

  it('pipes transforms in order', () => {
    const mark =
      (step: string): Transform =>
      (o) => ({
        ...o,
        metadata: { ...o.metadata, labels: { steps: `${o.metadata.labels?.steps ?? ''}${step}` } },
      });
    expect(pipe(mark('a'), mark('b'), mark('c'))(deployment()).metadata.labels).toEqual({ steps: 'abc' });
    expect(pipe(defaultTransform, dropFields('status'))(deployment())).toEqual(
      dropFields('status')(stripLastApplied(stripManagedFields(deployment()))),
    );
  });
});

describe('shareStrings', () => {
  it('keeps every value as it was, in the objects and arrays it was given', () => {
    const text = JSON.stringify({
      metadata: { name: 'e-permits', labels: { 'app.kubernetes.io/managed-by': 'secovia-operator' } },
      spec: { ports: [{ port: 8080, name: 'http' }], hosts: ['a.example', 'a.example'], on: true, off: null },
      data: { 'export.json': 'x'.repeat(10_000) },
    });
    const obj = JSON.parse(text);
    const ports = obj.spec.ports;
    expect(shareStrings(obj)).toBe(obj);
    expect(obj.spec.ports).toBe(ports);
    expect(obj).toEqual(JSON.parse(text));
    expect(shareStrings(['4711', '', 'Ünïcödé', 'Скопје'])).toEqual(['4711', '', 'Ünïcödé', 'Скопје']);
  });
});
