/** GovServiceClass: a SaaS service of the provider's catalog that tenants instantiate. */
import { z } from 'zod';
import type { KubeObject } from '../runtime/types.js';
import {
  ageColumn,
  classification,
  count,
  dnsLabel,
  freeForm,
  IMAGE_TAG,
  imageVersion,
  listMapOf,
  localizedText,
  mapOf,
  quantity,
  setOf,
  statusWith,
  withRules,
} from './common.js';
import type { KindDefinition } from './crd.js';
import { kindNames } from './constants.js';

/** A repository without tag or digest: registry host (optional port) and path. */
const IMAGE_REPOSITORY = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?(:[0-9]+)?(\/[a-z0-9]+([._-]+[a-z0-9]+)*)+$/;
const SHA256_DIGEST = /^sha256:[a-f0-9]{64}$/;

const autoscaling = withRules(
  z.object({
    minReplicas: count('Fewest replicas the autoscaler keeps.', 100, 1),
    maxReplicas: count('Most replicas the autoscaler starts.', 100, 1),
    cpuUtilization: count(
      'Average CPU use, in percent of the request, that the autoscaler aims at.',
      100,
      1,
    ).default(80),
  }),
  [
    {
      rule: 'self.minReplicas <= self.maxReplicas',
      message: 'minReplicas must not exceed maxReplicas',
      fieldPath: '.minReplicas',
      holds: (a) => a.minReplicas <= a.maxReplicas,
    },
  ],
).describe('Horizontal autoscaling on CPU between minReplicas and maxReplicas.');

const plan = withRules(
  z.object({
    name: dnsLabel('Name of the plan, such as small or large.'),
    replicas: count('Fixed number of replicas.', 100).optional(),
    autoscaling: autoscaling.optional(),
    resources: z
      .object({
        cpu: quantity('CPU requested by each replica, such as 250m.').optional(),
        memory: quantity('Memory requested by each replica, such as 256Mi.').optional(),
      })
      .describe('Resources of each replica.')
      .optional(),
  }),
  [
    {
      rule: 'has(self.replicas) != has(self.autoscaling)',
      message: 'a plan sets exactly one of replicas or autoscaling',
      fieldPath: '.replicas',
      holds: (p) => (p.replicas === undefined) !== (p.autoscaling === undefined),
    },
  ],
).describe('A size of the service: either a fixed number of replicas or autoscaling.');

export const govServiceClassSpec = withRules(
  z.object({
    displayName: localizedText(
      'Name of the service by language code, such as {en: Building permits, hu: Építési engedélyek}.',
    ),
    audience: setOf(
      z.enum(['G2C', 'G2B', 'G2G']).describe('G2C: citizens, G2B: businesses, G2G: administrations.'),
      {
        min: 1,
        max: 3,
      },
    ).describe('Who the service is for.'),
    buildingBlock: z
      .enum([
        'identity',
        'consent',
        'payments',
        'registration',
        'information-mediator',
        'messaging',
        'workflow',
        'digital-registries',
        'scheduler',
        'e-signature',
      ])
      .describe('GovStack building block that the service implements.'),
    image: z
      .string()
      .max(255)
      .regex(
        IMAGE_REPOSITORY,
        'must be an image repository without tag, such as registry.example.eu/secovia/e-permits',
      )
      .describe('Image repository without tag; the version is the tag, so that images can be mirrored.'),
    versions: setOf(imageVersion('A version, which is also the image tag.'), { min: 1, max: 32 }).describe(
      'Versions that tenants may run; the last one is the default.',
    ),
    digests: mapOf(
      z.string().max(128).regex(IMAGE_TAG),
      z.string().max(71).regex(SHA256_DIGEST).describe('Image digest, such as sha256:0123....'),
      { max: 32 },
    )
      .describe('Digest to pin per version, so that mirrored images are the same bytes.')
      .optional(),
    port: count('Port on which the service listens for HTTP.', 65535, 1).default(8080),
    healthPath: z
      .string()
      .max(253)
      .regex(/^\/\S*$/, 'must be an absolute path such as /healthz')
      .default('/healthz')
      .describe('HTTP path of the health check.'),
    plans: listMapOf(plan, 'name', { min: 1, max: 16 }).describe('Sizes in which the service is offered.'),
    parametersSchema: freeForm(
      'JSON schema that the parameters of each GovService of this class must satisfy.',
    ).optional(),
    maxClassification: classification
      .default('internal')
      .describe('Most sensitive data classification of a tenant that may use the service.'),
  }),
  [
    {
      rule: '!has(self.digests) || self.digests.all(v, v in self.versions)',
      message: 'digests may only name versions listed in versions',
      fieldPath: '.digests',
      holds: (s) => Object.keys(s.digests ?? {}).every((v) => s.versions.includes(v)),
    },
  ],
).describe('Desired state of the service class.');

export const govServiceClassStatus = statusWith(
  { instances: count('Number of GovServices of this class in the cluster.').optional() },
  'Observed state of the service class.',
);

export type GovServiceClassSpec = z.infer<typeof govServiceClassSpec>;
export type GovServiceClassStatus = z.infer<typeof govServiceClassStatus>;
export type GovServiceClass = KubeObject<GovServiceClassSpec, GovServiceClassStatus>;

export const govServiceClassDefinition: KindDefinition = {
  ...kindNames.GovServiceClass,
  description:
    'GovServiceClass is a SaaS service of the catalog (permits, registries, payments, identity, messaging) with its image, versions and plans.',
  spec: govServiceClassSpec,
  status: govServiceClassStatus,
  printerColumns: [
    {
      name: 'Block',
      type: 'string',
      jsonPath: '.spec.buildingBlock',
      description: 'GovStack building block.',
    },
    {
      name: 'Versions',
      type: 'string',
      jsonPath: '.spec.versions',
      description: 'Allowed versions.',
      priority: 1,
    },
    {
      name: 'Instances',
      type: 'integer',
      jsonPath: '.status.instances',
      description: 'Number of GovServices.',
    },
    ageColumn,
  ],
};
