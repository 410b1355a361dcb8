/**
 * What a user sends by hand, with the SDK or the AWS CLI, and AWS answers with a refusal recorded from
 * real AWS (LocalStack's parity tests, tests/aws/services/lambda_/test_lambda_api.snapshot.json and
 * test_lambda.snapshot.json, "recorded-content"). Each test names the recorded test it replays; only
 * what the recording fixes is compared (status, code, message), not what it transforms (accounts).
 */

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as lambdaSdk from '@aws-sdk/client-lambda';
import {
  GetFunctionCommand,
  GetFunctionConfigurationCommand,
  InvokeCommand,
  LambdaClient,
  UpdateFunctionConfigurationCommand,
} from '@aws-sdk/client-lambda';
import { type Endpoint, startEndpoint } from '../../local/endpoint';
import { SUPPORTED_LAMBDA_OPERATIONS } from '../../local/endpoint/lambda';
import { loopbackClientConfig } from '../support/loopback-client';
import { rejection } from '../support/rejection';
import { TestInvoker, TestRegistry } from './local-endpoint-fixture';

const ACCOUNT = '000000000000';
const ARN = `arn:aws:lambda:us-east-1:${ACCOUNT}:function`;
/** The NamespacedFunctionName pattern Lambda prints for Invoke and GetFunction (recorded). */
const NAMESPACED_PATTERN =
  '(arn:(aws[a-zA-Z-]*)?:lambda:)?((eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\\d{1}:)?(\\d{12}:)?(function:)?([a-zA-Z0-9-_\\.]+)(:(\\$LATEST(\\.PUBLISHED)?|[a-zA-Z0-9-_]+))?';
const pattern = (value: string) =>
  `Value '${value}' at 'functionName' failed to satisfy constraint: Member must satisfy regular expression pattern: ${NAMESPACED_PATTERN}`;
const qualifierTooLong = `Value '${'a'.repeat(129)}' at 'qualifier' failed to satisfy constraint: Member must have length less than or equal to 128`;

interface AwsFailure extends Error {
  $metadata: { httpStatusCode?: number };
}

/**
 * A refusal as LocalStack's recording keeps it: the code, and either the validation findings (sorted,
 * counted) or the message. The status is kept too: the recording's ResponseMetadata has it.
 */
async function refusal(call: () => Promise<unknown>) {
  const err = await rejection<AwsFailure>(call);
  const findings = err.message.match(/Value '.*?' at '.*?' failed to satisfy constraint: .+?(?=; Value|$)/g);
  return findings
    ? { status: err.$metadata.httpStatusCode, Code: err.name, Errors: [...findings].sort(), Count: findings.length }
    : { status: err.$metadata.httpStatusCode, Code: err.name, Message: err.message };
}

const invalid = (...errors: string[]) => ({
  status: 400,
  Code: 'ValidationException',
  Errors: errors.sort(),
  Count: errors.length,
});
const notFound = (arn: string) => ({
  status: 404,
  Code: 'ResourceNotFoundException',
  Message: `Function not found: ${arn}`,
});

/**
 * test_lambda_api.py::TestLambdaFunction::test_function_name_and_qualifier_validation, its invoke and
 * get_function cases: [id, FunctionName, Qualifier, Invoke's answer, GetFunction's answer].
 */
