/** The namespace index follows its informer exactly: list, watch events and a re-list after 410 Gone. */
import { Index, Informer, NamespaceIndex } from '../../src/runtime/cache.js';
import type { KubeClient, WatchEvent } from '../../src/runtime/kube.js';
import { builtinResources } from '../../src/runtime/resources.js';
import type { KubeObject } from '../../src/runtime/types.js';

const quota = (namespace: string, name: string, rv: string): KubeObject => ({
  apiVersion: 'v1',
  kind: 'ResourceQuota',
  metadata: { name, namespace, resourceVersion: rv },
});

/** Two lists (the second after a 410), and one scripted watch between them. */
function scriptedClient(watchEvents: WatchEvent[]): KubeClient {
  const lists = [
    [quota('a', 'q1', '1'), quota('a', 'q2', '2'), quota('b', 'q1', '3')],
    [quota('a', 'q2', '2'), quota('c', 'q9', '20')],
  ];
  let watched = false;
  return {
    request: async () => ({ metadata: { resourceVersion: '10' }, items: lists.shift() ?? [] }),
    watch: async (_p: string, _q: unknown, onEvent: (e: WatchEvent) => void, signal: AbortSignal) => {
      if (watched)
        return new Promise<void>((r) => signal.addEventListener('abort', () => r(), { once: true }));
      watched = true;
      for (const e of watchEvents) onEvent(e);
    },
  } as unknown as KubeClient;
}

const names = (objs: KubeObject[]): string[] => objs.map((o) => o.metadata.name).sort();

it('lists by namespace exactly what the informer holds, through watch events and a re-list', async () => {
  const client = scriptedClient([
    { type: 'ADDED', object: quota('b', 'q3', '11') },
    { type: 'MODIFIED', object: quota('a', 'q1', '12') },
    { type: 'DELETED', object: quota('b', 'q1', '13') },
    { type: 'ERROR', object: { kind: 'Status', code: 410, reason: 'Expired', message: 'too old' } },
  ]);
  const inf = new Informer(client, {
    resource: builtinResources.ResourceQuota,
    backoffMs: { base: 1, max: 2 },
  });
  const index = new NamespaceIndex(inf);
  const seen: Record<string, string[]>[] = [];
  const snapshot = (): Record<string, string[]> =>
    Object.fromEntries(['a', 'b', 'c'].map((ns) => [ns, names(index.list(ns))]));
  inf.onEvent(() => seen.push(snapshot()));
  inf.start();
  const deadline = Date.now() + 2000;
  while (inf.stats.lists < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 2));
  await inf.stop();
  // After every event, the index equals a scan of the informer's store.
  expect(seen.length).toBeGreaterThan(5);
  expect(snapshot()).toEqual({ a: ['q2'], b: [], c: ['q9'] });
  for (const ns of ['a', 'b', 'c'])
    expect(names(index.list(ns))).toEqual(names(inf.list((o) => o.metadata.namespace === ns)));
  expect(seen[5]).toEqual({ a: ['q1', 'q2'], b: ['q3'], c: [] }); // after the watch's delete
  expect(index.list('a').find((o) => o.metadata.name === 'q1')).toBeUndefined();
});

it('an index by a field follows changes of that field: an object moves from one value to the other', () => {
  type Handler = (type: 'add' | 'update' | 'delete', obj: KubeObject, old?: KubeObject) => void;
  const handlers: Handler[] = [];
  const source = { onEvent: (h: (typeof handlers)[number]) => handlers.push(h) } as unknown as Informer;
  const byHost = new Index(source, (o) =>
    (o.spec as { host?: string })?.host ? [(o.spec as { host: string }).host] : [],
  );
  const svc = (name: string, host?: string): KubeObject =>
    ({
      apiVersion: 'v1',
      kind: 'X',
      metadata: { name, namespace: 'n' },
      spec: host ? { host } : {},
    }) as KubeObject;
  // As an informer emits: an update or a delete comes with the object it replaces in the store.
  const store = new Map<string, KubeObject>();
  const emit = (type: 'add' | 'update' | 'delete', obj: KubeObject): void => {
    const old = store.get(obj.metadata.name);
    if (type === 'delete') store.delete(obj.metadata.name);
    else store.set(obj.metadata.name, obj);
    handlers.forEach((h) => h(type, obj, old));
  };
  emit('add', svc('a', 'permits.example'));
  emit('add', svc('b', 'permits.example'));
  emit('add', svc('c'));
  expect(names(byHost.list('permits.example'))).toEqual(['a', 'b']);
  emit('update', svc('b', 'login.example'));
  expect(names(byHost.list('permits.example'))).toEqual(['a']);
  expect(names(byHost.list('login.example'))).toEqual(['b']);
  emit('update', svc('a'));
  emit('delete', svc('b', 'login.example'));
  expect(byHost.list('permits.example')).toEqual([]);
  expect(byHost.list('login.example')).toEqual([]);
});

