/*
 * The instances' logs and the application's settings: the log groups (the platform key, retention, removal by
 * environment), the CloudWatch agent's configuration and the env-file script in user data, the settings parameters,
 * and the instance role's grants, evaluated for two customers to show that each reads its own parameters only.
 */
import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as logs from 'aws-cdk-lib/aws-logs';
import {
  addWebTier,
  logicalId,
  newPlatform,
  policyStatementsOfRole,
  resourcesOf,
  synth,
  synthProduction,
} from './fixture';
import { ConfigLoader } from '../../src';
import { resolveCustomer } from '../../src/config/defaults';
import { toStructKeys } from '../../src/config/keys';
import { cloudWatchAgentConfig, EnvironmentPaths, LOG_FILES } from '../../src/web-tier/logs-and-settings';
import { webTierPropsOf } from '../../src/web-tier/props-of-config';
import { problemsOf, stagingCustomer } from '../config/fixtures';

const struct = (doc: unknown) => toStructKeys(doc) as any;

const ENCRYPTED_WITH_PLATFORM_KEY = {
  'Fn::ImportValue': expect.stringMatching(/^Platform:ExportsOutputFnGetAttPlatformKey/),
};

function logGroups(template: Template): Record<string, any> {
  return Object.fromEntries(
    resourcesOf(template, 'AWS::Logs::LogGroup').map(([, r]) => [r.Properties.LogGroupName, r]),
  );
}

/** The user data script as text, the template's tokens written as <Ref>. */
function userDataOf(template: Template): string {
  const [, lt] = resourcesOf(template, 'AWS::EC2::LaunchTemplate')[0];
  const join = lt.Properties.LaunchTemplateData.UserData['Fn::Base64'];
  if (typeof join === 'string') return join;
  return join['Fn::Join'][1].map((part: any) => (typeof part === 'string' ? part : `<${part.Ref}>`)).join('');
}

describe('log groups', () => {
  test('three per environment, named by customer and environment, encrypted with the platform key', () => {
    const { template } = synth();
    const groups = logGroups(template);
    expect(Object.keys(groups).sort()).toEqual([
      '/vending/acme/staging/codedeploy',
      '/vending/acme/staging/system',
      '/vending/acme/staging/web',
    ]);
    for (const group of Object.values(groups)) {
      expect(group.Properties.KmsKeyId).toEqual(ENCRYPTED_WITH_PLATFORM_KEY);
    }
  });

  test('kept 365 days; deleted with the stack outside production, kept after it in production', () => {
    for (const group of Object.values(logGroups(synth().template))) {
      expect(group.Properties.RetentionInDays).toBe(365);
      expect(group.DeletionPolicy).toBe('Delete');
    }
    for (const group of Object.values(logGroups(synthProduction().template))) {
      expect(group.Properties.RetentionInDays).toBe(365);
      expect(group.DeletionPolicy).toBe('Retain');
      expect(group.UpdateReplacePolicy).toBe('Retain');
    }
  });

  test('the retention of the props', () => {
    const { template } = synth({ logRetention: logs.RetentionDays.THREE_MONTHS });
    for (const group of Object.values(logGroups(template))) expect(group.Properties.RetentionInDays).toBe(90);
  });
});

