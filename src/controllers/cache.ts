/**
 * What the controllers read of each kind they cache: everything else is dropped before an object is
 * stored (managedFields and kubectl's last-applied annotation from every kind). A field that the
 * operator writes stays, since the apply path compares it with the desired state.
 */
import type { ResourceType } from '../runtime/resources.js';
import { resources } from './resources.js';
import { dropFields, pickStatus, type Transform } from '../runtime/transform.js';
import { credentialsOnly } from './federation/peers.js';
import { DEPLOYMENT_STATUS_READ } from './govservice/status.js';

export const cacheTransforms: ReadonlyMap<ResourceType, Transform> = new Map([
  // Labels, annotations and deletion are all that is read of a namespace.
  [resources.Namespace, dropFields('spec', 'status')],
  // The readiness of a GovService comes from its Deployment's replica counts and conditions.
  [resources.Deployment, pickStatus(...DEPLOYMENT_STATUS_READ)],
  // Load balancer addresses, autoscaler metrics and disruption counts are never read.
  [resources.Service, dropFields('status')],
  [resources.Ingress, dropFields('status')],
  [resources.HorizontalPodAutoscaler, dropFields('status')],
  [resources.PodDisruptionBudget, dropFields('status')],
  // Secrets of the operator's namespace are read as peer credentials only.
  [resources.Secret, credentialsOnly],
]);