it('an index lists an object once under each of its values, through updates that keep them', async () => {
  const hosts = (name: string, rv: string, list: string[]): KubeObject => ({
    apiVersion: 'v1',
    kind: 'X',
    metadata: { name, namespace: 'n', resourceVersion: rv },
    spec: { hosts: list },
  });
  let watched = false;
  const client = {
    request: async () => ({ metadata: { resourceVersion: '1' }, items: [hosts('a', '1', ['x', 'y', 'x'])] }),
    watch: async (_p: string, _q: unknown, onEvent: (e: WatchEvent) => void, signal: AbortSignal) => {
      if (!watched) {
        watched = true;
        onEvent({ type: 'MODIFIED', object: hosts('a', '2', ['x', 'y']) });
        onEvent({ type: 'MODIFIED', object: hosts('a', '3', ['y', 'z']) });
      }
      return new Promise<void>((r) => signal.addEventListener('abort', () => r(), { once: true }));
    },
  } as unknown as KubeClient;
  const inf = new Informer(client, { resource: builtinResources.ResourceQuota });
  const byHost = new Index(inf, (o) => (o.spec as { hosts: string[] }).hosts);
  inf.start();
  const deadline = Date.now() + 2000;
  while (inf.get('a', 'n')?.metadata.resourceVersion !== '3' && Date.now() < deadline)
    await new Promise((r) => setTimeout(r, 2));
  await inf.stop();
  expect(byHost.list('x')).toEqual([]);
  expect(byHost.list('y')).toEqual([inf.get('a', 'n')]);
  expect(byHost.list('z')).toEqual([inf.get('a', 'n')]);
});

it('a value shared by many objects lists each once, in order, through adds, moves and deletes', () => {
  type Handler = (type: 'add' | 'update' | 'delete', obj: KubeObject, old?: KubeObject) => void;
  const handlers: Handler[] = [];
  const source = { onEvent: (h: Handler) => handlers.push(h) } as unknown as Informer;
  const byZone = new Index(source, (o) => [(o.spec as { zone: string }).zone]);
  const store = new Map<string, KubeObject>();
  const emit = (type: 'add' | 'update' | 'delete', name: string, zone: string): void => {
    const obj = { apiVersion: 'v1', kind: 'X', metadata: { name }, spec: { zone } } as KubeObject;
    const old = store.get(name);
    if (type === 'delete') store.delete(name);
    else store.set(name, obj);
    handlers.forEach((h) => h(type, obj, old));
  };
  // Many more than a small list holds: the value's list grows past it and shrinks back.
  for (let i = 0; i < 200; i++) emit('add', `o${i}`, 'eu');
  for (let i = 0; i < 200; i += 2) emit('update', `o${i}`, i % 4 === 0 ? 'eu' : 'asia');
  for (let i = 1; i < 200; i += 2) emit('delete', `o${i}`, 'eu');
  const scan = (zone: string): string[] =>
    [...store.values()].filter((o) => (o.spec as { zone: string }).zone === zone).map((o) => o.metadata.name);
  expect(
    byZone
      .list('eu')
      .map((o) => o.metadata.name)
      .sort(),
  ).toEqual(scan('eu').sort());
  expect(byZone.list('asia').map((o) => o.metadata.name)).toEqual(scan('asia'));
  expect(byZone.list('eu')).toHaveLength(50);
  for (const o of store.values()) emit('delete', o.metadata.name, (o.spec as { zone: string }).zone);
  expect(byZone.list('eu')).toEqual([]);
  expect(byZone.list('asia')).toEqual([]);
});
