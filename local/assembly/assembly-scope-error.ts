/** A setting of the stacks the local mesh cannot serve as they are (two accounts); the message names the fix. */
export class AssemblyScopeError extends Error {
  override readonly name: string = 'AssemblyScopeError';
}
