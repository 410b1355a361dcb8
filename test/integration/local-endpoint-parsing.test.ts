/** The endpoint's pure decisions: service routing, FunctionName forms, Lambda routes, alias routing rules. */

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AwsError } from '../../local/endpoint/errors';
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

// AWS API reference, "Invoke" and "GetFunction" (FunctionName: length 1-170, the namespaced pattern;
// Qualifier: length 1-128, pattern `\$(LATEST(\.PUBLISHED)?)|[a-zA-Z0-9-_$]+`), "PublishVersion" (1-140).
describe('FunctionName forms', () => {
  const here = { region: 'us-east-1', accountId: '123456789012' };
  const parse = (name: string, qualifier?: string, op = 'Invoke') => parseFunctionName(name, qualifier, op, here);
  const status = (f: () => unknown) => {
    try {
      f();
      return 'ok';
    } catch (e) {
      const err = e as AwsError;
      return `${err.status} ${err.code}`;
    }
  };

  it('parses name, name:qualifier, full and partial ARNs', () => {
    assert.deepEqual(parse('orders'), { name: 'orders' });
    assert.deepEqual(parse('orders:live'), { name: 'orders', qualifier: 'live' });
    assert.deepEqual(parse('orders:$LATEST'), { name: 'orders', qualifier: '$LATEST' });
    assert.deepEqual(parse('arn:aws:lambda:us-east-1:123456789012:function:orders'), { name: 'orders' });
    assert.deepEqual(parse('arn:aws:lambda:us-east-1:123456789012:function:orders:3'), {
      name: 'orders',
      qualifier: '3',
    });
    assert.deepEqual(parse('123456789012:function:orders:live'), { name: 'orders', qualifier: 'live' });
    assert.deepEqual(parse('orders', '2'), { name: 'orders', qualifier: '2' });
  });

  it('splits 400 and 404 as Lambda does: malformed is 400, merely unknown is a name', () => {
    // Fit the pattern: names a function that may not exist (404 later).
    assert.deepEqual(parse('x'.repeat(65)), { name: 'x'.repeat(65) });
    assert.deepEqual(parse('orders', '$latest'), { name: 'orders', qualifier: '$latest' });
    assert.deepEqual(parse('arn:aws:lambda:us-east-1:123456789012:function'), { name: 'function' });
    assert.deepEqual(parse('my.fn'), { name: 'my.fn' });
    // Break the length or the pattern: 400 ValidationException.
    for (const bad of [
      'a b',
      '*',
      'a:b:c',
      'arn:aws:s3:::bucket',
      'arn:aws:lambda:invalid-region:123456789012:function:x',
      'arn:aws:lambda:us-east-1::function:x',
      'arn:aws:lambda:us-east-1:123456789012:function:x:$LATES',
      'function:my-function:$LATEST:extra',
      `arn:aws:lambda:us-east-1:123456789012:function:${'a'.repeat(170)}`,
    ]) {
      assert.equal(
        status(() => parse(bad)),
        '400 ValidationException',
        bad,
      );
    }
    assert.equal(
      status(() => parse('orders', 'a'.repeat(129))),
      '400 ValidationException',
    );
    assert.equal(
      status(() => parse('orders', 'bad!')),
      '400 ValidationException',
    );
    // Dots only where the name is namespaced; 140 characters elsewhere.
    assert.equal(
      status(() => parse('my.fn', undefined, 'PublishVersion')),
      '400 ValidationException',
    );
    const arn141 = `arn:aws:lambda:us-east-1:123456789012:function:${'a'.repeat(95)}`;
    assert.equal(
      status(() => parse(arn141, undefined, 'PublishVersion')),
      '400 ValidationException',
    );
    assert.equal(
      status(() => parse(arn141)),
      'ok',
    );
  });

  it('words a validation error as AWS, every finding in one message', () => {
    assert.throws(
      () => parse(`arn:aws:lambda:invalid-region:123456789012:function:${'a'.repeat(170)}`, 'a'.repeat(129)),
      (e: Error) =>
        // Over 170 characters and off the pattern: the pattern alone, as AWS's recording shows it.
        /^2 validation errors detected: Value '[^']*' at 'functionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [^;]*; Value 'a{129}' at 'qualifier' failed to satisfy constraint: Member must have length less than or equal to 128$/.test(
          e.message,
        ),
    );
    assert.throws(() => parse('orders!'), {
      message:
        "1 validation error detected: Value 'orders!' at 'functionName' failed to satisfy constraint: Member must satisfy regular expression pattern: (arn:(aws[a-zA-Z-]*)?:lambda:)?((eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\\d{1}:)?(\\d{12}:)?(function:)?([a-zA-Z0-9-_\\.]+)(:(\\$LATEST(\\.PUBLISHED)?|[a-zA-Z0-9-_]+))?",
    });
  });

  it('refuses ARNs of another region (404) or account (403), and a contradicting qualifier', () => {
    assert.throws(() => parse('arn:aws:lambda:eu-west-1:123456789012:function:orders'), {
      name: 'ResourceNotFoundException',
      message: "Functions from 'eu-west-1' are not reachable in this region ('us-east-1')",
    });
    assert.equal(
      status(() => parse('arn:aws:lambda:us-east-1:111111111111:function:orders')),
      '403 AccessDeniedException',
    );
    assert.equal(
      status(() => parse('111111111111:function:orders')),
      '403 AccessDeniedException',
    );
    assert.throws(() => parse('orders:1', '2'), {
      name: 'InvalidParameterValueException',
      message: 'The derived qualifier from the function name does not match the specified qualifier.',
    });
    assert.deepEqual(parse('orders:1', '1'), { name: 'orders', qualifier: '1' });
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
    // Two operations on one path, told apart by the query one of them requires.
    assert.equal(matchLambdaRoute('GET', '/2018-10-31/layers')?.operation, 'ListLayers');
    assert.equal(matchLambdaRoute('GET', '/2018-10-31/layers?CompatibleRuntime=nodejs22.x')?.operation, 'ListLayers');
    assert.equal(
      matchLambdaRoute('GET', '/2018-10-31/layers?find=LayerVersion&Arn=x')?.operation,
      'GetLayerVersionByArn',
    );
    assert.equal(
      matchLambdaRoute('GET', '/2019-09-30/functions/x/provisioned-concurrency?Qualifier=1')?.operation,
      'GetProvisionedConcurrencyConfig',
    );
    assert.equal(
      matchLambdaRoute('GET', '/2019-09-30/functions/x/provisioned-concurrency?List=ALL')?.operation,
      'ListProvisionedConcurrencyConfigs',
    );
    assert.equal(matchLambdaRoute('GET', '/nope'), undefined);
    assert.equal(matchLambdaRoute('GET', '/2015-03-31/functions/%E0%A4%A'), undefined);
  });
});

