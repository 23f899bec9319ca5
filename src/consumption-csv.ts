/** `secovia-operator consumption-csv`: one month of the consumption ledger as CSV on stdout. */
import { util } from './runtime/builtins.js';
import { API_VERSION, MONTH } from './api/constants.js';
import type { GovConsumption } from './api/index.js';
import { CSV_GROUPINGS, consumptionCsv, type CsvGrouping } from './controllers/consumption/csv.js';
import { MONTH_LABEL } from './controllers/consumption/records.js';
import type { KubeClient } from './runtime/kube.js';
import { UsageError } from './config.js';

export const csvUsage = `Usage: secovia-operator consumption-csv --month YYYY-MM [--by tenant|country|service|member] [--kubeconfig PATH]

Writes the GovConsumption ledger of one calendar month (UTC) as CSV to stdout:
  --by tenant   one row per administration (default)
  --by country  one row per country of the administrations, summed
  --by service  one row per administration, service class and plan
  --by member   one row per administration and member where it ran: reported_by is empty for this
                cluster's own ledger, else the federation member that ran it and reported it
The first three count what ran in this cluster only.
`;

export interface CsvRequest {
  month: string;
  by: CsvGrouping;
  kubeconfig?: string;
}

export function parseCsvArgs(argv: string[]): CsvRequest | 'help' {
  let values;
  try {
    values = util.parseArgs({
      args: argv,
      options: { month: { type: 'string' }, by: { type: 'string' }, kubeconfig: { type: 'string' }, help: { type: 'boolean' } }, // prettier-ignore
      strict: true,
    }).values;
  } catch (e) {
    throw new UsageError((e as Error).message.split('\n')[0] ?? 'bad arguments');
  }
  if (values.help) return 'help';
  if (!values.month || !MONTH.test(values.month))
    throw new UsageError(`--month: "${values.month ?? ''}" must be a month such as 2026-12`);
  const by = (values.by ?? 'tenant') as CsvGrouping;
  if (!CSV_GROUPINGS.includes(by))
    throw new UsageError(`--by: "${values.by}" must be tenant, country, service or member`);
  return { month: values.month, by, kubeconfig: values.kubeconfig };
}

/** Every ledger object of the month, page by page. */
export async function ledgersOf(client: KubeClient, month: string): Promise<GovConsumption[]> {
  const items: GovConsumption[] = [];
  let next: string | undefined;
  do {
    const page = await client.request<{ items: GovConsumption[]; metadata: { continue?: string } }>(
      'GET',
      `/apis/${API_VERSION}/govconsumptions`,
      {
        query: { labelSelector: `${MONTH_LABEL}=${month}`, limit: 500, ...(next ? { continue: next } : {}) },
      },
    );
    items.push(...page.items);
    next = page.metadata.continue || undefined;
  } while (next);
  return items;
}

export async function exportCsv(client: KubeClient, req: CsvRequest): Promise<string> {
  return consumptionCsv(await ledgersOf(client, req.month), req.month, req.by);
}
