/**
 * GovServiceClass reconciler: reports how many instances use the class and whether its parameters
 * schema is valid; a class in use cannot be deleted (its finalizer stays, a condition lists them).
 */
import type { GovService, GovServiceClass, GovServiceClassStatus } from '../../api/index.js';
import type { Informer } from '../../runtime/cache.js';
import { Controller } from '../../runtime/controller.js';
import { readyFrom, setCondition, statusChanged, type ConditionUpdate } from '../../runtime/conditions.js';
import type { Manager } from '../../runtime/manager.js';
import { resources } from '../resources.js';
import { FINALIZER } from '../labels.js';
import { compileParametersSchema } from '../govservice/checks.js';

interface ClassContext {
  manager: Manager;
  classes: Informer<GovServiceClass>;
  services: Informer<GovService>;
}

const instancesOf = (ctx: ClassContext, name: string): string[] =>
  ctx.services
    .list((s) => s.spec?.class === name)
    .map((s) => `${s.metadata.namespace}/${s.metadata.name}`)
    .sort();

export function serviceClassController(manager: Manager, workers: number): Controller {
  const classes = manager.informer<GovServiceClass>(resources.GovServiceClass);
  const services = manager.informer<GovService>(resources.GovService);
  const ctx: ClassContext = { manager, classes, services };
  const classOf = (o?: { spec?: unknown }): string[] => {
    const name = (o?.spec as { class?: string } | undefined)?.class;
    return name ? [name] : [];
  };
  return new Controller({
    name: 'govserviceclass',
    primary: classes,
    watches: [{ informer: services, map: (s, old) => [...classOf(s), ...classOf(old)] }],
    workers,
    logger: manager.logger.child({ controller: 'govserviceclass' }),
    reconcile: (key) => reconcileClass(key, ctx),
  });
}

function schemaCondition(c: GovServiceClass): ConditionUpdate {
  const compiled = compileParametersSchema(c.spec?.parametersSchema ?? {});
  const generation = c.metadata.generation;
  return compiled.ok
    ? {
        type: 'SchemaValid',
        status: 'True',
        reason: 'SchemaCompiled',
        message: 'parametersSchema is a valid JSON schema',
        observedGeneration: generation,
      }
    : {
        type: 'SchemaValid',
        status: 'False',
        reason: 'InvalidParametersSchema',
        message: `spec.parametersSchema: ${compiled.message}`,
        observedGeneration: generation,
      };
}

function inUseCondition(c: GovServiceClass, instances: string[]): ConditionUpdate {
  const generation = c.metadata.generation;
  if (!c.metadata.deletionTimestamp) {
    return {
      type: 'DeletionBlocked',
      status: 'False',
      reason: 'NotDeleting',
      message: 'The class is not being deleted',
      observedGeneration: generation,
    };
  }
  return {
    type: 'DeletionBlocked',
    status: 'True',
    reason: 'InUse',
    message: `Deletion waits until no GovService uses this class; ${instances.length} still do: ${instances.join(', ')}`,
    observedGeneration: generation,
  };
}

function nextStatus(c: GovServiceClass, instances: string[]): GovServiceClassStatus {
  const now = new Date();
  let conditions = setCondition(c.status?.conditions, schemaCondition(c), now);
  conditions = setCondition(conditions, inUseCondition(c, instances), now);
  conditions = setCondition(conditions, readyFrom(conditions, ['SchemaValid'], c.metadata.generation), now);
  return { ...c.status, observedGeneration: c.metadata.generation, conditions, instances: instances.length };
}

async function reconcileClass(key: string, ctx: ClassContext): Promise<void> {
  const c = ctx.classes.get(key);
  if (!c?.spec) return;
  const instances = instancesOf(ctx, c.metadata.name);
  const deleting = !!c.metadata.deletionTimestamp;
  if (deleting && instances.length === 0) return ctx.manager.applier.setFinalizer(c, FINALIZER, false);
  if (!deleting) await ctx.manager.applier.setFinalizer(c, FINALIZER, true);
  const status = nextStatus(c, instances);
  if (!statusChanged(c.status, status)) return;
  const wasBlocked = c.status?.conditions?.find((x) => x.type === 'DeletionBlocked')?.status === 'True';
  if (deleting && !wasBlocked) {
    ctx.manager.events.record(c, 'Warning', 'DeletionBlocked', `Class still used by ${instances.join(', ')}`);
  }
  await ctx.manager.applier.applyStatus(c, status);
}
