/** The resource types the operator reads and writes: its own kinds, from their definitions in src/api, beside the built-in ones. */
import {
  API_VERSION,
  federationDefinition,
  govConsumptionDefinition,
  govServiceClassDefinition,
  govServiceDefinition,
  govServiceImportDefinition,
  govTenantDefinition,
  type KindDefinition,
} from '../api/index.js';
import { builtinResources, resolverOf, rt, type ResourceType } from '../runtime/resources.js';

const resourceOf = (def: KindDefinition): ResourceType =>
  rt(API_VERSION, def.kind, def.plural, def.scope === 'Namespaced');

export const resources = {
  GovTenant: resourceOf(govTenantDefinition),
  GovServiceClass: resourceOf(govServiceClassDefinition),
  GovService: resourceOf(govServiceDefinition),
  GovServiceImport: resourceOf(govServiceImportDefinition),
  Federation: resourceOf(federationDefinition),
  GovConsumption: resourceOf(govConsumptionDefinition),
  ...builtinResources,
} as const;

export const resourceFor = resolverOf(resources);
