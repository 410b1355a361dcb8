/**
 * A CloudWatch dashboard of the mesh's golden metrics and per-service alarms for canary tooling.
 *
 * The dashboard graphs the runtime's EMF metrics (the mesh's own namespace, `LambdaMesh/<meshName>`)
 * with metric math over SEARCH expressions, because the dimension values a call carries (destination
 * version, response code) are only known at run time: per edge, requests, success rate and p50/p99 as the reporter that sees the
 * edge reports them (the caller for a mesh caller; the callee for callers outside the mesh, which
 * report nothing themselves), with its retries, breaker opens, rate-limited calls and the calls it served
 * as a fallback; every denied edge, declared or not; per service, mirror copies apart
 * from requests; per canary service, each version's share and success rate. Each query names one of
 * the standard dimension sets (per edge, per callee version), which every `metricDimensions` setting
 * publishes, and matches what the runtime emits (test/integration/dashboard-queries.test.ts holds them
 * to the local mesh's EMF lines).
 *
 * That is a widget per edge and per service. Past CloudWatch's 500 widgets or the body's budget (kept so
 * the mesh's template stays well under CloudFormation's 1 MB; infra/private/dashboard-budget.ts), the
 * dashboard takes its compact form instead (infra/private/compact-dashboard.ts): graphs whose lines are
 * edges or versions, a row of them per group of services, and synth notes it.
 *
 * Alarms cannot use SEARCH, and Metrics Insights has no percentiles, so the alarms watch the metrics
 * Lambda itself publishes for each service's function as a whole (Invocations, Errors, Throttles,
 * Duration p99; dimension FunctionName alone: every version and alias, so calls a route item sends to
 * a version are watched as well as those through `live`). Every service gets them unless `alarms: false`.
 *
 * Services and edges come from `addService` / `addEdge`, and, unless `discover: false`, from the app
 * itself at synth: every function whose environment has MESH_NAME = this mesh and every
 * `allow#<source>` item of a Custom::MeshPolicy resource (docs/wire-contract.md).
 */
import { Annotations, Duration, type IResolvable, Stack, Token } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { Construct, type IConstruct } from 'constructs';
import { ENV, METRICS, metricNamespace, POLICY_RESOURCE_TYPE, SORT_KEY } from '../shared/names';
import { callerReportsItself } from '../shared/telemetry/metric-dimensions';
import { futurePath, MeshErrorCode, MeshValidationError } from './mesh-validation-error';
import { besideFunction } from './private/beside-function';
import { compactRows, type ReportedEdge } from './private/compact-dashboard';
import {
  DASHBOARD_BODY_BUDGET,
  DASHBOARD_WIDGETS_MAX,
  type DashboardSize,
  dashboardSize,
  withinLimits,
} from './private/dashboard-budget';
import {
  graphExpression,
  type MeshQuerySchemas,
  meshQuerySchemas,
  q,
  searchExpression,
} from './private/dashboard-queries';

/** A service's alarms: success rate and p99 latency of its function (every version and alias). */
export interface ServiceAlarms {
  /** Fires when the function's success rate falls below `successRateThreshold`. */
  readonly successRate: cloudwatch.Alarm;
  /** Fires when the function's p99 duration rises above `p99ThresholdMs`. */
  readonly p99Latency: cloudwatch.Alarm;
}

/** How one service is graphed. */
export interface MeshDashboardServiceOptions {
  /**
   * The service's function name.
   * @default `${meshName}-${service}`
   */
  readonly functionName?: string;
  /**
   * Versions to graph one by one (a canary's stable and new version; tokens are fine).
   * @default none — the per-version widget then shows whatever versions report traffic
   */
  readonly versions?: readonly string[];
}

