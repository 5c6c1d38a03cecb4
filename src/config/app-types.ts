/*
 * The config file contract of what runs on an environment's instances: their logs in CloudWatch Logs. The
 * application's settings and secrets are plain keys of CustomerConfig (types.ts). Part of the JSON Schema (the
 * generator reads every src/config/*types.ts).
 */

/** The instances' logs (system, web server, CodeDeploy agent) in CloudWatch Logs. */
export interface LogsConfig {
  /**
   * Days CloudWatch Logs keeps the instances' logs: one of the values CloudWatch Logs accepts (1, 3, 5, 7, 14, 30,
   * 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653). Fewer than 365 days fails
   * AWS Control Tower's CT.CLOUDWATCH.PR.2 (README, "Logs and settings").
   * @minimum 1
   * @maximum 3653
   * @asType integer
   * @default 365
   */
  readonly retentionDays?: number;
}
