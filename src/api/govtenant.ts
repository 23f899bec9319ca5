/** GovTenant: a public administration, its environment namespaces and their guard rails. */
import { z } from 'zod';
import type { KubeObject } from '../runtime/types.js';
import {
  ageColumn,
  classification,
  count,
  countryCode,
  dnsLabel,
  dnsSubdomain,
  listMapOf,
  mapOf,
  quantity,
  readyColumn,
  setOf,
  statusWith,
  subject,
  text,
  withRules,
} from './common.js';
import type { KindDefinition } from './crd.js';
import { kindNames, SERVICE_TYPES } from './constants.js';

/** X-Road member identifiers: INSTANCE/CLASS/MEMBER[/SUBSYSTEM]. */
const OFFICIAL_ID = /^[A-Za-z0-9'()+,.=?-]+(\/[A-Za-z0-9'()+,.=?-]+){2,3}$/;
const SERVICE_CLASS_PATTERN = /^(\*|[a-z0-9]([-a-z0-9]*[a-z0-9])?)$/;
/** A registry host with an optional port and path prefix, no scheme, no tag. */
const IMAGE_REGISTRY = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?(:[0-9]{1,5})?(\/[a-z0-9]([-a-z0-9._]*[a-z0-9])?)*$/;
const LABEL_KEY = /^([a-z0-9]([-a-z0-9.]*[a-z0-9])?\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const LABEL_VALUE = /^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$/;
const CIDR = /^[0-9A-Fa-f.:]+\/[0-9]{1,3}$/;
const isCidr = (v: string): boolean => z.union([z.cidrv4(), z.cidrv6()]).safeParse(v).success;

export const resourceQuota = z.object({
  cpu: quantity('CPU that the pods of one environment may use in total, such as "16" or 500m.').optional(),
  memory: quantity('Memory that the pods of one environment may use in total, such as 64Gi.').optional(),
  storage: quantity(
    'Persistent volume storage that one environment may request in total, such as 1Ti.',
  ).optional(),
  pods: count('Maximum number of pods in one environment.', 100_000).optional(),
});

const quantityAtLeast = (max: 'maxCpu' | 'maxMemory', dflt: 'defaultCpu' | 'defaultMemory') => ({
  rule: `!has(self.${max}) || !has(self.${dflt}) || quantity(string(self.${max})).compareTo(quantity(string(self.${dflt}))) >= 0`,
  message: `${max} must be at least ${dflt}`,
  fieldPath: `.${max}`,
});

export const containerLimits = withRules(
  z.object({
    defaultCpu: quantity('CPU given to a container that asks for none, such as 250m.').optional(),
    defaultMemory: quantity('Memory given to a container that asks for none, such as 256Mi.').optional(),
    maxCpu: quantity('Most CPU that one container may use, such as "4".').optional(),
    maxMemory: quantity('Most memory that one container may use, such as 8Gi.').optional(),
  }),
  [quantityAtLeast('maxCpu', 'defaultCpu'), quantityAtLeast('maxMemory', 'defaultMemory')],
);

const environment = z
  .object({
    name: dnsLabel('Name of the environment, such as prod or test; its namespace is <tenant>-<name>.', 62),
    quota: resourceQuota
      .describe('Overrides spec.quota for this environment, key by key (unset keys come from spec.quota).')
      .optional(),
    limits: containerLimits
      .describe('Overrides spec.limits for this environment, key by key (unset keys come from spec.limits).')
      .optional(),
  })
  .describe('An environment of the tenant: one namespace with its quota, limits, policies and access.');

const contact = z
  .object({
    name: text(256, 'Name of the person or team, in any script.'),
    email: z.email().max(254).describe('Email address of the contact.'),
    role: text(
      128,
      'What the contact is responsible for, such as IT operations or data protection.',
    ).optional(),
  })
  .describe('A person or team to contact about the tenant.');

export const govTenantSpec = z
  .object({
    displayName: z
      .string()
      .min(1)
      .max(256)
      .describe('Official name of the administration, in its own script.'),
    country: countryCode('Country of the administration: ISO 3166-1 alpha-2 code in upper case, such as HU.'),
    level: z
      .enum(['national', 'regional', 'municipal', 'agency'])
      .describe('Administrative level: national, regional, municipal or agency.'),
    officialId: z
      .string()
      .max(255)
      .regex(OFFICIAL_ID, 'must look like COUNTRY/CLASS/CODE, such as HU/GOV/735715')
      .describe('Identifier in the national registry, written as COUNTRY/CLASS/CODE, such as HU/GOV/735715.')
      .optional(),
    contacts: z.array(contact).max(16).describe('People or teams to contact about the tenant.').optional(),
    environments: listMapOf(environment, 'name', { min: 1, max: 16 }).describe(
      'Environments of the tenant; each one is a namespace named <tenant>-<environment>.',
    ),
    quota: resourceQuota
      .describe('Resources available to each environment (a ResourceQuota per namespace).')
      .optional(),
    limits: containerLimits
      .describe('Per-container defaults and maxima in each environment (a LimitRange).')
      .optional(),
    access: z
      .object({
        admins: z
          .array(subject)
          .max(64)
          .describe('Subjects that administer every environment namespace.')
          .optional(),
        viewers: z
          .array(subject)
          .max(64)
          .describe('Subjects with read-only access to every environment namespace.')
          .optional(),
      })
      .describe('Who may use the environment namespaces (RoleBindings in each).')
      .optional(),
    network: z
      .object({
        isolation: z
          .enum(['strict', 'none'])
          .default('strict')
          .describe(
            'strict: deny all traffic except within the tenant, from the ingress controller and DNS; none: no policies.',
          ),
        allowFromTenants: setOf(dnsLabel('Name of a GovTenant.'), { max: 64 })
          .describe('Other GovTenants whose workloads may call into this tenant.')
          .optional(),
        allowEgressCIDRs: setOf(
          withRules(z.string().max(64).regex(CIDR, 'must be a CIDR such as 10.0.0.0/8'), [
            {
              rule: 'isCIDR(self)',
              message: 'must be a CIDR such as 10.0.0.0/8 or 2001:db8::/32',
              holds: isCidr,
            },
          ]).describe('An IPv4 or IPv6 range in CIDR notation.'),
          { max: 32 },
        )
          .describe('Address ranges outside the cluster that workloads may reach, besides DNS.')
          .optional(),
        allowedServiceTypes: setOf(
          z.enum(SERVICE_TYPES).describe('A Service type: ClusterIP, NodePort or LoadBalancer.'),
          { max: SERVICE_TYPES.length },
        )
          .describe(
            'Service types that may be created in the environment namespaces: ClusterIP always; NodePort and LoadBalancer expose a service outside the cluster. Admission enforces it.',
          )
          // Defaulted by the API server; optional in code, where no list means ClusterIP only.
          .optional()
          .meta({ default: ['ClusterIP'] }),
      })
      .prefault({})
      .describe('Network isolation of the environment namespaces (NetworkPolicies).'),
    ingress: z
      .object({
        allowedDomains: setOf(
          dnsSubdomain('A DNS domain; it allows itself and its subdomains, such as budapest.example.'),
          { max: 32 },
        )
          .describe(
            "Domains whose hosts Ingresses, HTTPRoutes and GovServices of the tenant may use. A domain that overlaps one of an older GovTenant is not the tenant's (condition IngressDomains). Admission enforces it; none allows no host.",
          )
          .optional(),
        allowWildcard: z
          .boolean()
          .default(false)
          .describe('true allows wildcard hosts (*.domain) under the allowed domains.'),
        allowedClasses: setOf(dnsSubdomain('Name of an IngressClass.'), { max: 16 })
          .describe(
            "IngressClasses that Ingresses of the tenant may use; by default the operator's ingress class.",
          )
          .optional(),
      })
      .describe(
        'Hosts and ingress classes that the environment namespaces may expose; admission enforces them.',
      )
      .optional(),
    workloads: z
      .object({
        allowedRegistries: setOf(
          z
            .string()
            .min(1)
            .max(253)
            .regex(
              IMAGE_REGISTRY,
              'must be a registry host, optionally with a port and a path, such as registry.example.eu/secovia',
            )
            .describe('An image registry host, optionally with a port and a path prefix.'),
          { max: 32 },
        )
          .describe(
            'Registries that container images may come from; by default those of the GovServiceClass images the tenant may use.',
          )
          .optional(),
        allowedStorageClasses: setOf(dnsSubdomain('Name of a StorageClass.'), { max: 16 })
          .describe(
            'StorageClasses that PersistentVolumeClaims may name; none named means the default class only.',
          )
          .optional(),
        allowedPriorityClasses: setOf(dnsSubdomain('Name of a PriorityClass.'), { max: 16 })
          .describe('PriorityClasses that pods may name; by default none.')
          .optional(),
        nodeSelector: mapOf(
          z.string().max(253).regex(LABEL_KEY, 'must be a label key'),
          z.string().max(63).regex(LABEL_VALUE, 'must be a label value').describe('Value of the node label.'),
          { max: 8 },
        )
          .describe('The node pool of the tenant: every pod must carry exactly this nodeSelector.')
          .optional(),
      })
      .describe('What pods and volume claims in the environment namespaces may use; admission enforces it.')
      .optional(),
    podSecurity: z
      .enum(['restricted', 'baseline'])
      .default('restricted')
      .describe('Pod Security Standard enforced in every environment namespace: restricted or baseline.'),
    dataResidency: z
      .object({
        allowedCountries: setOf(countryCode('A country code such as HU.'), { min: 1, max: 32 }).describe(
          'Countries where the workloads and data of the tenant may run; federation never places them elsewhere.',
        ),
        classification: classification.default('internal'),
      })
      .describe('Where the data of the tenant may live and how sensitive it is.'),
    allowedServiceClasses: setOf(
      z
        .string()
        .min(1)
        .max(63)
        .regex(SERVICE_CLASS_PATTERN)
        .describe('Name of a GovServiceClass, or * for all.'),
      { max: 64 },
    )
      .default(['*'])
      .describe('GovServiceClasses that the tenant may instantiate; * allows every class.'),
    suspended: z
      .boolean()
      .default(false)
      .describe(
        'true stops the tenant: its pods are deleted, no new pod, workload or GovService is admitted in its namespaces, its GovServices are scaled to zero; objects and data are kept. false brings them back.',
      ),
    deletionPolicy: z
      .enum(['Retain', 'Delete'])
      .default('Retain')
      .describe(
        'What happens to the namespaces and their data when the tenant is deleted: Retain or Delete.',
      ),
  })
  .describe('Desired state of the administration and its environments.');

const quantityMap = (description: string) =>
  mapOf(z.string().max(253), quantity('Amount of the resource.'), { max: 32 }).describe(description);

const environmentStatus = z
  .object({
    name: dnsLabel('Name of the environment.'),
    namespace: dnsLabel('Namespace of the environment.'),
    ready: z.boolean().describe('Whether the namespace exists and belongs to this tenant.'),
    quota: z
      .object({
        hard: quantityMap('Limits of the ResourceQuota, by resource name.'),
        used: quantityMap('Current use, by resource name.'),
      })
      .describe('State of the ResourceQuota of the environment.')
      .optional(),
  })
  .describe('Observed state of one environment.');

const conflict = z
  .object({
    kind: text(63, 'Kind of the object, such as Namespace.'),
    name: text(253, 'Name of the object.'),
    namespace: text(63, 'Namespace of the object, for namespaced kinds.').optional(),
    message: text(1024, 'Why the object was left untouched.'),
  })
  .describe('An object that the tenant needs but that exists and does not belong to it.');

export const govTenantStatus = statusWith(
  {
    namespaces: z
      .array(dnsLabel('A namespace name.'))
      .max(16)
      .describe('Environment namespaces that exist.')
      .optional(),
    services: count('Number of GovServices in the environment namespaces.').optional(),
    environments: listMapOf(environmentStatus, 'name', { max: 16 })
      .describe('Observed state per environment.')
      .optional(),
    ingressDomains: z
      .array(dnsSubdomain('A DNS domain.'))
      .max(32)
      .describe(
        'The domains of spec.ingress.allowedDomains that the tenant owns: those that overlap no domain of an older GovTenant. Hosts of its Ingresses, HTTPRoutes and GovServices must lie under them.',
      )
      .optional(),
    retainedNamespaces: z
      .array(dnsLabel('A namespace name.'))
      .max(64)
      .describe(
        'Namespaces this tenant created and left behind (deletionPolicy Retain, environment removed): kept with their data, without the tenant label or its access, until removed by hand.',
      )
      .optional(),
    conflicts: z
      .array(conflict)
      .max(64)
      .describe('Objects left untouched because the tenant does not own them.')
      .optional(),
  },
  'Observed state of the tenant.',
);

export type GovTenantSpec = z.infer<typeof govTenantSpec>;
export type GovTenantStatus = z.infer<typeof govTenantStatus>;
export type GovTenant = KubeObject<GovTenantSpec, GovTenantStatus>;

export const govTenantDefinition: KindDefinition = {
  ...kindNames.GovTenant,
  description:
    'GovTenant is a public administration using the shared cloud: its identity, environments (namespaces), quota, access, network isolation and data residency.',
  spec: govTenantSpec,
  status: govTenantStatus,
  printerColumns: [
    {
      name: 'Country',
      type: 'string',
      jsonPath: '.spec.country',
      description: 'Country of the administration.',
    },
    { name: 'Level', type: 'string', jsonPath: '.spec.level', description: 'Administrative level.' },
    readyColumn,
    {
      name: 'Namespaces',
      type: 'string',
      jsonPath: '.status.namespaces',
      description: 'Environment namespaces.',
      priority: 1,
    },
    ageColumn,
  ],
  validations: [
    {
      rule: "size(self.metadata.name) <= 63 && self.metadata.name.matches('^[a-z0-9]([-a-z0-9]*[a-z0-9])?$')",
      message: 'the tenant name must be a DNS label: at most 63 lower-case letters, digits and dashes',
      reason: 'FieldValueInvalid',
    },
    {
      rule: 'self.spec.environments.all(e, size(self.metadata.name) + size(e.name) < 63)',
      message:
        'every namespace name <tenant>-<environment> must fit in 63 characters: shorten the tenant or environment name',
      fieldPath: '.spec.environments',
      reason: 'FieldValueInvalid',
    },
  ],
};
