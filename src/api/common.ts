/** Schema pieces every kind shares. Patterns are RE2-compatible: the API server checks them too. */
import { z } from 'zod';
import type { PrinterColumn, Validation } from './crd.js';

export const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
export const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
export const COUNTRY_CODE = /^[A-Z]{2}$/;
/** The grammar of resource.Quantity in k8s.io/apimachinery, without a minus sign: every amount here is a size. */
export const QUANTITY =
  /^\+?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE](\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))))?$/;
/** BCP 47 language tags as they are written in practice: en, hu, sr-Latn, pt-BR. */
export const LANGUAGE_TAG = /^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$/;
/** An OCI image tag. */
export const IMAGE_TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
const CAMEL_CASE = /^[A-Z][A-Za-z0-9]*$/;
const CONDITION_TYPE =
  /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])$/;

/** A CEL rule for the API server; `holds` states the same rule in zod when it needs only the value itself. */
export interface CelRule<T> extends Validation {
  holds?: (value: T) => boolean;
}

const pathOf = (fieldPath?: string): string[] => (fieldPath ?? '').split('.').filter(Boolean);

/** Attaches CEL rules to a schema (x-kubernetes-validations) and their zod mirror where there is one. */
export function withRules<S extends z.ZodType>(schema: S, rules: CelRule<z.output<S>>[]): S {
  let checked: z.ZodType = schema;
  for (const { holds, message, fieldPath } of rules) {
    if (holds) checked = checked.refine((v) => holds(v as z.output<S>), { message, path: pathOf(fieldPath) });
  }
  const validations: Validation[] = rules.map((r) => ({
    rule: r.rule,
    message: r.message,
    ...(r.fieldPath ? { fieldPath: r.fieldPath } : {}),
    ...(r.reason ? { reason: r.reason } : {}),
  }));
  return checked.meta({ 'x-kubernetes-validations': validations }) as S;
}

const unique = (values: unknown[]): boolean => new Set(values).size === values.length;

interface Bounds {
  min?: number;
  max: number;
}

/** A list of unique scalars (x-kubernetes-list-type: set). */
export function setOf<T extends z.ZodType>(item: T, { min = 0, max }: Bounds) {
  return z
    .array(item)
    .min(min)
    .max(max)
    .refine(unique, 'entries must be unique')
    .meta({ 'x-kubernetes-list-type': 'set' });
}

