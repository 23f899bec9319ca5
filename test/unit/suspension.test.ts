/** Suspension: which pods go, which workload controllers are woken on resume, and with what requests. */
import type { Manager } from '../../src/runtime/manager.js';
import type { KubeObject } from '../../src/runtime/types.js';
import {
  RESUMED_AT,
  stopPods,
  wakeControllers,
  wantsPods,
} from '../../src/controllers/govtenant/suspension.js';

const obj = (kind: string, name: string, spec: object = {}, status: object = {}, extra: object = {}) =>
  ({
    apiVersion: 'v1',
    kind,
    metadata: { name, namespace: 'a-prod', uid: `uid-${name}`, ...extra },
    spec,
    status,
  }) as KubeObject;

interface Sent {
  method: string;
  path: string;
  body?: unknown;
}

/** A manager whose API answers lists from `items` (by path suffix) and records every request. */
function fakeManager(items: Record<string, KubeObject[]>, failPatch = new Map<string, number>()) {
  const sent: Sent[] = [];
  const deleted: string[] = [];
  const manager = {
    client: {
      request: async (method: string, path: string, opts: { body?: unknown } = {}) => {
        sent.push({ method, path, body: opts.body });
        if (method === 'GET') {
          const key = Object.keys(items).find((k) => path.endsWith(k));
          return { items: key ? items[key] : [] };
        }
        const status = failPatch.get(path);
        if (status) throw Object.assign(new Error(`HTTP ${status}`), { status });
        return {};
      },
    },
    applier: {
      delete: async (_r: unknown, o: KubeObject) => {
        deleted.push(o.metadata.name);
        return o.metadata.name !== 'vanished';
      },
    },
  } as unknown as Manager;
  return { manager, sent, deleted };
}

describe('wantsPods', () => {
  it.each([
    ['a ReplicaSet with replicas', obj('ReplicaSet', 'r', { replicas: 2 }), true],
    ['an old ReplicaSet scaled to zero', obj('ReplicaSet', 'r', { replicas: 0 }), false],
    ['a StatefulSet without replicas (defaults to one)', obj('StatefulSet', 's'), true],
    ['a StatefulSet scaled to zero', obj('StatefulSet', 's', { replicas: 0 }), false],
    ['a DaemonSet', obj('DaemonSet', 'd'), true],
    ['a running Job', obj('Job', 'j', {}, { active: 0 }), true],
    ['a completed Job', obj('Job', 'j', {}, { completionTime: '2026-01-01T00:00:00Z' }), false],
    ['a failed Job', obj('Job', 'j', {}, { conditions: [{ type: 'Failed', status: 'True' }] }), false],
    [
      'a Job whose Complete condition is False',
      obj('Job', 'j', {}, { conditions: [{ type: 'Complete', status: 'False' }] }),
      true,
    ],
  ] as [string, KubeObject, boolean][])('%s: %s', (_name, o, expected) => {
    expect(wantsPods(o)).toBe(expected);
  });
});

describe('stopPods', () => {
  it('deletes the pods not yet terminating and counts every pod still there', async () => {
    const { manager, sent, deleted } = fakeManager({
      '/namespaces/a-prod/pods': [
        obj('Pod', 'web-1'),
        obj('Pod', 'web-2'),
        obj('Pod', 'leaving', {}, {}, { deletionTimestamp: '2026-01-01T00:00:00Z' }),
        obj('Pod', 'vanished'),
      ],
    });
    expect(await stopPods(manager, 'a-prod')).toEqual({ deleted: ['web-1', 'web-2'], left: 4 });
    expect(deleted).toEqual(['web-1', 'web-2', 'vanished']);
    expect(sent).toEqual([{ method: 'GET', path: '/api/v1/namespaces/a-prod/pods', body: undefined }]);
  });

  it('reports nothing left in an empty namespace', async () => {
    const { manager } = fakeManager({});
    expect(await stopPods(manager, 'a-prod')).toEqual({ deleted: [], left: 0 });
  });
});

describe('wakeControllers', () => {
  it('annotates every workload controller that wants pods, and only those', async () => {
    const now = new Date('2026-12-01T10:00:00Z');
    const { manager, sent } = fakeManager(
      {
        '/apis/apps/v1/namespaces/a-prod/replicasets': [
          obj('ReplicaSet', 'web-abc', { replicas: 2 }),
          obj('ReplicaSet', 'web-old', { replicas: 0 }),
          obj('ReplicaSet', 'gone', { replicas: 1 }),
        ],
        '/apis/apps/v1/namespaces/a-prod/statefulsets': [obj('StatefulSet', 'db', { replicas: 1 })],
        '/apis/apps/v1/namespaces/a-prod/daemonsets': [],
        '/apis/batch/v1/namespaces/a-prod/jobs': [
          obj('Job', 'import'),
          obj('Job', 'done', {}, { completionTime: '2026-01-01T00:00:00Z' }),
        ],
      },
      new Map([['/apis/apps/v1/namespaces/a-prod/replicasets/gone', 404]]),
    );
    expect(await wakeControllers(manager, 'a-prod', now)).toEqual([
      'ReplicaSet/web-abc',
      'StatefulSet/db',
      'Job/import',
    ]);
    const patches = sent.filter((s) => s.method === 'PATCH');
    expect(patches.map((p) => p.path)).toEqual([
      '/apis/apps/v1/namespaces/a-prod/replicasets/web-abc',
      '/apis/apps/v1/namespaces/a-prod/replicasets/gone',
      '/apis/apps/v1/namespaces/a-prod/statefulsets/db',
      '/apis/batch/v1/namespaces/a-prod/jobs/import',
    ]);
    expect(patches[0]!.body).toEqual({ metadata: { annotations: { [RESUMED_AT]: now.toISOString() } } });
  });

  it('passes on any other error than a vanished object', async () => {
    const { manager } = fakeManager(
      { '/apis/apps/v1/namespaces/a-prod/replicasets': [obj('ReplicaSet', 'web', { replicas: 1 })] },
      new Map([['/apis/apps/v1/namespaces/a-prod/replicasets/web', 500]]),
    );
    await expect(wakeControllers(manager, 'a-prod', new Date())).rejects.toThrow('HTTP 500');
  });
});