describe('user data', () => {
  test('the CloudWatch agent sends each file to its group, then the CodeDeploy agent starts', () => {
    const script = userDataOf(synth().template);
    const config = JSON.parse(script.split("<<'VENDING_AGENT_CONFIG'\n")[1].split('\nVENDING_AGENT_CONFIG')[0]);
    expect(config).toEqual(cloudWatchAgentConfig(new EnvironmentPaths('acme', 'staging')));
    const files = Object.fromEntries(
      config.logs.logs_collected.files.collect_list.map((f: any) => [f.file_path, f.log_group_name]),
    );
    expect(files).toEqual({
      '/var/log/messages': '/vending/acme/staging/system',
      '/var/log/cloud-init-output.log': '/vending/acme/staging/system',
      '/var/log/httpd/access_log': '/vending/acme/staging/web',
      '/var/log/httpd/error_log': '/vending/acme/staging/web',
      '/var/log/aws/codedeploy-agent/codedeploy-agent.log': '/vending/acme/staging/codedeploy',
      '/opt/codedeploy-agent/deployment-root/deployment-logs/codedeploy-agent-deployments.log':
        '/vending/acme/staging/codedeploy',
    });
    expect(Object.values(LOG_FILES).flat()).toHaveLength(6);
    // No retention from the agent (the template's is the one) and no metrics.
    expect(JSON.stringify(config)).not.toMatch(/retention|metrics/);
    expect(script).toMatch(/dnf install -y amazon-cloudwatch-agent rsyslog/);
    expect(script).toMatch(/amazon-cloudwatch-agent-ctl -a fetch-config -m ec2 -s -c file:/);
    // The env-file script exists before the CodeDeploy agent can run a hook that calls it.
    const script2 = script.indexOf("cat > /usr/local/bin/vending-app-env <<'VENDING_APP_ENV'");
    const agent = script.indexOf('# CodeDeploy agent');
    expect(script2).toBeGreaterThan(0);
    expect(agent).toBeGreaterThan(script2);
    expect(script).toMatch(/prefix='\/vending\/acme\/staging'/);
    // EC2 refuses user data over 16 KB (before base64): about 5.7 KB today.
    expect(Buffer.byteLength(script)).toBeLessThan(16 * 1024);
  });
});

describe('settings and secrets', () => {
  test('each setting is a String parameter under the settings path; secrets are named in a StringList', () => {
    const { template } = synth({
      settings: { API_URL: 'https://api.example.com', MODE: 'staging' },
      secrets: ['API_TOKEN'],
    });
    const parameters = Object.fromEntries(
      resourcesOf(template, 'AWS::SSM::Parameter').map(([, r]) => [r.Properties.Name, r.Properties]),
    );
    expect(parameters['/vending/acme/staging/settings/API_URL']).toMatchObject({
      Type: 'String',
      Value: 'https://api.example.com',
      Tier: 'Standard',
    });
    expect(parameters['/vending/acme/staging/settings/MODE']).toMatchObject({ Type: 'String', Value: 'staging' });
    expect(parameters['/vending/acme/staging/secret-names']).toMatchObject({ Type: 'StringList', Value: 'API_TOKEN' });
    // No secret value is in the template: CloudFormation cannot make SecureString parameters.
    expect(Object.keys(parameters).filter((name) => name.includes('/secrets/'))).toEqual([]);
  });

  test('no settings and no secrets: no parameter besides the image', () => {
    const names = resourcesOf(synth().template, 'AWS::SSM::Parameter').map(([, r]) => r.Properties.Name);
    expect(names).toEqual(['/vending/acme/staging/ami-id']);
  });

  test('props that break the rules are refused with the prop, the value and the rule', () => {
    const fixture = newPlatform();
    let n = 0;
    const refused = (props: object) => {
      try {
        addWebTier(fixture, `Bad${n++}`, props);
      } catch (e) {
        return (e as Error).message;
      }
      throw new Error('accepted');
    };
    expect(refused({ settings: { 'api-url': 'x' } })).toMatch(
      /^CustomerWebTier Bad0\/Web: settings: key "api-url": received "api-url"; expected a name of letters, digits or underscores/,
    );
    expect(refused({ settings: { A: '' } })).toMatch(
      /settings\.A: received an empty value; expected 1 to 4096 characters/,
    );
    expect(refused({ settings: { A: 'x' }, secrets: ['A'] })).toMatch(
      /secrets\[0\]: received "A", also a setting; expected each name in settings or in secrets, not both/,
    );
    expect(refused({ secrets: ['B', 'B'] })).toMatch(/secrets\[1\]: received "B" again; expected each name once/);
  });
});

