/**
 * The generated parts of the install paths (Helm chart, kustomize config, Argo CD health checks):
 * the operator's RBAC from src/controllers/permissions.ts, and copies of the CRDs, tenant roles,
 * admission policies and health script for the chart, which cannot read files outside itself.
 */
import { readFileSync } from 'node:fs';
import { stringify } from 'yaml';
import { renderCrds } from '../src/api/render.js';
import { policyRules } from '../src/controllers/permissions.js';
import { GROUP } from '../src/api/index.js';

const ROOT = new URL('../', import.meta.url);
const CHART = 'charts/secovia-operator';
/** The kinds Argo CD assesses with config/argocd/health.lua. */
export const HEALTH_CHECKED_KINDS = ['GovTenant', 'GovServiceClass', 'GovService', 'Federation'];

const read = (path: string): string => readFileSync(new URL(path, ROOT), 'utf8');
const header = (source: string): string =>
  `# Generated from ${source} by hack/generate-install.ts (npm run generate); do not edit.\n`;
const yamlDocs = (docs: unknown[]): string => docs.map((d) => stringify(d, { lineWidth: 0 })).join('---\n');

const OPERATOR_LABELS = {
  'app.kubernetes.io/name': 'secovia-operator',
  'app.kubernetes.io/component': 'operator',
};

/** config/rbac/role.yaml: the ClusterRole and the Role of the operator's own namespace, as kubebuilder names it. */
function kustomizeRoles(): string {
  const role = (kind: string, rules: unknown, namespace?: string) => ({
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind,
    metadata: { name: 'secovia-operator', ...(namespace ? { namespace } : {}), labels: OPERATOR_LABELS },
    rules,
  });
  return (
    header('src/controllers/permissions.ts') +
    yamlDocs([
      role('ClusterRole', policyRules('cluster')),
      role('Role', policyRules('namespace'), 'secovia-system'),
    ])
  );
}

function crdKustomization(names: string[]): string {
  const kustomization = {
    apiVersion: 'kustomize.config.k8s.io/v1beta1',
    kind: 'Kustomization',
    resources: names.map((n) => `bases/${n}`),
  };
  return header('src/api') + yamlDocs([kustomization]);
}

/** argocd-cm entries: one health check per kind, all from the same script. */
function argocdHealthChecks(): string {
  const script = read('config/argocd/health.lua');
  const data = Object.fromEntries(
    HEALTH_CHECKED_KINDS.map((k) => [`resource.customizations.health.${GROUP}_${k}`, script]),
  );
  const patch = {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'argocd-cm', namespace: 'argocd' },
    data,
  };
  return header('config/argocd/health.lua') + yamlDocs([patch]);
}

/** Every generated file: repository path -> content. */
export function installFiles(): Map<string, string> {
  const files = new Map<string, string>();
  for (const [name, text] of renderCrds()) {
    files.set(`${CHART}/crds/${name}`, text);
    files.set(`config/crd/bases/${name}`, text);
  }
  files.set('config/crd/kustomization.yaml', crdKustomization([...renderCrds().keys()]));
  files.set('config/rbac/role.yaml', kustomizeRoles());
  const rules = header('src/controllers/permissions.ts');
  files.set(`${CHART}/files/clusterrole-rules.yaml`, rules + stringify(policyRules('cluster')));
  files.set(`${CHART}/files/role-rules.yaml`, rules + stringify(policyRules('namespace')));
  for (const source of [
    'config/rbac/tenant_roles.yaml',
    'config/admission/tenant_policies.yaml',
    'config/admission/tenant_guardrails.yaml',
  ]) {
    files.set(`${CHART}/files/${source.split('/').pop()!}`, header(source) + read(source));
  }
  files.set('config/argocd/argocd-cm-health.yaml', argocdHealthChecks());
  return files;
}

/** Directories whose CRD copies must be exactly the generated ones (a removed kind leaves none behind). */
export const CRD_COPY_DIRS = [`${CHART}/crds/`, 'config/crd/bases/'];
