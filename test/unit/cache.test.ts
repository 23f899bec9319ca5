/**
 * The informer's list/watch state machine, driven by a scripted client: each list and each watch
 * call takes the next step of a script, so the re-list and resume paths are checked exactly.
 */
import { Informer, NamespaceIndex } from '../../src/runtime/cache.js';
import type { KubeClient, Query, WatchEvent } from '../../src/runtime/kube.js';
import { ApiError } from '../../src/runtime/kube.js';
import { builtinResources } from '../../src/runtime/resources.js';
import { dropFields } from '../../src/runtime/transform.js';
import type { KubeObject } from '../../src/runtime/types.js';

const ns = (name: string, rv: string): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Namespace',
  metadata: { name, resourceVersion: rv, managedFields: [{ manager: 'x' }] } as KubeObject['metadata'],
});

type WatchStep = (emit: (e: WatchEvent) => void, signal: AbortSignal) => Promise<void>;

class ScriptedClient {
  readonly lists: Query[] = [];
  readonly watches: Query[] = [];
  constructor(
    private readonly listPages: { items: KubeObject[]; rv: string; cont?: string }[],
    private readonly watchSteps: WatchStep[],
  ) {}

  async request(_m: string, _p: string, o: { query?: Query }): Promise<unknown> {
    this.lists.push(o.query ?? {});
    const page = this.listPages.shift();
    if (!page) throw new Error('unexpected list');
    return { metadata: { resourceVersion: page.rv, continue: page.cont }, items: page.items };
  }

  async watch(_p: string, q: Query, onEvent: (e: WatchEvent) => void, signal: AbortSignal): Promise<void> {
    this.watches.push(q);
    const step = this.watchSteps.shift() ?? blockUntilAborted;
    return step(onEvent, signal);
  }
}

const blockUntilAborted: WatchStep = (_e, signal) =>
  new Promise((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));

function informerWith(client: ScriptedClient, inactivityMs = 60_000): { inf: Informer; events: string[] } {
  const inf = new Informer(client as unknown as KubeClient, {
    resource: builtinResources.Namespace,
    inactivityMs,
    backoffMs: { base: 1, max: 2 },
    watchTimeoutSeconds: () => 300,
  });
  const events: string[] = [];
  inf.onEvent((type, obj) => events.push(`${type}:${obj.metadata.name}@${obj.metadata.resourceVersion}`));
  return { inf, events };
}

const until = async (cond: () => boolean): Promise<void> => {
  const deadline = Date.now() + 2000;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('condition not reached');
    await new Promise((r) => setTimeout(r, 2));
  }
};

