/** Every controller the operator runs. */
import type { Settings } from '../runtime/config.js';
import type { Manager } from '../runtime/manager.js';
import { federationController } from './federation/reconcile.js';
import { serviceController } from './govservice/reconcile.js';
import { serviceClassController } from './govserviceclass/reconcile.js';
import { tenantController } from './govtenant/reconcile.js';

export type ControllerSettings = Pick<
  Settings,
  'workers' | 'ingressNamespace' | 'ingressClassName' | 'tlsSecretSuffix' | 'namespace'
>;

export function registerControllers(manager: Manager, settings: ControllerSettings): void {
  manager.add(tenantController(manager, settings));
  manager.add(serviceClassController(manager, settings.workers));
  manager.add(serviceController(manager, settings));
  manager.add(federationController(manager, settings));
}
