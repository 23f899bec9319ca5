/**
 * The lookups that find the tenants whose ingress domains overlap find exactly those that a scan of
 * every tenant with domainsOverlap finds (the scan made each tenant reconcile cost O(tenants)).
 */
import fc from 'fast-check';
import {
  domainsOverlap,
  domainSuffixes,
  overlappingHolders,
} from '../../src/controllers/govtenant/guardrails.js';

/** A map from each value to the holders that `values` gives it, as the cache Index keeps it. */
function lookup(holders: string[][], values: (domains: string[]) => string[]): (d: string) => number[] {
  const by = new Map<string, number[]>();
  holders.forEach((domains, i) => {
    for (const v of new Set(values(domains))) by.set(v, [...(by.get(v) ?? []), i]);
  });
  return (d) => by.get(d) ?? [];
}

const label = fc.constantFrom('eu', 'gov', 'example', 'a', 'b', 'ab', 'skopje');
const domain = fc.array(label, { minLength: 1, maxLength: 4 }).map((labels) => labels.join('.'));

describe('overlappingHolders', () => {
  it('gives a domain and every domain above it', () => {
    expect(domainSuffixes('permits.skopje.gov.mk')).toEqual([
      'permits.skopje.gov.mk',
      'skopje.gov.mk',
      'gov.mk',
      'mk',
    ]);
  });

  it('finds the holders of the same domain, of one above it and of one under it, and no other', () => {
    const holders = [['a.eu'], ['b.a.eu'], ['eu'], ['ba.eu'], ['b.eu', 'x.a.eu']];
    const found = overlappingHolders(
      ['a.eu'],
      lookup(holders, (ds) => ds),
      lookup(holders, (ds) => ds.flatMap(domainSuffixes)),
    );
    expect(found.sort()).toEqual([0, 1, 2, 4]);
  });

  it('equals the scan with domainsOverlap for any holders and domains', () => {
    fc.assert(
      fc.property(
        fc.array(fc.array(domain, { maxLength: 3 }), { maxLength: 12 }),
        fc.array(domain, { maxLength: 3 }),
        (holders, domains) => {
          const found = overlappingHolders(
            domains,
            lookup(holders, (ds) => ds),
            lookup(holders, (ds) => ds.flatMap(domainSuffixes)),
          );
          const scanned = holders
            .map((ds, i) => [ds, i] as const)
            .filter(([ds]) => ds.some((x) => domains.some((d) => domainsOverlap(x, d))))
            .map(([, i]) => i);
          expect(found.sort((a, b) => a - b)).toEqual(scanned);
        },
      ),
      { numRuns: 500 },
    );
  });
});