describe('customer file', () => {
  const problems = (change: (doc: any) => void) => {
    const doc = stagingCustomer();
    change(doc);
    return problemsOf(() => ConfigLoader.validateCustomer(struct(doc))).map((p) => `${p.path}: ${p.message}`);
  };

  test('a retention CloudWatch Logs does not accept, bad names, empty and oversized values are refused', () => {
    expect(problems((d) => (d.logs = { retentionDays: 31 }))).toEqual([
      'logs.retentionDays: received 31; expected one of 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653 (days CloudWatch Logs accepts)',
    ]);
    expect(problems((d) => (d.settings = { 'api-url': 'x' }))).toEqual([
      'settings.api-url: key "api-url" is not allowed; expected a name of letters, digits or underscores, not starting with a digit, up to 128 characters, such as API_URL',
    ]);
    expect(problems((d) => (d.settings = { PORT: 8080 }))[0]).toMatch(
      /^settings\.PORT: received 8080 \(an integer\); expected .*put it in quotes/,
    );
    expect(problems((d) => (d.settings = { A: '{{resolve:ssm:/x}}' }))[0]).toMatch(
      /expected text without \{\{resolve:/,
    );
    expect(problems((d) => (d.secrets = ['A', 'A']))[0]).toMatch(/^secrets: items 1 and 0 are the same/);
    expect(
      problems((d) => (d.settings = Object.fromEntries([...Array(51).keys()].map((i) => [`S${i}`, 'x'])))),
    ).toEqual(['settings: received 51 settings; expected at most 50']);
  });

  test('the file retention, settings and secrets become the web tier props; retention defaults to a year', () => {
    const doc = {
      ...stagingCustomer(),
      logs: { retentionDays: 14 },
      settings: { MODE: 'staging' },
      secrets: ['TOKEN'],
    };
    const props = webTierPropsOf(new Stack(), 'Web', resolveCustomer(ConfigLoader.validateCustomer(struct(doc))));
    expect(props).toMatchObject({ logRetention: 14, settings: { MODE: 'staging' }, secrets: ['TOKEN'] });
    const staging = resolveCustomer(ConfigLoader.validateCustomer(struct(stagingCustomer())));
    expect(staging).toMatchObject({ logs: { retentionDays: 365 }, settings: {}, secrets: [] });
    const production = { ...stagingCustomer(), environment: 'production', approvalEmails: ['ops@example.com'] };
    expect(resolveCustomer(ConfigLoader.validateCustomer(struct(production))).logs.retentionDays).toBe(365);
  });
});

/*
 * The instance role's policies, evaluated as IAM does for one request: an explicit deny wins, else an allow whose
 * action, resource and conditions match. Only the operators the role uses are modelled (StringEquals, StringLike).
 */
interface Request {
  readonly action: string;
  readonly resource: string;
  readonly context?: Record<string, string>;
}

const PARTITION = 'aws';
const wildcard = (pattern: string) =>
  new RegExp(
    `^${pattern
      .split('*')
      .map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
      .join('.*')}$`,
  );
const matches = (patterns: unknown, value: string) => [patterns].flat().some((p) => wildcard(arnText(p)).test(value));

function arnText(value: unknown): string {
  if (typeof value === 'string') return value;
  const v = value as any;
  if (v['Fn::Join']) return v['Fn::Join'][1].map(arnText).join(v['Fn::Join'][0]);
  if (v.Ref === 'AWS::Partition') return PARTITION;
  // A value from another stack (the platform key's ARN): stands for itself.
  return `<${JSON.stringify(value)}>`;
}

function conditionsHold(condition: any, context: Record<string, string>): boolean {
  for (const [operator, keys] of Object.entries(condition ?? {})) {
    for (const [key, expected] of Object.entries(keys as object)) {
      const actual = context[key];
      if (actual === undefined) return false;
      const values = [expected].flat().map(arnText);
      if (operator === 'StringEquals' && !values.includes(actual)) return false;
      if (operator === 'StringLike' && !values.some((v) => wildcard(v).test(actual))) return false;
      if (operator !== 'StringEquals' && operator !== 'StringLike') throw new Error(`unmodelled ${operator}`);
    }
  }
  return true;
}

function allowed(statements: any[], request: Request): boolean {
  const applies = (s: any) =>
    [s.Action].flat().some((a: string) => wildcard(a).test(request.action)) &&
    (s.Resource !== undefined ? matches(s.Resource, request.resource) : !matches(s.NotResource, request.resource)) &&
    conditionsHold(s.Condition, request.context ?? {});
  if (statements.some((s) => s.Effect === 'Deny' && applies(s))) return false;
  return statements.some((s) => s.Effect === 'Allow' && applies(s));
}

describe('the instance role reads its own environment only', () => {
  const fixture = newPlatform();
  const tier = (id: string, customer: string, environment: string) =>
    addWebTier(fixture, id, { customer, environment, settings: { MODE: environment }, secrets: ['API_TOKEN'] });
  const acme = tier('Acme', 'acme', 'staging');
  const acmeProduction = tier('AcmeProduction', 'acme', 'production');
  const globex = tier('Globex', 'globex', 'staging');
  const { account, region } = Stack.of(acme.web);
  // The AWS managed policy for Session Manager lets instances read every parameter (AmazonSSMManagedInstanceCore).
  const MANAGED_CORE = { Effect: 'Allow', Action: ['ssm:GetParameter', 'ssm:GetParameters'], Resource: '*' };
  // The role's statements, with each log group's Fn::GetAtt Arn written as the ARN CloudWatch Logs gives it.
  const statementsOf = (t: { stack: Stack; web: any }) => {
    const template = Template.fromStack(t.stack);
    const resources = template.toJSON().Resources;
    const statements = JSON.parse(
      JSON.stringify(policyStatementsOfRole(template, logicalId(t.web.instanceRole))),
      (_key, value) => {
        const target = value?.['Fn::GetAtt'];
        if (!Array.isArray(target) || target[1] !== 'Arn' || resources[target[0]]?.Type !== 'AWS::Logs::LogGroup') {
          return value;
        }
        return `arn:${PARTITION}:logs:${region}:${account}:log-group:${resources[target[0]].Properties.LogGroupName}:*`;
      },
    );
    return [...statements, MANAGED_CORE];
  };
  const parameter = (name: string) => `arn:${PARTITION}:ssm:${region}:${account}:parameter${name}`;
  const logGroup = (name: string) => `arn:${PARTITION}:logs:${region}:${account}:log-group:${name}:log-stream:i-0123`;
  const decrypt = (name: string) => ({
    action: 'kms:Decrypt',
    resource: '',
    context: {
      'kms:ViaService': `ssm.${region}.amazonaws.com`,
      'kms:EncryptionContext:PARAMETER_ARN': parameter(name),
    },
  });
  const envs = [
    ['acme staging', acme, '/vending/acme/staging'],
    ['acme production', acmeProduction, '/vending/acme/production'],
    ['globex staging', globex, '/vending/globex/staging'],
  ] as const;

  test.each(envs)('%s reads its settings, secret names and secrets, and writes its logs', (_name, t, prefix) => {
    const statements = statementsOf(t);
    expect(allowed(statements, { action: 'ssm:GetParametersByPath', resource: parameter(`${prefix}/settings`) })).toBe(
      true,
    );
    expect(allowed(statements, { action: 'ssm:GetParameters', resource: parameter(`${prefix}/settings/MODE`) })).toBe(
      true,
    );
    expect(allowed(statements, { action: 'ssm:GetParameter', resource: parameter(`${prefix}/secret-names`) })).toBe(
      true,
    );
    expect(
      allowed(statements, { action: 'ssm:GetParameters', resource: parameter(`${prefix}/secrets/API_TOKEN`) }),
    ).toBe(true);
    for (const kind of ['system', 'web', 'codedeploy']) {
      expect(allowed(statements, { action: 'logs:PutLogEvents', resource: logGroup(`${prefix}/${kind}`) })).toBe(true);
      expect(allowed(statements, { action: 'logs:CreateLogStream', resource: logGroup(`${prefix}/${kind}`) })).toBe(
        true,
      );
    }
    // The key decrypts its own declared secrets through SSM, and nothing else.
    const key = statements.find((s) => s.Sid === 'DecryptOwnSecrets');
    const keyArn = arnText(key.Resource);
    expect(allowed(statements, { ...decrypt(`${prefix}/secrets/API_TOKEN`), resource: keyArn })).toBe(true);
    expect(allowed(statements, { ...decrypt(`${prefix}/secrets/OTHER`), resource: keyArn })).toBe(false);
    expect(
      allowed(statements, {
        ...decrypt(`${prefix}/secrets/API_TOKEN`),
        resource: keyArn,
        context: { 'kms:EncryptionContext:PARAMETER_ARN': parameter(`${prefix}/secrets/API_TOKEN`) },
      }),
    ).toBe(false);
  });

  test.each(envs)(
    '%s reads no other environment parameter or secret and writes no other log group',
    (_name, t, prefix) => {
      const statements = statementsOf(t);
      const key = arnText(statements.find((s) => s.Sid === 'DecryptOwnSecrets').Resource);
      for (const [, , other] of envs.filter(([, , p]) => p !== prefix)) {
        for (const action of ['ssm:GetParameter', 'ssm:GetParameters', 'ssm:GetParameterHistory']) {
          expect(allowed(statements, { action, resource: parameter(`${other}/settings/MODE`) })).toBe(false);
          expect(allowed(statements, { action, resource: parameter(`${other}/secrets/API_TOKEN`) })).toBe(false);
          expect(allowed(statements, { action, resource: parameter(`${other}/secret-names`) })).toBe(false);
        }
        expect(
          allowed(statements, { action: 'ssm:GetParametersByPath', resource: parameter(`${other}/settings`) }),
        ).toBe(false);
        expect(
          allowed(statements, { action: 'ssm:GetParametersByPath', resource: parameter(`${other}/secrets`) }),
        ).toBe(false);
        expect(allowed(statements, { ...decrypt(`${other}/secrets/API_TOKEN`), resource: key })).toBe(false);
        expect(allowed(statements, { action: 'logs:PutLogEvents', resource: logGroup(`${other}/web`) })).toBe(false);
      }
      // Nor the platform's contract, nor another parameter of the account; public AWS parameters stay readable.
      expect(allowed(statements, { action: 'ssm:GetParameter', resource: parameter('/vending/acme/v1/key/arn') })).toBe(
        false,
      );
      expect(allowed(statements, { action: 'ssm:GetParameter', resource: parameter('/other/thing') })).toBe(false);
      expect(
        allowed(statements, {
          action: 'ssm:GetParameter',
          resource: `arn:aws:ssm:${region}::parameter/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64`,
        }),
      ).toBe(true);
    },
  );

  test('no log group creation or retention change, and no wildcard resource in its grants', () => {
    const statements = policyStatementsOfRole(Template.fromStack(acme.stack), logicalId(acme.web.instanceRole));
    const actions = statements.filter((s) => s.Effect === 'Allow').flatMap((s) => [s.Action].flat());
    expect(actions).not.toContain('logs:CreateLogGroup');
    expect(actions).not.toContain('logs:PutRetentionPolicy');
    for (const s of statements.filter((st) => st.Effect === 'Allow')) {
      for (const r of [s.Resource].flat()) expect(arnText(r)).not.toBe('*');
    }
  });
});
