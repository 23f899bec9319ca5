/** Pure checks of a GovService, run before anything is created: each problem has a reason and names the field. */
import { Ajv, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import type { GovService, GovServiceClass, GovTenant } from '../../api/index.js';
import { hashOf } from '../../runtime/apply.js';

export interface Problem {
  reason: string;
  message: string;
}

export type Plan = NonNullable<GovServiceClass['spec']>['plans'][number];

export interface ServiceCheckContext {
  service: GovService;
  /** The tenant whose environment namespace holds the service; undefined when none does. */
  namespaceTenant?: GovTenant;
  serviceClass?: GovServiceClass;
  /** Every other GovService in the cluster, for host uniqueness. */
  otherServices: GovService[];
  /** The version the existing Deployment runs, if any. */
  runningVersion?: string;
}

export interface ServiceCheckResult {
  problems: Problem[];
  version?: string;
  plan?: Plan;
  /** The version is no longer offered by the class but keeps running. */
  deprecated?: boolean;
}

const CLASSIFICATION_ORDER = ['public', 'internal', 'confidential', 'restricted'];

const ajv = new Ajv({ strict: false, allErrors: true });
// Catalog schemas use the common formats (email, uri, date...): validate them rather than ignore them.
(addFormats as unknown as (a: Ajv) => Ajv)(ajv);
const compiled = new Map<string, ValidateFunction>();

/** Compiles (once per distinct schema) a class's parametersSchema. */
export function compileParametersSchema(
  schema: unknown,
): { ok: true; validate: ValidateFunction } | { ok: false; message: string } {
  const key = hashOf(schema);
  const cached = compiled.get(key);
  if (cached) return { ok: true, validate: cached };
  try {
    const validate = ajv.compile(schema as object);
    compiled.set(key, validate);
    return { ok: true, validate };
  } catch (e) {
    return { ok: false, message: e instanceof Error ? e.message : String(e) };
  }
}

/** Each failing path of the parameters, as `spec.parameters.<path>: <what is wrong>`. */
export function parameterErrors(schema: unknown, parameters: unknown): string[] {
  const c = compileParametersSchema(schema);
  if (!c.ok) return [];
  if (c.validate(parameters ?? {})) return [];
  return (c.validate.errors ?? []).map((e) => {
    const path = `spec.parameters${e.instancePath.replace(/\//g, '.')}`;
    const extra =
      e.keyword === 'additionalProperties'
        ? ` (${(e.params as { additionalProperty: string }).additionalProperty})`
        : '';
    return `${path}: ${e.message ?? 'is invalid'}${extra}`;
  });
}

const olderThan = (a: GovService, b: GovService): boolean => {
  const ta = a.metadata.creationTimestamp ?? '';
  const tb = b.metadata.creationTimestamp ?? '';
  return ta !== tb
    ? ta < tb
    : `${a.metadata.namespace}/${a.metadata.name}` < `${b.metadata.namespace}/${b.metadata.name}`;
};

/** The host is taken when an older exposed service claims it: exactly one of two claimants reports the conflict. */
function hostProblem(s: GovService, others: GovService[]): Problem | undefined {
  const host = s.spec!.host;
  if (s.spec!.exposure === 'internal' || !host) return undefined;
  const holder = others.find(
    (o) => o.spec?.host === host && o.spec.exposure !== 'internal' && olderThan(o, s),
  );
  if (!holder) return undefined;
  return {
    reason: 'HostConflict',
    message: `spec.host: ${host} is already used by GovService ${holder.metadata.namespace}/${holder.metadata.name}`,
  };
}

function versionCheck(
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
    message: `spec.version: ${version} is not offered by class ${cls.metadata.name} (offered: ${versions.join(', ')})`,
  };
}

function tenantProblems(ctx: ServiceCheckContext, cls: GovServiceClass): Problem[] {
  const t = ctx.namespaceTenant!;
  const problems: Problem[] = [];
  const allowed = t.spec!.allowedServiceClasses ?? ['*'];
  if (!allowed.includes('*') && !allowed.includes(cls.metadata.name)) {
    problems.push({
      reason: 'ClassNotAllowed',
      message: `spec.class: tenant ${t.metadata.name} may not use class ${cls.metadata.name} (allowed: ${allowed.join(', ')})`,
    });
  }
  const tenantLevel = t.spec!.dataResidency.classification ?? 'internal';
  const classMax = cls.spec!.maxClassification ?? 'internal';
  if (CLASSIFICATION_ORDER.indexOf(tenantLevel) > CLASSIFICATION_ORDER.indexOf(classMax)) {
    problems.push({
      reason: 'ClassificationTooHigh',
      message: `spec.class: tenant ${t.metadata.name} is classified ${tenantLevel}, above the maximum ${classMax} of class ${cls.metadata.name}`,
    });
  }
  return problems;
}

function classProblems(ctx: ServiceCheckContext, cls: GovServiceClass): { problems: Problem[]; plan?: Plan } {
  const problems: Problem[] = [];
  const spec = ctx.service.spec!;
  const plan = cls.spec!.plans.find((p) => p.name === spec.plan);
  if (!plan) {
    const names = cls.spec!.plans.map((p) => p.name).join(', ');
    problems.push({
      reason: 'PlanNotFound',
      message: `spec.plan: class ${cls.metadata.name} has no plan ${spec.plan} (plans: ${names})`,
    });
  }
  const schema = compileParametersSchema(cls.spec!.parametersSchema ?? {});
  if (!schema.ok) {
    problems.push({
      reason: 'InvalidParametersSchema',
      message: `class ${cls.metadata.name} has an invalid parametersSchema: ${schema.message}`,
    });
  } else {
    const errors = parameterErrors(cls.spec!.parametersSchema ?? {}, spec.parameters ?? {});
    if (errors.length) problems.push({ reason: 'InvalidParameters', message: errors.join('; ') });
  }
  return { problems, plan };
}

export function checkService(ctx: ServiceCheckContext): ServiceCheckResult {
  const s = ctx.service;
  if (!ctx.namespaceTenant) {
    const message = `namespace ${s.metadata.namespace} is not an environment namespace of any GovTenant`;
    return { problems: [{ reason: 'NamespaceNotTenant', message }] };
  }
  const cls = ctx.serviceClass;
  if (!cls?.spec) {
    return {
      problems: [
        { reason: 'ClassNotFound', message: `spec.class: GovServiceClass ${s.spec!.class} does not exist` },
      ],
    };
  }
  const problems: Problem[] = [];
  const version = versionCheck(ctx, cls);
  if ('reason' in version) problems.push(version);
  const { problems: fromClass, plan } = classProblems(ctx, cls);
  problems.push(...fromClass, ...tenantProblems(ctx, cls));
  if (s.spec!.exposure !== 'internal' && !s.spec!.host) {
    problems.push({
      reason: 'HostRequired',
      message: `spec.host is required when exposure is ${s.spec!.exposure}`,
    });
  }
  const host = hostProblem(s, ctx.otherServices);
  if (host) problems.push(host);
  if ('reason' in version) return { problems, plan };
  return { problems, plan, version: version.version, deprecated: version.deprecated };
}
