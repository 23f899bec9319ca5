/** GovServiceImport: a federated service of another member, listed where its imported tenant lives. */
import { z } from 'zod';
import type { KubeObject } from '../runtime/types.js';
import {
  ageColumn,
  classification,
  countryCode,
  dnsLabel,
  imageVersion,
  readyColumn,
  statusWith,
} from './common.js';
import type { KindDefinition } from './crd.js';
import { kindNames } from './constants.js';

/** A link that a person or a program will follow: https only, a host, no white space or quotes. */
const HTTPS_URL = /^https:\/\/[A-Za-z0-9.-]+(:[0-9]{1,5})?(\/[^\s"'<>\\]*)?$/;

export const govServiceImportSpec = z
  .object({
    originMember: dnsLabel('Federation member that runs the service, such as hu-central.'),
    originCountry: countryCode('Country of the member that runs the service, such as HU.'),
    tenant: dnsLabel('GovTenant that owns the service; imported from the same member.'),
    service: dnsLabel('Name of the GovService at its origin.'),
    class: dnsLabel('GovServiceClass of the service.'),
    version: imageVersion('Version the origin runs.').optional(),
    url: z
      .string()
      .max(2048)
      .regex(HTTPS_URL, 'must be an https:// address without spaces, such as https://permits.example')
      .describe(
        'Address at which the service is reached: https:// only, since people and programs follow it.',
      )
      .optional(),
    classification: classification.describe(
      'Classification of the data of the owning tenant: public, internal, confidential or restricted.',
    ),
  })
  .describe('What the origin member offers; written only by the federation, kept equal to the origin.');

export const govServiceImportStatus = statusWith({}, 'Observed state of the import: Ready and Stale.');

export type GovServiceImportSpec = z.infer<typeof govServiceImportSpec>;
export type GovServiceImport = KubeObject<GovServiceImportSpec, z.infer<typeof govServiceImportStatus>>;

export const govServiceImportDefinition: KindDefinition = {
  ...kindNames.GovServiceImport,
  description:
    'GovServiceImport lists a federated GovService of another member in the namespace of its imported tenant: origin, URL, class, version and classification.',
  spec: govServiceImportSpec,
  status: govServiceImportStatus,
  printerColumns: [
    { name: 'Origin', type: 'string', jsonPath: '.spec.originMember', description: 'Member running it.' },
    { name: 'Country', type: 'string', jsonPath: '.spec.originCountry', description: 'Its country.' },
    { name: 'Class', type: 'string', jsonPath: '.spec.class', description: 'GovServiceClass.' },
    { name: 'URL', type: 'string', jsonPath: '.spec.url', description: 'Address of the service.' },
    readyColumn,
    {
      name: 'Stale',
      type: 'string',
      jsonPath: '.status.conditions[?(@.type=="Stale")].status',
      description: 'Whether the origin has been out of reach for longer than allowed.',
    },
    ageColumn,
  ],
};
