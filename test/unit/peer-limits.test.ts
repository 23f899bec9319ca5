/** What a peer can make the operator read and do: bounded lines, a request budget, watch reopen backoff. */
import { backoffDelay, Informer, QUICK_WATCH_END_MS, quickEnds } from '../../src/runtime/cache.js';
import type { KubeClient, WatchEvent } from '../../src/runtime/kube.js';
import { ApiError, LineSplitter, TokenBucket } from '../../src/runtime/kube.js';
import { builtinResources } from '../../src/runtime/resources.js';
import type { KubeObject } from '../../src/runtime/types.js';

const cm = (name: string, rv = '1'): KubeObject => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name, namespace: 'ns', resourceVersion: rv },
});

/**
 * A peer's server in miniature: one list answer; every watch delivers `events`, then ends at once
 * or, with `hold`, when it is aborted.
 */
function peerServer(items: KubeObject[], events: WatchEvent[] = [], hold = false) {
  const calls = { lists: 0, watches: 0 };
  const client = {
    request: () => {
      calls.lists++;
      return Promise.resolve({ metadata: { resourceVersion: '1' }, items });
    },
    watch: (_p: string, _q: unknown, onEvent: (e: WatchEvent) => void, signal: AbortSignal) => {
      calls.watches++;
      events.forEach(onEvent);
      if (!hold) return Promise.resolve();
      return new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve()));
    },
  };
  return { client: client as unknown as KubeClient, calls };
}

describe('LineSplitter', () => {
  it('returns complete lines across chunks, multi-byte characters split anywhere', () => {
    const s = new LineSplitter(64);
    const bytes = Buffer.from('{"a":"Építési"}\n{"b":2}\n{"c"');
    expect(s.push(bytes.subarray(0, 7))).toEqual([]); // inside the two bytes of É
    expect(s.push(bytes.subarray(7, 20))).toEqual(['{"a":"Építési"}']);
    expect(s.push(bytes.subarray(20))).toEqual(['{"b":2}']);
    expect(s.push(Buffer.from(':3}\n'))).toEqual(['{"c":3}']);
  });

  it('refuses a line longer than the limit before buffering more of it', () => {
    const s = new LineSplitter(10, 'WATCH /x');
    expect(s.push(Buffer.from('0123456789'))).toEqual([]);
    let error: unknown;
    try {
      s.push(Buffer.from('a'));
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toMatchObject({ reason: 'ResponseTooLarge' });
    expect((error as Error).message).toBe('WATCH /x: response too large, a line exceeds 10 bytes');
  });

  it('counts each line on its own: many lines under the limit pass', () => {
    const s = new LineSplitter(10);
    const lines = s.push(Buffer.from('0123456789\n'.repeat(1000)));
    expect(lines).toHaveLength(1000);
  });

  it('has no limit unless given one', () => {
    const s = new LineSplitter();
    expect(s.push(Buffer.alloc(8 * 1024 * 1024, 'x'))).toEqual([]);
    expect(s.push(Buffer.from('\n'))[0]).toHaveLength(8 * 1024 * 1024);
  });
});

describe('TokenBucket', () => {
  it('lets a burst through at once, then spaces requests at the rate', () => {
    const b = new TokenBucket(5, 10, 0);
    const waits = Array.from({ length: 12 }, () => b.reserve(0));
    expect(waits.slice(0, 10)).toEqual(Array(10).fill(0));
    expect(waits.slice(10)).toEqual([200, 400]);
  });

  it('refills with time, never above the burst', () => {
    const b = new TokenBucket(5, 10, 0);
    for (let i = 0; i < 10; i++) b.reserve(0);
    expect(b.reserve(1000)).toBe(0); // five tokens back after a second
    const after = Array.from({ length: 5 }, () => b.reserve(1000));
    expect(after).toEqual([0, 0, 0, 0, 200]);
    const rested = new TokenBucket(5, 10, 0);
    const later = Array.from({ length: 11 }, () => rested.reserve(3_600_000));
    expect(later.filter((w) => w > 0)).toEqual([200]);
  });
});

describe('watch reopen backoff', () => {
  it('counts watches that ended at once with no event, and resets on any other', () => {
    expect(quickEnds(0, { events: 0, durationMs: 5 })).toBe(1);
    expect(quickEnds(3, { events: 0, durationMs: QUICK_WATCH_END_MS - 1 })).toBe(4);
    expect(quickEnds(3, { events: 1, durationMs: 5 })).toBe(0);
    expect(quickEnds(3, { events: 0, durationMs: QUICK_WATCH_END_MS })).toBe(0);
  });

  it('grows exponentially, with jitter between half and all, up to the cap', () => {
    expect(backoffDelay(1, 500, 30_000, () => 1)).toBe(1000);
    expect(backoffDelay(1, 500, 30_000, () => 0)).toBe(500);
    expect(backoffDelay(4, 500, 30_000, () => 1)).toBe(8000);
    expect(backoffDelay(10, 500, 30_000, () => 1)).toBe(30_000);
    expect(backoffDelay(1000, 500, 30_000, () => 0)).toBe(15_000);
  });

  it('keeps a peer that ends every watch at once to a few watches in ten seconds', () => {
    let elapsed = 0;
    let quick = 0;
    let watches = 0;
    while (elapsed < 10_000) {
      watches++;
      quick = quickEnds(quick, { events: 0, durationMs: 1 });
      elapsed += backoffDelay(quick, 500, 30_000, () => 0); // the shortest jitter
    }
    expect(watches).toBeLessThanOrEqual(5);
  });
});

describe('Informer against a hostile server', () => {
  it('spaces out watches that end at once instead of reopening them in a loop', async () => {
    const { client, calls } = peerServer([]);
    const inf = new Informer(client, {
      resource: builtinResources.ConfigMap,
      namespace: 'ns',
      backoffMs: { base: 20, max: 10_000 },
    });
    inf.start();
    await new Promise((r) => setTimeout(r, 500));
    await inf.stop();
    // 20 ms doubling, at the shortest jitter: reopened after 20, 40, 80, 160, 320 ms at most.
    expect(calls.watches).toBeGreaterThanOrEqual(2);
    expect(calls.watches).toBeLessThanOrEqual(6);
    expect(inf.stats.quickEnds).toBeGreaterThanOrEqual(calls.watches - 1);
    expect(calls.lists).toBe(1);
  });

  it('keeps only the objects it accepts, from lists and from watches', async () => {
    const added: WatchEvent = { type: 'ADDED', object: cm('other-peer-export', '2') };
    const { client } = peerServer([cm('ours'), cm('not-ours')], [added], true);
    const inf = new Informer(client, {
      resource: builtinResources.ConfigMap,
      namespace: 'ns',
      accept: (o) => o.metadata.name === 'ours',
    });
    const seen: string[] = [];
    inf.onEvent((type, o) => seen.push(`${type}:${o.metadata.name}`));
    inf.start();
    await inf.waitForSync();
    await new Promise((r) => setTimeout(r, 50));
    await inf.stop();
    expect(inf.list().map((o) => o.metadata.name)).toEqual(['ours']);
    expect(seen).toEqual(['add:ours']);
  });
});
