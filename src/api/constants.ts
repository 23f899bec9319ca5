/**
 * The API's constants: its group and version, each kind's names and scope, and the bounds that code
 * outside the schemas reads. Nothing here imports zod, so the controllers read these without loading
 * the schemas, which only a Federation's exchange with its peers needs at run time.
 */
export const GROUP = 'gov.secovia.eu';
export const VERSION = 'v1alpha1';
export const API_VERSION = `${GROUP}/${VERSION}`;

/** The names and scope of a kind: its resource type is made from these, its CRD from these and its schema. */
export interface KindNames {
  kind: string;
  plural: string;
  singular: string;
  shortNames: string[];
  scope: 'Cluster' | 'Namespaced';
}

const names = (kind: string, plural: string, shortNames: string[], scope: KindNames['scope']): KindNames => ({
  kind,
  plural,
  singular: kind.toLowerCase(),
  shortNames,
  scope,
});

export const kindNames = {
  GovTenant: names('GovTenant', 'govtenants', ['gt'], 'Cluster'),
  GovServiceClass: names('GovServiceClass', 'govserviceclasses', ['gsc'], 'Cluster'),
  GovService: names('GovService', 'govservices', ['gs'], 'Namespaced'),
  GovServiceImport: names('GovServiceImport', 'govserviceimports', ['gsi'], 'Namespaced'),
  Federation: names('Federation', 'federations', ['fed'], 'Cluster'),
  GovConsumption: names('GovConsumption', 'govconsumptions', ['gcons'], 'Cluster'),
} as const satisfies Record<string, KindNames>;

/** A calendar month such as 2026-12: a GovConsumption's spec.month. */
export const MONTH = /^[0-9]{4}-(0[1-9]|1[0-2])$/;

/** Service types a tenant may allow, in the order the namespace label lists them. */
export const SERVICE_TYPES = ['ClusterIP', 'NodePort', 'LoadBalancer'] as const;

/**
 * Longest GovService name: it is the name of its Service (a DNS-1035 label) and the value of the
 * labels app.kubernetes.io/instance and gov.secovia.eu/service on everything it owns (at most 63).
 * Every other derived name is a DNS subdomain of at most 253 characters, where the longest,
 * `<name>-ingress-controller` (82) and `<name>-parameters` (74), fit easily.
 */
export const MAX_SERVICE_NAME = 63;
/**
 * Bounds of a GovService's spec.parameters. The CRD holds the number of keys (maxProperties); the API
 * server's CEL cannot see inside preserved unknown fields, so the operator checks depth and size
 * (InvalidParameters).
 */
export const MAX_PARAMETERS = 64;
export const MAX_PARAMETERS_DEPTH = 8;
export const MAX_PARAMETERS_BYTES = 64 * 1024;
