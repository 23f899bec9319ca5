// Lets `node --import ./hack/register-ts.mjs file.ts` run TypeScript sources directly (dev scripts only).
import { register } from 'tsx/esm/api';
register();
