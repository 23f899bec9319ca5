/** GovConsumption: the ledger of one tenant for one calendar month (UTC), kept by the operator. */
import { z } from 'zod';
import type { KubeObject } from '../runtime/types.js';
import { ageColumn, count, countryCode, dnsLabel, statusWith, timestamp } from './common.js';
import type { KindDefinition } from './crd.js';
import { kindNames, MONTH } from './constants.js';

const amount = (description: string) => z.number().min(0).describe(description);

export const govConsumptionSpec = z
  .object({
    tenant: dnsLabel('GovTenant whose consumption this is.'),
    month: z
      .string()
      .max(7)
      .regex(MONTH, 'must be a calendar month such as 2026-12')
      .describe('Calendar month (UTC) that the totals cover, such as 2026-12.'),
    country: countryCode('Country of the tenant, such as HU.'),
    level: z
      .enum(['national', 'regional', 'municipal', 'agency'])
      .describe('Administrative level of the tenant.'),
    originMember: dnsLabel(
      'Federation member the tenant was imported from; absent for a local tenant.',
    ).optional(),
    originCountry: countryCode('Country of that member; absent for a local tenant.').optional(),
    reportedBy: dnsLabel(
      "Federation member that ran this cluster's tenant and reported these totals (a record named <tenant>-<yyyy-mm>.<member>); absent on the ledger this cluster samples itself.",
    ).optional(),
  })
  .describe(
    'Whose consumption and which month; written by the operator when the month begins, or when a peer first reports it.',
  );

const planHours = z
  .object({
    class: dnsLabel('GovServiceClass.'),
    plan: dnsLabel('Plan of the class.'),
    hours: amount('Hours that GovServices of this class and plan existed, summed over the services.'),
  })
  .describe('Plan-hours of one class and plan.');

const rates = z
  .object({
    cpuCores: amount('CPU requests in use (cores), summed over the environments.'),
    memoryGiB: amount('Memory requests in use (GiB).'),
    storageGiB: amount('Storage requests in use (GiB).'),
    services: count('GovServices of the tenant.', 100_000),
  })
  .describe('What the last sample observed.');

export const govConsumptionStatus = statusWith(
  {
    firstSampleTime: timestamp('First sample counted in this month.').optional(),
    lastSampleTime: timestamp(
      'Latest sample counted in this month: the next one counts from here.',
    ).optional(),
    samples: count('Samples that added to this month.', 2 ** 31 - 1).optional(),
    coveredSeconds: amount('Seconds of the month covered by samples.').optional(),
    uncoveredSeconds: amount(
      'Seconds between samples longer than the interval allows (operator not running): not counted.',
    ).optional(),
    cpuCoreHours: amount('Reserved CPU (requests) in core-hours.').optional(),
    memoryGiBHours: amount('Reserved memory (requests) in GiB-hours.').optional(),
    storageGiBDays: amount('Reserved storage (requests) in GiB-days.').optional(),
    servicePlanHours: z.array(planHours).max(1024).describe('Plan-hours by class and plan.').optional(),
    servicePlanHoursTotal: amount(
      'Plan-hours summed over every class and plan: what a reporting member sends (records with reportedBy), without the breakdown.',
    ).optional(),
    lastObserved: rates.optional(),
  },
  'Totals accumulated by sampling; conditions Covered (no gap) and Closed (the month is over).',
);

export type GovConsumptionSpec = z.infer<typeof govConsumptionSpec>;
export type GovConsumptionStatus = z.infer<typeof govConsumptionStatus>;
export type GovConsumption = KubeObject<GovConsumptionSpec, GovConsumptionStatus>;

const column = (name: string, type: 'string' | 'number', jsonPath: string, description: string) => ({
  name,
  type,
  jsonPath,
  description,
});

export const govConsumptionDefinition: KindDefinition = {
  ...kindNames.GovConsumption,
  description:
    'GovConsumption is the ledger of one GovTenant for one calendar month (UTC): reserved CPU, memory and storage and GovService plan-hours, sampled by the operator. Named <tenant>-<yyyy-mm>; a record of what a federation member reported for a tenant of this cluster that runs there is named <tenant>-<yyyy-mm>.<member>.',
  spec: govConsumptionSpec,
  status: govConsumptionStatus,
  printerColumns: [
    column('Tenant', 'string', '.spec.tenant', 'GovTenant.'),
    column('Country', 'string', '.spec.country', 'Its country.'),
    column('Month', 'string', '.spec.month', 'Calendar month (UTC).'),
    column('CPU-h', 'number', '.status.cpuCoreHours', 'Reserved CPU in core-hours.'),
    column('Mem-GiB-h', 'number', '.status.memoryGiBHours', 'Reserved memory in GiB-hours.'),
    column('Storage-GiB-d', 'number', '.status.storageGiBDays', 'Reserved storage in GiB-days.'),
    column('Uncovered-s', 'number', '.status.uncoveredSeconds', 'Seconds without samples.'),
    column('Origin', 'string', '.spec.originMember', 'Federation member it was imported from.'),
    column('Reported-by', 'string', '.spec.reportedBy', 'Federation member that ran it and reported it.'),
    ageColumn,
  ],
};
