/**
 * Connections to peers: read-only credentials from a Secret, a watch on the one export the peer
 * publishes for this member, and a health probe with per-peer backoff. A rotated Secret replaces
 * the client and its watch at once; nothing of the credentials is ever logged or reported.
 */
import { createHash, X509Certificate } from 'node:crypto';
import { Informer } from '../../runtime/cache.js';
import { KubeClient, type ClientLimits } from '../../runtime/kube.js';
import type { Logger } from '../../runtime/log.js';
import { errorMessage } from '../../runtime/log.js';
import { resources } from '../resources.js';
import type { Transform } from '../../runtime/transform.js';
import type { KubeObject } from '../../runtime/types.js';
import { CredentialsRefused, parsePeerKubeconfig, type PeerAccess } from './credentials.js';
import type { Peer } from './exchange.js';
import { EXPORT_DATA_KEY, exportName } from './names.js';

/** Probes never come closer than this, whatever triggers the reconcile (a per-peer rate limit). */
const MIN_PROBE_GAP_MS = 2_000;
const PROBE_TIMEOUT_MS = 5_000;

/**
 * What is read from a peer, at most: an export ConfigMap holds at most 1 MiB, and a peer is asked
 * a few times a second at most, whatever it answers.
 */
export const PEER_LIMITS: ClientLimits = {
  maxResponseBytes: 2 * 1024 * 1024,
  maxWatchLineBytes: 2 * 1024 * 1024,
  requests: { perSecond: 5, burst: 10 },
};

export interface Credentials {
  /** The restricted shape of the peer's kubeconfig: the only thing the peer client is built from. */
  access: PeerAccess;
  /** When the token or client certificate expires, when it says. */
  expiresAt?: string;
}

export type CredentialsProblem = {
  /** CredentialsUnavailable: no Secret or key; CredentialsRejected: a kubeconfig that is not accepted. */
  reason: 'CredentialsUnavailable' | 'CredentialsRejected';
  problem: string;
};

/** Reads a peer's kubeconfig from its Secret; the error says what is wrong without any secret content. */
export function credentialsFrom(
  peer: Peer,
  secret: KubeObject | undefined,
): Credentials | CredentialsProblem {
  const { namespace, name, key } = peer.kubeconfigSecretRef;
  const where = `Secret ${namespace}/${name}`;
  if (!secret) return { reason: 'CredentialsUnavailable', problem: `${where} not found` };
  const data = (secret as { data?: Record<string, string> }).data?.[key];
  if (!data) return { reason: 'CredentialsUnavailable', problem: `${where} has no key ${key}` };
  try {
    const access = parsePeerKubeconfig(Buffer.from(data, 'base64').toString('utf8'));
    return { access, expiresAt: expiryOf(access) };
  } catch (e) {
    // Only refusals are reported as they are: their messages name fields, never values.
    const why = e instanceof CredentialsRefused ? e.message : 'the kubeconfig cannot be read';
    return { reason: 'CredentialsRejected', problem: `${where} key ${key}: ${why}` };
  }
}

/** Helm records each release it installed, this operator's own among them, in a Secret of this type. */
const HELM_RELEASE = 'helm.sh/release.v1';

/**
 * What the cache keeps of a Secret in the operator's namespace: what credentialsFrom reads, its data,
 * except for Helm's release records (the chart's history, often the largest Secrets there).
 */
export const credentialsOnly: Transform = ({ apiVersion, kind, metadata, type, data }) =>
  type === HELM_RELEASE ? { apiVersion, kind, metadata } : { apiVersion, kind, metadata, data };

/** The `exp` of a JWT bearer token, or the end of validity of a client certificate. */
export function expiryOf(user: { token?: string; certData?: string }): string | undefined {
  try {
    if (user?.token?.split('.').length === 3) {
      const claims = JSON.parse(Buffer.from(user.token.split('.')[1]!, 'base64url').toString('utf8')) as {
        exp?: number;
      };
      return typeof claims.exp === 'number' ? isoSeconds(new Date(claims.exp * 1000)) : undefined;
    }
    if (user?.certData) {
      const cert = new X509Certificate(Buffer.from(user.certData, 'base64'));
      return isoSeconds(new Date(cert.validTo));
    }
  } catch {
    return undefined; // an opaque token or unreadable certificate: expiry unknown, not an error
  }
  return undefined;
}

export const isoSeconds = (d: Date): string => d.toISOString().replace(/\.\d+Z$/, 'Z');

/** The live connection to one peer. */
export class PeerLink {
  readonly client: KubeClient;
  exports: Informer;
  readonly createdAt = new Date();
  reachable?: boolean;
  lastContact?: Date;
  /** Last time the peer answered and its export was read. */
  lastSynced?: Date;
  kubernetesVersion?: string;
  probeError?: string;
  private failures = 0;
  private nextProbeAt = 0;
  private lastProbeAt = 0;

  readonly fingerprint: string;
  readonly credentials: Credentials;
  private readonly peer: Peer;
  private readonly localMember: string;
  private readonly log: Logger;
  private readonly onChange: () => void;

