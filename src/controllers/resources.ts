/** The resource types the operator reads and writes: its own kinds, from their names in src/api, beside the built-in ones. */
import { API_VERSION, kindNames, type KindNames } from '../api/constants.js';
import { builtinResources, resolverOf, rt, type ResourceType } from '../runtime/resources.js';

const resourceOf = (def: KindNames): ResourceType =>
  rt(API_VERSION, def.kind, def.plural, def.scope === 'Namespaced');

export const resources = {
  GovTenant: resourceOf(kindNames.GovTenant),
  GovServiceClass: resourceOf(kindNames.GovServiceClass),
  GovService: resourceOf(kindNames.GovService),
  GovServiceImport: resourceOf(kindNames.GovServiceImport),
  Federation: resourceOf(kindNames.Federation),
  GovConsumption: resourceOf(kindNames.GovConsumption),
  ...builtinResources,
} as const;

export const resourceFor = resolverOf(resources);
