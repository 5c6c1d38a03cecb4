import { ArnFormat, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import { Construct } from 'constructs';
import type { CustomerWebTierProps } from './customer-web-tier';
import { settingsProblems } from '../config/app-rules';
import { DEFAULT_LOG_RETENTION_DAYS } from '../config/defaults';
import { valueProblem } from '../config/values';

/*
 * What the instances run besides the application: the CloudWatch agent sending their logs to the environment's log
 * groups, and `vending-app-env`, which writes the environment's settings and secrets (SSM parameters) to an env file
 * for the application. Both are installed by user data, before the CodeDeploy agent starts (a hook may call the
 * script in the first deployment). The instance role reads this environment's parameters only.
 */

/** Where the env file is written unless the caller says otherwise. */
export const APP_ENV_FILE = '/etc/vending/app.env';
/** The script that writes it, installed on every instance. */
export const APP_ENV_SCRIPT = '/usr/local/bin/vending-app-env';
/** The CloudWatch agent's configuration file on the instances. */
export const AGENT_CONFIG_FILE = '/opt/aws/amazon-cloudwatch-agent/etc/vending-logs.json';

/** The log groups of an environment, by kind, and the instance files each receives. */
export const LOG_FILES: Record<LogKind, readonly string[]> = {
  system: ['/var/log/messages', '/var/log/cloud-init-output.log'],
  web: ['/var/log/httpd/access_log', '/var/log/httpd/error_log'],
  codedeploy: [
    '/var/log/aws/codedeploy-agent/codedeploy-agent.log',
    '/opt/codedeploy-agent/deployment-root/deployment-logs/codedeploy-agent-deployments.log',
  ],
};

export type LogKind = 'system' | 'web' | 'codedeploy';

const LOG_GROUP_IDS: Record<LogKind, string> = { system: 'SystemLogs', web: 'WebLogs', codedeploy: 'CodeDeployLogs' };

/** The parameter names of an environment. */
export class EnvironmentPaths {
  public readonly prefix: string;
  public constructor(customer: string, environment: string) {
    this.prefix = `/vending/${customer}/${environment}`;
  }
  public logGroup(kind: LogKind): string {
    return `${this.prefix}/${kind}`;
  }
  public get settings(): string {
    return `${this.prefix}/settings`;
  }
  public get secrets(): string {
    return `${this.prefix}/secrets`;
  }
  /** The StringList parameter naming the secrets the env file must hold. */
  public get secretNames(): string {
    return `${this.prefix}/secret-names`;
  }
}

/** Internal: what the logs and settings are made of. */
export interface LogsAndSettingsContext {
  readonly customer: string;
  readonly environment: string;
  readonly production: boolean;
  readonly encryptionKey: kms.IKey;
  readonly retention: logs.RetentionDays;
  readonly settings: { readonly [name: string]: string };
  readonly secrets: readonly string[];
}

/**
 * Internal: the props' retention (the config's default), settings and secrets, checked by the config's rules (names by
 * the schema's, the rest by app-rules.ts), with messages that name the prop.
 */
export function checkedLogsAndSettings(
  where: string,
  props: CustomerWebTierProps,
  production: boolean,
): LogsAndSettingsContext {
  const settings = props.settings ?? {};
  const secrets = props.secrets ?? [];
  const problems: string[] = [];
  for (const name of Object.keys(settings)) {
    const problem = valueProblem('settingName', name);
    if (problem) problems.push(`settings: key ${JSON.stringify(name)}: ${problem}`);
  }
  secrets.forEach((name, index) => {
    const problem = valueProblem('settingName', name);
    if (problem) problems.push(`secrets[${index}]: ${problem}`);
    if (secrets.indexOf(name) !== index) {
      problems.push(`secrets[${index}]: received "${name}" again; expected each name once`);
    }
  });
  for (const problem of settingsProblems(settings, secrets)) {
    const [field, ...rest] = problem.path;
    const path = `${field}${rest.map((part) => (typeof part === 'number' ? `[${part}]` : `.${part}`)).join('')}`;
    problems.push(`${path}: ${problem.message}`);
  }
  if (problems.length > 0) throw new Error(`${where}: ${problems.join('; ')}`);
  return {
    customer: props.customer,
    environment: props.environment,
    production,
    encryptionKey: props.encryptionKey,
    retention: props.logRetention ?? (DEFAULT_LOG_RETENTION_DAYS as logs.RetentionDays),
    settings,
    secrets,
  };
}

/** Internal: what was built. */
export interface BuiltLogsAndSettings {
  readonly logGroups: Record<LogKind, logs.LogGroup>;
  readonly settings: ssm.StringParameter[];
  /** User data commands, to run before the CodeDeploy agent starts. */
  readonly commands: string[];
}

/**
 * Internal: the environment's log groups (encrypted with the platform key, kept in production) and settings
 * parameters, in the web tier's scope, and the user data that installs the agent and the env-file script.
 */
export function createLogsAndSettings(scope: Construct, context: LogsAndSettingsContext): BuiltLogsAndSettings {
  const paths = new EnvironmentPaths(context.customer, context.environment);
  const removalPolicy = context.production ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY;
  const logGroup = (kind: LogKind) =>
    new logs.LogGroup(scope, LOG_GROUP_IDS[kind], {
      logGroupName: paths.logGroup(kind),
      encryptionKey: context.encryptionKey,
      retention: context.retention,
      removalPolicy,
    });
  const logGroups = { system: logGroup('system'), web: logGroup('web'), codedeploy: logGroup('codedeploy') };
  const settings: ssm.StringParameter[] = [];
  if (Object.keys(context.settings).length > 0) {
    const holder = new Construct(scope, 'Settings');
    for (const [name, value] of Object.entries(context.settings).sort(([a], [b]) => (a < b ? -1 : 1))) {
      settings.push(
        new ssm.StringParameter(holder, name, {
          parameterName: `${paths.settings}/${name}`,
          stringValue: value,
          tier: ssm.ParameterTier.STANDARD,
          description: `Setting ${name} of ${context.customer}-${context.environment}`,
        }),
      );
    }
  }
  if (context.secrets.length > 0) {
    new ssm.StringListParameter(scope, 'SecretNames', {
      parameterName: paths.secretNames,
      stringListValue: [...context.secrets],
      tier: ssm.ParameterTier.STANDARD,
      description: `Secrets of ${context.customer}-${context.environment} (SecureString parameters under ${paths.secrets}/)`,
    });
  }
  const region = Stack.of(scope).region;
  return {
    logGroups,
    settings,
    commands: [...cloudWatchAgentCommands(paths), ...appEnvScriptCommands(appEnvScript(paths, region))],
  };
}

/** Internal: the parameter ARN of a name (a path starting with /) in the stack's account and region. */
export function parameterArn(stack: Stack, name: string): string {
  return stack.formatArn({ service: 'ssm', resource: 'parameter', resourceName: name.slice(1) });
}

/**
 * Internal: the instance role's grants. Log streams and events in the environment's log groups only (no
 * CreateLogGroup); its own settings by path, its secret names and its declared secrets, decrypted with the platform
 * key through SSM for those parameters only; and a deny of every other parameter of the account, which the AWS
 * managed policy for Session Manager would otherwise let it read (ssm:GetParameter(s) on `*`).
 */
export function grantLogsAndSettings(
  role: iam.Role,
  context: LogsAndSettingsContext,
  logGroups: Record<LogKind, logs.ILogGroup>,
): void {
  const stack = Stack.of(role);
  const paths = new EnvironmentPaths(context.customer, context.environment);
  role.addToPrincipalPolicy(
    new iam.PolicyStatement({
      sid: 'WriteOwnLogs',
      actions: ['logs:CreateLogStream', 'logs:PutLogEvents', 'logs:DescribeLogStreams'],
      resources: Object.values(logGroups).map((group) => group.logGroupArn),
    }),
  );
  const secretArns = context.secrets.map((name) => parameterArn(stack, `${paths.secrets}/${name}`));
  const readable = [
    parameterArn(stack, paths.settings),
    parameterArn(stack, `${paths.settings}/*`),
    parameterArn(stack, paths.secretNames),
    ...secretArns,
  ];
  role.addToPrincipalPolicy(
    new iam.PolicyStatement({
      sid: 'ReadOwnSettings',
      actions: ['ssm:GetParametersByPath', 'ssm:GetParameter', 'ssm:GetParameters'],
      resources: readable,
    }),
  );
  if (secretArns.length > 0) {
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'DecryptOwnSecrets',
        actions: ['kms:Decrypt'],
        resources: [context.encryptionKey.keyArn],
        conditions: {
          StringEquals: {
            'kms:ViaService': `ssm.${stack.region}.amazonaws.com`,
            'kms:EncryptionContext:PARAMETER_ARN': secretArns,
          },
        },
      }),
    );
  }
  role.addToPrincipalPolicy(
    new iam.PolicyStatement({
      sid: 'NoOtherParameters',
      effect: iam.Effect.DENY,
      actions: ['ssm:GetParameter', 'ssm:GetParameters', 'ssm:GetParametersByPath', 'ssm:GetParameterHistory'],
      notResources: [
        ...readable,
        // Public parameters of AWS (such as the latest Amazon Linux image), in any region.
        stack.formatArn({
          service: 'ssm',
          region: '*',
          account: '',
          resource: 'parameter',
          resourceName: 'aws/service/*',
          arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
        }),
      ],
    }),
  );
}

