/** Labels and annotations the operator puts on what it manages: one place, so selectors and builders agree. */
import { GROUP } from '../api/constants.js';

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
/**
 * On tenant namespaces: the Service types allowed there, joined by dots (ClusterIP.NodePort), from
 * spec.network.allowedServiceTypes; admission refuses the others.
 */
export const SERVICE_TYPES = `${GROUP}/service-types`;
/**
 * Annotations on tenant namespaces that the admission guardrails read (comma-separated lists, too
 * long for label values): the ingress domains the tenant owns, whether wildcard hosts are allowed,
 * its IngressClasses, image registries, StorageClasses and PriorityClasses, and its node pool as
 * key=value pairs. Only the operator writes them (secovia-reserved-namespace-metadata).
 */
export const ALLOWED_DOMAINS = `${GROUP}/allowed-domains`;
export const ALLOW_WILDCARD = `${GROUP}/allow-wildcard-hosts`;
export const INGRESS_CLASSES = `${GROUP}/ingress-classes`;
export const ALLOWED_REGISTRIES = `${GROUP}/allowed-registries`;
export const STORAGE_CLASSES = `${GROUP}/storage-classes`;
export const PRIORITY_CLASSES = `${GROUP}/priority-classes`;
export const NODE_SELECTOR = `${GROUP}/node-selector`;
/** The uid of the GovTenant that created a namespace: only that tenant may ever delete it. */
export const CREATED_BY_UID = `${GROUP}/created-by-uid`;
export const FINALIZER = `${GROUP}/finalizer`;
/** On everything the operator applies: the hash of what it last applied (the runtime's applier writes it). */
export const APPLIED_HASH = `${GROUP}/applied-hash`;
/** On the objects of a GovService: its name. The tenant reconciler never prunes these. */
export const SERVICE = `${GROUP}/service`;
export const APP_NAME = 'app.kubernetes.io/name';
export const APP_INSTANCE = 'app.kubernetes.io/instance';
export const APP_VERSION = 'app.kubernetes.io/version';

/** Selector of everything this operator manages. */
export const managedSelector = `${MANAGED_BY}=${OPERATOR}`;

export const isManaged = (labels: Record<string, string> | undefined): boolean =>
  labels?.[MANAGED_BY] === OPERATOR;

/** On objects a Federation imported: the peer member they come from, its country, and the Federation. */
export const ORIGIN_MEMBER = `${GROUP}/origin-member`;
export const ORIGIN_COUNTRY = `${GROUP}/origin-country`;
export const FEDERATION = `${GROUP}/federation`;
/** On an export ConfigMap: the peer member it is published for. */
export const EXPORT_TO = `${GROUP}/export-to`;
/** On an import whose origin has been out of reach too long: the time of the last contact. */
export const STALE_SINCE = `${GROUP}/stale-since`;
/** On an import its origin withdrew while onWithdraw is Orphan: the member it came from. */
export const WITHDRAWN_FROM = `${GROUP}/withdrawn-from`;
/** On a GovConsumption record a peer reported (export.consumption): the member that ran the tenant. */
export const REPORTED_BY = `${GROUP}/reported-by`;
