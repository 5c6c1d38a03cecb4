import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';

/*
 * Internal (not re-exported by the package): how the fleet overview splits the environments' health alarms into
 * widgets and dashboards, and the widget that shows alarms by ARN.
 */

/** At most this many alarms in one alarm status widget: CloudWatch's limit. */
export const ALARMS_PER_WIDGET = 100;
/**
 * Fleet overview widgets per dashboard: 5,000 environments per dashboard, well within a dashboard's widget count
 * and body size; a larger fleet gets a second dashboard.
 */
export const FLEET_WIDGETS_PER_DASHBOARD = 50;

/**
 * The fleet overview's pages: dashboards, each of widgets, each of at most `alarmsPerWidget` alarm names, in the
 * order given. Internal (not re-exported by the package).
 */
export function fleetOverviewPages(
  alarmNames: readonly string[],
  alarmsPerWidget: number = ALARMS_PER_WIDGET,
  widgetsPerDashboard: number = FLEET_WIDGETS_PER_DASHBOARD,
): string[][][] {
  const widgets: string[][] = [];
  for (let i = 0; i < alarmNames.length; i += alarmsPerWidget) widgets.push(alarmNames.slice(i, i + alarmsPerWidget));
  const dashboards: string[][][] = [];
  for (let i = 0; i < widgets.length; i += widgetsPerDashboard) {
    dashboards.push(widgets.slice(i, i + widgetsPerDashboard));
  }
  return dashboards;
}

/**
 * An alarm status widget of alarms known by ARN only. aws-cdk-lib's AlarmStatusWidget takes alarm constructs: 1,000
 * imported ones would cost a construct each at synth for an ARN in the body.
 */
export class AlarmArnsWidget extends cloudwatch.ConcreteWidget {
  public constructor(
    private readonly title: string,
    private readonly alarmArns: string[],
  ) {
    // A 24-unit row holds about 4 alarm names; 100 take about 25 rows of one unit.
    super(24, Math.max(2, Math.ceil(alarmArns.length / 4) + 1));
  }

  public toJson(): any[] {
    return [
      {
        type: 'alarm',
        width: this.width,
        height: this.height,
        x: this.x,
        y: this.y,
        properties: { title: this.title, alarms: this.alarmArns },
      },
    ];
  }
}
