/** Federation: this cluster's membership in a federation of sovereign clusters. */
import { z } from 'zod';
import type { KubeObject } from '../runtime/types.js';
import {
  ageColumn,
  count,
  countryCode,
  dnsLabel,
  dnsSubdomain,
  labelSelector,
  listMapOf,
  readyColumn,
  setOf,
  statusWith,
  subject,
  text,
  timestamp,
  withRules,
} from './common.js';
import type { KindDefinition } from './crd.js';
import { kindNames } from './constants.js';
import { containerLimits, resourceQuota } from './govtenant.js';

const SECRET_KEY = /^[-._a-zA-Z0-9]+$/;

const peer = z
  .object({
    name: dnsLabel('Name of the peer member, such as mk-skopje.'),
    country: countryCode('Country of the peer member, such as MK.'),
    kubeconfigSecretRef: z
      .object({
        namespace: dnsLabel('Namespace of the Secret.'),
        name: dnsSubdomain('Name of the Secret.'),
        key: z
          .string()
          .min(1)
          .max(253)
          .regex(SECRET_KEY)
          .default('kubeconfig')
          .describe('Key of the kubeconfig in the Secret.'),
      })
      .describe(
        'Secret holding read-only credentials to the peer, limited to what the peer exports to this member; read from the namespace of the operator.',
      ),
    exportNamespace: dnsLabel(
      'Namespace of the operator in the peer cluster, where the peer publishes its export for this member.',
    ).default('secovia-system'),
    importAccess: z
      .object({
        admins: z
          .array(subject)
          .max(64)
          .describe(
            'Local subjects that administer the environment namespaces of tenants imported from this peer.',
          )
          .optional(),
        viewers: z
          .array(subject)
          .max(64)
          .describe(
            'Local subjects with read-only access to the namespaces of tenants imported from this peer.',
          )
          .optional(),
      })
      .describe(
        "Who in this cluster may use the tenants imported from this peer; nobody when unset. The peer's own access subjects never cross the border.",
      )
      .optional(),
  })
  .describe('Another member cluster of the federation.');

/** What an imported tenant may use at most, whatever its origin asks for. */
export const DEFAULT_IMPORT_QUOTA = { cpu: '4', memory: '8Gi', storage: '100Gi', pods: 50 };
export const DEFAULT_IMPORT_LIMITS = { maxCpu: '2', maxMemory: '4Gi' };

export const federationSpec = withRules(
  z.object({
    localMember: dnsLabel("This cluster's name in the federation, such as hu-central."),
    localCountry: countryCode('Country of this cluster, such as HU.'),
    peers: listMapOf(peer, 'name', { max: 32 })
      .default([])
      .describe('Other members this cluster exchanges with.'),
    export: z
      .object({
        tenantSelector: labelSelector('GovTenants offered to peers; none when unset.').optional(),
        federatedServices: z
          .boolean()
          .default(false)
          .describe('true offers the GovServices with exposure federated to peers.'),
        consumption: z
          .boolean()
          .default(false)
          .describe(
            'true publishes to each peer the monthly consumption totals of the tenants imported from that peer and running here (CPU core-hours, memory GiB-hours, storage GiB-days, plan-hours, covered and uncovered seconds, per tenant and month, the current month and the 12 before it), so that the peer can share the costs of its administrations; never anything about local tenants or tenants of other members. false (default): the export has no consumption at all.',
          ),
      })
      .prefault({})
      .describe('What this cluster offers to its peers; residency rules of each tenant still apply.'),
    import: z
      .object({
        acceptCountries: setOf(countryCode('A country code such as MK.'), { max: 32 })
          .default([])
          .describe('Imports are accepted only from peers of these countries; none when empty.'),
        onWithdraw: z
          .enum(['Delete', 'Orphan'])
          .default('Delete')
          .describe('What happens to an import that its peer no longer exports: Delete or Orphan.'),
        staleAfterSeconds: count(
          'Seconds without contact after which imports from a peer are marked Stale (and kept).',
          86_400,
          30,
        ).default(300),
        onFederationDelete: z
          .enum(['Keep', 'Delete'])
          .default('Keep')
          .describe('What happens to the imports when this Federation is deleted: Keep (default) or Delete.'),
        maxQuota: resourceQuota
          .default(DEFAULT_IMPORT_QUOTA)
          .describe(
            'Most that each environment of an imported tenant gets (its ResourceQuota), whatever the origin asks for; a key left out is not capped.',
          ),
        maxLimits: containerLimits
          .default(DEFAULT_IMPORT_LIMITS)
          .describe(
            'Most that one container of an imported tenant may use (its LimitRange); defaults above these maxima are lowered to them.',
          ),
        consumption: z
          .boolean()
          .default(false)
          .describe(
            'true keeps the consumption totals that a peer reports (its export.consumption) as GovConsumption records <tenant>-<yyyy-mm>.<peer> labelled gov.secovia.eu/reported-by, only for tenants this cluster exports to that peer and for the current month and the 12 before it (a day of clock difference allowed); a report about any other name is refused. Records are data: kept when the peer stops reporting, never sampled, never exported again. false (default): reports are not kept. Independent of acceptCountries, which governs tenants and services.',
          ),
      })
      .prefault({})
      .describe('What this cluster takes from its peers; it only ever writes into itself.'),
    syncIntervalSeconds: count('Seconds between two health probes of each peer.', 3600, 10).default(60),
  }),
  [
    {
      rule: 'self.peers.all(p, p.name != self.localMember)',
      message: 'a peer cannot have the name of the local member',
      fieldPath: '.peers',
      holds: (s) => s.peers.every((p) => p.name !== s.localMember),
    },
  ],
).describe('Desired membership of this cluster in the federation.');