// AWS API reference, "AliasRoutingConfiguration" (AdditionalVersionWeights: key pattern [0-9]+, value
// 0.0-1.0) and "CreateAlias"/"UpdateAlias" errors, as AWS answers them.
describe('alias routing validation', () => {
  const published = ['1', '2', '3'];
  const missing = (v: string) => new AwsError('ResourceNotFoundException', 404, `Function not found: fn:${v}`);
  const validate = (config: unknown, primary: string) => validateRoutingConfig(config, primary, published, missing);

  it('accepts one extra published version with a weight in [0, 1]', () => {
    assert.deepEqual(validate({ AdditionalVersionWeights: { 2: 0.25 } }, '1'), { 2: 0.25 });
    assert.deepEqual(validate({ AdditionalVersionWeights: { 2: 0 } }, '1'), { 2: 0 });
    assert.deepEqual(validate({ AdditionalVersionWeights: { 2: 1 } }, '1'), { 2: 1 });
    assert.equal(validate(undefined, '1'), undefined);
    assert.equal(validate({}, '1'), undefined);
    assert.equal(validate({ AdditionalVersionWeights: {} }, '$LATEST'), undefined);
  });

  it('refuses what Lambda refuses, with its error code and wording', () => {
    const cases: [unknown, string, string, string | RegExp][] = [
      [
        { AdditionalVersionWeights: { 2: 2 } },
        '1',
        'ValidationException',
        "1 validation error detected: Value '{2=2.0}' at 'routingConfig.additionalVersionWeights' failed to satisfy constraint: Map value must satisfy constraint: [Member must have value less than or equal to 1.0, Member must have value greater than or equal to 0.0, Member must not be null]",
      ],
      [{ AdditionalVersionWeights: { 2: -1 } }, '1', 'ValidationException', /Value '\{2=-1\.0\}'/],
      [{ AdditionalVersionWeights: { 2: '0.5' } }, '1', 'ValidationException', /Map value must satisfy/],
      [
        { AdditionalVersionWeights: { $LATEST: 0.5 } },
        '1',
        'ValidationException',
        "1 validation error detected: Value '{$LATEST=0.5}' at 'routingConfig.additionalVersionWeights' failed to satisfy constraint: Map keys must satisfy constraint: [Member must have length less than or equal to 1024, Member must have length greater than or equal to 1, Member must satisfy regular expression pattern: [0-9]+]",
      ],
      [{ AdditionalVersionWeights: { live: 0.5 } }, '1', 'ValidationException', /Map keys must satisfy/],
      [
        { AdditionalVersionWeights: { 2: 0.1, 3: 0.1 } },
        '1',
        'InvalidParameterValueException',
        'Number of items in AdditionalVersionWeights cannot be greater than 1',
      ],
      [
        { AdditionalVersionWeights: { 2: 0.5 } },
        '$LATEST',
        'InvalidParameterValueException',
        '$LATEST is not supported for an alias pointing to more than 1 version',
      ],
      [
        { AdditionalVersionWeights: { 1: 0.5 } },
        '1',
        'InvalidParameterValueException',
        'Invalid function version 1. Function version 1 is already included in routing configuration.',
      ],
      [{ AdditionalVersionWeights: { 4: 0.5 } }, '1', 'ResourceNotFoundException', 'Function not found: fn:4'],
      [{ AdditionalVersionWeights: [0.5] }, '1', 'InvalidParameterValueException', /map of version to weight/],
      ['x', '1', 'InvalidParameterValueException', /RoutingConfig must be an object/],
    ];
    for (const [config, primary, code, message] of cases) {
      assert.throws(
        () => validate(config, primary),
        (e: Error) => {
          assert.equal(e.name, code, JSON.stringify(config));
          if (typeof message === 'string') assert.equal(e.message, message);
          else assert.match(e.message, message);
          return true;
        },
        JSON.stringify(config),
      );
    }
  });
});
