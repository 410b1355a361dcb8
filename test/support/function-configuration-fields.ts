/**
 * The fields GetFunction's Configuration carries for a Zip function with no layers that was given an
 * Environment (AWS API reference, "FunctionConfiguration"; the set AWS returns for such a function; one
 * given no Environment has none).
 */
export const GET_FUNCTION_FIELDS = [
  'Architectures',
  'CodeSha256',
  'CodeSize',
  'Description',
  'Environment',
  'EphemeralStorage',
  'FunctionArn',
  'FunctionName',
  'Handler',
  'LastModified',
  'LastUpdateStatus',
  'LoggingConfig',
  'MemorySize',
  'PackageType',
  'RevisionId',
  'Role',
  'Runtime',
  'RuntimeVersionConfig',
  'SnapStart',
  'State',
  'Timeout',
  'TracingConfig',
  'Version',
];
