/** The CRD files as text, so that the generator writes them and a test compares them. */
import { stringify } from 'yaml';
import { GROUP } from './constants.js';
import { crdFor } from './crd.js';
import { kindDefinitions } from './index.js';

export const CRD_HEADER = '# Generated from src/api by hack/generate-crds.ts; do not edit.\n';

/** File name -> YAML text, one file per kind, keys sorted so that output is stable. */
export function renderCrds(): Map<string, string> {
  return new Map(
    kindDefinitions.map((def) => [
      `${GROUP}_${def.plural}.yaml`,
      CRD_HEADER + stringify(crdFor(def), { sortMapEntries: true, lineWidth: 0 }),
    ]),
  );
}
