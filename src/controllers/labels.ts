/** Labels and annotations the operator puts on what it manages: one place, so selectors and builders agree. */
import { GROUP } from '../runtime/types.js';

export const MANAGED_BY = 'app.kubernetes.io/managed-by';
export const OPERATOR = 'secovia-operator';
export const TENANT = `${GROUP}/tenant`;
export const ENVIRONMENT = `${GROUP}/environment`;
export const COUNTRY = `${GROUP}/country`;
export const LEVEL = `${GROUP}/level`;
export const CLASSIFICATION = `${GROUP}/classification`;
export const ORPHANED = `${GROUP}/orphaned`;
/** On the namespaces of a suspended tenant: admission refuses new GovServices there. */
export const SUSPENDED = `${GROUP}/suspended`;
/** The uid of the GovTenant that created a namespace: only that tenant may ever delete it. */
export const CREATED_BY_UID = `${GROUP}/created-by-uid`;
export const FINALIZER = `${GROUP}/finalizer`;
/** On the objects of a GovService: its name. The tenant reconciler never prunes these. */
export const SERVICE = `${GROUP}/service`;
export const APP_NAME = 'app.kubernetes.io/name';
export const APP_INSTANCE = 'app.kubernetes.io/instance';
export const APP_VERSION = 'app.kubernetes.io/version';

/** Selector of everything this operator manages. */
export const managedSelector = `${MANAGED_BY}=${OPERATOR}`;

export const isManaged = (labels: Record<string, string> | undefined): boolean =>
  labels?.[MANAGED_BY] === OPERATOR;
