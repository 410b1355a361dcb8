/**
 * What a dashboard may take: CloudWatch's widgets, and the bytes its body adds to the mesh's template, which
 * CloudFormation caps at 1 MB with the rest of the stack. Measured from the widgets before they are added,
 * since a dashboard cannot drop one.
 */
import { Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type { IConstruct } from 'constructs';

/** CloudWatch's cap on widgets in one dashboard ("Dashboard Body Structure and Syntax"). */
export const DASHBOARD_WIDGETS_MAX = 500;
/**
 * The most the dashboard's body may add to the mesh's template, in bytes of JSON as the template holds it.
 * A stack of 40 mesh functions (475 resources) takes 615 KB as cdk.out writes it without its dashboard,
 * so even a full stack stays near 830 KB with it, well under CloudFormation's 1 MB.
 */
export const DASHBOARD_BODY_BUDGET = 192 * 1024;
/**
 * What a reference to another template's resource (an alarm of a function in a nested stack) takes in the
 * body beyond what it takes before synthesis turns it into the nested stack's output.
 */
const CROSS_STACK_REFERENCE_BYTES = 160;
/** The body's own fields besides its widgets (its time range). */
const BODY_FIELDS_BYTES = 64;

/** A dashboard's widgets and the bytes of its body. */
export interface DashboardSize {
  readonly widgets: number;
  readonly bytes: number;
}

/** The size of a dashboard of these rows, as `Dashboard.addWidgets` lays out each row. */
export function dashboardSize(
  scope: IConstruct,
  rows: readonly (readonly cloudwatch.IWidget[])[],
  crossStackReferences: number,
): DashboardSize {
  const column = new cloudwatch.Column(...rows.map((r) => new cloudwatch.Row(...r)));
  column.position(0, 0);
  const stack = Stack.of(scope);
  const body = stack.resolve(stack.toJsonString({ widgets: column.toJson() }));
  const bytes = JSON.stringify(body).length + BODY_FIELDS_BYTES + crossStackReferences * CROSS_STACK_REFERENCE_BYTES;
  return { widgets: rows.flat().length, bytes };
}

/** Whether CloudWatch takes a dashboard of this size and it keeps to the budget. */
export function withinLimits(size: DashboardSize): boolean {
  return size.widgets <= DASHBOARD_WIDGETS_MAX && size.bytes <= DASHBOARD_BODY_BUDGET;
}