/** Settings of the dashboard and alarms (`MeshOptions.dashboard` for the one every `Mesh` has). */
export interface MeshDashboardOptions {
  /**
   * Name of the CloudWatch dashboard.
   * @default `${meshName}-mesh`
   */
  readonly dashboardName?: string;
  /**
   * Success rate, in percent, below which a service's alarm fires.
   * @default 99
   */
  readonly successRateThreshold?: number;
  /**
   * p99 latency of the live alias, in milliseconds, above which a service's alarm fires.
   * @default 1000
   */
  readonly p99ThresholdMs?: number;
  /**
   * Periods the alarms evaluate (of `period` each); all must breach.
   * @default 3
   */
  readonly evaluationPeriods?: number;
  /**
   * Period of the graphs and alarms.
   * @default Duration.minutes(1)
   */
  readonly period?: Duration;
  /**
   * The `response_code` values that count as success in the per-version success-rate graphs (the
   * per-edge graphs count `request_errors_total`: every status from 400 up).
   * @default ['200', '201', '202', '204']
   */
  readonly successCodes?: readonly string[];
  /**
   * Find the mesh's services and edges in the app at synth (MESH_NAME env, Custom::MeshPolicy items).
   * @default true
   */
  readonly discover?: boolean;
  /**
   * Give every service its success-rate and p99 alarms (`alarmsFor`) at synth.
   * @default true
   */
  readonly alarms?: boolean;
}

/** Props of a standalone `MeshDashboard`. */
export interface MeshDashboardProps extends MeshDashboardOptions {
  /** The mesh's name (MESH_NAME): the graphs read its namespace, `LambdaMesh/<meshName>`, and no other. */
  readonly meshName: string;
  /**
   * The mesh whose functions and edges to graph (its own record, more exact than discovery).
   * @default none — discovery (and addService / addEdge) only
   */
  readonly mesh?: MeshTopology;
}

/** What the dashboard reads from a `Mesh` (infra/mesh.ts), without importing it. */
export interface MeshTopology {
  /** The mesh's name (MESH_NAME). */
  readonly meshName: string;
  /** Runs the hook for every function of the mesh, present and future. */
  onFunction?(hook: (fn: MeshTopologyFunction) => void): void;
  /** The deploy-time policy items: `allow#<source>` items are the edges. */
  policyItems?(): readonly MeshTopologyItem[];
}

/** The key of a policy item: the service (`pk`) and the kind of item (`sk`, e.g. `allow#orders`). */
export interface MeshTopologyItem {
  readonly pk: string;
  readonly sk: string;
}

/** A canary as the dashboard sees it. */
export interface MeshTopologyCanary {
  /** The published version that keeps the rest of the traffic. */
  readonly stableVersion: string;
}

/** A published version as the dashboard sees it. */
export interface MeshTopologyVersion {
  /** The version number (a token is fine). */
  readonly version: string;
}

/** What the dashboard reads from a `MeshFunction`. */
export interface MeshTopologyFunction {
  /** Its service name in the mesh. */
  readonly service: string;
  /** Its function name (a token is fine). */
  readonly functionName: string;
  /** A canary's stable version; with `version`, the two versions are graphed one by one. */
  readonly canary?: MeshTopologyCanary;
  /** This deploy's new version. */
  readonly version?: MeshTopologyVersion;
  /** The channels (queues, topics, buses) it sends to, by mesh name; read at synth. */
  readonly sendsTo?: readonly string[];
  /** The channels it consumes, by mesh name; read at synth. */
  readonly receivesFrom?: readonly string[];
}

/**
 * A CloudWatch dashboard of a mesh's golden metrics per edge and per canary version, and per-service
 * alarms on the `live` alias. Every `Mesh` has one (`mesh.dashboard`); make one yourself to graph a
 * mesh from another stack or app.
 */
