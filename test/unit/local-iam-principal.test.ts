/**
 * Which statements of a resource policy speak to a role's session in the resource's own account, as
 * IAM matches a Principal ("AWS JSON policy elements: Principal", IAM User Guide): each case a statement
 * that names the caller and one that does not.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { statementsFor } from '../../local/endpoint/iam-principal';

const ROLE = 'arn:aws:iam::000000000000:role/caller-role';
const SESSION = 'arn:aws:sts::000000000000:assumed-role/caller-role/app-caller';
const CALLER = { accountId: '000000000000', arns: [ROLE, SESSION] };
const named = (statement: object) => statementsFor([{ Statement: [statement] }], CALLER).Statement.length === 1;

describe('resource policy principals', () => {
  it('the role, its session and `*` name the caller; another role does not', () => {
    assert.equal(named({ Effect: 'Allow', Principal: { AWS: ROLE } }), true);
    assert.equal(named({ Effect: 'Allow', Principal: { AWS: [SESSION] } }), true);
    assert.equal(named({ Effect: 'Allow', Principal: '*' }), true);
    assert.equal(named({ Effect: 'Allow', Principal: { AWS: '*' } }), true);
    assert.equal(named({ Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::000000000000:role/other' } }), false);
  });

  it('the account names its roles for a Deny, not for an Allow (which leaves it to their own policies)', () => {
    assert.equal(named({ Effect: 'Deny', Principal: { AWS: 'arn:aws:iam::000000000000:root' } }), true);
    assert.equal(named({ Effect: 'Deny', Principal: { AWS: '000000000000' } }), true);
    assert.equal(named({ Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::000000000000:root' } }), false);
    assert.equal(named({ Effect: 'Deny', Principal: { AWS: 'arn:aws:iam::111111111111:root' } }), false);
  });

  it('a service principal never names a role; NotPrincipal names every caller it leaves out', () => {
    assert.equal(named({ Effect: 'Allow', Principal: { Service: 'secretsmanager.amazonaws.com' } }), false);
    assert.equal(named({ Effect: 'Deny', NotPrincipal: { AWS: 'arn:aws:iam::000000000000:role/owner' } }), true);
    assert.equal(named({ Effect: 'Deny', NotPrincipal: { AWS: [ROLE, SESSION] } }), false);
    assert.equal(named({ Effect: 'Deny' }), false);
  });
});
