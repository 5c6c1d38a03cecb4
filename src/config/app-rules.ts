/*
 * The rules of the instances' logs and of the application's settings and secrets that a schema cannot say (values'
 * sizes, how many, a name in both lists, CloudWatch Logs' retention values). customerRules runs them on any input
 * of a file, CustomerWebTier on its props: one set of rules, the same words.
 */
import { describeValue } from './errors';
import type { FieldPath, RawProblem } from './schema';

/** The retention periods CloudWatch Logs accepts, in days. */
export const LOG_RETENTION_DAYS: readonly number[] = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
];

/** Most settings of one environment (each is a resource of the customer's stack). */
export const MAX_SETTINGS = 50;

/** Most secrets of one environment (each is named twice in the instance role's policy, which IAM limits in size). */
export const MAX_SECRETS = 20;

/** An SSM standard-tier parameter's largest value, in characters. */
export const MAX_SETTING_LENGTH = 4096;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Problems of a retention in days (anything: the schema reports another type). */
export function retentionProblems(days: unknown, path: FieldPath): RawProblem[] {
  if (typeof days !== 'number' || !Number.isInteger(days) || days < 1 || days > 3653) return [];
  if (LOG_RETENTION_DAYS.includes(days)) return [];
  return [
    {
      path,
      message: `received ${days}; expected one of ${LOG_RETENTION_DAYS.join(', ')} (days CloudWatch Logs accepts)`,
    },
  ];
}

/**
 * Problems of settings and secrets (anything: the schema reports other types and the names' form). `settingsPath`
 * and `secretsPath` name the fields in messages.
 */
export function settingsProblems(
  settings: unknown,
  secrets: unknown,
  settingsPath: FieldPath = ['settings'],
  secretsPath: FieldPath = ['secrets'],
): RawProblem[] {
  const problems: RawProblem[] = [];
  const add = (path: FieldPath, message: string) => problems.push({ path, message });
  const entries = isObject(settings) ? Object.entries(settings) : [];
  if (entries.length > MAX_SETTINGS) {
    add(settingsPath, `received ${entries.length} settings; expected at most ${MAX_SETTINGS}`);
  }
  for (const [name, value] of entries) {
    if (typeof value !== 'string') continue;
    if (value.length === 0) {
      add(
        [...settingsPath, name],
        'received an empty value; expected 1 to 4096 characters (SSM keeps no empty parameter)',
      );
    } else if (value.length > MAX_SETTING_LENGTH) {
      add(
        [...settingsPath, name],
        `received a value of ${value.length} characters; expected at most ${MAX_SETTING_LENGTH}`,
      );
    } else if (value.includes('{{resolve:')) {
      add(
        [...settingsPath, name],
        `received ${describeValue(value)}; expected text without {{resolve: (CloudFormation would replace it with another value)`,
      );
    }
  }
  const names = Array.isArray(secrets) ? secrets : [];
  if (names.length > MAX_SECRETS) {
    add(secretsPath, `received ${names.length} names; expected at most ${MAX_SECRETS}`);
  }
  names.forEach((name, index) => {
    if (typeof name === 'string' && isObject(settings) && Object.prototype.hasOwnProperty.call(settings, name)) {
      add(
        [...secretsPath, index],
        `received "${name}", also a setting; expected each name in settings or in secrets, not both`,
      );
    }
  });
  return problems;
}
