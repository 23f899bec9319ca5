/** GovService: an instance of a GovServiceClass in a tenant environment namespace. */
import { z } from 'zod';
import type { KubeObject } from '../runtime/types.js';
import {
  ageColumn,
  count,
  dnsLabel,
  dnsSubdomain,
  freeForm,
  imageVersion,
  readyColumn,
  statusWith,
  text,
  withRules,
} from './common.js';
import type { KindDefinition } from './crd.js';

export const govServiceSpec = withRules(
  z.object({
    class: dnsLabel('Name of the GovServiceClass to instantiate.'),
    version: imageVersion(
      'Version to run, one of the versions of the class; the default of the class when unset.',
    ).optional(),
    plan: dnsLabel('Name of a plan of the class, such as small.'),
    exposure: z
      .enum(['internal', 'public', 'federated'])
      .default('internal')
      .describe(
        'internal: inside the cluster; public: through an Ingress; federated: also offered to federation members.',
      ),
    host: dnsSubdomain(
      'Host name under which the service is reached; required when public or federated.',
    ).optional(),
    parameters: freeForm(
      'Settings of the instance, checked against the parametersSchema of the class.',
    ).optional(),
  }),
  [
    {
      rule: "self.exposure == 'internal' || has(self.host)",
      message: 'host is required when exposure is public or federated',
      fieldPath: '.host',
      reason: 'FieldValueRequired',
      holds: (s) => s.exposure === 'internal' || s.host !== undefined,
    },
  ],
).describe('Desired state of the service instance.');

export const govServiceStatus = statusWith(
  {
    url: text(2048, 'Address at which the service is reached.').optional(),
    version: imageVersion('Version that is running.').optional(),
    replicas: count('Number of replicas wanted.').optional(),
    readyReplicas: count('Number of replicas ready to serve.').optional(),
  },
  'Observed state of the service instance.',
);

export type GovServiceSpec = z.infer<typeof govServiceSpec>;
export type GovServiceStatus = z.infer<typeof govServiceStatus>;
export type GovService = KubeObject<GovServiceSpec, GovServiceStatus>;

export const govServiceDefinition: KindDefinition = {
  kind: 'GovService',
  plural: 'govservices',
  singular: 'govservice',
  shortNames: ['gs'],
  scope: 'Namespaced',
  description:
    'GovService is an instance of a GovServiceClass that a tenant runs in one of its environment namespaces.',
  spec: govServiceSpec,
  status: govServiceStatus,
  printerColumns: [
    { name: 'Class', type: 'string', jsonPath: '.spec.class', description: 'GovServiceClass.' },
    { name: 'Plan', type: 'string', jsonPath: '.spec.plan', description: 'Plan of the class.' },
    { name: 'Version', type: 'string', jsonPath: '.status.version', description: 'Version running.' },
    readyColumn,
    { name: 'URL', type: 'string', jsonPath: '.status.url', description: 'Address of the service.' },
    ageColumn,
  ],
};
