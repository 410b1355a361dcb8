/**
 * An X-Ray trace header sent with one command of the AWS SDK for JavaScript v3, as `X-Amzn-Trace-Id`.
 * The SDK's recursion-detection middleware fills that header from _X_AMZN_TRACE_ID only when it is
 * absent, so the header given here wins: the caller's own subsegment is the parent of what the
 * request starts. Typed by shape, so the base imports no SDK.
 */

type Handler = (args: { request: unknown }) => Promise<unknown>;

/** The part of a command's middleware stack used here (its own typing has an overload per step). */
interface BuildStack {
  add(middleware: (next: Handler) => Handler, options: { step: 'build'; name: string }): void;
}

/** `command`, sending `header` (nothing changes without one). */
export function withTraceHeader<C extends { readonly middlewareStack: object }>(
  command: C,
  header: string | undefined,
): C {
  if (!header) return command;
  (command.middlewareStack as BuildStack).add(
    (next) => (args) => {
      const r = args.request as { headers?: Record<string, string> };
      if (r.headers) r.headers['X-Amzn-Trace-Id'] = header;
      return next(args);
    },
    { step: 'build', name: 'meshTraceHeader' },
  );
  return command;
}
