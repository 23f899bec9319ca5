/** API server refusals of a GovService's objects: which end in the status, with what reason and message. */
import { refusalProblem } from '../../src/controllers/govservice/reconcile.js';
import { ApiError } from '../../src/runtime/kube.js';
import type { KubeObject } from '../../src/runtime/types.js';

const configMap = {
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name: 'permits-parameters', namespace: 'a-prod' },
} as KubeObject;

describe('refusalProblem', () => {
  it.each([
    [
      'a quota',
      new ApiError(403, 'Forbidden', 'exceeded quota: secovia-quota, requested: pods=1'),
      'QuotaExceeded',
      'ConfigMap permits-parameters refused: exceeded quota: secovia-quota, requested: pods=1',
    ],
    [
      'a suspended tenant',
      new ApiError(
        403,
        'Forbidden',
        'tenant a is suspended: no new Deployment may be created in namespace a-prod',
      ),
      'TenantSuspended',
      'ConfigMap permits-parameters refused: tenant a is suspended: no new Deployment may be created in namespace a-prod',
    ],
    [
      'an invalid object (422)',
      new ApiError(422, 'Invalid', 'ConfigMap "x" is invalid: metadata.name: Invalid value'),
      'ObjectInvalid',
      'ConfigMap permits-parameters refused by the API server (HTTP 422): ConfigMap "x" is invalid: metadata.name: Invalid value',
    ],
    [
      'an object too large (413)',
      new ApiError(413, 'RequestEntityTooLarge', 'Request entity too large: limit is 3145728'),
      'ObjectTooLarge',
      'ConfigMap permits-parameters refused by the API server (HTTP 413): Request entity too large: limit is 3145728',
    ],
    [
      'a bad request (400)',
      new ApiError(400, 'BadRequest', 'the body of the request was in an unknown format'),
      'ObjectRejected',
      'ConfigMap permits-parameters refused by the API server (HTTP 400): the body of the request was in an unknown format',
    ],
  ])('ends in the status: %s', (_name, error, reason, message) => {
    expect(refusalProblem(configMap, error)).toEqual({ reason, message });
  });

  it.each([
    ['another 403 (RBAC)', new ApiError(403, 'Forbidden', 'configmaps is forbidden: User cannot patch')],
    ['a conflict', new ApiError(409, 'Conflict', 'the object has been modified')],
    ['a server error', new ApiError(500, 'InternalError', 'etcdserver: leader changed')],
    [
      'unavailable',
      new ApiError(503, 'ServiceUnavailable', 'the server is currently unable to handle the request'),
    ],
    ['not an API error', new Error('socket hang up')],
  ])('is retried: %s', (_name, error) => {
    expect(refusalProblem(configMap, error)).toBeUndefined();
  });
});
