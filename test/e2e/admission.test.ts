/** Admission on a real kube-apiserver: the generated CRD schemas and CEL rules refuse bad input, naming the field. */
import type { KubeClient } from '../../src/runtime/kube.js';
import type { KubeObject } from '../../src/runtime/types.js';
import type { ControlPlane } from '../harness/controlplane.js';
import { clientFor, controlPlaneWithCrds } from './support.js';

const TENANTS = '/apis/gov.secovia.eu/v1alpha1/govtenants';

let cp: ControlPlane;
let client: KubeClient;

beforeAll(async () => {
  cp = await controlPlaneWithCrds({ controllerManager: false });
  client = clientFor(cp);
}, 180_000);

afterAll(async () => {
  client?.close();
  await cp?.stop();
}, 60_000);

const baseSpec = {
  displayName: 'Grad Zagreb',
  country: 'HR',
  level: 'municipal',
  environments: [{ name: 'prod' }],
  dataResidency: { allowedCountries: ['HR'], classification: 'internal' },
};

function tenant(name: string, spec: Record<string, unknown>): KubeObject {
  return {
    apiVersion: 'gov.secovia.eu/v1alpha1',
    kind: 'GovTenant',
    metadata: { name },
    spec: { ...baseSpec, ...spec },
  };
}

/** Creates with dryRun=All: nothing is stored, every admission step runs. Returns the refusal message. */
async function refused(path: string, obj: KubeObject): Promise<string | undefined> {
  try {
    await client.request('POST', path, { query: { dryRun: 'All' }, body: obj });
    return undefined;
  } catch (e) {
    return (e as Error).message;
  }
}

const refusal = (obj: KubeObject): Promise<string | undefined> => refused(TENANTS, obj);

describe('GovTenant admission', () => {
  it('accepts a valid tenant with Cyrillic, Greek and diacritics in its display name', async () => {
    for (const displayName of [
      'Влада на Република Северна Македонија',
      'Περιφέρεια Αττικής',
      'Općina Čakovec',
    ]) {
      expect(await refusal(tenant('hr-ok', { displayName }))).toBeUndefined();
    }
  });

  it.each([
    ['a lower-case country', 'hr-a', { country: 'hr' }, 'spec.country'],
    ['a three-letter country', 'hr-b', { country: 'HRV' }, 'spec.country'],
    ['an unknown level', 'hr-c', { level: 'village' }, 'spec.level'],
    [
      'an unknown classification',
      'hr-d',
      { dataResidency: { allowedCountries: ['HR'], classification: 'secret' } },
      'spec.dataResidency.classification',
    ],
    [
      'a duplicate environment',
      'hr-e',
      { environments: [{ name: 'prod' }, { name: 'prod' }] },
      'spec.environments[1]',
    ],
    [
      'an environment name that is not DNS-safe',
      'hr-f',
      { environments: [{ name: 'Prod_1' }] },
      'spec.environments[0].name',
    ],
    ['an invalid quantity', 'hr-g', { quota: { cpu: 'lots' } }, 'spec.quota.cpu'],
    [
      'maxCpu below defaultCpu',
      'hr-h',
      { limits: { defaultCpu: '2', maxCpu: '500m' } },
      'spec.limits.maxCpu',
    ],
    [
      'no allowed country',
      'hr-i',
      { dataResidency: { allowedCountries: [], classification: 'internal' } },
      'spec.dataResidency.allowedCountries',
    ],
    [
      'a ServiceAccount subject without namespace',
      'hr-j',
      { access: { admins: [{ kind: 'ServiceAccount', name: 'ci' }] } },
      'spec.access.admins[0].namespace',
    ],
    ['an unknown deletion policy', 'hr-k', { deletionPolicy: 'Purge' }, 'spec.deletionPolicy'],
  ])('refuses %s, naming the field', async (_what, name, spec, field) => {
    const message = await refusal(tenant(name, spec));
    expect(message).toBeDefined();
    expect(message).toContain(field);
  });

  it('refuses a tenant name too long for <tenant>-<environment> to fit 63 characters', async () => {
    const name = `hr-${'a'.repeat(52)}`;
    const message = await refusal(tenant(name, { environments: [{ name: 'production' }] }));
    expect(message).toMatch(/63 characters/);
    expect(message).toContain('spec.environments');
  });
});

const CLASSES = '/apis/gov.secovia.eu/v1alpha1/govserviceclasses';
const classSpec = {
  displayName: { en: 'Payments', hu: 'Fizetések', bg: 'Плащания' },
  audience: ['G2C'],
  buildingBlock: 'payments',
  image: 'registry.example.eu/secovia/payments',
  versions: ['3.1.0'],
  plans: [{ name: 'small', replicas: 2 }],
};

describe('catalog admission', () => {
  const cls = (spec: Record<string, unknown>): KubeObject => ({
    apiVersion: 'gov.secovia.eu/v1alpha1',
    kind: 'GovServiceClass',
    metadata: { name: 'payments' },
    spec: { ...classSpec, ...spec },
  });

  it('accepts a valid class', async () => {
    expect(await refused(CLASSES, cls({}))).toBeUndefined();
  });

  it.each([
    [
      'a plan with both replicas and autoscaling',
      { plans: [{ name: 'x', replicas: 1, autoscaling: { minReplicas: 1, maxReplicas: 2 } }] },
      'spec.plans[0]',
    ],
    [
      'autoscaling with minReplicas above maxReplicas',
      { plans: [{ name: 'x', autoscaling: { minReplicas: 5, maxReplicas: 2 } }] },
      'spec.plans[0].autoscaling',
    ],
    ['no versions', { versions: [] }, 'spec.versions'],
    ['an unknown audience', { audience: ['G2X'] }, 'spec.audience[0]'],
    ['an unknown classification', { maxClassification: 'top-secret' }, 'spec.maxClassification'],
    [
      'a digest for a version not offered',
      { digests: { '9.9.9': 'sha256:' + 'a'.repeat(64) } },
      'spec.digests',
    ],
  ])('refuses a class with %s, naming the field', async (_what, spec, field) => {
    const message = await refused(CLASSES, cls(spec));
    expect(message).toBeDefined();
    expect(message).toContain(field);
  });

  it.each([
    ['public exposure without host', { exposure: 'public' }, 'spec.host'],
    ['an unknown exposure', { exposure: 'everywhere', host: 'x.example' }, 'spec.exposure'],
    ['a host that is not a DNS name', { exposure: 'public', host: 'Not A Host' }, 'spec.host'],
  ])('refuses a service with %s, naming the field', async (_what, spec, field) => {
    const message = await refused('/apis/gov.secovia.eu/v1alpha1/namespaces/default/govservices', {
      apiVersion: 'gov.secovia.eu/v1alpha1',
      kind: 'GovService',
      metadata: { name: 'pay', namespace: 'default' },
      spec: { class: 'payments', plan: 'small', ...spec },
    });
    expect(message).toBeDefined();
    expect(message).toContain(field);
  });
});
