import { Annotations, Stack } from 'aws-cdk-lib';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { MeshErrorCode, MeshValidationError } from '../mesh-validation-error';

/** Application log levels above INFO: Lambda drops INFO lines under them. */
const ABOVE_INFO = new Set(['WARN', 'ERROR', 'FATAL']);

/**
 * The application log level of `fn` when it drops INFO lines: with the JSON log format, Lambda files
 * a line without a `level` as INFO ("Log-level filtering", AWS Lambda Developer Guide), and the mesh's
 * EMF metrics and access-log lines carry none.
 */
export function levelDroppingInfo(fn: lambda.Function): string | undefined {
  const config = Stack.of(fn).resolve((fn.node.defaultChild as lambda.CfnFunction).loggingConfig) as
    | { logFormat?: string; applicationLogLevel?: string }
    | undefined;
  if (config?.logFormat !== 'JSON' || !config.applicationLogLevel) return undefined;
  return ABOVE_INFO.has(config.applicationLogLevel) ? config.applicationLogLevel : undefined;
}

/**
 * Refuses a gated deployment whose function drops the mesh's lines (its SuccessRate gate would see no
 * calls, and a failing canary would pass it), and warns of any other such function (no metrics, no
 * access log for `mesh tap` and the dashboard).
 */
export function checkLogLevel(fn: lambda.Function, gated: boolean): void {
  const level = levelDroppingInfo(fn);
  if (!level) return;
  const what = `applicationLogLevel ${level} with the JSON log format drops the mesh's metrics and access-log lines: Lambda files a line without a level as INFO ("Log-level filtering", AWS Lambda Developer Guide)`;
  const fix =
    'set applicationLogLevelV2 to ApplicationLogLevel.INFO (DEBUG or TRACE keep them too), or use the Text log format';
  if (gated) {
    throw new MeshValidationError(
      MeshErrorCode.INVALID_DEPLOYMENT,
      `MeshFunction ${fn.node.path}: ${what}, so its deployment's SuccessRate gate would see no calls; ${fix}`,
      fn,
    );
  }
  Annotations.of(fn).addWarningV2('lambda-mesh:logLevelDropsTelemetry', `${what}; ${fix}`);
}