/** The CloudWatch agent's configuration: each file of LOG_FILES into its group, a stream per instance and file. */
export function cloudWatchAgentConfig(paths: EnvironmentPaths): object {
  const collect = (Object.keys(LOG_FILES) as LogKind[]).flatMap((kind) =>
    LOG_FILES[kind].map((file) => ({
      file_path: file,
      log_group_name: paths.logGroup(kind),
      log_stream_name: `{instance_id}/${file.split('/').pop()}`,
      timezone: 'UTC',
    })),
  );
  return {
    agent: { run_as_user: 'root' },
    logs: { logs_collected: { files: { collect_list: collect } }, force_flush_interval: 5 },
  };
}

function cloudWatchAgentCommands(paths: EnvironmentPaths): string[] {
  return [
    '# CloudWatch agent and rsyslog: the instance logs in CloudWatch Logs (CustomerWebTier)',
    // Amazon Linux 2023 logs to journald only: rsyslog writes /var/log/messages, which the agent reads.
    'for attempt in 1 2 3 4 5; do dnf install -y amazon-cloudwatch-agent rsyslog && break; [ "$attempt" = 5 ] && exit 1; sleep 10; done',
    'systemctl enable --now rsyslog',
    `cat > ${AGENT_CONFIG_FILE} <<'VENDING_AGENT_CONFIG'`,
    JSON.stringify(cloudWatchAgentConfig(paths), null, 2),
    'VENDING_AGENT_CONFIG',
    `/opt/aws/amazon-cloudwatch-agent/bin/amazon-cloudwatch-agent-ctl -a fetch-config -m ec2 -s -c file:${AGENT_CONFIG_FILE}`,
  ];
}

