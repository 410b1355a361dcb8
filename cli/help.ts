/** Usage text for `mesh --help`, `mesh <command> --help` and `mesh help <command>`. */

/** How alias weights and route items share the split, said once for every command that moves the alias. */
function splitRule(refusing: string): string {
  return `Who decides the split: a route item with weights decides it for every caller in the mesh, and
the live alias's weights (what shift, promote, rollback, rollout and CodeDeploy move) then reach only
callers outside it. While the service has such a route item, ${refusing} (exit 2),
naming the command that removes it: \`mesh policy delete <service> route\`. Header matches come first.`;
}
const SPLIT_RULE = splitRule('this command refuses');

const AWS_FLAGS = `AWS flags:
  --mesh <name>          pick a mesh when several are deployed (found by MESH_NAME on functions)
  --region <region>      AWS region (default: AWS_REGION, the profile, or us-east-1 with an endpoint)
  --endpoint-url <url>   send calls here (LocalStack, \`mesh local\`); also AWS_ENDPOINT_URL[_<SERVICE>]
  --no-color             plain text at a terminal too (also NO_COLOR=1; output to a pipe or --json never has colour)
  -h, --help             show this help`;

export const COMMAND_HELP: Readonly<Record<string, string>> = {
  status: `mesh status [--watch [--interval 2s] [--count n]] [--json] [AWS flags]

Shows the mesh: each service, its function, published versions, the live alias's weights, and the
policy (who may call whom, denies, routes, traffic overrides). Then, per edge, what the mesh applies
and the item that decides it: the split (a route item's weights for callers in the mesh, else the live
alias) and each traffic setting not at its default. Precedence: an operator's item overrides a
deploy-time item for the same setting; within one owner the edge (allow#<source>) overrides the
service (traffic). A gated deploy in progress (CodeDeploy shifting a live alias) shows its config,
step, time to the next shift and its alarms' states.

  --watch                read and show it again every --interval until Ctrl-C: redrawn in place on a
                         terminal, appended under a time-stamped separator line when piped
  --interval <duration>  time between refreshes with --watch (default 2s)
  --count <n>            with --watch, stop after n refreshes
  --json                 print the status as JSON (\`effective\`: every setting with its origin); with
                         --watch, one object per line

Examples:
  mesh status --endpoint-url http://127.0.0.1:4566
  mesh status --watch --interval 5s

${AWS_FLAGS}`,
  shift: `mesh shift <service> <weight> [--json] [AWS flags]

Sends <weight> percent (0-100) of the service's live alias traffic to its canary version
(UpdateAlias RoutingConfig.AdditionalVersionWeights); the stable version keeps the rest. The canary
is the version the alias already routes to, else the newest published version above the stable one.
Refused while a CodeDeploy deployment shifts the alias (\`mesh rollback\` stops it).

${SPLIT_RULE}

  --dry-run              read and plan, print the change, write nothing

Examples:
  mesh shift payments 10
  mesh shift payments 50 --json

${AWS_FLAGS}`,
  promote: `mesh promote <service> [--json] [AWS flags]

Makes the canary the stable version: live FunctionVersion = the canary, weights cleared. The alias's
Description records the version it replaced, so \`mesh rollback\` can return to it. An alias on
$LATEST moves to the newest published version. Refused while a CodeDeploy deployment shifts the alias.

${SPLIT_RULE}

  --dry-run              read and plan, print the change, write nothing

Example:
  mesh promote payments

${AWS_FLAGS}`,
  rollback: `mesh rollback <service> [--json] [AWS flags]

Clears the live alias's weights: the stable version takes 100% again. With no weights left after a
promote, live returns to the version the promote replaced (recorded on the alias); with neither,
nothing changes and it says how to point live at another version. While a CodeDeploy deployment
shifts the alias (a gated deploy), stops it instead (StopDeployment with rollback): CodeDeploy moves
live back to the version the deployment started from.

${SPLIT_RULE}

  --dry-run              read and plan, print the change, write nothing

Example:
  mesh rollback payments

${AWS_FLAGS}`,
  policy: `mesh policy <list|allow|deny|set|delete> ...

  mesh policy list [--service <s>] [--json]     the policy table's items
  mesh policy allow <from> <to> [--json]        let <from> call <to>: removes deny#<from>, adds allow#<from>
  mesh policy deny <from> <to> [--reason <text>] [--json]
                                                an operator deny#<from> on <to>; a deny wins over any allow
  mesh policy set <service> --file <policy.json> [--json]
                                                writes the file's items for <service>, all validated first;
                                                a route may name only published versions
  mesh policy delete <service> <item> [--force] [--json]
                                                removes one item by its sort key (route, traffic, fault,
                                                allow#<from>, deny#<from>, breaker#<version>); a deploy
                                                item needs --force, and the next deploy that updates the
                                                mesh's policy writes it again
Every write takes --dry-run: plan and validate, print what would change, write nothing.

<from> is a service or "external" (callers outside the mesh: API Gateway, SQS, a plain Invoke), or
"mesh-deploy-check", the pre-traffic check of gated deployments: \`mesh policy deny mesh-deploy-check
<service>\` freezes the service's deployments (the next one fails its check before any traffic moves);
\`mesh policy allow mesh-deploy-check <service>\` lifts the freeze. <to> is a service, or a channel
(a queue, topic or bus a service sends to or consumes): \`mesh policy deny orders order-events\`
refuses orders' sends to it (the sender checks the channel's items before sending).
A policy file is a JSON array of items (or {"items": [...]}), e.g.
  [{"sk":"traffic","timeoutMs":2000,"retries":{"maxAttempts":2},"rateLimit":{"perSecond":50,"burst":100}},
   {"sk":"allow#orders","fallback":{"functionArn":"arn:aws:lambda:eu-west-1:123456789012:function:shop-payments"}},
   {"sk":"route","weights":{"1":0.9,"2":0.1}}]
A rateLimit (requests per second, burst) holds for all callers' sandboxes together (traffic) or one
caller's (allow#<from>); over it calls fail fast with 429. A fallback (exactly one of service, version,
functionArn in another region; onFunctionError to include function errors) serves calls whose target
is unavailable. \`mesh stat\` counts both per edge (LIMITED, FALLBACK).
pk defaults to <service>; managedBy defaults to "operator".

Precedence of traffic settings: an operator's item overrides a deploy-time item for the same
setting; within one owner the edge (allow#<from>) overrides the service (traffic). \`mesh status\`
shows the result per edge, with where each value comes from.
${splitRule('shift, promote, rollback and rollout refuse')}

${AWS_FLAGS}`,
  local: `mesh local [--app <cmd>] [-c key=value] [--stage <path>] [--port <n>] [--assembly <dir>] [--watch] [--deployment-speed <n>] [--no-iam] [--quiet]

Synthesizes the CDK app in this folder into cdk.out (cdk.json's app command, or --app <cmd>, with the
local mesh's account and region) and runs it as a local mesh: every function in its own worker, one
AWS-compatible endpoint. Point the CLI and the AWS CLI at it with AWS_ENDPOINT_URL=<url>. Ctrl-C stops it.

  --app <cmd>            the CDK app command (default: cdk.json's "app")
  -c, --context <k=v>    CDK context for the synth (repeatable), e.g. -c release=1
  -o, --output <dir>     where to synthesize (default: cdk.out)
  --stage <path>         serve one CDK Stage of the app (Dev, Pipeline/Dev; its id alone when unique):
                         the local mesh serves one account, so an app with a stage per account runs a
                         stage at a time
  --port <n>             endpoint port (default: 4566; 0: any free port)
  --assembly <dir>       serve an existing cloud assembly; skip synth (repeat to apply in order)
  --watch                on every edit of the app's sources (cdk.json's "watch"), synthesize again and
                         deploy into the running mesh: endpoint, table, secrets and telemetry stay
  --deployment-speed <n>
                         run gated deployments (CodeDeploy's schedule, hook time-outs, alarm periods) n
                         times faster than AWS, e.g. 10: a 5-minute canary bakes 30 s (default 1)
  --no-iam               do not hold each function to the IAM its template grants (held by default:
                         a call its role was not granted is refused with AccessDeniedException)
  --quiet                no live terminal view

Example:
  mesh local --port 4566`,
  rollout: `mesh rollout <service> [args]  progressive canary with metric gates; see \`mesh rollout --help\``,
  stat: `mesh stat [args]   per-edge golden metrics (requests, success rate, latency); see \`mesh stat --help\``,
  trace: `mesh trace [args]  recent traces through the mesh; see \`mesh trace --help\``,
  tap: `mesh tap [args]    the mesh's calls as they happen; see \`mesh tap --help\``,
  check: `mesh check [args]  checks the mesh's health and configuration; see \`mesh check --help\``,
};

export const MAIN_HELP = `mesh — the operator's CLI for Lambda Mesh

Usage: mesh <command> [args] [flags]

Commands:
  status [--watch]               services, versions, live alias weights, policy summary
  shift <service> <weight>       send <weight>% (0-100) of live traffic to the canary
  promote <service>              make the canary the stable version
  rollback <service>             all traffic back to the stable version (stops a gated deploy)
  rollout <service>              progressive canary: step weights on metric gates, promote or roll back
  policy list|allow|deny|set|delete
                                 read and change who may call whom, routes, traffic policy
  local                          run the CDK app in this folder as a local mesh
  stat                           per-edge golden metrics
  trace                          recent traces
  tap [<service>]                the mesh's calls as they happen (the access log, followed)
  check                          health and configuration checks
  help <command>                 help for one command

Every command takes --help; every write takes --dry-run. Exit codes: 0 ok, 1 AWS or environment failure, 2 bad input (nothing written).
Discovery: mesh functions are found by their MESH_NAME / MESH_SERVICE environment; no ARNs to copy.
`;
