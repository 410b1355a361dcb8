/**
 * The trace an invocation continues, as the function's side of X-Ray sees it. In Lambda the service
 * writes the function segment and sets _X_AMZN_TRACE_ID per invocation (Root + Parent = that segment,
 * and its sampling decision); the caller's metadata header only stands in when Lambda set none.
 *
 * The function never makes a sampling decision of its own: that is the job of the service that
 * received the request. A header without one is not traced, as the AWS X-Ray SDK for Node.js treats
 * such a header in Lambda (it sends nothing for it), so no subsegment ever points at a segment nobody wrote.
 */
import { parseTraceHeader, type TraceContext } from '../../../shared/trace-header';

export { lambdaTraceHeader } from '../../../shared/trace-header';

export function invocationTrace(
  lambdaHeader: string | undefined,
  callerHeader: string | undefined,
): TraceContext | undefined {
  const header = parseTraceHeader(lambdaHeader) ?? parseTraceHeader(callerHeader);
  return header && { ...header, sampled: header.sampled ?? false };
}
