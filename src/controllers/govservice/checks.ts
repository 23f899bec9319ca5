/** Pure checks of a GovService, run before anything is created: each problem has a reason and names the field. */
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import type { GovService, GovServiceClass, GovServiceClassSpec, GovTenant } from '../../api/index.js';
import { MAX_PARAMETERS_BYTES, MAX_PARAMETERS_DEPTH } from '../../api/constants.js';
import { hashOf } from '../../runtime/apply.js';
import { hostAllowed } from '../govtenant/guardrails.js';
import { ORIGIN_MEMBER } from '../labels.js';

/** Why a GovService cannot run as asked: a CamelCase reason and a message naming the field. */
export interface Problem {
  reason: string;
  message: string;
}

export type Plan = GovServiceClassSpec['plans'][number];

export interface ServiceCheckContext {
  service: GovService;
  /** The tenant whose environment namespace holds the service; undefined when none does. */
  namespaceTenant?: GovTenant;
  serviceClass?: GovServiceClass;
  /** The other GovServices that claim the same host, for host uniqueness. */
  otherServices: GovService[];
  /** The version the existing Deployment runs, if any. */
  runningVersion?: string;
}

export interface ServiceCheckResult {
  problems: Problem[];
  /** The version to run: spec.version or the class default; unset when not allowed. */
  version?: string;
  /** The plan of the class named by spec.plan; unset when the class has none of that name. */
  plan?: Plan;
  /** The version is no longer offered by the class but keeps running where it runs (condition VersionDeprecated). */
  deprecated?: boolean;
}

export type ParametersSchema = { ok: true; validate: ValidateFunction } | { ok: false; message: string };

/** From least to most sensitive. */
const CLASSIFICATION_ORDER = ['public', 'internal', 'confidential', 'restricted'];
/** Compiled schemas kept: far more than the classes of a catalog, bounded so that edits never leak memory. */
const CACHE_SIZE = 256;

// addUsedSchema false: a schema with an $id edited in place (or shared by two classes) compiles again.
const ajv = new Ajv({ strict: false, allErrors: true, addUsedSchema: false });
// Catalog schemas use the common formats (email, uri, date...): validate them rather than ignore them.
(addFormats as unknown as (a: Ajv) => Ajv)(ajv);
const compiled = new Map<string, ParametersSchema>();

/** Compiles a class's parametersSchema once per distinct schema; a schema that does not compile says why. */
export function compileParametersSchema(schema: unknown): ParametersSchema {
  const key = hashOf(schema);
  const cached = compiled.get(key);
  if (cached) return cached;
  let result: ParametersSchema;
  try {
    result = { ok: true, validate: ajv.compile(schema as object) };
  } catch (e) {
    result = { ok: false, message: e instanceof Error ? e.message : String(e) };
  }
  if (compiled.size >= CACHE_SIZE) compiled.delete(compiled.keys().next().value!);
  compiled.set(key, result);
  return result;
}

/** `/permitTypes/0` as `spec.parameters.permitTypes.0` (JSON pointer escapes undone). */
function fieldPath(instancePath: string, property?: string): string {
  const segments = instancePath
    .split('/')
    .slice(1)
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
  return ['spec.parameters', ...segments, ...(property === undefined ? [] : [property])].join('.');
}

/** One line per error, on the path of the offending value (a missing property's own path for `required`). */
function describeError(e: ErrorObject): string {
  const p = e.params as { missingProperty?: string; additionalProperty?: string; allowedValues?: unknown[] };
  if (e.keyword === 'required') return `${fieldPath(e.instancePath, p.missingProperty)}: is required`;
  if (e.keyword === 'additionalProperties') {
    return `${fieldPath(e.instancePath, p.additionalProperty)}: is not a parameter of the class`;
  }
  const message = e.message ?? 'is invalid';
  if (e.keyword === 'enum' && p.allowedValues) {
    return `${fieldPath(e.instancePath)}: ${message}: ${p.allowedValues.map(String).join(', ')}`;
  }
  return `${fieldPath(e.instancePath)}: ${message}`;
}

/**
 * Each failing path of the parameters with what is wrong, such as
 * `spec.parameters.maxAttachmentMiB: must be <= 200`. Empty when valid, and when the schema itself
 * does not compile (that is the class's problem, reported as InvalidParametersSchema).
 */
export function parameterErrors(schema: unknown, parameters: unknown): string[] {
  const c = compileParametersSchema(schema);
  if (!c.ok || c.validate(parameters ?? {})) return [];
  return [...new Set((c.validate.errors ?? []).map(describeError))];
}

const qualifiedName = (s: GovService): string => `${s.metadata.namespace}/${s.metadata.name}`;