const longName = `my-function${'a'.repeat(170)}`;
const longerName = `my-function-${'a'.repeat(170)}`;
const NAME_CASES: [string, string, string | undefined, object, object][] = [
  [
    'invalid_characters_in_function_name',
    'my-function!',
    undefined,
    invalid(pattern('my-function!')),
    invalid(pattern('my-function!')),
  ],
  ['function_name_is_single_invalid', '*', undefined, invalid(pattern('*')), invalid(pattern('*'))],
  [
    'invalid_characters_in_qualifier',
    'my-function',
    'invalid!',
    invalid(
      "Value 'invalid!' at 'qualifier' failed to satisfy constraint: Member must satisfy regular expression pattern: \\$(LATEST(\\.PUBLISHED)?)|[a-zA-Z0-9-_$]+",
    ),
    invalid(
      "Value 'invalid!' at 'qualifier' failed to satisfy constraint: Member must satisfy regular expression pattern: \\$(LATEST(\\.PUBLISHED)?)|[a-zA-Z0-9-_$]+",
    ),
  ],
  ['qualifier_too_long', 'my-function', 'a'.repeat(129), invalid(qualifierTooLong), invalid(qualifierTooLong)],
  [
    'invalid_account_id_in_partial_arn',
    'invalid-account:function:my-function',
    undefined,
    invalid(pattern('invalid-account:function:my-function')),
    invalid(pattern('invalid-account:function:my-function')),
  ],
  [
    'invalid_region_in_arn',
    `arn:aws:lambda:invalid-region:${ACCOUNT}:function:my-function`,
    undefined,
    invalid(pattern(`arn:aws:lambda:invalid-region:${ACCOUNT}:function:my-function`)),
    invalid(pattern(`arn:aws:lambda:invalid-region:${ACCOUNT}:function:my-function`)),
  ],
  [
    'non_lambda_arn',
    `arn:aws:ec2:us-east-1:${ACCOUNT}:instance:i-1234567890abcdef0`,
    undefined,
    invalid(pattern(`arn:aws:ec2:us-east-1:${ACCOUNT}:instance:i-1234567890abcdef0`)),
    invalid(pattern(`arn:aws:ec2:us-east-1:${ACCOUNT}:instance:i-1234567890abcdef0`)),
  ],
  [
    'function_name_too_long',
    'a'.repeat(65),
    undefined,
    notFound(`${ARN}:${'a'.repeat(65)}:$LATEST`),
    notFound(`${ARN}:${'a'.repeat(65)}`),
  ],
  // Over 170 characters and off the pattern: the pattern alone is reported, not the length.
  [
    'function_name_too_long_and_invalid_region',
    `arn:aws:lambda:invalid-region:${ACCOUNT}:function:${longName}`,
    undefined,
    invalid(pattern(`arn:aws:lambda:invalid-region:${ACCOUNT}:function:${longName}`)),
    invalid(pattern(`arn:aws:lambda:invalid-region:${ACCOUNT}:function:${longName}`)),
  ],
  [
    'full_arn_and_qualifier_too_long_and_invalid_region',
    `arn:aws:lambda:invalid-region:${ACCOUNT}:function:${longerName}`,
    'a'.repeat(129),
    invalid(qualifierTooLong, pattern(`arn:aws:lambda:invalid-region:${ACCOUNT}:function:${longerName}`)),
    invalid(qualifierTooLong, pattern(`arn:aws:lambda:invalid-region:${ACCOUNT}:function:${longerName}`)),
  ],
  [
    'full_arn_with_multiple_qualifiers',
    `${ARN}:my-function:1:2`,
    undefined,
    invalid(pattern(`${ARN}:my-function:1:2`)),
    invalid(pattern(`${ARN}:my-function:1:2`)),
  ],
  ['incomplete_arn', ARN, undefined, notFound(`${ARN}:function:$LATEST`), notFound(`${ARN}:function`)],
  [
    'partial_arn_with_extra_qualifier',
    'function:my-function:$LATEST:extra',
    undefined,
    invalid(pattern('function:my-function:$LATEST:extra')),
    invalid(pattern('function:my-function:$LATEST:extra')),
  ],
  [
    'latest_version_with_additional_qualifier',
    `${ARN}:my-function:$LATEST`,
    '1',
    {
      status: 400,
      Code: 'InvalidParameterValueException',
      Message: 'The derived qualifier from the function name does not match the specified qualifier.',
    },
    {
      status: 400,
      Code: 'InvalidParameterValueException',
      Message: 'The derived qualifier from the function name does not match the specified qualifier.',
    },
  ],
  [
    'lowercase_latest_qualifier',
    `${ARN}:my-function`,
    '$latest',
    notFound(`${ARN}:my-function:$latest`),
    notFound(`${ARN}:my-function:$latest`),
  ],
  [
    'missing_region_in_arn',
    `arn:aws:lambda::${ACCOUNT}:function:my-function`,
    undefined,
    invalid(pattern(`arn:aws:lambda::${ACCOUNT}:function:my-function`)),
    invalid(pattern(`arn:aws:lambda::${ACCOUNT}:function:my-function`)),
  ],
  [
    'missing_account_id_in_arn',
    'arn:aws:lambda:us-east-1::function:my-function',
    undefined,
    invalid(pattern('arn:aws:lambda:us-east-1::function:my-function')),
    invalid(pattern('arn:aws:lambda:us-east-1::function:my-function')),
  ],
  [
    'misspelled_latest_in_arn',
    `${ARN}:my-function:$LATES`,
    undefined,
    invalid(pattern(`${ARN}:my-function:$LATES`)),
    invalid(pattern(`${ARN}:my-function:$LATES`)),
  ],
];

