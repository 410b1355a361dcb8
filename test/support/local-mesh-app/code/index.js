// Handlers of the local mesh's fixture app: each shows one Lambda behaviour the local runtime must copy.

const { readFileSync } = require('node:fs');

/** Proves the environment: layer module via NODE_PATH, /opt rewriting, Lambda's variables, context. */
exports.hello = async (event, context) => {
  const { greet } = require('fixture-greeting');
  return {
    greeting: greet(event?.name),
    file: readFileSync(process.env.GREETING_FILE, 'utf8').trim(),
    release: process.env.RELEASE,
    env: {
      name: process.env.AWS_LAMBDA_FUNCTION_NAME,
      version: process.env.AWS_LAMBDA_FUNCTION_VERSION,
      memory: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
      region: process.env.AWS_REGION,
      handler: process.env._HANDLER,
      executionEnv: process.env.AWS_EXECUTION_ENV,
      taskRoot: process.env.LAMBDA_TASK_ROOT,
      endpoint: process.env.AWS_ENDPOINT_URL,
      trace: process.env._X_AMZN_TRACE_ID,
      xray: process.env.AWS_XRAY_DAEMON_ADDRESS,
      table: process.env.TABLE_NAME,
      tableArn: process.env.TABLE_ARN,
      secret: process.env.SECRET_ID,
      peer: process.env.PEER_ARN,
    },
    context: {
      awsRequestId: context.awsRequestId,
      invokedFunctionArn: context.invokedFunctionArn,
      remaining: context.getRemainingTimeInMillis(),
      clientContext: context.clientContext,
    },
    pid: process.pid,
  };
};

/** Never finishes within its 1 s timeout. */
exports.slow = async (event) => {
  await new Promise((r) => setTimeout(r, event?.ms || 5000));
  return { done: true };
};

/** Dies mid-invocation when asked; otherwise answers with its pid (to see the replacement). */
exports.crash = async (event) => {
  if (event?.crash) process.exit(7);
  if (event?.throw) throw new RangeError('asked to throw');
  return { pid: process.pid };
};

/** Holds its single environment (reserved concurrency 1) for a while: a second caller is throttled. */
exports.busy = async (event) => {
  await new Promise((r) => setTimeout(r, event?.ms || 500));
  return { pid: process.pid };
};

/** Calls another function through the local endpoint with the SDK, as mesh runtimes do. */
exports.caller = async (event) => {
  const { LambdaClient, InvokeCommand } = require('@aws-sdk/client-lambda');
  const client = new LambdaClient({ endpoint: process.env.AWS_ENDPOINT_URL, region: process.env.AWS_REGION });
  const r = await client.send(
    new InvokeCommand({ FunctionName: process.env.PEER_ARN, Payload: Buffer.from(JSON.stringify(event || {})) }),
  );
  return { status: r.StatusCode, executed: r.ExecutedVersion, body: JSON.parse(Buffer.from(r.Payload).toString()) };
};

/** Reads one item of the table with the SDK: its role may or may not have been granted the read. */
exports.reader = async () => {
  const { DynamoDBClient, GetItemCommand } = require('@aws-sdk/client-dynamodb');
  const client = new DynamoDBClient({ endpoint: process.env.AWS_ENDPOINT_URL, region: process.env.AWS_REGION });
  const Key = { pk: { S: 'fixture-hello' }, sk: { S: 'allow#external' } };
  try {
    const r = await client.send(new GetItemCommand({ TableName: process.env.TABLE_NAME, Key }));
    return { source: r.Item?.source?.S };
  } catch (err) {
    return { error: err.name, status: err.$metadata?.httpStatusCode, message: err.message };
  }
};

/** Prints one EMF line per call, in a mesh's namespace (`LambdaMesh/<meshName>`), as the runtime's telemetry does. */
exports.metrics = async (event) => {
  console.log(
    JSON.stringify({
      _aws: {
        Timestamp: Date.now(),
        CloudWatchMetrics: [
          {
            Namespace: 'LambdaMesh/fixture',
            Dimensions: [
              ['source_workload', 'destination_workload', 'destination_version', 'response_code', 'reporter'],
            ],
            Metrics: [
              { Name: 'requests_total', Unit: 'Count' },
              { Name: 'request_duration_ms', Unit: 'Milliseconds' },
            ],
          },
        ],
      },
      source_workload: event?.source || 'external',
      destination_workload: 'metrics',
      destination_version: process.env.AWS_LAMBDA_FUNCTION_VERSION,
      response_code: '200',
      reporter: 'destination',
      requests_total: 1,
      request_duration_ms: 3,
    }),
  );
  return { ok: true };
};

/** Returns its event: the smallest function, for round-trip benchmarks. */
exports.echo = async (event) => event;

/** Leaves a rejected promise nobody handles: Lambda fails the invocation and ends the environment. */
exports.reject = async () => {
  Promise.reject(new TypeError('nobody catches this'));
  await new Promise((r) => setTimeout(r, 200));
  return { unreachable: true };
};
