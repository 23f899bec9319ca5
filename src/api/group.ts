/** The API group and version of every kind of the operator: CRDs, objects, labels and RBAC rules name them from here. */
export const GROUP = 'gov.secovia.eu';
export const VERSION = 'v1alpha1';
export const API_VERSION = `${GROUP}/${VERSION}`;
