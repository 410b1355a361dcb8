/**
 * Which member of an error body carries its message. AWS writes the one its service's model names, and
 * only that one: botocore lists an error's modelled members beside `Error`, so a second key shows. The
 * models disagree by service and even by error (AWS SDK for JavaScript v3 schemas, botocore's
 * service-2.json): Lambda's ResourceNotFoundException has `Message`, its InvalidParameterValueException
 * `message`; every Secrets Manager error has `Message`; DynamoDB's have `message` but for a few.
 * Errors no model names (ValidationException, SerializationException, ...) come from the request
 * framework, which writes `message`, as DynamoDB's `com.amazon.coral.validate#ValidationException` shows.
 */

export type MessageMember = 'message' | 'Message';

/** Per signing name, the error codes whose modelled message member is `Message`. */
const CAPITALISED: Readonly<Record<string, ReadonlySet<string>>> = {
  lambda: new Set([
    // Not in the model: IAM's refusal, and Lambda's own 403s, write `Message` (recorded Lambda answers).
    'AccessDeniedException',
    'CallbackTimeoutException',
    'CodeSigningConfigNotFoundException',
    'CodeVerificationFailedException',
    'DurableExecutionAlreadyStartedException',
    'EC2AccessDeniedException',
    'EC2ThrottledException',
    'EC2UnexpectedException',
    'EFSIOException',
    'EFSMountConnectivityException',
    'EFSMountFailureException',
    'EFSMountTimeoutException',
    'ENILimitReachedException',
    'ENINotReadyException',
    'InvalidCodeSignatureException',
    'InvalidRuntimeException',
    'InvalidSecurityGroupIDException',
    'InvalidSubnetIDException',
    'InvalidZipFileException',
    'KMSAccessDeniedException',
    'KMSDisabledException',
    'KMSInvalidStateException',
    'KMSNotFoundException',
    'NoPublishedVersionException',
    'PublicPolicyException',
    'RecursiveInvocationException',
    'ResourceInUseException',
    'ResourceNotFoundException',
    'ServiceException',
    'ServiceQuotaExceededException',
    'SnapStartException',
    'SnapStartNotReadyException',
    'SnapStartRegenerationFailureException',
    'SnapStartTimeoutException',
    'SubnetIPAddressLimitReachedException',
  ]),
  secretsmanager: new Set([
    'DecryptionFailure',
    'EncryptionFailure',
    'InternalServiceError',
    'InvalidNextTokenException',
    'InvalidParameterException',
    'InvalidRequestException',
    'LimitExceededException',
    'MalformedPolicyDocumentException',
    'PreconditionNotMetException',
    'PublicPolicyException',
    'ResourceExistsException',
    'ResourceNotFoundException',
  ]),
  // IAM's refusals come from AWS's front layer, which writes `Message` (recorded DynamoDB and SQS answers).
  dynamodb: new Set([
    'com.amazon.coral.service#AccessDeniedException',
    'IdempotentParameterMismatchException',
    'InvalidEndpointException',
    'TransactionCanceledException',
    'TransactionInProgressException',
  ]),
  sqs: new Set(['com.amazon.coral.service#AccessDeniedException']),
};

/** The member `service`'s model gives error `code` for its message; `message` where no model names one. */
export function messageMember(service: string, code: string): MessageMember {
  return CAPITALISED[service]?.has(code) ? 'Message' : 'message';
}