describe('local endpoint: requests made by hand, refused as recorded from AWS', () => {
  let endpoint: Endpoint;
  let lambda: LambdaClient;
  const registry = new TestRegistry();
  registry.add('updated', (e) => e);

  before(async () => {
    endpoint = await startEndpoint({ port: 0, registry, invoker: new TestInvoker(registry), log: () => undefined });
    lambda = new LambdaClient(loopbackClientConfig(endpoint.url));
  });
  after(async () => {
    lambda.destroy();
    await endpoint.close();
  });

  // test_lambda_api.py::TestLambdaFunction::test_function_name_and_qualifier_validation (invoke, get_function)
  it('FunctionName and Qualifier: each recorded form refused or looked up as Lambda does', async () => {
    for (const [id, FunctionName, Qualifier, invoked, got] of NAME_CASES) {
      assert.deepEqual(
        await refusal(() => lambda.send(new InvokeCommand({ FunctionName, Qualifier }))),
        invoked,
        `${id}: Invoke`,
      );
      assert.deepEqual(
        await refusal(() => lambda.send(new GetFunctionCommand({ FunctionName, Qualifier }))),
        got,
        `${id}: GetFunction`,
      );
    }
  });

  // test_lambda_api.py::TestLambdaFunction::test_invalid_invoke
  it('Invoke: a FunctionName with a character the pattern refuses', async () => {
    const name = `arn:aws:lambda:us-east-1:123400000000@function:myfn`;
    const err = await rejection<AwsFailure>(() => lambda.send(new InvokeCommand({ FunctionName: name })));
    assert.equal(err.$metadata.httpStatusCode, 400);
    assert.equal(err.name, 'ValidationException');
    assert.equal(err.message, `1 validation error detected: ${pattern(name)}`);
  });

  // test_lambda_api.py::TestLambdaFunction::test_update_lambda_exceptions
  it('UpdateFunctionConfiguration: a Role off the IAM role pattern, a runtime Lambda does not know; nothing changed', async () => {
    const update = (input: { Role?: string; Runtime?: string }) =>
      refusal(() =>
        lambda.send(new UpdateFunctionConfigurationCommand({ FunctionName: 'updated', ...input } as never)),
      );
    assert.deepEqual(
      await update({ Role: 'r1' }),
      invalid(
        "Value 'r1' at 'role' failed to satisfy constraint: Member must satisfy regular expression pattern: arn:(aws[a-zA-Z-]*)?:iam::\\d{12}:role/?[a-zA-Z_0-9+=,.@\\-_/]+",
      ),
    );
    for (const runtime of ['non-existent-runtime', 'PYTHON3.9']) {
      assert.deepEqual(await update({ Runtime: runtime }), {
        status: 400,
        Code: 'InvalidParameterValueException',
        Message: `Value ${runtime} at 'runtime' failed to satisfy constraint: Member must satisfy enum value set: [nodejs20.x, python3.14, provided.al2023, python3.12, python3.13, nodejs24.x, nodejs22.x, java25, python3.10, python3.11, java21, ruby3.3, ruby3.4, ruby3.2, python3.8, python3.9, java17, nodejs16.x, dotnet10, dotnet8, java11, dotnet6, nodejs18.x, provided.al2, java8.al2] or be a valid ARN`,
      });
    }
    // A runtime Lambda knows but the local mesh cannot run: the local mesh's own refusal, naming it.
    assert.deepEqual(await update({ Runtime: 'python3.12' }), {
      status: 400,
      Code: 'InvalidParameterValueException',
      Message: 'The local mesh runs Node.js functions only, got Runtime python3.12.',
    });
    const config = await lambda.send(new GetFunctionConfigurationCommand({ FunctionName: 'updated' }));
    assert.equal(config.Role, `arn:aws:iam::${ACCOUNT}:role/updated-role`);
    assert.equal(config.Runtime, 'nodejs20.x');
  });

  it('every operation it does not serve, as the SDK sends it, is refused naming that operation', async () => {
    // Enough for any operation's path: the SDK refuses to send a request whose path misses a label.
    const labels = {
      FunctionName: 'updated',
      Name: 'live',
      LayerName: 'layer',
      VersionNumber: 1,
      UUID: '00000000-0000-0000-0000-000000000000',
      CodeSigningConfigArn: `arn:aws:lambda:us-east-1:${ACCOUNT}:code-signing-config:csc-0123456789abcdef0`,
      StatementId: 'sid',
      Resource: `${ARN}:updated`,
      ResourceArn: `${ARN}:updated`,
      CapacityProviderName: 'provider',
      DurableExecutionArn: `${ARN}:updated:1/durable-execution/x/y`,
      CallbackId: 'callback',
      Arn: `arn:aws:lambda:us-east-1:${ACCOUNT}:layer:layer:1`,
      Qualifier: 'live',
    };
    const unserved = Object.entries(lambdaSdk)
      .filter(([name]) => /^[A-Z][A-Za-z]+Command$/.test(name))
      .map(([name, command]) => [name.slice(0, -'Command'.length), command] as const)
      .filter(([operation]) => !SUPPORTED_LAMBDA_OPERATIONS.includes(operation));
    assert.ok(unserved.length > 40, `${unserved.length} unserved operations`);
    for (const [operation, Command] of unserved) {
      const err = await rejection<AwsFailure>(() => lambda.send(new (Command as new (input: object) => never)(labels)));
      assert.deepEqual(
        { status: err.$metadata?.httpStatusCode, name: err.name, message: err.message },
        {
          status: 501,
          name: 'UnknownOperationException',
          message: `lambda-mesh local endpoint does not support Lambda.${operation}`,
        },
        operation,
      );
    }
  });

  // test_lambda.py::TestLambdaErrors::test_lambda_invoke_payload_encoding_error: Lambda's JSON parser
  // refuses bytes that are not UTF-8 ("Invalid UTF-8 start byte 0x87"), inside a JSON string too.
  it('Invoke: a payload that is not UTF-8 is refused, even where it would be JSON', async () => {
    const prefix = 'Could not parse request body into json: Could not parse payload into json: ';
    for (const [bytes, fault] of [
      [[0x22, 0x87, 0x22], 'Invalid UTF-8 start byte 0x87'],
      [[0x7b, 0x22, 0x63, 0x61, 0x66, 0xe9, 0x22, 0x3a, 0x31, 0x7d], 'Invalid UTF-8 middle byte 0x22'],
    ] as const) {
      const err = await rejection<AwsFailure>(() =>
        lambda.send(new InvokeCommand({ FunctionName: 'updated', Payload: Buffer.from(bytes) })),
      );
      assert.deepEqual(
        { status: err.$metadata.httpStatusCode, name: err.name },
        { status: 400, name: 'InvalidRequestContentException' },
      );
      assert.ok(err.message.startsWith(`${prefix}${fault}`), err.message);
    }
    // UTF-8 of two, three and four bytes is taken as it is.
    const event = { name: 'café – 🚀' };
    const echoed = await lambda.send(
      new InvokeCommand({ FunctionName: 'updated', Payload: Buffer.from(JSON.stringify(event)) }),
    );
    assert.deepEqual(JSON.parse(Buffer.from(echoed.Payload ?? []).toString('utf8')), event);
  });
});