function appEnvScriptCommands(script: string): string[] {
  return [
    `# ${APP_ENV_SCRIPT}: the settings and secrets as an env file, for the application's hooks (CustomerWebTier)`,
    `install -d -m 0755 ${APP_ENV_FILE.slice(0, APP_ENV_FILE.lastIndexOf('/'))}`,
    `cat > ${APP_ENV_SCRIPT} <<'VENDING_APP_ENV'`,
    script.trimEnd(),
    'VENDING_APP_ENV',
    `chmod 0755 ${APP_ENV_SCRIPT}`,
  ];
}

/**
 * The env-file script of an environment: reads its settings (by path) and its declared secrets (decrypted) and
 * writes them as `NAME='value'` lines (shell quoting) to the env file, mode 0600, owned by `--owner`, replacing the
 * file at once. Fails, naming the parameter and the command that puts it, when a declared secret is missing.
 */
export function appEnvScript(paths: EnvironmentPaths, region: string): string {
  return `#!/bin/bash
# vending-app-env: writes the settings and secrets of ${paths.prefix} to an env file (README, "Logs and settings").
# Usage: vending-app-env [--owner USER] [--output FILE]
set -euo pipefail
prefix='${paths.prefix}'
output='${APP_ENV_FILE}'
owner=root
while [ "$#" -gt 0 ]; do
  case "$1" in
    --owner) owner="$2"; shift 2 ;;
    --output) output="$2"; shift 2 ;;
    *) echo "vending-app-env: unknown argument $1; expected --owner USER or --output FILE" >&2; exit 2 ;;
  esac
done
export AWS_REGION="\${AWS_REGION:-${region}}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
aws ssm get-parameters-by-path --path "$prefix/settings/" --output json > "$work/settings.json"
if aws ssm get-parameter --name "$prefix/secret-names" --query Parameter.Value --output text > "$work/names" 2> "$work/error"; then
  : # the declared secrets
elif grep -q ParameterNotFound "$work/error"; then
  : > "$work/names"
else
  cat "$work/error" >&2
  exit 1
fi
IFS=',' read -r -a names < "$work/names" || true
echo '{"Parameters": [], "InvalidParameters": []}' > "$work/secrets-0.json"
batch=()
count=0
for name in "\${names[@]}"; do
  batch+=("$prefix/secrets/$name")
  if [ "\${#batch[@]}" = 10 ]; then
    count=$((count + 1))
    aws ssm get-parameters --with-decryption --names "\${batch[@]}" --output json > "$work/secrets-$count.json"
    batch=()
  fi
done
if [ "\${#batch[@]}" -gt 0 ]; then
  count=$((count + 1))
  aws ssm get-parameters --with-decryption --names "\${batch[@]}" --output json > "$work/secrets-$count.json"
fi
umask 077
python3 - "$work" "$prefix" "$output.new" <<'VENDING_PY'
import glob, json, os, sys
work, prefix, target = sys.argv[1:4]
values = {}
with open(os.path.join(work, "settings.json")) as f:
    for p in json.load(f)["Parameters"]:
        values[p["Name"][len(prefix + "/settings/"):]] = p["Value"]
missing = []
for path in sorted(glob.glob(os.path.join(work, "secrets-*.json"))):
    with open(path) as f:
        answer = json.load(f)
    missing += answer.get("InvalidParameters", [])
    for p in answer["Parameters"]:
        values[p["Name"][len(prefix + "/secrets/"):]] = p["Value"]
if missing:
    for name in missing:
        sys.stderr.write("vending-app-env: secret %s is missing; put it with: aws ssm put-parameter --name %s "
                         "--type SecureString --key-id <platform key> --value ...\\n" % (name, name))
    sys.exit(1)
with open(target, "w") as f:
    for name in sorted(values):
        f.write("%s='%s'\\n" % (name, values[name].replace("'", "'\\\\''")))
VENDING_PY
chown "$owner" "$output.new"
chmod 0600 "$output.new"
mv -f "$output.new" "$output"
`;
}
