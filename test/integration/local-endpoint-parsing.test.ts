/** The endpoint's pure decisions: service routing, FunctionName forms, Lambda routes, alias routing rules. */

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseFunctionName } from '../../local/endpoint/function-name';
import { matchLambdaRoute } from '../../local/endpoint/lambda-routes';
import { validateRoutingConfig } from '../../local/endpoint/routing-config';
import { routeService, signingService } from '../../local/endpoint/service-router';

const auth = (service: string) =>
  `AWS4-HMAC-SHA256 Credential=test/20240101/us-east-1/${service}/aws4_request, SignedHeaders=host;x-amz-date, Signature=abc`;

describe('service routing', () => {
  it('reads the service from the credential scope first', () => {
    assert.equal(signingService(auth('secretsmanager')), 'secretsmanager');
    assert.equal(signingService('garbage'), undefined);
    assert.deepEqual(
      routeService('POST', '/', { authorization: auth('dynamodb'), 'x-amz-target': 'DynamoDB_20120810.Query' }),
      { service: 'dynamodb' },
    );
    assert.deepEqual(
      routeService('POST', '/', {
        authorization: auth('secretsmanager'),
        'x-amz-target': 'secretsmanager.GetSecretValue',
      }),
      { service: 'secretsmanager', operation: 'GetSecretValue' },
    );
    assert.deepEqual(routeService('GET', '/2015-03-31/functions/', { authorization: auth('lambda') }), {
      service: 'lambda',
    });
  });

  it('falls back on X-Amz-Target, then the path, when unsigned', () => {
    assert.deepEqual(routeService('POST', '/', { 'x-amz-target': 'DynamoDB_20120810.Scan' }), { service: 'dynamodb' });
    assert.deepEqual(routeService('POST', '/', { 'x-amz-target': 'secretsmanager.ListSecrets' }), {
      service: 'secretsmanager',
      operation: 'ListSecrets',
    });
    assert.deepEqual(routeService('POST', '/2015-03-31/functions/x/invocations', {}), { service: 'lambda' });
  });

  it('sends /_mesh/ to the extra routes and names other services', () => {
    assert.deepEqual(routeService('GET', '/_mesh/stats', { authorization: auth('lambda') }), { service: 'mesh' });
    assert.deepEqual(
      routeService('POST', '/', { authorization: auth('sts'), 'content-type': 'application/x-www-form-urlencoded' }),
      { service: 'other', name: 'sts', operation: 'POST /', protocol: 'query' },
    );
    assert.deepEqual(
      routeService('POST', '/', { authorization: auth('logs'), 'x-amz-target': 'Logs_20140328.PutLogEvents' }),
      { service: 'other', name: 'logs', operation: 'PutLogEvents', protocol: 'json' },
    );
  });
});

describe('FunctionName forms', () => {
  it('parses name, name:qualifier, full and partial ARNs', () => {
    assert.deepEqual(parseFunctionName('orders'), { name: 'orders' });
    assert.deepEqual(parseFunctionName('orders:live'), { name: 'orders', qualifier: 'live' });
    assert.deepEqual(parseFunctionName('orders:$LATEST'), { name: 'orders', qualifier: '$LATEST' });
    assert.deepEqual(parseFunctionName('arn:aws:lambda:us-east-1:123456789012:function:orders'), { name: 'orders' });
    assert.deepEqual(parseFunctionName('arn:aws:lambda:us-east-1:123456789012:function:orders:3'), {
      name: 'orders',
      qualifier: '3',
    });
    assert.deepEqual(parseFunctionName('123456789012:function:orders:live'), { name: 'orders', qualifier: 'live' });
    assert.deepEqual(parseFunctionName('orders', '2'), { name: 'orders', qualifier: '2' });
  });

  it('refuses bad names and a qualifier that contradicts the name', () => {
    for (const bad of [
      '',
      'a b',
      'x'.repeat(65),
      'a:b:c',
      'arn:aws:s3:::bucket',
      'arn:aws:lambda:us-east-1:1:layer:x',
    ]) {
      assert.throws(() => parseFunctionName(bad), { name: 'ValidationException' }, bad);
    }
    assert.throws(() => parseFunctionName('orders:1', '2'), { name: 'InvalidParameterValueException' });
    assert.deepEqual(parseFunctionName('orders:1', '1'), { name: 'orders', qualifier: '1' });
  });
});

