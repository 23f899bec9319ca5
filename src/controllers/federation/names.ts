/**
 * Where a member publishes its export for a peer, and the namespaces no import may take. Kept apart
 * from the exchange, whose schemas load only when a Federation is reconciled.
 */
export const EXPORT_DATA_KEY = 'export.json';
export const EXPORT_KIND = 'FederationExport';
/** The export for a peer is a ConfigMap of this name: the peer's credentials may read exactly it. */
export const exportName = (peerMember: string): string => `secovia-export-${peerMember}`;

/** Namespaces that belong to the platform, never to a tenant, local or imported. */
export const reservedNamespaces =
  (platform: string[]) =>
  (namespace: string): boolean =>
    namespace === 'default' || namespace.startsWith('kube-') || platform.includes(namespace);
