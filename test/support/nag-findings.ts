/**
 * cdk-nag's AwsSolutions pack in both versions an app may run: cdk-nag 3, a validation plugin whose
 * findings land in the app's validation report, and cdk-nag 2, an aspect whose findings are the
 * stacks' annotations. The mesh's acknowledgements must satisfy both.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Aspects, type Stack, type Stage, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { AwsSolutionsChecks as AwsSolutionsChecks2 } from 'cdk-nag2';

export interface NagViolation {
  ruleName: string;
  severity: string;
  violatingConstructs: { constructPath: string }[];
  reason?: string;
}

/** Adds both packs to `app`: call before synth. */
export function addNagPacks(app: Stage): void {
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  Aspects.of(app).add(new AwsSolutionsChecks2({ reports: false, logIgnores: true }));
}

/**
 * After synth: what each pack left open (`<rule> at <path>`, errors and warnings), what cdk-nag 3
 * acknowledged, and the findings cdk-nag 2 suppressed.
 */
export function nagFindings(app: Stage, stack: Stack) {
  const report = JSON.parse(readFileSync(join(app.outdir, 'validation-report.json'), 'utf8')) as {
    pluginReports: { violations: NagViolation[]; suppressedViolations?: NagViolation[] }[];
  };
  // Read off the constructs, not from a new synth: a failed validation would fail that one too.
  const annotations = (level: 'error' | 'warning' | 'info') =>
    stack.node
      .findAll()
      .flatMap((c) =>
        c.node.metadata
          .filter((m) => m.type === `aws:cdk:${level}` && /^(AwsSolutions-|CdkNag)/.test(String(m.data)))
          .map((m) => `${String(m.data).split('\n')[0]} at /${c.node.path}`),
      );
  return {
    open: report.pluginReports
      .flatMap((p) => p.violations)
      .map((v) => `${v.ruleName} at ${v.violatingConstructs.map((c) => c.constructPath).join(', ')}`),
    acknowledged: report.pluginReports.flatMap((p) => p.suppressedViolations ?? []),
    open2: [...annotations('error'), ...annotations('warning')],
    suppressed2: annotations('info').filter((m) => m.startsWith('CdkNagSuppression')),
  };
}
