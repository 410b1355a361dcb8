/**
 * The environment entry that keeps a child process out of V8 coverage (c8). Node copies
 * NODE_V8_COVERAGE into the environment of every process it starts unless that environment names the
 * variable itself (Node.js documentation, "Child process", options.env): an environment built without
 * it still gets it. Named as undefined, it is not passed on.
 */
export const WITHOUT_COVERAGE: NodeJS.ProcessEnv = { NODE_V8_COVERAGE: undefined };