describe('Lambda routes', () => {
  it('decodes path parameters and tolerates a trailing slash', () => {
    assert.deepEqual(
      matchLambdaRoute('POST', '/2015-03-31/functions/arn%3Aaws%3Alambda%3Aus-east-1%3A1%3Afunction%3Ax/invocations'),
      {
        operation: 'Invoke',
        params: { FunctionName: 'arn:aws:lambda:us-east-1:1:function:x' },
      },
    );
    assert.equal(matchLambdaRoute('GET', '/2015-03-31/functions/')?.operation, 'ListFunctions');
    assert.equal(matchLambdaRoute('GET', '/2015-03-31/functions')?.operation, 'ListFunctions');
    assert.equal(matchLambdaRoute('PUT', '/2015-03-31/functions/x/aliases/live')?.operation, 'UpdateAlias');
    assert.equal(matchLambdaRoute('GET', '/2019-09-30/functions/x/concurrency')?.operation, 'GetFunctionConcurrency');
    assert.equal(matchLambdaRoute('GET', '/nope'), undefined);
    assert.equal(matchLambdaRoute('GET', '/2015-03-31/functions/%E0%A4%A'), undefined);
  });
});

describe('alias routing validation', () => {
  const published = ['1', '2', '3'];
  it('accepts one extra published version with a weight in [0, 1]', () => {
    assert.deepEqual(validateRoutingConfig({ AdditionalVersionWeights: { 2: 0.25 } }, '1', published), { 2: 0.25 });
    assert.deepEqual(validateRoutingConfig({ AdditionalVersionWeights: { 2: 0 } }, '1', published), { 2: 0 });
    assert.deepEqual(validateRoutingConfig({ AdditionalVersionWeights: { 2: 1 } }, '1', published), { 2: 1 });
    assert.equal(validateRoutingConfig(undefined, '1', published), undefined);
    assert.equal(validateRoutingConfig({}, '1', published), undefined);
    assert.equal(validateRoutingConfig({ AdditionalVersionWeights: {} }, '$LATEST', published), undefined);
  });

  it('refuses what Lambda refuses, naming the value', () => {
    const cases: [unknown, string, RegExp][] = [
      [{ AdditionalVersionWeights: { 2: 0.1, 3: 0.1 } }, '1', /greater than 1/],
      [{ AdditionalVersionWeights: { 2: 1.01 } }, '1', /weight 1\.01/],
      [{ AdditionalVersionWeights: { 2: '0.5' } }, '1', /weight "0\.5"/],
      [{ AdditionalVersionWeights: { $LATEST: 0.5 } }, '1', /\$LATEST/],
      [{ AdditionalVersionWeights: { 2: 0.5 } }, '$LATEST', /\$LATEST/],
      [{ AdditionalVersionWeights: { live: 0.5 } }, '1', /"live"/],
      [{ AdditionalVersionWeights: { 4: 0.5 } }, '1', /version 4 .*not a published version/],
      [{ AdditionalVersionWeights: { 1: 0.5 } }, '1', /already included/],
      [{ AdditionalVersionWeights: [0.5] }, '1', /map of version to weight/],
      ['x', '1', /RoutingConfig must be an object/],
    ];
    for (const [config, primary, message] of cases) {
      assert.throws(
        () => validateRoutingConfig(config, primary, published),
        (e: Error) => {
          assert.equal(e.name, 'InvalidParameterValueException');
          assert.match(e.message, message);
          return true;
        },
        JSON.stringify(config),
      );
    }
  });
});
