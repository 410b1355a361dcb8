/**
 * The credentials each local sandbox runs with. Lambda gives a function the session of its execution
 * role ("Lambda execution role", AWS Lambda Developer Guide); here each function gets an access key id
 * that the endpoint maps back to the function and its role, so a request can be judged by what the
 * role's policies grant. A request signed with any other key (the operator's `test`, the aws CLI, a
 * test) is no sandbox's: it is not evaluated, as an administrator's request would pass.
 */
import { createHash } from 'node:crypto';

/** Who a sandbox's request comes from, as IAM names the caller. */
export interface SandboxPrincipal {
  readonly functionName: string;
  /** The execution role's name: the last part of its ARN. */
  readonly roleName: string;
  readonly roleArn: string;
  readonly accountId: string;
  /** `arn:aws:sts::<account>:assumed-role/<role>/<function>`, the session Lambda assumes. */
  readonly arn: string;
  /** A mesh function's service and its mesh's policy table, for the fix a refusal names. */
  readonly mesh?: SandboxMesh;
}

export interface SandboxMesh {
  readonly service: string;
  readonly policyTable: string;
}

export interface SandboxKeys {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken: string;
}

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

export class SandboxCredentials {
  private readonly byKey = new Map<string, SandboxPrincipal>();

  /**
   * The keys of `functionName` running as `roleArn`; the same function and role always get the same
   * key id (a worker started again signs as the one before). A function without a role gets none.
   */
  issue(
    functionName: string,
    roleArn: string | undefined,
    accountId: string,
    mesh?: SandboxMesh,
  ): SandboxKeys | undefined {
    const roleName = roleArn?.split('/').pop();
    if (!roleArn || !roleName) return undefined;
    const accessKeyId = keyIdOf(`${roleArn}\0${functionName}`);
    this.byKey.set(accessKeyId, {
      functionName,
      roleName,
      roleArn,
      accountId,
      arn: `arn:aws:sts::${accountId}:assumed-role/${roleName}/${functionName}`,
      ...(mesh ? { mesh } : {}),
    });
    return { accessKeyId, secretAccessKey: 'local', sessionToken: `local-session-${accessKeyId}` };
  }

  /** The sandbox that signs with `accessKeyId`; undefined for any key no sandbox was given. */
  principalOf(accessKeyId: string | undefined): SandboxPrincipal | undefined {
    return accessKeyId === undefined ? undefined : this.byKey.get(accessKeyId);
  }
}

/** `ASIA` and 16 base32 characters, the shape of a temporary key id (a session's, as Lambda's are). */
function keyIdOf(seed: string): string {
  const digest = createHash('sha256').update(seed).digest();
  let id = 'ASIA';
  for (let i = 0; i < 16; i++) id += BASE32[digest[i]! % 32];
  return id;
}
