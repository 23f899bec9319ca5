/** Operator settings from flags and environment variables, validated with one clear message per mistake. */
import { util } from './runtime/builtins.js';
import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import type { LogLevel } from './runtime/log.js';
import { isLogLevel } from './runtime/log.js';

export interface Settings {
  kubeconfig?: string;
  logLevel: LogLevel;
  metricsPort: number;
  healthPort: number;
  leaderElection: boolean;
  namespace: string;
  identity: string;
  workers: number;
  /** The caches must have synced by then, or the process exits naming them (default 2 minutes). */
  cacheSyncTimeoutMs: number;
  /** Namespace of the ingress controller whose pods may reach tenant workloads. */
  ingressNamespace: string;
  /** IngressClass of the Ingresses of public and federated GovServices. */
  ingressClassName: string;
  /** The TLS secret of a GovService's Ingress is `<service><suffix>` (e.g. issued by cert-manager). */
  tlsSecretSuffix: string;
  /** How often the leader samples each tenant's consumption into its monthly GovConsumption. */
  consumptionIntervalMs: number;
}

export class UsageError extends Error {}

export const usage = `Usage: secovia-operator [flags]

Runs the secovia operator against KUBECONFIG (or --kubeconfig), else the in-cluster service account.
\`secovia-operator consumption-csv --help\` exports a month of the consumption ledger as CSV.

Flags (environment variable in brackets):
  --kubeconfig PATH              kubeconfig file [KUBECONFIG]
  --log-level LEVEL              error | warn | info | debug (default info) [LOG_LEVEL]
  --metrics-port PORT            /metrics port, 0 picks a free one (default 8080) [METRICS_PORT]
  --health-port PORT             /healthz and /readyz port (default 8081) [HEALTH_PORT]
  --leader-elect BOOL            elect a leader on a Lease before reconciling (default true) [LEADER_ELECT]
  --namespace NAME               namespace the operator runs in, holds its Lease (default secovia-system) [POD_NAMESPACE]
  --workers N                    concurrent reconciles per controller (default 4) [WORKERS]
  --cache-sync-timeout DURATION  exit non-zero when the caches have not synced by then, naming them (default 2m) [CACHE_SYNC_TIMEOUT]
  --ingress-namespace NAME       namespace of the ingress controller (default ingress-nginx) [INGRESS_NAMESPACE]
  --ingress-class NAME           IngressClass of public and federated services (default nginx) [INGRESS_CLASS]
  --tls-secret-suffix SUFFIX     TLS secret of a service's Ingress is <service><suffix> (default -tls) [TLS_SECRET_SUFFIX]
  --consumption-interval DURATION  how often each tenant's consumption is sampled into its ledger (default 15m) [CONSUMPTION_INTERVAL]
  --help                         print this help
`;

const options = {
  kubeconfig: { type: 'string' },
  'log-level': { type: 'string' },
  'metrics-port': { type: 'string' },
  'health-port': { type: 'string' },
  'leader-elect': { type: 'string' },
  namespace: { type: 'string' },
  workers: { type: 'string' },
  'cache-sync-timeout': { type: 'string' },
  'ingress-namespace': { type: 'string' },
  'ingress-class': { type: 'string' },
  'tls-secret-suffix': { type: 'string' },
  'consumption-interval': { type: 'string' },
  help: { type: 'boolean' },
} as const;

function port(flag: string, raw: string): number {
  const n = Number(raw);
  if (!/^\d+$/.test(raw) || n > 65535)
    throw new UsageError(`--${flag}: "${raw}" is not a port number (0-65535)`);
  return n;
}

function bool(flag: string, raw: string): boolean {
  if (raw === 'true' || raw === 'false') return raw === 'true';
  throw new UsageError(`--${flag}: "${raw}" must be true or false`);
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
function dnsLabel(flag: string, raw: string): string {
  if (!DNS_LABEL.test(raw)) throw new UsageError(`--${flag}: "${raw}" is not a valid namespace name`);
  return raw;
}

/** A duration such as 90s, 2m or 1m30s, between one second and one hour. */
function duration(flag: string, raw: string): number {
  const m = /^(?:(\d+)m)?(?:(\d+)s)?$/.exec(raw);
  const ms = m && raw ? (Number(m[1] ?? 0) * 60 + Number(m[2] ?? 0)) * 1000 : NaN;
  if (!(ms >= 1000 && ms <= 3_600_000))
    throw new UsageError(`--${flag}: "${raw}" must be a duration between 1s and 60m, such as 90s or 2m`);
  return ms;
}

function suffix(raw: string): string {
  if (!/^[-a-z0-9]{0,20}$/.test(raw))
    throw new UsageError(`--tls-secret-suffix: "${raw}" must be lower-case letters, digits and dashes`);
  return raw;
}

/** Parses argv (without node and script) and env. Throws UsageError with a one-line message. */
export function parseSettings(argv: string[], env: NodeJS.ProcessEnv): Settings | 'help' {
  let values: ReturnType<typeof util.parseArgs<{ options: typeof options }>>['values'];
  try {
    values = util.parseArgs({ args: argv, options, strict: true, allowPositionals: false }).values;
  } catch (e) {
    throw new UsageError((e as Error).message.split('\n')[0] ?? 'bad arguments');
  }
  if (values.help) return 'help';
  const pick = (flag: keyof typeof options, envName: string, dflt: string): string =>
    (values[flag] as string | undefined) ?? env[envName] ?? dflt;
  const logLevel = pick('log-level', 'LOG_LEVEL', 'info');
  if (!isLogLevel(logLevel))
    throw new UsageError(`--log-level: "${logLevel}" must be one of error, warn, info, debug`);
  const workers = Number(pick('workers', 'WORKERS', '4'));
  if (!Number.isInteger(workers) || workers < 1 || workers > 64)
    throw new UsageError('--workers: must be 1..64');
  return {
    // KUBECONFIG itself (possibly a list of files) is read by the client's own loader.
    kubeconfig: values.kubeconfig as string | undefined,
    logLevel,
    metricsPort: port('metrics-port', pick('metrics-port', 'METRICS_PORT', '8080')),
    healthPort: port('health-port', pick('health-port', 'HEALTH_PORT', '8081')),
    leaderElection: bool('leader-elect', pick('leader-elect', 'LEADER_ELECT', 'true')),
    namespace: dnsLabel('namespace', pick('namespace', 'POD_NAMESPACE', 'secovia-system')),
    identity: `${env.POD_NAME ?? hostname()}_${randomUUID().slice(0, 8)}`,
    workers,
    cacheSyncTimeoutMs: duration(
      'cache-sync-timeout',
      pick('cache-sync-timeout', 'CACHE_SYNC_TIMEOUT', '2m'),
    ),
    ingressNamespace: dnsLabel(
      'ingress-namespace',
      pick('ingress-namespace', 'INGRESS_NAMESPACE', 'ingress-nginx'),
    ),
    ingressClassName: dnsLabel('ingress-class', pick('ingress-class', 'INGRESS_CLASS', 'nginx')),
    tlsSecretSuffix: suffix(pick('tls-secret-suffix', 'TLS_SECRET_SUFFIX', '-tls')),
    consumptionIntervalMs: duration(
      'consumption-interval',
      pick('consumption-interval', 'CONSUMPTION_INTERVAL', '15m'),
    ),
  };
}
