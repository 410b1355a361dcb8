import { type AwsError, queryCompatibleError } from '../endpoint/errors';

/** CloudWatch's client errors used here: query code -> the API model's shape of it. */
const SHAPES = {
  InvalidParameterValue: 'InvalidParameterValueException',
  InvalidParameterCombination: 'InvalidParameterCombinationException',
  MissingParameter: 'MissingRequiredParameterException',
  InvalidNextToken: 'InvalidNextToken',
  /** The request framework's refusal of a value its model constrains (length, pattern, enum). */
  ValidationError: 'ValidationException',
} as const;

export type CloudWatchErrorCode = keyof typeof SHAPES;

/**
 * A client error as CloudWatch's JSON protocol writes it: the shape in the body, the query code in
 * `x-amzn-query-error` (recorded AWS responses: `InvalidParameterValue` is the code of
 * `InvalidParameterValueException`, and SetAlarmState's refusal of a state outside its enum is
 * `ValidationException` with code `ValidationError`; the others' pairs are the API model's).
 */
export function cloudWatchError(code: CloudWatchErrorCode, message: string): AwsError {
  return queryCompatibleError(SHAPES[code], code, 400, message);
}
