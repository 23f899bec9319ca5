/** Kind definitions and their CustomResourceDefinitions: zod 4 JSON schema made structural for the API server. */
import { z } from 'zod';
import { API_VERSION, GROUP, VERSION, type KindNames } from './constants.js';

export interface PrinterColumn {
  name: string;
  type: 'string' | 'integer' | 'number' | 'boolean' | 'date';
  jsonPath: string;
  description?: string;
  priority?: number;
}

/** A CEL rule as x-kubernetes-validations carries it. */
export interface Validation {
  rule: string;
  message: string;
  fieldPath?: string;
  reason?: 'FieldValueInvalid' | 'FieldValueForbidden' | 'FieldValueRequired' | 'FieldValueDuplicate';
}

export interface KindDefinition extends KindNames {
  spec: z.ZodType;
  status: z.ZodType;
  printerColumns: PrinterColumn[];
  /** Root-level CEL rules: the only place where self.metadata.name is visible. */
  validations?: Validation[];
  description: string;
}

/** A JSON schema node while it is being rewritten. */
type Node = Record<string, unknown>;

const isNode = (v: unknown): v is Node => typeof v === 'object' && v !== null && !Array.isArray(v);
const omit = (node: Node, ...keys: string[]): Node =>
  Object.fromEntries(Object.entries(node).filter(([k]) => !keys.includes(k)));
const pick = (node: Node, ...keys: string[]): Node =>
  Object.fromEntries(Object.entries(node).filter(([k]) => keys.includes(k)));

const INT_OR_STRING = 'x-kubernetes-int-or-string';
const PRESERVE_UNKNOWN = 'x-kubernetes-preserve-unknown-fields';

/** Keywords of JSON Schema that a CRD schema does not know, or that would make it non-structural. */
function dropUnknownKeywords(node: Node): Node {
  if ('$ref' in node) throw new Error(`recursive or shared schemas cannot be CRDs: ${String(node.$ref)}`);
  return omit(node, '$schema', '$defs', '$id', 'id', 'definitions', 'propertyNames', 'examples');
}

function constToEnum(node: Node): Node {
  if (!('const' in node)) return node;
  return { ...omit(node, 'const'), enum: [node.const] };
}

/** `type: [X, "null"]` and `anyOf: [X, {type: null}]` become X with `nullable: true`. */
function simplifyNullable(node: Node): Node {
  if (Array.isArray(node.type)) {
    const types = node.type.filter((t) => t !== 'null');
    return { ...node, type: types[0], ...(types.length < node.type.length ? { nullable: true } : {}) };
  }
  const anyOf = Array.isArray(node.anyOf) ? node.anyOf.filter(isNode) : undefined;
  const rest = anyOf?.filter((s) => s.type !== 'null');
  if (!anyOf || !rest || rest.length !== 1 || anyOf.length !== 2) return node;
  return { ...rest[0], ...omit(node, 'anyOf'), nullable: true };
}

/** Draft 2020-12 numeric exclusive bounds to the OpenAPI v3.0 boolean form. */
function exclusiveBoundsToOpenApi(node: Node): Node {
  const out = { ...node };
  if (typeof node.exclusiveMinimum === 'number')
    Object.assign(out, { minimum: node.exclusiveMinimum, exclusiveMinimum: true });
  if (typeof node.exclusiveMaximum === 'number')
    Object.assign(out, { maximum: node.exclusiveMaximum, exclusiveMaximum: true });
  return out;
}

/** zod bounds every integer to the safe range; that is noise in a CRD. */
function dropSafeIntegerBounds(node: Node): Node {
  const out = { ...node };
  if (out.minimum === Number.MIN_SAFE_INTEGER) delete out.minimum;
  if (out.maximum === Number.MAX_SAFE_INTEGER) delete out.maximum;
  return out;
}

/** The API server checks formats such as date-time and email itself; zod's regexes are not all RE2. */
function dropPatternBesideFormat(node: Node): Node {
  if (typeof node.format !== 'string' || !('pattern' in node)) return node;
  return omit(node, 'pattern');
}

