/**
 * A control plane whose API server keeps an audit log of one user's requests: the API server's own
 * record of what a client did, for tests that must prove what the operator sent (or did not).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startControlPlane, type ControlPlane } from './controlplane.js';

/** One audited request, at Metadata level. */
export interface AuditEvent {
  auditID: string;
  verb: string;
  requestURI: string;
  userAgent: string;
  requestReceivedTimestamp: string;
  user: { username: string };
  objectRef?: {
    apiGroup?: string;
    resource?: string;
    subresource?: string;
    namespace?: string;
    name?: string;
  };
  responseStatus?: { code: number };
}

export interface AuditedControlPlane {
  cp: ControlPlane;
  /** Every audited event so far, in the order the API server wrote them. */
  events(): AuditEvent[];
  /** Stops the control plane and removes the log. */
  stop(): Promise<void>;
}

export async function startAuditedControlPlane(o: {
  user: string;
  /** Only these verbs are audited; all when unset. */
  verbs?: string[];
  extraApiServerFlags?: string[];
}): Promise<AuditedControlPlane> {
  const dir = mkdtempSync(join(tmpdir(), 'secovia-audit-'));
  const log = join(dir, 'audit.log');
  const verbs = o.verbs ? `\n    verbs: [${o.verbs.join(', ')}]` : '';
  const policy = `apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived]
rules:
  - level: Metadata
    users: ["${o.user}"]${verbs}
  - level: None
`;
  writeFileSync(join(dir, 'policy.yaml'), policy);
  const cp = await startControlPlane({
    controllerManager: false,
    extraApiServerFlags: [
      `--audit-policy-file=${join(dir, 'policy.yaml')}`,
      `--audit-log-path=${log}`,
      ...(o.extraApiServerFlags ?? []),
    ],
  });
  return {
    cp,
    events: () =>
      readFileSync(log, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as AuditEvent),
    stop: async () => {
      await cp.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
