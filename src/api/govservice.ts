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
import {
  kindNames,
  MAX_PARAMETERS,
  MAX_PARAMETERS_BYTES,
  MAX_PARAMETERS_DEPTH,
  MAX_SERVICE_NAME,
} from './constants.js';

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
      `Settings of the instance, checked against the parametersSchema of the class: at most ${MAX_PARAMETERS} top-level keys, nested at most ${MAX_PARAMETERS_DEPTH} levels deep, at most ${MAX_PARAMETERS_BYTES / 1024} KiB as JSON.`,
    )
      .refine((p) => Object.keys(p).length <= MAX_PARAMETERS, `must have at most ${MAX_PARAMETERS} keys`)
      .meta({ maxProperties: MAX_PARAMETERS })
      .optional(),
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
  ...kindNames.GovService,
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
  validations: [
    {
      rule: `size(self.metadata.name) <= ${MAX_SERVICE_NAME} && self.metadata.name.matches('^[a-z]([-a-z0-9]*[a-z0-9])?$')`,
      message: `metadata.name: a GovService name must be a DNS-1035 label: at most ${MAX_SERVICE_NAME} lower-case letters, digits and dashes, starting with a letter (it names the Service and labels every object of the service)`,
      reason: 'FieldValueInvalid',
    },
    {
      rule: "!self.metadata.name.startsWith('secovia-')",
      message: 'metadata.name: the prefix secovia- is reserved to the objects of the secovia operator',
      reason: 'FieldValueForbidden',
    },
  ],
};