describe('Informer', () => {
  it('lists page by page, then watches from the list resourceVersion with bookmarks', async () => {
    const client = new ScriptedClient(
      [
        { items: [ns('a', '1')], rv: '5', cont: 'next' },
        { items: [ns('b', '2')], rv: '5' },
      ],
      [],
    );
    const { inf, events } = informerWith(client);
    inf.start();
    await inf.waitForSync();
    await until(() => client.watches.length === 1);
    expect(client.lists.map((q) => q.continue)).toEqual([undefined, 'next']);
    expect(client.watches[0]).toMatchObject({
      resourceVersion: '5',
      allowWatchBookmarks: true,
      timeoutSeconds: 300,
    });
    expect(events).toEqual(['add:a@1', 'add:b@2']);
    expect(inf.get('a')?.metadata).not.toHaveProperty('managedFields');
    await inf.stop();
  });

  it('re-lists on a 410 ERROR event and emits deletes for objects that vanished meanwhile', async () => {
    const client = new ScriptedClient(
      [
        { items: [ns('a', '1'), ns('b', '2')], rv: '10' },
        { items: [ns('b', '3'), ns('c', '4')], rv: '20' },
      ],
      [
        async (emit) =>
          emit({
            type: 'ERROR',
            object: { kind: 'Status', code: 410, reason: 'Expired', message: 'too old' },
          }),
      ],
    );
    const { inf, events } = informerWith(client);
    inf.start();
    await until(() => client.watches.length === 2);
    expect(events).toEqual(['add:a@1', 'add:b@2', 'delete:a@1', 'update:b@3', 'add:c@4']);
    expect(client.watches[1]?.resourceVersion).toBe('20');
    expect(
      inf
        .list()
        .map((o) => o.metadata.name)
        .sort(),
    ).toEqual(['b', 'c']);
    await inf.stop();
  });

  it('re-lists when the watch request itself answers 410 Gone', async () => {
    const client = new ScriptedClient(
      [
        { items: [ns('a', '1')], rv: '10' },
        { items: [], rv: '30' },
      ],
      [
        async () => {
          throw new ApiError(410, 'Expired', 'too old resource version');
        },
      ],
    );
    const { inf, events } = informerWith(client);
    inf.start();
    await until(() => client.watches.length === 2);
    expect(client.lists).toHaveLength(2);
    expect(events).toEqual(['add:a@1', 'delete:a@1']);
    await inf.stop();
  });

  it('resumes a watch that ended normally from the last bookmark, without re-listing', async () => {
    const client = new ScriptedClient(
      [{ items: [], rv: '10' }],
      [
        async (emit) => {
          emit({ type: 'ADDED', object: ns('a', '11') });
          emit({ type: 'BOOKMARK', object: { metadata: { resourceVersion: '15' } } });
        },
      ],
    );
    const { inf, events } = informerWith(client);
    inf.start();
    await until(() => client.watches.length === 2);
    expect(client.lists).toHaveLength(1);
    expect(client.watches[1]?.resourceVersion).toBe('15');
    expect(events).toEqual(['add:a@11']);
    await inf.stop();
  });

  it('restarts a watch that stays silent past the inactivity limit, from the same resourceVersion', async () => {
    const client = new ScriptedClient([{ items: [], rv: '7' }], [blockUntilAborted]);
    const { inf } = informerWith(client, 30);
    inf.start();
    await until(() => client.watches.length >= 2);
    expect(inf.stats.watchdogRestarts).toBeGreaterThanOrEqual(1);
    expect(client.watches[1]?.resourceVersion).toBe('7');
    expect(client.lists).toHaveLength(1);
    await inf.stop();
  });

  it('keeps the stream and the store when a handler throws', async () => {
    const client = new ScriptedClient(
      [{ items: [], rv: '1' }],
      [
        async (emit) => {
          emit({ type: 'ADDED', object: ns('a', '2') });
          emit({ type: 'ADDED', object: ns('b', '3') });
        },
      ],
    );
    const { inf, events } = informerWith(client);
    inf.onEvent(() => {
      throw new Error('handler bug');
    });
    inf.start();
    await until(() => client.watches.length === 2);
    expect(events).toEqual(['add:a@2', 'add:b@3']);
    expect(inf.size).toBe(2);
    await inf.stop();
  });

  it('stores and hands out transformed objects from lists and watches, with deletes and resourceVersions intact', async () => {
    const withStatus = (name: string, rv: string, phase: string): KubeObject => ({
      apiVersion: 'v1',
      kind: 'ResourceQuota',
      metadata: { ...ns(name, rv).metadata, namespace: 'ns-1' },
      status: { phase },
    });
    const client = new ScriptedClient(
      [{ items: [withStatus('a', '1', 'Active'), withStatus('b', '2', 'Active')], rv: '10' }],
      [
        async (emit) => {
          emit({ type: 'ADDED', object: withStatus('c', '11', 'Active') });
          emit({ type: 'MODIFIED', object: withStatus('a', '12', 'Terminating') });
          // Only the dropped status changed, and the resourceVersion did not: no event.
          emit({ type: 'MODIFIED', object: withStatus('a', '12', 'Other') });
          emit({ type: 'DELETED', object: withStatus('b', '13', 'Terminating') });
          emit({ type: 'BOOKMARK', object: { metadata: { resourceVersion: '15' } } });
        },
      ],
    );
    const inf = new Informer(client as unknown as KubeClient, {
      resource: builtinResources.ResourceQuota,
      backoffMs: { base: 1, max: 2 },
      watchTimeoutSeconds: () => 300,
      transform: dropFields('status'),
    });
    const index = new NamespaceIndex(inf);
    const seen: { type: string; obj: KubeObject; old?: KubeObject }[] = [];
    inf.onEvent((type, obj, old) => seen.push({ type, obj, old }));
    inf.start();
    await until(() => client.watches.length === 2);
    expect(seen.map((e) => `${e.type}:${e.obj.metadata.name}@${e.obj.metadata.resourceVersion}`)).toEqual([
      'add:a@1',
      'add:b@2',
      'add:c@11',
      'update:a@12',
      'delete:b@13',
    ]);
    for (const { obj, old } of seen) {
      for (const o of old ? [obj, old] : [obj]) {
        expect(o).not.toHaveProperty('status');
        expect(o.metadata).not.toHaveProperty('managedFields');
      }
    }
    expect(inf.list().every((o) => o.status === undefined && o.apiVersion === 'v1')).toBe(true);
    expect(inf.get('a', 'ns-1')?.metadata.resourceVersion).toBe('12');
    expect(inf.get('b', 'ns-1')).toBeUndefined();
    expect(
      index
        .list('ns-1')
        .map((o) => o.metadata.name)
        .sort(),
    ).toEqual(['a', 'c']);
    expect(index.list('ns-1').find((o) => o.metadata.name === 'a')).toBe(inf.get('a', 'ns-1'));
    expect(client.watches[1]?.resourceVersion).toBe('15');
    await inf.stop();
  });

  it('backs off and retries after a network error, from the same resourceVersion', async () => {
    const client = new ScriptedClient(
      [{ items: [], rv: '4' }],
      [
        async () => {
          throw new Error('ECONNRESET');
        },
      ],
    );
    const { inf } = informerWith(client);
    inf.start();
    await until(() => client.watches.length === 2);
    expect(inf.stats.errors).toBe(1);
    expect(client.watches[1]?.resourceVersion).toBe('4');
    expect(client.lists).toHaveLength(1);
    await inf.stop();
  });
});
