/** GovService checks and desired state as pure functions, on the sample catalog. */
import { readFileSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';
import type { GovService, GovServiceClass, GovTenant } from '../../src/api/index.js';
import { checkService, parameterErrors } from '../../src/controllers/govservice/checks.js';
import {
  imageRef,
  parametersHash,
  serviceObjects,
  serviceUrl,
} from '../../src/controllers/govservice/desired.js';
import type { KubeObject } from '../../src/runtime/types.js';

const ROOT = new URL('../../', import.meta.url).pathname;
const classes = parseAllDocuments(
  readFileSync(`${ROOT}config/samples/gov_v1alpha1_govserviceclass.yaml`, 'utf8'),
).map((d) => d.toJS() as GovServiceClass);
const cls = (name: string): GovServiceClass => classes.find((c) => c.metadata.name === name)!;

function tenant(name: string, spec: Record<string, unknown> = {}): GovTenant {
  return {
    apiVersion: 'gov.secovia.eu/v1alpha1',
    kind: 'GovTenant',
    metadata: { name, uid: `uid-${name}` },
    spec: {
      displayName: 'Περιφέρεια Κεντρικής Μακεδονίας',
      country: 'GR',
      level: 'regional',
      environments: [{ name: 'prod' }],
      dataResidency: { allowedCountries: ['GR'], classification: 'internal' },
      allowedServiceClasses: ['*'],
      ...spec,
    },
  } as unknown as GovTenant;
}

function service(
  name: string,
  spec: Record<string, unknown>,
  created = '2026-11-01T10:00:00Z',
  ns = 'gr-rcm-prod',
): GovService {
  return {
    apiVersion: 'gov.secovia.eu/v1alpha1',
    kind: 'GovService',
    metadata: { name, namespace: ns, uid: `uid-${ns}-${name}`, creationTimestamp: created },
    spec: { exposure: 'internal', ...spec },
  } as unknown as GovService;
}

const permits = (extra: Record<string, unknown> = {}) =>
  service('permits', {
    class: 'e-permits',
    plan: 'small',
    parameters: { municipalityCode: '54625' },
    ...extra,
  });

describe('checkService', () => {
  const t = tenant('gr-rcm');
  it.each([
    ['a namespace of no tenant', { service: permits(), otherServices: [] }, 'NamespaceNotTenant'],
    [
      'a missing class',
      { service: permits({ class: 'land-registry' }), namespaceTenant: t, otherServices: [] },
      'ClassNotFound',
    ],
    [
      'a version not offered',
      {
        service: permits({ version: '1.0.0' }),
        namespaceTenant: t,
        serviceClass: cls('e-permits'),
        otherServices: [],
      },
      'VersionNotAllowed',
    ],
    [
      'a plan not offered',
      {
        service: permits({ plan: 'huge' }),
        namespaceTenant: t,
        serviceClass: cls('e-permits'),
        otherServices: [],
      },
      'PlanNotFound',
    ],
    [
      'a class the tenant may not use',
      {
        service: permits(),
        namespaceTenant: tenant('gr-x', { allowedServiceClasses: ['identity'] }),
        serviceClass: cls('e-permits'),
        otherServices: [],
      },
      'ClassNotAllowed',
    ],
    [
      'a tenant classified above the class',
      {
        service: permits(),
        namespaceTenant: tenant('gr-x', {
          dataResidency: { allowedCountries: ['GR'], classification: 'restricted' },
        }),
        serviceClass: cls('e-permits'),
        otherServices: [],
      },
      'ClassificationTooHigh',
    ],
    [
      'invalid parameters',
      {
        service: permits({ parameters: { municipalityCode: 'Θεσσαλονίκη' } }),
        namespaceTenant: t,
        serviceClass: cls('e-permits'),
        otherServices: [],
      },
      'InvalidParameters',
    ],
    [
      'public without host',
      {
        service: permits({ exposure: 'public' }),
        namespaceTenant: t,
        serviceClass: cls('e-permits'),
        otherServices: [],
      },
      'HostRequired',
    ],
  ])('reports %s', (_what, ctx, reason) => {
    expect(checkService(ctx as Parameters<typeof checkService>[0]).problems.map((p) => p.reason)).toContain(
      reason,
    );
  });

  it('passes a valid service, giving the class default version and the plan', () => {
    const r = checkService({
      service: permits(),
      namespaceTenant: t,
      serviceClass: cls('e-permits'),
      otherServices: [],
    });
    expect(r.problems).toEqual([]);
    expect(r.version).toBe('2.4.0');
    expect(r.plan?.name).toBe('small');
    expect(r.deprecated).toBe(false);
  });

  it('keeps a withdrawn version only where it already runs, as deprecated', () => {
    const withdrawn = permits({ version: '2.2.0' });
    const base = {
      service: withdrawn,
      namespaceTenant: t,
      serviceClass: cls('e-permits'),
      otherServices: [],
    };
    expect(checkService({ ...base, runningVersion: '2.2.0' })).toMatchObject({
      problems: [],
      version: '2.2.0',
      deprecated: true,
    });
    expect(checkService(base).problems.map((p) => p.reason)).toEqual(['VersionNotAllowed']);
  });

  it('lets the older of two services keep a host: exactly one reports HostConflict', () => {
    const a = service(
      'a',
      {
        class: 'e-permits',
        plan: 'small',
        exposure: 'public',
        host: 'x.example',
        parameters: { municipalityCode: '1000' },
      },
      '2026-11-01T10:00:00Z',
    );
    const b = service(
      'b',
      {
        class: 'e-permits',
        plan: 'small',
        exposure: 'federated',
        host: 'x.example',
        parameters: { municipalityCode: '1000' },
      },
      '2026-11-02T10:00:00Z',
      'gr-other-prod',
    );
    const check = (s: GovService, o: GovService) =>
      checkService({
        service: s,
        namespaceTenant: t,
        serviceClass: cls('e-permits'),
        otherServices: [o],
      }).problems.map((p) => p.reason);
    expect(check(a, b)).toEqual([]);
    expect(check(b, a)).toEqual(['HostConflict']);
  });

  it('lists every failing parameter path', () => {
    const errors = parameterErrors(cls('e-permits').spec!.parametersSchema, {
      municipalityCode: 'x',
      permitTypes: ['castle'],
      maxAttachmentMiB: 500,
    });
    expect(errors.join('\n')).toMatch(/spec\.parameters\.municipalityCode/);
    expect(errors.join('\n')).toMatch(/spec\.parameters\.permitTypes\.0/);
    expect(errors.join('\n')).toMatch(/spec\.parameters\.maxAttachmentMiB/);
  });
});

describe('serviceObjects', () => {
  const settings = { ingressClassName: 'nginx', ingressNamespace: 'ingress-nginx', tlsSecretSuffix: '-tls' };
  const build = (
    s: GovService,
    opts: { tenant?: GovTenant; cls?: string; version?: string; plan?: string } = {},
  ) => {
    const c = cls(opts.cls ?? 'e-permits');
    return serviceObjects({
      service: s,
      serviceClass: c,
      tenant: opts.tenant ?? tenant('gr-rcm'),
      version: opts.version ?? '2.4.0',
      plan: c.spec!.plans.find((p) => p.name === (opts.plan ?? 'small'))!,
      settings,
    });
  };
  const kinds = (objs: KubeObject[]) => objs.map((o) => `${o.kind}/${o.metadata.name}`).sort();
  const get = (objs: KubeObject[], kind: string) =>
    objs.find((o) => o.kind === kind) as KubeObject & { spec: Record<string, any> }; // eslint-disable-line @typescript-eslint/no-explicit-any

  it('builds internal, public and suspended variants with exactly the expected objects', () => {
    expect(kinds(build(permits()))).toEqual([
      'ConfigMap/permits-parameters',
      'Deployment/permits',
      'PodDisruptionBudget/permits',
      'Service/permits',
      'ServiceAccount/permits',
    ]);
    expect(kinds(build(permits({ exposure: 'public', host: 'permits.thessaloniki.example' })))).toEqual([
      'ConfigMap/permits-parameters',
      'Deployment/permits',
      'Ingress/permits',
      'NetworkPolicy/permits-ingress-controller',
      'PodDisruptionBudget/permits',
      'Service/permits',
      'ServiceAccount/permits',
    ]);
    const suspended = build(permits(), { tenant: tenant('gr-rcm', { suspended: true }) });
    expect(kinds(suspended)).not.toContain('PodDisruptionBudget/permits');
    expect(get(suspended, 'Deployment').spec.replicas).toBe(0);
  });

  it('leaves replicas to the HPA for autoscaling plans', () => {
    const objs = build(permits({ plan: 'large' }), { plan: 'large' });
    expect(get(objs, 'Deployment').spec).not.toHaveProperty('replicas');
    expect(get(objs, 'HorizontalPodAutoscaler').spec).toMatchObject({ minReplicas: 3, maxReplicas: 10 });
  });

  it('runs a restricted, digest-pinned container whose selector does not change with the version', () => {
    const d = get(build(permits()), 'Deployment');
    const pod = d.spec.template.spec;
    expect(pod.containers[0].image).toBe(imageRef(cls('e-permits'), '2.4.0'));
    expect(pod.containers[0].image).toContain('@sha256:');
    expect(imageRef(cls('e-permits'), '2.3.1')).toBe('registry.example.eu/secovia/e-permits:2.3.1');
    expect(pod.containers[0].securityContext).toEqual({
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      runAsNonRoot: true,
      capabilities: { drop: ['ALL'] },
      seccompProfile: { type: 'RuntimeDefault' },
    });
    expect(pod.automountServiceAccountToken).toBe(false);
    const older = get(build(permits({ version: '2.3.1' }), { version: '2.3.1' }), 'Deployment');
    expect(older.spec.selector).toEqual(d.spec.selector);
    expect(d.metadata.ownerReferences?.[0]).toMatchObject({
      kind: 'GovService',
      name: 'permits',
      controller: true,
    });
  });

  it('changes the parameters hash with the parameters, not with their key order', () => {
    const a = permits({ parameters: { municipalityCode: '54625', permitTypes: ['renovation'] } });
    const b = permits({ parameters: { permitTypes: ['renovation'], municipalityCode: '54625' } });
    const c = permits({ parameters: { municipalityCode: '54626', permitTypes: ['renovation'] } });
    expect(parametersHash(a)).toBe(parametersHash(b));
    expect(parametersHash(a)).not.toBe(parametersHash(c));
  });

  it('gives the URL by exposure', () => {
    expect(serviceUrl(permits())).toBe('http://permits.gr-rcm-prod.svc.cluster.local');
    expect(serviceUrl(permits({ exposure: 'public', host: 'p.example' }))).toBe('https://p.example');
  });
});