/** Quantities: the one anyOf a structural schema allows, the string branch's checks lifted to the top. */
function intOrString(node: Node): Node {
  if (node[INT_OR_STRING] !== true) return node;
  const branches = Array.isArray(node.anyOf) ? node.anyOf.filter(isNode) : [];
  const text = branches.find((s) => s.type === 'string') ?? {};
  return {
    ...omit(node, 'anyOf', 'type'),
    ...pick(text, 'pattern', 'maxLength'),
    anyOf: [{ type: 'integer' }, { type: 'string' }],
  };
}

function objectsHaveType(node: Node): Node {
  const objectLike =
    'properties' in node || 'additionalProperties' in node || node[PRESERVE_UNKNOWN] === true;
  return objectLike && node.type === undefined ? { ...node, type: 'object' } : node;
}

/** additionalProperties only describes maps: never `false`, never beside properties or free-form objects. */
function additionalPropertiesOnlyForMaps(node: Node): Node {
  if (!('additionalProperties' in node)) return node;
  const keep =
    isNode(node.additionalProperties) && !('properties' in node) && node[PRESERVE_UNKNOWN] !== true;
  if (keep) return node;
  return omit(node, 'additionalProperties');
}

const concerns: ((node: Node) => Node)[] = [
  dropUnknownKeywords,
  constToEnum,
  simplifyNullable,
  exclusiveBoundsToOpenApi,
  dropSafeIntegerBounds,
  dropPatternBesideFormat,
  intOrString,
  objectsHaveType,
  additionalPropertiesOnlyForMaps,
];

const mapValues = (o: Node, f: (v: unknown) => unknown): Node =>
  Object.fromEntries(Object.entries(o).map(([k, v]) => [k, f(v)]));

/** Rewrites the children first, then applies every concern to the node itself. */
function rewrite(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(rewrite);
  if (!isNode(value)) return value;
  const children: Node = { ...value };
  if (isNode(value.properties)) children.properties = mapValues(value.properties, rewrite);
  for (const key of ['items', 'additionalProperties', 'not'] as const) {
    if (isNode(value[key])) children[key] = rewrite(value[key]);
  }
  for (const key of ['anyOf', 'allOf', 'oneOf'] as const) {
    if (Array.isArray(value[key])) children[key] = value[key].map(rewrite);
  }
  return concerns.reduce((node, concern) => concern(node), children);
}

/** The structural OpenAPI v3 schema of a zod type (its input side: fields with defaults are optional). */
export function structuralSchema(type: z.ZodType): Node {
  const raw = z.toJSONSchema(type, {
    target: 'openapi-3.0',
    io: 'input',
    reused: 'inline',
    unrepresentable: 'throw',
  });
  return rewrite(raw) as Node;
}

function rootSchema(def: KindDefinition): Node {
  const text = (description: string): Node => ({ type: 'string', description });
  return {
    type: 'object',
    description: def.description,
    properties: {
      apiVersion: text(`Versioned schema of this representation of an object, here ${API_VERSION}.`),
      kind: text(`REST resource this object represents, here ${def.kind}.`),
      metadata: { type: 'object' },
      spec: structuralSchema(def.spec),
      status: structuralSchema(def.status),
    },
    required: ['spec'],
    ...(def.validations?.length ? { 'x-kubernetes-validations': def.validations } : {}),
  };
}

/**
 * Argo CD applies the CRDs before anything else (sync waves: catalog 1, tenants 2, services 3) and
 * never prunes or deletes them: deleting a CRD deletes every object of its kind, tenants included.
 */
const CRD_ANNOTATIONS = {
  'argocd.argoproj.io/sync-wave': '-1',
  'argocd.argoproj.io/sync-options': 'Prune=false,Delete=false',
};

/** The apiextensions.k8s.io/v1 CustomResourceDefinition of a kind. */
export function crdFor(def: KindDefinition): Node {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: {
      name: `${def.plural}.${GROUP}`,
      labels: { 'app.kubernetes.io/name': 'secovia-operator' },
      annotations: CRD_ANNOTATIONS,
    },
    spec: {
      group: GROUP,
      names: {
        kind: def.kind,
        listKind: `${def.kind}List`,
        plural: def.plural,
        singular: def.singular,
        shortNames: def.shortNames,
        categories: ['secovia'],
      },
      scope: def.scope,
      versions: [
        {
          name: VERSION,
          served: true,
          storage: true,
          subresources: { status: {} },
          additionalPrinterColumns: def.printerColumns,
          schema: { openAPIV3Schema: rootSchema(def) },
        },
      ],
    },
  };
}
