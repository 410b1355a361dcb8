/** Answers with its own service name: a call that reaches it passed the callee's identity check. */
export async function handler(): Promise<unknown> {
  return { service: process.env.MESH_SERVICE };
}
