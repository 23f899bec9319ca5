/** Operator settings from flags and environment variables. */
import { hostname } from 'node:os';
import type { Settings } from '../../src/config.js';
import { parseSettings, UsageError } from '../../src/config.js';

function settings(argv: string[], env: NodeJS.ProcessEnv = {}): Settings {
  const s = parseSettings(argv, env);
  if (s === 'help') throw new Error('unexpected help');
  return s;
}

function usageError(argv: string[], env: NodeJS.ProcessEnv = {}): UsageError {
  try {
    parseSettings(argv, env);
  } catch (e) {
    if (e instanceof UsageError) return e;
    throw e;
  }
  throw new Error(`no error for ${argv.join(' ')}`);
}

describe('parseSettings', () => {
  it('has defaults for everything', () => {
    const { identity, ...rest } = settings([], {});
    expect(rest).toEqual({
      kubeconfig: undefined,
      logLevel: 'info',
      metricsPort: 8080,
      healthPort: 8081,
      leaderElection: true,
      namespace: 'secovia-system',
      workers: 4,
      cacheSyncTimeoutMs: 120_000,
      ingressNamespace: 'ingress-nginx',
      ingressClassName: 'nginx',
      tlsSecretSuffix: '-tls',
      consumptionIntervalMs: 900_000,
    });
    expect(identity.startsWith(`${hostname()}_`)).toBe(true);
    expect(identity).toMatch(/_[0-9a-f]{8}$/);
  });

  it('names the identity after the pod and makes it unique per start', () => {
    const a = settings([], { POD_NAME: 'secovia-operator-7d9f-abcde' }).identity;
    const b = settings([], { POD_NAME: 'secovia-operator-7d9f-abcde' }).identity;
    expect(a).toMatch(/^secovia-operator-7d9f-abcde_[0-9a-f]{8}$/);
    expect(a).not.toBe(b);
  });

  const envCases: [string, keyof Settings, string, string, unknown, unknown][] = [
    ['LOG_LEVEL', 'logLevel', '--log-level', 'warn', 'warn', 'error'],
    ['METRICS_PORT', 'metricsPort', '--metrics-port', '9090', 9090, 0],
    ['HEALTH_PORT', 'healthPort', '--health-port', '9091', 9091, 65535],
    ['LEADER_ELECT', 'leaderElection', '--leader-elect', 'false', false, true],
    ['POD_NAMESPACE', 'namespace', '--namespace', 'gov-system', 'gov-system', 'other-ns'],
    ['WORKERS', 'workers', '--workers', '8', 8, 64],
    ['INGRESS_NAMESPACE', 'ingressNamespace', '--ingress-namespace', 'traefik', 'traefik', 'haproxy'],
    ['INGRESS_CLASS', 'ingressClassName', '--ingress-class', 'public', 'public', 'internal'],
    ['TLS_SECRET_SUFFIX', 'tlsSecretSuffix', '--tls-secret-suffix', '-cert', '-cert', ''],
  ];

  it.each(envCases)('falls back to %s for %s', (envName, key, _flag, envValue, expected) => {
    expect(settings([], { [envName]: envValue })[key]).toEqual(expected);
  });

  it.each(envCases)(
    'lets the flag win over %s for %s',
    (envName, key, flag, envValue, _fromEnv, flagWins) => {
      const raw = typeof flagWins === 'string' ? flagWins : String(flagWins);
      expect(settings([flag, raw], { [envName]: envValue })[key]).toEqual(flagWins);
      expect(settings([`${flag}=${raw}`], { [envName]: envValue })[key]).toEqual(flagWins);
    },
  );

  it('reads the cache sync timeout as a duration, the flag winning over CACHE_SYNC_TIMEOUT', () => {
    expect(settings([], { CACHE_SYNC_TIMEOUT: '1m30s' }).cacheSyncTimeoutMs).toBe(90_000);
    expect(settings(['--cache-sync-timeout', '45s'], { CACHE_SYNC_TIMEOUT: '5m' }).cacheSyncTimeoutMs).toBe(
      45_000,
    );
    expect(settings(['--cache-sync-timeout=3m']).cacheSyncTimeoutMs).toBe(180_000);
  });

  it('reads the consumption sampling interval, the flag winning over CONSUMPTION_INTERVAL', () => {
    expect(settings([], { CONSUMPTION_INTERVAL: '5m' }).consumptionIntervalMs).toBe(300_000);
    expect(settings(['--consumption-interval', '30s'], { CONSUMPTION_INTERVAL: '5m' }).consumptionIntervalMs).toBe(30_000); // prettier-ignore
    expect(() => settings(['--consumption-interval', '2h'])).toThrow('--consumption-interval');
  });

  it('takes --kubeconfig and leaves KUBECONFIG (possibly a list of files) to the client loader', () => {
    expect(settings(['--kubeconfig', '/etc/kube/config']).kubeconfig).toBe('/etc/kube/config');
    expect(settings([], { KUBECONFIG: '/a:/b' }).kubeconfig).toBeUndefined();
  });

  it.each<[string, string[], NodeJS.ProcessEnv, string]>([
    ['a port that is a word', ['--metrics-port', 'eighty'], {}, '--metrics-port'],
    ['a port above 65535', ['--health-port', '70000'], {}, '--health-port'],
    ['a negative port', ['--metrics-port=-1'], {}, '--metrics-port'],
    ['a port from the environment', [], { METRICS_PORT: 'eighty' }, '--metrics-port'],
    ['an unknown log level', ['--log-level', 'loud'], {}, '--log-level'],
    ['an unknown log level from the environment', [], { LOG_LEVEL: 'loud' }, '--log-level'],
    ['leader-elect yes', ['--leader-elect', 'yes'], {}, '--leader-elect'],
    ['leader-elect from the environment', [], { LEADER_ELECT: '1' }, '--leader-elect'],
    ['a namespace that is not a DNS label', ['--namespace', 'Bad_NS'], {}, '--namespace'],
    [
      'an ingress namespace that is not a DNS label',
      ['--ingress-namespace', 'ingress.nginx'],
      {},
      '--ingress-namespace',
    ],
    ['an ingress class that is not a DNS label', ['--ingress-class', 'Nginx'], {}, '--ingress-class'],
    ['a TLS suffix with capitals', ['--tls-secret-suffix', '-TLS'], {}, '--tls-secret-suffix'],
    ['zero workers', ['--workers', '0'], {}, '--workers'],
    ['too many workers', ['--workers', '65'], {}, '--workers'],
    ['fractional workers', ['--workers', '1.5'], {}, '--workers'],
    ['workers that are a word', [], { WORKERS: 'many' }, '--workers'],
    ['a cache sync timeout without a unit', ['--cache-sync-timeout', '120'], {}, '--cache-sync-timeout'],
    ['a cache sync timeout of zero', ['--cache-sync-timeout', '0s'], {}, '--cache-sync-timeout'],
    ['a cache sync timeout over an hour', [], { CACHE_SYNC_TIMEOUT: '61m' }, '--cache-sync-timeout'],
    ['an unknown flag', ['--verbose'], {}, '--verbose'],
    ['a flag without its value', ['--metrics-port'], {}, '--metrics-port'],
    ['a positional argument', ['run'], {}, 'run'],
  ])('refuses %s with a one-line message naming it', (_name, argv, env, named) => {
    const e = usageError(argv, env);
    expect(e).toBeInstanceOf(UsageError);
    expect(e.message).toContain(named);
    expect(e.message).not.toContain('\n');
    expect(e.message.length).toBeGreaterThan(named.length);
  });

  it.each([
    ['0', 0],
    ['65535', 65535],
  ])('accepts the port %s', (raw, port) => {
    expect(settings(['--metrics-port', raw]).metricsPort).toBe(port);
  });

  it.each([[['--help']], [['--help', '--workers', '2']], [['--log-level', 'debug', '--help']]])(
    'returns help for %j',
    (argv) => {
      expect(parseSettings(argv, {})).toBe('help');
    },
  );
});