/** A list of objects unique by one key (x-kubernetes-list-type: map): server-side apply merges by it. */
export function listMapOf<T extends z.ZodObject>(item: T, key: string, { min = 0, max }: Bounds) {
  return z
    .array(item)
    .min(min)
    .max(max)
    .refine((items) => unique(items.map((i) => (i as Record<string, unknown>)[key])), {
      message: `entries must have unique ${key}s`,
    })
    .meta({ 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': [key] });
}

/** A string-keyed map with a bounded number of entries. */
export function mapOf<V extends z.ZodType>(key: z.ZodString, value: V, { min = 0, max }: Bounds) {
  return z
    .record(key, value)
    .refine((m) => Object.keys(m).length >= min && Object.keys(m).length <= max, {
      message: `must have between ${min} and ${max} entries`,
    })
    .meta({ ...(min ? { minProperties: min } : {}), maxProperties: max });
}

/** An object whose content the CRD does not constrain (JSON schemas, parameters). */
export const freeForm = (description: string) =>
  z
    .record(z.string(), z.unknown())
    .meta({ 'x-kubernetes-preserve-unknown-fields': true })
    .describe(description);

export const text = (max: number, description: string) => z.string().max(max).describe(description);

export const dnsLabel = (description: string, max = 63) =>
  z
    .string()
    .min(1)
    .max(max)
    .regex(DNS_LABEL, 'must be a DNS label: lower-case letters, digits and dashes')
    .describe(description);

export const dnsSubdomain = (description: string) =>
  z
    .string()
    .min(1)
    .max(253)
    .regex(DNS_SUBDOMAIN, 'must be a DNS name: lower-case letters, digits, dashes and dots')
    .describe(description);

export const countryCode = (description: string) =>
  z
    .string()
    .length(2)
    .regex(COUNTRY_CODE, 'must be an ISO 3166-1 alpha-2 code in upper case, such as HU')
    .describe(description);

export const count = (description: string, max = 1_000_000, min = 0) =>
  z.int().min(min).max(max).describe(description);

export const timestamp = (description: string) => z.iso.datetime({ offset: true }).describe(description);

export const imageVersion = (description: string) =>
  z.string().max(128).regex(IMAGE_TAG, 'must be a valid image tag, such as 2.4.0').describe(description);

/** A Kubernetes resource quantity, such as 500m, 2, 8Gi or 1Ti: an integer or a string. */
export const quantity = (description: string) =>
  z
    .union([
      z.int().min(0),
      z.string().max(64).regex(QUANTITY, 'must be a non-negative Kubernetes quantity such as 500m or 8Gi'),
    ])
    .meta({ 'x-kubernetes-int-or-string': true })
    .describe(description);

export const classification = z
  .enum(['public', 'internal', 'confidential', 'restricted'])
  .describe('Sensitivity of the data, from least to most: public, internal, confidential, restricted.');

/** Text in several languages, keyed by language code; values keep their script exactly as written. */
export const localizedText = (description: string) =>
  withRules(
    mapOf(
      z.string().max(35).regex(LANGUAGE_TAG, 'keys must be language codes such as en, hu, mk or sr-Latn'),
      z.string().min(1).max(256).describe('The text in that language, in its own script.'),
      { min: 1, max: 32 },
    ),
    [
      {
        rule: `self.all(k, k.matches('${LANGUAGE_TAG.source}'))`,
        message: 'keys must be language codes such as en, hu, mk or sr-Latn',
      },
    ],
  ).describe(description);

export const subject = withRules(
  z.object({
    kind: z
      .enum(['User', 'Group', 'ServiceAccount'])
      .describe('Kind of subject: User, Group or ServiceAccount.'),
    name: z
      .string()
      .min(1)
      .max(253)
      .describe('Name of the user, group or service account as the cluster authenticates it.'),
    namespace: dnsLabel('Namespace of the service account; only for kind ServiceAccount.').optional(),
  }),
  [
    {
      rule: "self.kind == 'ServiceAccount' ? has(self.namespace) : !has(self.namespace)",
      message: 'namespace is required for a ServiceAccount and not allowed for a User or Group',
      fieldPath: '.namespace',
      holds: (s) => (s.kind === 'ServiceAccount') === (s.namespace !== undefined),
    },
  ],
).describe('A user, group or service account that is granted access.');

const selectorRequirement = withRules(
  z.object({
    key: z.string().min(1).max(317).describe('Label key that the requirement applies to.'),
    operator: z
      .enum(['In', 'NotIn', 'Exists', 'DoesNotExist'])
      .describe('How the label value is compared: In, NotIn, Exists or DoesNotExist.'),
    values: z
      .array(z.string().max(63).describe('A label value.'))
      .max(64)
      .describe('Label values; non-empty for In and NotIn, empty for Exists and DoesNotExist.')
      .optional(),
  }),
  [
    {
      rule: "self.operator in ['In', 'NotIn'] ? has(self.values) && size(self.values) > 0 : !has(self.values) || size(self.values) == 0",
      message: 'values must be non-empty for operators In and NotIn, and empty for Exists and DoesNotExist',
      fieldPath: '.values',
      holds: (r) => ['In', 'NotIn'].includes(r.operator) === (r.values ?? []).length > 0,
    },
  ],
).describe('A label requirement: a key, an operator and values.');

export const labelSelector = (description: string) =>
  z
    .object({
      matchLabels: mapOf(
        z.string().max(317),
        z.string().max(63).describe('The label value that must match.'),
        {
          max: 64,
        },
      )
        .describe('Labels that must all be present with exactly these values.')
        .optional(),
      matchExpressions: z
        .array(selectorRequirement)
        .max(32)
        .describe('Requirements that must all hold.')
        .optional(),
    })
    .describe(description);

export const condition = z
  .object({
    type: z
      .string()
      .min(1)
      .max(316)
      .regex(CONDITION_TYPE)
      .describe('Type of condition, such as Ready, which summarises the others.'),
    status: z
      .enum(['True', 'False', 'Unknown'])
      .describe('Whether the condition holds: True, False or Unknown.'),
    reason: z
      .string()
      .min(1)
      .max(1024)
      .regex(CAMEL_CASE, 'must be a CamelCase word such as ApplyFailed')
      .describe('Machine-readable reason for the last transition, in CamelCase.'),
    message: text(32768, 'Explanation of the last transition for a person.'),
    lastTransitionTime: timestamp('When the status of the condition last changed.'),
    observedGeneration: count(
      'The metadata.generation of the object that the condition was computed from.',
      2 ** 53 - 1,
    ).optional(),
  })
  .describe('One aspect of the state of the resource, following the Kubernetes API conventions.');

export const conditions = z
  .array(condition)
  .max(32)
  .meta({ 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['type'] })
  .describe('Latest observations of the state of the resource; Ready summarises them.');

/** The status fields every kind has, plus its own. */
export const statusWith = <T extends z.ZodRawShape>(shape: T, description: string) =>
  z
    .object({
      observedGeneration: count(
        'The metadata.generation that the operator last acted on.',
        2 ** 53 - 1,
      ).optional(),
      conditions: conditions.optional(),
      ...shape,
    })
    .describe(description);

export const readyColumn: PrinterColumn = {
  name: 'Ready',
  type: 'string',
  jsonPath: '.status.conditions[?(@.type=="Ready")].status',
  description: 'Whether the resource is ready.',
};

export const ageColumn: PrinterColumn = {
  name: 'Age',
  type: 'date',
  jsonPath: '.metadata.creationTimestamp',
};
