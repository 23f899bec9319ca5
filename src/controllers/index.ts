/** Every controller the operator runs. */
import type { Settings } from '../runtime/config.js';
import type { Manager } from '../runtime/manager.js';
import { tenantController } from './govtenant/reconcile.js';

export function registerControllers(
  manager: Manager,
  settings: Pick<Settings, 'workers' | 'ingressNamespace'>,
): void {
  manager.add(tenantController(manager, settings));
}
