/**
 * The chart's consumption monitoring: off by default; when enabled, the PrometheusRule and the
 * Grafana dashboard render, lint strictly, and refer only to metrics the operator exports or to the
 * rule's own records. The Deployment passes the sampling interval the operator accepts.
 */
import { spawnSync } from 'node:child_process';
import { parseAllDocuments } from 'yaml';
import { parseSettings, type Settings } from '../../src/config.js';
import { CONSUMPTION_METRICS } from '../../src/controllers/consumption/metrics.js';
import type { KubeObject } from '../../src/runtime/types.js';

const ROOT = new URL('../../', import.meta.url).pathname;
const CHART = `${ROOT}charts/secovia-operator`;
const ON = ['--set', 'metrics.prometheusRule.enabled=true', '--set', 'metrics.grafanaDashboard.enabled=true'];
let helmBin = '';

function helm(args: string[]): string {
  const r = spawnSync(helmBin, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`helm ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}
const render = (...set: string[]): KubeObject[] =>
  parseAllDocuments(helm(['template', 'secovia-operator', CHART, '--namespace', 'secovia-system', ...set]))
    .map((d) => d.toJS() as KubeObject | null)
    .filter((o): o is KubeObject => !!o);
const namesIn = (expr: string): string[] => expr.match(/secovia[_:][A-Za-z0-9_:]+/g) ?? [];

beforeAll(() => {
  const built = spawnSync('bash', [`${ROOT}hack/build-helm.sh`], { encoding: 'utf8' });
  if (built.status !== 0) throw new Error(`hack/build-helm.sh: ${built.stderr}`);
  helmBin = built.stdout.trim().split('\n').pop()!;
}, 600_000);

it('renders neither the rules nor the dashboard by default', () => {
  const kinds = render().map((o) => `${o.kind}/${o.metadata.name}`);
  expect(kinds).not.toContain('PrometheusRule/secovia-consumption');
  expect(kinds).not.toContain('ConfigMap/secovia-consumption-dashboard');
});

it('lints strictly with both enabled', () => {
  expect(helm(['lint', '--strict', CHART, ...ON])).toContain('0 chart(s) failed');
});

describe('enabled', () => {
  const objects = (): KubeObject[] => render(...ON);
  const rules = (): { record: string; expr: string }[] =>
    (objects().find((o) => o.kind === 'PrometheusRule')!.spec as { groups: { rules: { record: string; expr: string }[] }[] }).groups.flatMap((g) => g.rules); // prettier-ignore

  it('records per country and per administration from metrics the operator exports', () => {
    const records = rules().map((r) => r.record);
    expect(records).toEqual(expect.arrayContaining(['secovia:tenant_cpu_cores_reserved', 'secovia:country_cpu_cores_reserved'])); // prettier-ignore
    for (const r of rules()) for (const name of namesIn(r.expr)) expect(CONSUMPTION_METRICS).toContain(name);
  });

  it('has a dashboard whose queries use only exported metrics and recorded series', () => {
    const cm = objects().find(
      (o) => o.kind === 'ConfigMap' && o.metadata.name === 'secovia-consumption-dashboard',
    )!;
    expect(cm.metadata.labels?.grafana_dashboard).toBe('1');
    const dashboard = JSON.parse((cm.data as Record<string, string>)['secovia-consumption.json']!) as {
      panels: { targets: { expr: string }[] }[];
      templating: { list: { query: string }[] };
    };
    const known = [...CONSUMPTION_METRICS, ...rules().map((r) => r.record)];
    const exprs = [...dashboard.panels.flatMap((p) => p.targets.map((t) => t.expr)), ...dashboard.templating.list.map((v) => v.query)]; // prettier-ignore
    expect(dashboard.panels.length).toBeGreaterThan(4);
    for (const expr of exprs) for (const name of namesIn(expr)) expect(known).toContain(name);
  });
});

it('passes the sampling interval to the operator, which accepts it', () => {
  const deployment = render('--set', 'consumption.interval=5m').find((o) => o.kind === 'Deployment')!;
  const env = (deployment.spec as { template: { spec: { containers: { env: { name: string; value?: string }[] }[] } } }).template.spec.containers[0]!.env; // prettier-ignore
  const interval = env.find((e) => e.name === 'CONSUMPTION_INTERVAL')!.value!;
  expect((parseSettings([], { CONSUMPTION_INTERVAL: interval }) as Settings).consumptionIntervalMs).toBe(
    300_000,
  );
});