  constructor(o: {
    fingerprint: string;
    credentials: Credentials;
    peer: Peer;
    localMember: string;
    log: Logger;
    onChange: () => void;
  }) {
    ({ fingerprint: this.fingerprint, credentials: this.credentials, peer: this.peer } = o);
    ({ localMember: this.localMember, log: this.log, onChange: this.onChange } = o);
    this.client = KubeClient.fromPeer(o.credentials.access, 'secovia-operator-federation', PEER_LIMITS);
    this.exports = this.watchExport();
  }

  private watchExport(): Informer {
    const inf = new Informer(this.client, {
      resource: resources.ConfigMap,
      namespace: this.peer.exportNamespace,
      fieldSelector: `metadata.name=${exportName(this.localMember)}`,
      accept: (o) =>
        o.metadata.name === exportName(this.localMember) &&
        o.metadata.namespace === this.peer.exportNamespace,
      backoffMs: { base: 500, max: 30_000 },
      logger: this.log,
    });
    inf.onEvent(() => this.onChange());
    inf.start();
    return inf;
  }

  /** The peer's export for us as last seen: 'unknown' until the first list, undefined when not published. */
  exportData(): string | undefined | 'unknown' {
    if (!this.exports.hasSynced()) return 'unknown';
    const cm = this.exports.get(exportName(this.localMember), this.peer.exportNamespace) as
      { data?: Record<string, string> } | undefined;
    return cm?.data?.[EXPORT_DATA_KEY];
  }

  probeDue(now: number): boolean {
    return now >= this.nextProbeAt && now - this.lastProbeAt >= MIN_PROBE_GAP_MS;
  }

  /** Milliseconds until the next probe is due. */
  untilNextProbe(now: number): number {
    return Math.max(this.nextProbeAt, this.lastProbeAt + MIN_PROBE_GAP_MS) - now;
  }

  /** GET /version with a bounded timeout; failures back off exponentially up to the sync interval. */
  async probe(intervalMs: number, now = Date.now()): Promise<void> {
    this.lastProbeAt = now;
    try {
      const v = await this.client.request<{ gitVersion?: string }>('GET', '/version', {
        timeoutMs: PROBE_TIMEOUT_MS,
      });
      const recovered = this.reachable === false;
      Object.assign(this, { reachable: true, lastContact: new Date(), probeError: undefined, failures: 0 });
      this.kubernetesVersion = v.gitVersion;
      this.nextProbeAt = Date.now() + intervalMs;
      // The export watch may be waiting out its own backoff: start it afresh now that the peer answers.
      if (recovered && this.exports.lastError) void this.restartWatch();
    } catch (e) {
      this.failures++;
      Object.assign(this, { reachable: false, probeError: errorMessage(e) });
      const backoff = Math.min(intervalMs, 1000 * 2 ** Math.min(this.failures, 10));
      this.nextProbeAt = Date.now() + backoff * (0.8 + Math.random() * 0.4);
    }
  }

  private async restartWatch(): Promise<void> {
    const old = this.exports;
    this.exports = this.watchExport();
    await old.stop();
  }

  async close(): Promise<void> {
    await this.exports.stop();
    this.client.close();
  }
}

/** The links of every Federation, keyed by federation and peer, rebuilt when credentials change. */
export class PeerLinks {
  private readonly links = new Map<string, PeerLink>();

  /** `onChange` is told the federation whose peer's export changed. */
  constructor(
    private readonly log: Logger,
    private readonly onChange: (federation: string) => void,
  ) {}

  /**
   * The link to a peer with the current credentials. A changed Secret (or peer settings) closes
   * the old client and its watch and opens new ones: rotation needs no restart.
   */
  link(federation: string, peer: Peer, localMember: string, credentials: Credentials): PeerLink {
    const key = `${federation}/${peer.name}`;
    const fingerprint = createHash('sha256')
      .update([JSON.stringify(credentials.access), peer.exportNamespace, localMember].join('\0'))
      .digest('hex');
    const existing = this.links.get(key);
    if (existing?.fingerprint === fingerprint) return existing;
    if (existing) {
      this.log.info('peer credentials or settings changed, reconnecting', { federation, peer: peer.name });
      void existing.close();
    }
    const log = this.log.child({ federation, peer: peer.name });
    const onChange = (): void => this.onChange(federation);
    const created = new PeerLink({ fingerprint, credentials, peer, localMember, log, onChange });
    this.links.set(key, created);
    return created;
  }

  /** Closes the link to a peer whose credentials are gone: nothing keeps using them. */
  async drop(federation: string, peer: string): Promise<void> {
    const link = this.links.get(`${federation}/${peer}`);
    this.links.delete(`${federation}/${peer}`);
    await link?.close();
  }

  /** Closes the links of a federation that are not in `keep` (all of them when keep is empty). */
  async retain(federation: string, keep: Set<string>): Promise<void> {
    for (const [key, link] of this.links) {
      if (!key.startsWith(`${federation}/`) || keep.has(key.slice(federation.length + 1))) continue;
      this.links.delete(key);
      await link.close();
    }
  }

  async closeAll(): Promise<void> {
    await Promise.all([...this.links.values()].map((l) => l.close()));
    this.links.clear();
  }
}
