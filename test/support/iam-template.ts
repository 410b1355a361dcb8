/**
 * Pieces of a one-stack template for IAM on the local mesh: a role Lambda may assume (with inline
 * statements of its own, or none), a function of inline code run by a role, and a refusal awaited.
 */
import assert from 'node:assert/strict';

export const arnOf = (id: string) => ({ 'Fn::GetAtt': [id, 'Arn'] });

export function role(name: string, statements: unknown[] = []) {
  return {
    Type: 'AWS::IAM::Role',
    Properties: {
      RoleName: name,
      AssumeRolePolicyDocument: { Statement: [{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' } }] },
      ...(statements.length > 0
        ? { Policies: [{ PolicyName: 'Own', PolicyDocument: { Statement: statements } }] }
        : {}),
    },
  };
}

/** A function answering "ok", run by the role of logical id `roleId`. */
export function fn(name: string, roleId: string) {
  return {
    Type: 'AWS::Lambda::Function',
    Properties: {
      FunctionName: name,
      Runtime: 'nodejs22.x',
      Handler: 'index.handler',
      Role: arnOf(roleId),
      Code: { ZipFile: 'exports.handler = async () => "ok";' },
    },
  };
}

export interface Failure extends Error {
  $metadata: { httpStatusCode?: number };
}

/** The error a call fails with; a call that is served fails the test. */
export const failureOf = (p: Promise<unknown>) =>
  p.then(
    () => assert.fail('served'),
    (e: Failure) => e,
  );
