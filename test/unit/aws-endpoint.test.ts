/**
 * Where the runtime sends an AWS request, and when it leaves it to the SDK (functions/mesh/aws/aws-endpoint.ts).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { awsRoute, DYNAMODB, LAMBDA, SECRETS_MANAGER } from '../../functions/mesh/aws/aws-endpoint';

const KEYS = { AWS_ACCESS_KEY_ID: 'AKID', AWS_SECRET_ACCESS_KEY: 'secret' };
const wireUrl = (r: ReturnType<typeof awsRoute>) => (r.wire ? `${r.url.origin} ${r.region}` : `sdk: ${r.reason}`);

describe('AWS endpoint of the wire path', () => {
  const cases: [string, Parameters<typeof awsRoute>[0], Record<string, string>, string][] = [
    ['the region endpoint', LAMBDA, { AWS_REGION: 'eu-west-1' }, 'https://lambda.eu-west-1.amazonaws.com eu-west-1'],
    [
      'AWS_DEFAULT_REGION',
      DYNAMODB,
      { AWS_DEFAULT_REGION: 'us-east-2' },
      'https://dynamodb.us-east-2.amazonaws.com us-east-2',
    ],
    [
      'China',
      SECRETS_MANAGER,
      { AWS_REGION: 'cn-north-1' },
      'https://secretsmanager.cn-north-1.amazonaws.com.cn cn-north-1',
    ],
    ['GovCloud', LAMBDA, { AWS_REGION: 'us-gov-west-1' }, 'https://lambda.us-gov-west-1.amazonaws.com us-gov-west-1'],
    [
      'a newer region',
      LAMBDA,
      { AWS_REGION: 'mx-central-1' },
      'https://lambda.mx-central-1.amazonaws.com mx-central-1',
    ],
    [
      'the service endpoint over the global one',
      LAMBDA,
      {
        AWS_REGION: 'eu-west-1',
        AWS_ENDPOINT_URL: 'http://127.0.0.1:1',
        AWS_ENDPOINT_URL_LAMBDA: 'http://127.0.0.1:2',
      },
      'http://127.0.0.1:2 eu-west-1',
    ],
    [
      'the global endpoint',
      SECRETS_MANAGER,
      { AWS_ENDPOINT_URL: 'http://127.0.0.1:4566', AWS_ENDPOINT_URL_LAMBDA: 'http://127.0.0.1:2' },
      'http://127.0.0.1:4566 us-east-1',
    ],
    [
      'Secrets Manager by its service id',
      SECRETS_MANAGER,
      { AWS_REGION: 'eu-west-1', AWS_ENDPOINT_URL_SECRETS_MANAGER: 'http://127.0.0.1:3' },
      'http://127.0.0.1:3 eu-west-1',
    ],
    [
      'a configured endpoint over FIPS',
      DYNAMODB,
      { AWS_REGION: 'us-east-1', AWS_USE_FIPS_ENDPOINT: 'true', AWS_ENDPOINT_URL: 'http://127.0.0.1:4566' },
      'http://127.0.0.1:4566 us-east-1',
    ],
    [
      'configured endpoints ignored on request',
      LAMBDA,
      { AWS_REGION: 'eu-west-1', AWS_ENDPOINT_URL: 'http://127.0.0.1:1', AWS_IGNORE_CONFIGURED_ENDPOINT_URLS: 'true' },
      'https://lambda.eu-west-1.amazonaws.com eu-west-1',
    ],
    ['FIPS', LAMBDA, { AWS_REGION: 'us-east-1', AWS_USE_FIPS_ENDPOINT: 'true' }, 'sdk: AWS_USE_FIPS_ENDPOINT is true'],
    [
      'dual-stack',
      DYNAMODB,
      { AWS_REGION: 'us-east-1', AWS_USE_DUALSTACK_ENDPOINT: 'TRUE' },
      'sdk: AWS_USE_DUALSTACK_ENDPOINT is true',
    ],
    [
      'FIPS off',
      LAMBDA,
      { AWS_REGION: 'us-east-1', AWS_USE_FIPS_ENDPOINT: 'false' },
      'https://lambda.us-east-1.amazonaws.com us-east-1',
    ],
    [
      'an ISO region',
      LAMBDA,
      { AWS_REGION: 'us-iso-east-1' },
      'sdk: region us-iso-east-1 is outside the partitions the runtime knows',
    ],
    [
      'a sovereign region',
      LAMBDA,
      { AWS_REGION: 'eusc-de-east-1' },
      'sdk: region eusc-de-east-1 is outside the partitions the runtime knows',
    ],
    ['no region', LAMBDA, {}, 'sdk: no AWS_REGION'],
  ];
  for (const [name, service, env, expected] of cases) {
    it(name, () => assert.equal(wireUrl(awsRoute(service, { ...KEYS, ...env })), expected));
  }

  it('credentials from a container endpoint go to the SDK, keys in the environment stay on the wire', () => {
    const container = { AWS_REGION: 'eu-west-1', AWS_CONTAINER_CREDENTIALS_FULL_URI: 'http://169.254.170.2/creds' };
    assert.equal(wireUrl(awsRoute(LAMBDA, container)), 'sdk: credentials come from a container credentials endpoint');
    assert.equal(
      wireUrl(awsRoute(LAMBDA, { ...container, ...KEYS })),
      'https://lambda.eu-west-1.amazonaws.com eu-west-1',
    );
  });

  it('a configured endpoint that is not a URL is refused with the variable and an example', () => {
    assert.throws(() => awsRoute(LAMBDA, { ...KEYS, AWS_ENDPOINT_URL: 'localhost 4566' }), {
      name: 'InvalidEndpointError',
      message:
        /AWS_ENDPOINT_URL_LAMBDA \/ AWS_ENDPOINT_URL = "localhost 4566" is not a URL; set it to the endpoint, e\.g\. http/,
    });
  });
});