/** Creation time first, then namespace/name: a total order, so two claimants always agree on the elder. */
const olderThan = (a: GovService, b: GovService): boolean => {
  const ta = a.metadata.creationTimestamp ?? '';
  const tb = b.metadata.creationTimestamp ?? '';
  return ta !== tb ? ta < tb : qualifiedName(a) < qualifiedName(b);
};

const claimsHost = (s: GovService, host: string): boolean =>
  s.spec?.host === host && s.spec.exposure !== 'internal';

function namespaceProblem(ctx: ServiceCheckContext): Problem | undefined {
  if (ctx.namespaceTenant) return undefined;
  return {
    reason: 'NamespaceNotTenant',
    message: `metadata.namespace: ${ctx.service.metadata.namespace} is not an environment namespace of any GovTenant; create the GovService in a namespace <tenant>-<environment>`,
  };
}

function classProblem(ctx: ServiceCheckContext): Problem | undefined {
  if (ctx.serviceClass?.spec) return undefined;
  return {
    reason: 'ClassNotFound',
    message: `spec.class: GovServiceClass ${ctx.service.spec!.class} does not exist`,
  };
}

function resolveVersion(
  ctx: ServiceCheckContext,
  cls: GovServiceClass,
): { version: string; deprecated: boolean } | Problem {
  const versions = cls.spec!.versions;
  const version = ctx.service.spec!.version ?? versions[versions.length - 1]!;
  if (versions.includes(version)) return { version, deprecated: false };
  // A version withdrawn from the catalog keeps running where it already runs; it is never started anew.
  if (version === ctx.runningVersion) return { version, deprecated: true };
  return {
    reason: 'VersionNotAllowed',
    message: `spec.version: ${version} is not offered by GovServiceClass ${cls.metadata.name} (versions: ${versions.join(', ')})`,
  };
}

function resolvePlan(ctx: ServiceCheckContext, cls: GovServiceClass): Plan | Problem {
  const wanted = ctx.service.spec!.plan;
  const plan = cls.spec!.plans.find((p) => p.name === wanted);
  if (plan) return plan;
  return {
    reason: 'PlanNotFound',
    message: `spec.plan: GovServiceClass ${cls.metadata.name} has no plan ${wanted} (plans: ${cls.spec!.plans.map((p) => p.name).join(', ')})`,
  };
}

function classAllowedProblem(t: GovTenant, cls: GovServiceClass): Problem | undefined {
  const allowed = t.spec!.allowedServiceClasses ?? ['*'];
  // A class imported from a peer is the peer's image: only a tenant that names it may run it.
  const origin = cls.metadata.labels?.[ORIGIN_MEMBER];
  if (allowed.includes(cls.metadata.name) || (allowed.includes('*') && !origin)) return undefined;
  const why = origin ? `; it is imported from ${origin}, which * does not cover: name it` : '';
  return {
    reason: 'ClassNotAllowed',
    message: `spec.class: GovTenant ${t.metadata.name} may not use GovServiceClass ${cls.metadata.name} (its spec.allowedServiceClasses: ${allowed.join(', ') || 'none'}${why})`,
  };
}

function classificationProblem(t: GovTenant, cls: GovServiceClass): Problem | undefined {
  const tenantLevel = t.spec!.dataResidency.classification ?? 'internal';
  const classMax = cls.spec!.maxClassification ?? 'internal';
  if (CLASSIFICATION_ORDER.indexOf(tenantLevel) <= CLASSIFICATION_ORDER.indexOf(classMax)) return undefined;
  return {
    reason: 'ClassificationTooHigh',
    message: `spec.class: GovTenant ${t.metadata.name} has spec.dataResidency.classification ${tenantLevel}, above spec.maxClassification ${classMax} of GovServiceClass ${cls.metadata.name}`,
  };
}

/**
 * Levels of nesting of a JSON value (0 for a scalar, 1 for an object or array of scalars), counted
 * without recursion and no further than `limit + 1`: a hostile value cannot exhaust the stack.
 */
export function depthOf(value: unknown, limit = Infinity): number {
  let deepest = 0;
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length) {
    const [v, level] = stack.pop()!;
    if (v === null || typeof v !== 'object') continue;
    deepest = Math.max(deepest, level + 1);
    if (deepest > limit) return deepest;
    for (const child of Array.isArray(v) ? v : Object.values(v)) stack.push([child, level + 1]);
  }
  return deepest;
}

/** Depth and size, which the CRD cannot bound inside preserved unknown fields. */
export function parametersBoundsProblem(parameters: unknown): Problem | undefined {
  const depth = depthOf(parameters ?? {}, MAX_PARAMETERS_DEPTH);
  if (depth > MAX_PARAMETERS_DEPTH) {
    return {
      reason: 'InvalidParameters',
      message: `spec.parameters: nested more than ${MAX_PARAMETERS_DEPTH} levels deep (objects and arrays)`,
    };
  }
  const bytes = Buffer.byteLength(JSON.stringify(parameters ?? {}), 'utf8');
  if (bytes <= MAX_PARAMETERS_BYTES) return undefined;
  return {
    reason: 'InvalidParameters',
    message: `spec.parameters: ${bytes} bytes as JSON, at most ${MAX_PARAMETERS_BYTES} are allowed`,
  };
}