export class MeshDashboard extends Construct {
  /** The CloudWatch dashboard (widgets are added at synth, once every service and edge is known). */
  readonly dashboard: cloudwatch.Dashboard;
  /** The mesh it graphs. */
  readonly meshName: string;
  private readonly props: MeshDashboardProps;
  private readonly period: Duration;
  /** The queries' schemas: the mesh's own namespace, apart from any other mesh's in the account. */
  private readonly schemas: MeshQuerySchemas;
  private readonly services = new Map<string, MeshDashboardServiceOptions>();
  private readonly edges = new Map<string, { source: string; target: string }>();
  /** The mesh's functions as the topology gave them, and as discovery found them (channels are read at synth). */
  private readonly topology: MeshTopologyFunction[] = [];
  private readonly discovered: MeshTopologyFunction[] = [];
  private readonly alarms = new Map<string, ServiceAlarms>();
  /** The mesh's own function of each service (not one discovery found): its alarms go in its stack (a nested stack's). */
  private readonly owners = new Map<string, IConstruct>();
  private rendered = false;

  constructor(scope: Construct, id: string, props: MeshDashboardProps) {
    const path = futurePath(scope, id);
    const refuse = (message: string) =>
      new MeshValidationError(MeshErrorCode.INVALID_DASHBOARD_OPTION, `MeshDashboard ${path}: ${message}`, path);
    const threshold = props.successRateThreshold;
    if (threshold !== undefined && !Token.isUnresolved(threshold) && !(threshold > 0 && threshold <= 100)) {
      throw refuse(`successRateThreshold must be a percentage between 0 and 100, got ${threshold}`);
    }
    if (
      props.p99ThresholdMs !== undefined &&
      !Token.isUnresolved(props.p99ThresholdMs) &&
      !(props.p99ThresholdMs > 0)
    ) {
      throw refuse(`p99ThresholdMs must be a positive number of milliseconds, got ${props.p99ThresholdMs}`);
    }
    if (
      props.evaluationPeriods !== undefined &&
      !(Number.isInteger(props.evaluationPeriods) && props.evaluationPeriods >= 1)
    ) {
      throw refuse(`evaluationPeriods must be a whole number of at least 1, got ${props.evaluationPeriods}`);
    }
    super(scope, id);
    this.props = props;
    this.meshName = props.meshName;
    this.period = props.period ?? Duration.minutes(1);
    this.schemas = meshQuerySchemas(props.meshName);
    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      dashboardName: props.dashboardName ?? (Token.isUnresolved(props.meshName) ? undefined : `${props.meshName}-mesh`),
      defaultInterval: Duration.hours(3),
    });
    // Widgets are added once the app is complete: services and edges may be declared after this
    // construct. The dashboard body is resolved after validation, so widgets added here still land.
    // The function's own name (a Ref token is fine in alarm dimensions), in case it was given literally.
    props.mesh?.onFunction?.((fn) => {
      this.topology.push(fn);
      if (fn instanceof Construct) this.owners.set(fn.service, fn);
      this.addService(fn.service, {
        functionName: fn.functionName,
        ...(fn.canary && fn.version ? { versions: [fn.canary.stableVersion, fn.version.version] } : {}),
      });
    });
    this.node.addValidation({
      validate: () => {
        this.render();
        return [];
      },
    });
  }

  /** Adds a service (idempotent; later options win). */
  addService(service: string, options: MeshDashboardServiceOptions = {}): this {
    this.services.set(service, { ...this.services.get(service), ...options });
    return this;
  }

  /** Adds an edge: `source` calls `target` (idempotent). */
  addEdge(source: string, target: string): this {
    this.edges.set(`${source}->${target}`, { source, target });
    this.addService(target);
    if (callerReportsItself(source)) this.addService(source);
    return this;
  }

  /**
   * The alarms of a service's function: success rate below the threshold, p99 latency above it, over
   * every version and alias (a version a route item picks is watched as well as `live`). Every service
   * gets them at synth unless `alarms: false`; asking again returns the same alarms, for canary
   * tooling (or an SNS action) to take.
   */
  alarmsFor(service: string): ServiceAlarms {
    const known = this.alarms.get(service);
    if (known) return known;
    this.addService(service);
    const id = service.replace(/[^A-Za-z0-9]/g, '');
    const owner = this.owners.get(service);
    const scope = owner ? besideFunction(this, owner) : this;
    // FunctionName alone: Lambda aggregates every version and alias of the function under it.
    const dims = () => ({ FunctionName: this.functionName(service) });
    const lambdaMetric = (metricName: string, statistic: string) =>
      new cloudwatch.Metric({
        namespace: 'AWS/Lambda',
        metricName,
        dimensionsMap: dims(),
        statistic,
        period: this.period,
      });
    const threshold = this.props.successRateThreshold ?? 99;
    const successRate = new cloudwatch.Alarm(scope, `${id}SuccessRate`, {
      alarmDescription: `Lambda Mesh ${this.meshName}: success rate of ${service} (all versions) below ${threshold}%`,
      metric: new cloudwatch.MathExpression({
        // No traffic is not a failure: 100% when there were no invocations in the period.
        expression:
          'IF(FILL(inv, 0) + FILL(thr, 0) > 0, 100 * (1 - (FILL(err, 0) + FILL(thr, 0)) / (FILL(inv, 0) + FILL(thr, 0))), 100)',
        usingMetrics: {
          inv: lambdaMetric('Invocations', 'Sum'),
          err: lambdaMetric('Errors', 'Sum'),
          thr: lambdaMetric('Throttles', 'Sum'),
        },
        label: `${service} success rate %`,
        period: this.period,
      }),
      threshold,
      comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
      evaluationPeriods: this.props.evaluationPeriods ?? 3,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    const p99Ms = this.props.p99ThresholdMs ?? 1000;
    const p99Latency = new cloudwatch.Alarm(scope, `${id}P99Latency`, {
      alarmDescription: `Lambda Mesh ${this.meshName}: p99 duration of ${service} (all versions) above ${p99Ms} ms`,
      metric: lambdaMetric('Duration', 'p99'),
      threshold: p99Ms,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: this.props.evaluationPeriods ?? 3,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    const alarms = { successRate, p99Latency };
    this.alarms.set(service, alarms);
    return alarms;
  }

  private functionName(service: string): string {
    return this.services.get(service)?.functionName ?? `${this.meshName}-${service}`;
  }

  /** SEARCH over one metric of the mesh namespace, narrowed by dimension values. */
  private search(set: string, metric: string, filters: Record<string, string>, stat: string, extra = ''): string {
    return searchExpression(set, metric, filters, stat, this.period, extra);
  }

  private successFilter(): string {
    const codes = this.props.successCodes ?? ['200', '201', '202', '204'];
    return `(${codes.map((c) => `response_code=${q(c)}`).join(' OR ')})`;
  }

  private expr(expression: string, label: string, color?: string): cloudwatch.MathExpression {
    return graphExpression(expression, label, this.period, color);
  }

  private edgeWidgets({ source, target, reporter }: ReportedEdge): cloudwatch.IWidget[] {
    const external = reporter === 'destination';
    const f = { source_workload: source, destination_workload: target, reporter };
    const edge = (metric: string, stat: string) => this.search(this.schemas.edge, metric, f, stat);
    const all = edge(METRICS.requestsTotal, 'Sum');
    // Every request of an edge carries request_errors_total (0 or 1): no response_code dimension needed.
    const errors = edge(METRICS.requestErrorsTotal, 'Sum');
    const title = `${source} → ${target}`;
    const widgets: cloudwatch.IWidget[] = [
      new cloudwatch.GraphWidget({
        title: `${title}: requests`,
        width: 6,
        left: [this.expr(`SUM(${all})`, 'requests')],
        right: [this.expr(`SUM(${edge(METRICS.deniedTotal, 'Sum')})`, 'denied', '#d62728')],
      }),
      new cloudwatch.GraphWidget({
        title: `${title}: success rate %`,
        width: 6,
        left: [this.expr(`100 * (1 - SUM(${errors}) / SUM(${all}))`, 'success %', '#2ca02c')],
        leftYAxis: { min: 0, max: 100 },
      }),
      new cloudwatch.GraphWidget({
        title: `${title}: latency ms`,
        width: 6,
        // One series per edge and reporter: MAX only picks it out of the SEARCH's array.
        left: [
          this.expr(`MAX(${edge(METRICS.requestDurationMs, 'p50')})`, 'p50'),
          this.expr(`MAX(${edge(METRICS.requestDurationMs, 'p99')})`, 'p99'),
        ],
      }),
    ];
    // Retries, breakers, rate limits and fallbacks belong to a mesh caller's client; a caller outside
    // the mesh has none of them. A fallback is counted on the edge to whatever served it (another
    // service, version, or this target's function in another region).
    if (!external) {
      widgets.push(
        new cloudwatch.GraphWidget({
          title: `${title}: retries, breaker opens, rate limited, fallbacks`,
          width: 6,
          left: [
            this.expr(`SUM(${edge(METRICS.retriesTotal, 'Sum')})`, 'retries'),
            this.expr(`SUM(${edge(METRICS.breakerOpenTotal, 'Sum')})`, 'breaker opens', '#d62728'),
            this.expr(`SUM(${edge(METRICS.rateLimitedTotal, 'Sum')})`, 'rate limited', '#ff7f0e'),
            this.expr(`SUM(${edge(METRICS.fallbackTotal, 'Sum')})`, 'served as a fallback', '#9467bd'),
          ],
        }),
      );
    }
    return widgets;
  }

  /**
   * Every edge with denied calls, declared or not (an undeclared edge has no widget of its own): one
   * series per edge and reporter. A caller in the mesh reports the calls it was refused; the callee
   * reports those it refused, under `unknown` when the caller could not be verified, or `external`.
   */
  private deniedWidget(): cloudwatch.IWidget {
    const series = `SEARCH('${this.schemas.edge} MetricName="${METRICS.deniedTotal}"', 'Sum', ${this.period.toSeconds()})`;
    return new cloudwatch.GraphWidget({
      title: 'denied calls by edge (declared or not)',
      width: 12,
      left: [
        this.expr(
          series,
          // biome-ignore lint/suspicious/noTemplateCurlyInString: a CloudWatch dynamic label, filled in by CloudWatch
          "${PROP('Dim.source_workload')} → ${PROP('Dim.destination_workload')} (${PROP('Dim.reporter')})",
        ),
      ],
    });
  }

  /** Mirror copies a service's versions served, apart from its requests (they are in none of its other graphs). */
  private mirrorWidget(service: string): cloudwatch.IWidget {
    const query = `SELECT SUM(${METRICS.mirrorRequestsTotal}) FROM ${this.schemas.versionInsights} WHERE destination_workload = '${service}' AND reporter = 'destination' GROUP BY destination_version`;
    const p99 = this.search(
      this.schemas.version,
      METRICS.mirrorRequestDurationMs,
      { destination_workload: service, reporter: 'destination' },
      'p99',
    );
    return new cloudwatch.GraphWidget({
      title: `${service}: mirror copies by version (not requests)`,
      width: 8,
      left: [this.expr(query, 'mirror copies')],
      right: [this.expr(`MAX(${p99})`, 'mirror p99 ms')],
    });
  }

  private versionWidgets(service: string, versions: readonly string[]): cloudwatch.IWidget[] {
    const base = { destination_workload: service, reporter: 'destination' };
    const perVersion = versions.map((v, i) => {
      const of = { ...base, destination_version: v };
      const all = this.search(this.schemas.version, METRICS.requestsTotal, of, 'Sum');
      const ok = this.search(this.schemas.versionCode, METRICS.requestsTotal, of, 'Sum', this.successFilter());
      return { v, i, all, ok };
    });
    const total = this.search(this.schemas.version, METRICS.requestsTotal, base, 'Sum');
    return [
      new cloudwatch.GraphWidget({
        title: `${service}: share of requests per version %`,
        width: 8,
        left: perVersion.map(({ v, all }) => this.expr(`100 * SUM(${all}) / SUM(${total})`, `v${v}`)),
        leftYAxis: { min: 0, max: 100 },
      }),
      new cloudwatch.GraphWidget({
        title: `${service}: success rate per version %`,
        width: 8,
        left: perVersion.map(({ v, all, ok }) => this.expr(`100 * SUM(${ok}) / SUM(${all})`, `v${v}`)),
        leftYAxis: { min: 0, max: 100 },
      }),
      new cloudwatch.GraphWidget({
        title: `${service}: p99 ms per version`,
        width: 8,
        left: versions.map((v) =>
          this.expr(
            `MAX(${this.search(this.schemas.version, METRICS.requestDurationMs, { ...base, destination_version: v }, 'p99')})`,
            `v${v}`,
          ),
        ),
      }),
    ];
  }

  /**
   * @internal Adds the widgets and alarms now, once: `Mesh` calls it before synthesis prepares the
   * templates, so the alarms of a function in a nested stack land in its template, and references to
   * nested stacks become their outputs; a dashboard of its own renders at validation.
   */
  public _render(): void {
    this.render();
  }

  private render(): void {
    if (this.rendered) return;
    this.rendered = true;
    const { services, edges } = this.graphed();
    if (this.props.alarms !== false) for (const s of services) this.alarmsFor(s);
    for (const row of this.fittingRows(services, edges)) this.dashboard.addWidgets(...row);
  }

  /** The services and edges to graph, once the app is complete: declared, the mesh's own, and discovered. */
  private graphed(): { services: string[]; edges: ReportedEdge[] } {
    const allowPrefix = SORT_KEY.allow('');
    for (const item of this.props.mesh?.policyItems?.() ?? []) {
      if (item.sk.startsWith(allowPrefix)) this.addEdge(item.sk.slice(allowPrefix.length), item.pk);
    }
    if (this.props.discover !== false) this.discover();
    // A channel's partition lists its senders: it is graphed as the senders' edge, not as a service.
    const channels = this.channels();
    for (const c of channels.names) this.services.delete(c);
    const edges = [...this.edges.values()]
      .sort((a, b) => a.source.localeCompare(b.source) || a.target.localeCompare(b.target))
      .map(({ source, target }) => {
        // A mesh caller reports every call it makes (denials it fails fast included); a caller outside
        // the mesh, or the pre-traffic check (a hook, not a meshed function), reports nothing, so its edge
        // is what the callee reports. A message through a channel is counted by its sender under the
        // channel's name, and by the consumer under the sender's: the consumer reports that edge.
        const external = !callerReportsItself(source) || channels.consumed(source, target);
        return { source, target, reporter: external ? ('destination' as const) : ('source' as const) };
      });
    return { services: [...this.services.keys()].sort(), edges };
  }

  /**
   * A widget per edge and per service while CloudWatch takes them and the body keeps to its budget; past
   * that, the compact form, with a note at synth; and an error when even that does not fit.
   */
  private fittingRows(services: readonly string[], edges: readonly ReportedEdge[]): cloudwatch.IWidget[][] {
    const alarms = [...this.alarms.values()].flatMap((a) => [a.successRate, a.p99Latency]);
    const here = Stack.of(this);
    const crossStack = alarms.filter((a) => Stack.of(a) !== here).length;
    const detailed = this.detailedRows(services, edges);
    const size = dashboardSize(this, detailed, crossStack);
    if (withinLimits(size)) return detailed;
    const compact = this.compactRows(services, edges);
    const compactSize = dashboardSize(this, compact, crossStack);
    const described = (s: DashboardSize) => `${s.widgets} widgets and ${Math.ceil(s.bytes / 1024)} KB`;
    const limits = `CloudWatch's ${DASHBOARD_WIDGETS_MAX} widgets or the ${DASHBOARD_BODY_BUDGET / 1024} KB budget of its body`;
    if (!withinLimits(compactSize)) {
      const versioned = services.filter((s) => (this.services.get(s)?.versions?.length ?? 0) > 0).length;
      throw new MeshValidationError(
        MeshErrorCode.DASHBOARD_TOO_LARGE,
        `MeshDashboard ${this.node.path}: even its compact form takes ${described(compactSize)}, past ${limits} ` +
          `(${services.length} services, ${edges.length} edges, ${alarms.length} alarms, ${versioned} services with versions graphed one by one, three widgets each). ` +
          'Graph versions one by one only for services in a canary (addService versions), set alarms: false ' +
          '(alarmsFor still gives a service its alarms), or split the mesh into meshes of fewer services',
        this,
      );
    }
    Annotations.of(this).addInfo(
      `lambda-mesh: the dashboard graphs ${edges.length} edges of ${services.length} services in its compact form, ` +
        `one line per edge or version in graphs of a group of services each (${described(compactSize)}): ` +
        `a widget per edge and per service would take ${described(size)}, past ${limits} (docs/observability.md)`,
    );
    return compact;
  }

  /** A widget per edge and per service (and per declared version), as a small mesh is graphed. */
  private detailedRows(services: readonly string[], edges: readonly ReportedEdge[]): cloudwatch.IWidget[][] {
    const rows: cloudwatch.IWidget[][] = [
      [
        new cloudwatch.TextWidget({
          width: 24,
          height: 2,
          markdown: `# Lambda Mesh ${this.meshName}\nGolden metrics per edge from the mesh's EMF metrics (namespace \`${metricNamespace(this.meshName)}\`, reported by the caller; for callers outside the mesh, by the callee); per-version canary split reported by the callee; mirror copies counted apart. Services: ${services.join(', ') || 'none'}.`,
        }),
      ],
    ];
    for (const e of edges) rows.push(this.edgeWidgets(e));
    rows.push([this.deniedWidget()]);
    for (const s of services) {
      // Every version, whatever it is called: a Metrics Insights query grouped by version.
      const query = `SELECT SUM(${METRICS.requestsTotal}) FROM ${this.schemas.versionInsights} WHERE destination_workload = '${s}' AND reporter = 'destination' GROUP BY destination_version`;
      const widgets: cloudwatch.IWidget[] = [
        new cloudwatch.GraphWidget({
          title: `${s}: requests by version`,
          width: 8,
          left: [this.expr(query, 'requests')],
        }),
        this.mirrorWidget(s),
      ];
      const alarms = this.alarms.get(s);
      if (alarms) {
        widgets.push(
          new cloudwatch.AlarmStatusWidget({
            title: `${s}: alarms`,
            width: 8,
            height: 4,
            alarms: [alarms.successRate, alarms.p99Latency],
          }),
        );
      }
      rows.push(widgets);
      rows.push(...this.declaredVersionRows(s));
    }
    return rows;
  }

  /** The compact form: graphs whose lines are edges or versions, a row of them per group of services. */
  private compactRows(services: readonly string[], edges: readonly ReportedEdge[]): cloudwatch.IWidget[][] {
    const text = new cloudwatch.TextWidget({
      width: 24,
      height: 3,
      markdown: `# Lambda Mesh ${this.meshName}\n${edges.length} edges of ${services.length} services, too many for a widget each: every graph below draws a line per edge (as its caller reports it; for callers outside the mesh, as the callee does) or per version, for the services its title names (docs/observability.md). Namespace \`${metricNamespace(this.meshName)}\`; mirror copies counted apart. Services: ${services.join(', ') || 'none'}.`,
    });
    const alarmsOf = (s: string) => {
      const a = this.alarms.get(s);
      return a ? [a.successRate, a.p99Latency] : [];
    };
    return [
      [text],
      [this.deniedWidget()],
      ...compactRows({ services, edges, period: this.period, schemas: this.schemas, alarmsOf }),
      ...services.flatMap((s) => this.declaredVersionRows(s)),
    ];
  }

  /** A canary's declared versions, one by one: share, success rate, p99. */
  private declaredVersionRows(service: string): cloudwatch.IWidget[][] {
    const versions = this.services.get(service)?.versions;
    return versions && versions.length > 0 ? [this.versionWidgets(service, versions)] : [];
  }

  /** The channels the mesh's functions send to, and whether an edge goes through one to its consumer. */
  private channels(): { names: Set<string>; consumed: (source: string, target: string) => boolean } {
    const fns = [...this.topology, ...this.discovered];
    const out = (s: string) => fns.filter((f) => f.service === s).flatMap((f) => f.sendsTo ?? []);
    const inbound = (s: string) => fns.filter((f) => f.service === s).flatMap((f) => f.receivesFrom ?? []);
    return {
      names: new Set(fns.flatMap((f) => f.sendsTo ?? [])),
      consumed: (source, target) => out(source).some((c) => inbound(target).includes(c)),
    };
  }

  /** Finds this mesh's functions (by MESH_NAME) and allow edges (Custom::MeshPolicy items) anywhere in the app. */
  private discover(): void {
    const root = this.node.root;
    const stack = Stack.of(this);
    const resolve = (v: unknown) => {
      try {
        return stack.resolve(v) as unknown;
      } catch {
        return undefined;
      }
    };
    type Cfn = IConstruct & { cfnResourceType?: string; _cfnProperties?: Record<string, unknown> };
    const all = root.node.findAll() as Cfn[];
    // This mesh's policy tables, as resolved references, so another mesh's items are left alone.
    const tables = new Set<string>();
    for (const c of all) {
      if (c.cfnResourceType === 'AWS::Lambda::Function') {
        const props = (c as unknown as { environment?: { variables?: Record<string, string> } | IResolvable })
          .environment;
        const vars = resolve(props) as { variables?: Record<string, unknown> } | undefined;
        const env = vars?.variables ?? {};
        if (env[ENV.meshName] !== this.meshName || typeof env[ENV.service] !== 'string') continue;
        const name = resolve((c as unknown as { functionName?: string }).functionName);
        const service = env[ENV.service] as string;
        if (env[ENV.policyTable] !== undefined) tables.add(JSON.stringify(env[ENV.policyTable]));
        const owner = c.node.scope;
        if (isTopologyFunction(owner)) this.discovered.push(owner);
        if (!this.services.get(service)?.functionName && typeof name === 'string')
          this.addService(service, { functionName: name });
        else this.addService(service);
      }
    }
    const allowPrefix = SORT_KEY.allow('');
    for (const c of all) {
      if (c.cfnResourceType === POLICY_RESOURCE_TYPE) {
        const table = JSON.stringify(resolve(c._cfnProperties?.TableName));
        if (!tables.has(table)) continue;
        const raw = resolve(c._cfnProperties?.Items);
        if (typeof raw !== 'string') continue;
        let items: unknown;
        try {
          items = JSON.parse(raw);
        } catch {
          continue;
        }
        if (!Array.isArray(items)) continue;
        for (const item of items as { pk?: unknown; sk?: unknown }[]) {
          if (typeof item?.pk !== 'string' || typeof item.sk !== 'string' || !item.sk.startsWith(allowPrefix)) continue;
          this.addEdge(item.sk.slice(allowPrefix.length), item.pk);
        }
      }
    }
  }
}

/** A construct that answers as a MeshFunction does (the function resource's parent, found by discovery). */
function isTopologyFunction(c: unknown): c is MeshTopologyFunction {
  const f = c as MeshTopologyFunction | undefined;
  return typeof f?.service === 'string' && Array.isArray(f.sendsTo) && Array.isArray(f.receivesFrom);
}
