/** Federation setup shared by the e2e suites: a peer's read-only credentials and the operator as installed. */
import { readFileSync } from 'node:fs';
import { stringify } from 'yaml';
import type { ControllerSettings } from '../../src/controllers/index.js';
import type { KubeClient } from '../../src/runtime/kube.js';
import type { Manager } from '../../src/runtime/manager.js';
import type { KubeObject } from '../../src/runtime/types.js';
import type { ControlPlane } from '../harness/controlplane.js';
import { clientFor, ROOT, startInProcessOperator } from './support.js';

export const NS = 'secovia-system';

const tokenOf = async (client: KubeClient, account: string): Promise<string> => {
  const req = await client.request<{ status: { token: string } }>(
    'POST',
    `/api/v1/namespaces/${NS}/serviceaccounts/${account}/token`,
    {
      body: {
        apiVersion: 'authentication.k8s.io/v1',
        kind: 'TokenRequest',
        spec: { expirationSeconds: 7200 },
      },
    },
  );
  return req.status.token;
};

/** On an exporter, a ServiceAccount that may read exactly the export for `peer`; returns a token of it. */
export async function exportReaderToken(
  exporter: KubeClient,
  peer: string,
  account = `peer-${peer}`,
): Promise<string> {
  const rbac = '/apis/rbac.authorization.k8s.io/v1/namespaces/secovia-system';
  await exporter.request('POST', `/api/v1/namespaces/${NS}/serviceaccounts`, {
    body: { metadata: { name: account } },
  });
  await exporter.request('POST', `${rbac}/roles`, {
    body: {
      metadata: { name: account },
      rules: [
        {
          apiGroups: [''],
          resources: ['configmaps'],
          resourceNames: [`secovia-export-${peer}`],
          verbs: ['get', 'list', 'watch'],
        },
      ],
    },
  });
  await exporter.request('POST', `${rbac}/rolebindings`, {
    body: {
      metadata: { name: account },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: account },
      subjects: [{ kind: 'ServiceAccount', name: account, namespace: NS }],
    },
  });
  return tokenOf(exporter, account);
}

/** The kubeconfig a peer hands over: https, its CA, a bearer token; nothing else. */
export function peerKubeconfig(name: string, cp: ControlPlane, token: string): string {
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [
      {
        name,
        cluster: {
          server: cp.server,
          'certificate-authority-data': readFileSync(cp.caFile).toString('base64'),
        },
      },
    ],
    users: [{ name: 'peer', user: { token } }],
    contexts: [{ name, context: { cluster: name, user: 'peer' } }],
    'current-context': name,
  });
}

/** Stores a peer's kubeconfig where the Federation of the e2e suites refers to it: Secret peer-<name>. */
export async function storePeerCredentials(importer: KubeClient, peer: string, kubeconfig: string) {
  const body = {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: `peer-${peer}`, namespace: NS },
    stringData: { kubeconfig },
  };
  await importer.request('PATCH', `/api/v1/namespaces/${NS}/secrets/peer-${peer}`, {
    query: { fieldManager: 'e2e', force: true },
    contentType: 'application/apply-patch+yaml',
    body,
  });
}

/**
 * The operator with the install's own ServiceAccount and generated least-privilege roles, not an
 * admin: every federation request must be one that the permission table grants.
 */
export async function startOperatorAsInstall(
  cp: ControlPlane,
  settings: Partial<ControllerSettings> = {},
): Promise<Manager> {
  const applied = await cp.kubectl(['apply', '-k', `${ROOT}config/rbac`]);
  if (applied.code !== 0) throw new Error(`config/rbac not applied: ${applied.stderr}`);
  const client = clientFor(cp);
  const token = await tokenOf(client, 'secovia-operator');
  client.close();
  return startInProcessOperator(cp, NS, cp.kubeconfigFor({ token, name: 'operator' }), settings);
}

/** A member of the e2e federations: its name and country, control plane and admin client. */
export interface FederationMember {
  name: string;
  country: string;
  cp: ControlPlane;
  client: KubeClient;
}

/**
 * Each of two members stores read-only credentials to the export the other publishes for it.
 * Returns, by member, the token it reads the other's export with.
 */
export async function exchangeCredentials(
  a: FederationMember,
  b: FederationMember,
): Promise<Map<string, string>> {
  const tokens = new Map<string, string>();
  for (const [reader, exporter] of [
    [a, b],
    [b, a],
  ] as const) {
    const token = await exportReaderToken(exporter.client, reader.name);
    await storePeerCredentials(
      reader.client,
      exporter.name,
      peerKubeconfig(exporter.name, exporter.cp, token),
    );
    tokens.set(reader.name, token);
  }
  return tokens;
}

/** The Federation `see` of a member with these peers (credentials in the Secrets peer-<name>) and the rest of its spec. */
export function federationOf(
  self: Pick<FederationMember, 'name' | 'country'>,
  peers: Pick<FederationMember, 'name' | 'country'>[],
  spec: object,
): KubeObject {
  return {
    apiVersion: 'gov.secovia.eu/v1alpha1',
    kind: 'Federation',
    metadata: { name: 'see' },
    spec: {
      localMember: self.name,
      localCountry: self.country,
      peers: peers.map((o) => ({
        name: o.name,
        country: o.country,
        kubeconfigSecretRef: { namespace: NS, name: `peer-${o.name}`, key: 'kubeconfig' },
      })),
      ...spec,
    },
  };
}