function parametersProblem(ctx: ServiceCheckContext, cls: GovServiceClass): Problem | undefined {
  const bounds = parametersBoundsProblem(ctx.service.spec!.parameters);
  if (bounds) return bounds;
  const errors = parameterErrors(cls.spec!.parametersSchema ?? {}, ctx.service.spec!.parameters ?? {});
  if (!errors.length) return undefined;
  return { reason: 'InvalidParameters', message: errors.join('; ') };
}

function hostRequiredProblem(s: GovService): Problem | undefined {
  if (s.spec!.exposure === 'internal' || s.spec!.host) return undefined;
  return {
    reason: 'HostRequired',
    message: `spec.host: required when spec.exposure is ${s.spec!.exposure}`,
  };
}

/**
 * An exposed host must lie under a domain the tenant owns (status.ingressDomains: its allowed domains
 * less those an older tenant holds), as admission requires of the Ingress.
 */
function hostDomainProblem(t: GovTenant, s: GovService): Problem | undefined {
  const host = s.spec!.host;
  const domains = t.status?.ingressDomains ?? [];
  if (!host || s.spec!.exposure === 'internal' || hostAllowed(host, domains, false)) return undefined;
  return {
    reason: 'HostNotAllowed',
    message: `spec.host: ${host} is not under a domain of GovTenant ${t.metadata.name} (spec.ingress.allowedDomains less those an older GovTenant holds: ${domains.join(', ') || 'none'})`,
  };
}

/** The elder of the exposed services with the same host keeps it: exactly one of two claimants reports it. */
function hostConflictProblem(s: GovService, others: GovService[]): Problem | undefined {
  const host = s.spec!.host;
  if (!host || !claimsHost(s, host)) return undefined;
  const elders = others.filter(
    (o) => qualifiedName(o) !== qualifiedName(s) && claimsHost(o, host) && olderThan(o, s),
  );
  if (!elders.length) return undefined;
  const holder = elders.reduce((a, b) => (olderThan(a, b) ? a : b));
  return {
    reason: 'HostConflict',
    message: `spec.host: ${host} is already used by GovService ${qualifiedName(holder)}, which was created earlier`,
  };
}

function schemaProblem(cls: GovServiceClass): Problem | undefined {
  const c = compileParametersSchema(cls.spec!.parametersSchema ?? {});
  if (c.ok) return undefined;
  return {
    reason: 'InvalidParametersSchema',
    message: `spec.parametersSchema of GovServiceClass ${cls.metadata.name} is not a valid JSON schema: ${c.message}`,
  };
}

const isProblem = (v: unknown): v is Problem => typeof v === 'object' && v !== null && 'reason' in v;

/** What needs the class (and the tenant, where it is known), in the order of the reasons. */
function classChecks(ctx: ServiceCheckContext, cls: GovServiceClass): ServiceCheckResult {
  const version = resolveVersion(ctx, cls);
  const plan = resolvePlan(ctx, cls);
  const t = ctx.namespaceTenant;
  const problems = [
    version,
    plan,
    t && classAllowedProblem(t, cls),
    t && classificationProblem(t, cls),
    parametersProblem(ctx, cls),
  ].filter(isProblem);
  return {
    problems,
    ...(isProblem(plan) ? {} : { plan }),
    ...(isProblem(version) ? {} : version),
  };
}

/**
 * Every problem that can be evaluated, in a fixed order (the first one is the Ready reason):
 * NamespaceNotTenant, ClassNotFound, VersionNotAllowed, PlanNotFound, ClassNotAllowed,
 * ClassificationTooHigh, InvalidParameters, HostRequired, HostNotAllowed, HostConflict, InvalidParametersSchema.
 * A check whose prerequisite is missing (the tenant, the class) is skipped, the others still run.
 */
export function checkService(ctx: ServiceCheckContext): ServiceCheckResult {
  const cls = ctx.serviceClass?.spec ? ctx.serviceClass : undefined;
  const resolved: ServiceCheckResult = cls ? classChecks(ctx, cls) : { problems: [] };
  const problems = [
    namespaceProblem(ctx),
    classProblem(ctx),
    ...resolved.problems,
    hostRequiredProblem(ctx.service),
    ctx.namespaceTenant && hostDomainProblem(ctx.namespaceTenant, ctx.service),
    hostConflictProblem(ctx.service, ctx.otherServices),
    cls && schemaProblem(cls),
  ].filter(isProblem);
  return { ...resolved, problems };
}
