/** Every controller the operator runs, and what the runtime must know of the operator to run them. */
import { GROUP } from '../api/constants.js';
import type { Settings } from '../config.js';
import type { Manager, ManagerOptions } from '../runtime/manager.js';
import { consumptionController, type ConsumptionSettings } from './consumption/reconcile.js';
import { federationController } from './federation/reconcile.js';
import { serviceController } from './govservice/reconcile.js';
import { serviceClassController } from './govserviceclass/reconcile.js';
import { tenantController } from './govtenant/reconcile.js';
import { APPLIED_HASH, OPERATOR } from './labels.js';
import { resourceFor } from './resources.js';

export { cacheTransforms } from './cache.js';

export type ControllerSettings = Pick<
  Settings,
  'workers' | 'ingressNamespace' | 'ingressClassName' | 'tlsSecretSuffix' | 'namespace'
> &
  ConsumptionSettings;

/** The operator's names on the wire (live clusters hold them: they never change) and its resource types. */
export const operatorIdentity = {
  leaseName: `${OPERATOR}-leader`,
  applier: { fieldManager: OPERATOR, appliedHashAnnotation: APPLIED_HASH, resourceFor },
  eventReporter: { component: OPERATOR, reportingComponent: `${GROUP}/${OPERATOR}` },
} satisfies Pick<ManagerOptions, 'leaseName' | 'applier' | 'eventReporter'>;

export function registerControllers(manager: Manager, settings: ControllerSettings): void {
  manager.add(tenantController(manager, settings));
  manager.add(serviceClassController(manager, settings.workers));
  manager.add(serviceController(manager, settings));
  manager.add(federationController(manager, settings));
  manager.add(consumptionController(manager, settings));
}