const skipped = z
  .object({
    kind: text(63, 'Kind of the object, such as GovTenant.'),
    name: text(253, 'Name of the object.'),
    reason: text(128, 'Why the object was not exchanged, in CamelCase, such as DataResidency or Conflict.'),
    message: text(1024, 'Explanation for a person.').optional(),
  })
  .describe('An object that was not exported or imported, and why.');

const peerStatus = z
  .object({
    name: dnsLabel('Name of the peer member.'),
    country: countryCode('Country of the peer member.').optional(),
    reachable: z.boolean().describe('Whether the last contact with the peer succeeded.').optional(),
    observedAt: timestamp('Time of the last successful contact.').optional(),
    kubernetesVersion: text(64, 'Kubernetes version of the peer, such as v1.34.2.').optional(),
    credentialsExpireAt: timestamp('When the credentials to the peer expire, when known.').optional(),
    stale: z
      .boolean()
      .describe(
        'Whether the peer has been out of reach longer than staleAfterSeconds; its imports are marked Stale.',
      )
      .optional(),
    exported: count('Number of objects this cluster offers to the peer.').optional(),
    imported: count('Number of objects this cluster took from the peer.').optional(),
    skipped: z.array(skipped).max(256).describe('Objects not exchanged with the peer, and why.').optional(),
    message: text(1024, 'Last error or remark about the peer.').optional(),
  })
  .describe('Observed state of the exchange with one peer.');

export const federationStatus = statusWith(
  { peers: listMapOf(peerStatus, 'name', { max: 32 }).describe('Observed state per peer.').optional() },
  'Observed state of the federation membership.',
);

export type FederationSpec = z.infer<typeof federationSpec>;
export type FederationStatus = z.infer<typeof federationStatus>;
export type Federation = KubeObject<FederationSpec, FederationStatus>;

export const federationDefinition: KindDefinition = {
  ...kindNames.Federation,
  description:
    'Federation is the membership of this cluster in a federation of sovereign clusters: what it exports to each peer and what it imports, read-only, from them.',
  spec: federationSpec,
  status: federationStatus,
  printerColumns: [
    { name: 'Local', type: 'string', jsonPath: '.spec.localMember', description: 'Name of this member.' },
    {
      name: 'Country',
      type: 'string',
      jsonPath: '.spec.localCountry',
      description: 'Country of this member.',
    },
    readyColumn,
    {
      name: 'Peers',
      type: 'string',
      jsonPath: '.spec.peers[*].name',
      description: 'Peer members.',
      priority: 1,
    },
    ageColumn,
  ],
};
