/** The API of the operator: zod schemas, their types and the kind definitions the CRDs are generated from. */
import type { KindDefinition } from './crd.js';
import { federationDefinition } from './federation.js';
import { govConsumptionDefinition } from './govconsumption.js';
import { govServiceDefinition } from './govservice.js';
import { govServiceClassDefinition } from './govserviceclass.js';
import { govServiceImportDefinition } from './govserviceimport.js';
import { govTenantDefinition } from './govtenant.js';

export * from './common.js';
export * from './crd.js';
export * from './federation.js';
export * from './govconsumption.js';
export * from './govservice.js';
export * from './govserviceclass.js';
export * from './govserviceimport.js';
export * from './govtenant.js';
export * from './constants.js';

export const kindDefinitions: KindDefinition[] = [
  govTenantDefinition,
  govServiceClassDefinition,
  govServiceDefinition,
  govServiceImportDefinition,
  federationDefinition,
  govConsumptionDefinition,
];
