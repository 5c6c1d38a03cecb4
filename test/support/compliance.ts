/**
 * The compliance gate every construct test goes through.
 *
 * ```ts
 * const app = newTestApp();
 * const stack = new Stack(app, 'Stack');
 * new CustomerWebTier(stack, 'WebTier', props);
 * expectCompliant(stack); // throws a report listing every finding
 * ```
 *
 * API
 * - `newTestApp(props?)`: an `App` with the checks below registered and a fresh temporary outdir (safe with
 *   parallel jest workers). Stacks given to `expectCompliant` must live in such an App, because validation
 *   context keys can only be set when an App is created.
 * - `expectCompliant(stacks)`: synthesizes the App (forced, so later changes to the tree are seen) and throws
 *   one readable report when any check below fails for the given stacks. Each finding names the checker, the
 *   rule id, the construct path, the logical id and the template, and the message.
 * - `checkCompliance(stacks)`: the same, returning every finding (including the ones that do not fail)
 *   instead of throwing.
 * - `acknowledge(construct, id, reason)`: the only way to accept a cdk-nag finding; see below.
 * - `lintTemplates(paths, regions?)`: runs cfn-lint on template files and returns its findings.
 * - `DISABLED_GUARD_RULES`: the one place where a Control Tower rule may be turned off, with a reason.
 * - `formatReport(findings)`, `guardRuleFilesToDisable(rules)`: used by the above, exported for tests.
 *
 * What fails
 * 1. cdk-nag `AwsSolutions` (cdk-nag v3, a policy validation plugin): every finding, errors and warnings,
 *    unless acknowledged on that very CloudFormation resource with `acknowledge()`.
 * 2. AWS Control Tower proactive controls, run offline by `@cdklabs/cdk-validator-cfnguard` (a policy
 *    validation plugin, bundled cfn-guard binary): every violation of a rule that is not in
 *    `DISABLED_GUARD_RULES`. Findings cannot be acknowledged per construct.
 * 3. aws-cdk-lib's own CloudFormation validation (resource schemas, rule ids shared with cfn-lint), with
 *    `@aws-cdk/core:validateAgainstDefaultRules` and `@aws-cdk/core:strictCfnValidateErrors`: its errors and
 *    its warnings (strict mode, as recommended for construct libraries).
 * 4. cfn-lint (pinned in scripts/python-requirements.txt, installed in .venv by `npx projen python-tools`),
 *    run once per call on all templates of the given stacks, nested stacks included: its errors. Its
 *    warnings are listed in the report and returned by `checkCompliance`, but do not fail: several are
 *    emitted by aws-cdk-lib by design (e.g. W3005 on DependsOn), and aws-cdk-lib's validator, which shares
 *    the rule ids, already fails on the warnings it does not deliberately ignore.
 * 5. Acknowledgements that break the rules below, however they were written (`Validations.of().acknowledge`
 *    called directly included).
 *
 * Acknowledging a cdk-nag finding: `acknowledge(resource, 'AwsSolutions-IAM5[Resource::*]', 'why ...')`.
 * One call accepts ONE finding id on ONE CloudFormation resource (an L2 is resolved to its
 * `node.defaultChild`), with a reason of at least MIN_REASON_LENGTH characters. Acknowledging on a Stack,
 * an L3, a Stage or the App is refused, because cdk-nag applies an acknowledgement to the whole subtree.
 *
 * Because the checks are registered on the App, `Template.fromStack()` on a stack of a `newTestApp()` throws
 * too when cdk-nag, the Control Tower rules or aws-cdk-lib's validation find something: build a plain `App`
 * for tests that look at a deliberately non-compliant template.
 *
 * Cost on the 2-core dev machine, for a small stack: about 2.5 s a call (cfn-lint about 2 s of it, most of
 * that Python start-up, and cfn-guard about 0.5 s), plus 4 to 6 s on the first call of each jest test file,
 * where aws-cdk-lib compiles its validation engine (it is cached per module registry, i.e. per test file).
 * Build several stacks in one App and check them in one call where a test file needs many.
 */
import { spawnSync } from 'child_process';
import { createHash } from 'crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { basename, dirname, join, resolve as resolvePath } from 'path';
import { CfnGuardValidator } from '@cdklabs/cdk-validator-cfnguard';
import {
  App,
  AppProps,
  CfnElement,
  CfnResource,
  CloudFormationValidatePlugin,
  IPolicyValidationContextBeta1,
  IPolicyValidationPluginBeta1,
  NestedStack,
  PolicyValidationPluginReportBeta1,
  Stack,
  Stage,
  Token,
  Validations,
} from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { IConstruct } from 'constructs';
import { PINNED_NAT_IMAGE_REASON } from '../../src/platform/network';
import { MAJOR_VERSION_ALONE_REASON } from '../../src/web-tier/database';

/**
 * Control Tower proactive controls that are NOT enforced, keyed by control id as printed in reports
 * (`CT.S3.PR.10`), each with the reason. This is the only place a rule may be disabled; keep it short.
 */
export const DISABLED_GUARD_RULES: Readonly<Record<string, string>> = {
  'CT.AUTOSCALING.PR.6':
    'A customer environment runs the one instance type of its config, the type its AMI is baked and tested on; ' +
    'mixing instance types is for capacity-flexible fleets, and would make the config choose types it never named.',
};

/** A CloudFormation resource of a synthesized template, as a guard exception sees it. */
export interface TemplateResource {
  readonly logicalId: string;
  readonly type: string;
  readonly properties: Record<string, any>;
  /** The whole template the resource is in. */
  readonly template: { Resources?: Record<string, { Type: string; Properties?: Record<string, any> }> };
}

/** A Control Tower rule that does not apply to one narrowly described kind of resource. */
export interface GuardException {
  /** Control ids as printed in reports (`CT.S3.PR.10`). */
  readonly rules: readonly string[];
  /** Why the rules cannot hold for these resources. */
  readonly reason: string;
  /** Which resources the exception covers; everything else still fails. */
  readonly appliesTo: (resource: TemplateResource) => boolean;
}

/** The value of a tag of a resource's `Tags` list, when it is a literal. */
function tagOf(resource: TemplateResource, key: string): string | undefined {
  const tags = resource.properties.Tags;
  if (!Array.isArray(tags)) return undefined;
  const tag = tags.find((t: any) => t?.Key === key);
  return typeof tag?.Value === 'string' ? tag.Value : undefined;
}

/** Whether a property value is an `Fn::ImportValue` of another stack's export. */
function isImport(value: unknown): boolean {
  return typeof value === 'object' && value !== null && Object.keys(value).length === 1 && 'Fn::ImportValue' in value;
}

/** CloudFormation parameter types whose value CloudFormation reads from SSM at deploy time (the platform contract). */
const SSM_PARAMETER_TYPE = /^AWS::SSM::Parameter::Value</;

/** Whether a property value is a Ref to a parameter of its template that CloudFormation reads from SSM. */
function isSsmParameterRef(value: unknown, template: TemplateResource['template'] & { Parameters?: any }): boolean {
  const ref = typeof value === 'object' && value !== null ? (value as { Ref?: unknown }).Ref : undefined;
  return typeof ref === 'string' && SSM_PARAMETER_TYPE.test(template.Parameters?.[ref]?.Type ?? '');
}

/** A value resolved at deploy time from another stack: an export, or the platform contract's SSM parameter. */
function isFromPlatform(r: TemplateResource, value: unknown): boolean {
  return isImport(value) || isSsmParameterRef(value, r.template);
}

/** Service principals that deliver logs into a bucket. */
const LOG_DELIVERY_PRINCIPALS = [
  'logging.s3.amazonaws.com',
  'delivery.logs.amazonaws.com',
  'logdelivery.elasticloadbalancing.amazonaws.com',
];

/**
 * Whether the bucket is a log destination: a bucket policy in the same template lets a log delivery service
 * (S3 server access logs, VPC flow logs, ALB access logs) put objects in it. (aws-cdk-lib's ALB access logs
 * grant `delivery.logs.amazonaws.com` beside the region's ELB account, so AWS principals are not needed here,
 * and accepting them would except a bucket that anyone may write to.)
 */
export function isLogDestinationBucket(resource: TemplateResource): boolean {
  if (resource.type !== 'AWS::S3::Bucket') return false;
  return Object.values(resource.template.Resources ?? {}).some((r) => {
    if (r.Type !== 'AWS::S3::BucketPolicy') return false;
    const bucket = r.Properties?.Bucket;
    if (!(bucket && typeof bucket === 'object' && bucket.Ref === resource.logicalId)) return false;
    const statements: any[] = r.Properties?.PolicyDocument?.Statement ?? [];
    return statements.some((st) => {
      if (st.Effect !== 'Allow' || ![st.Action].flat().includes('s3:PutObject')) return false;
      const services = [st.Principal?.Service].flat().filter(Boolean);
      return services.some((sp: string) => LOG_DELIVERY_PRINCIPALS.includes(sp));
    });
  });
}

/**
 * Control Tower rules that do not hold for a narrowly described kind of resource, each with the reason. Keep
 * each predicate as narrow as the reason.
 */
export const GUARD_EXCEPTIONS: readonly GuardException[] = [
  {
    rules: ['CT.S3.PR.10', 'CT.S3.PR.9', 'CT.S3.PR.2'],
    reason:
      'Log destination buckets: ALB access logs and S3 server access logs are delivered only to buckets ' +
      'encrypted with S3-managed keys (SSE-KMS is refused) and without a default Object Lock retention, and a ' +
      'log bucket that logged its own access would log forever.',
    appliesTo: isLogDestinationBucket,
  },
  {
    rules: ['CT.RDS.PR.1', 'CT.RDS.PR.3', 'CT.RDS.PR.13'],
    reason:
      'Databases of non-production customer environments (tagged vending:environment other than production) run ' +
      'in one Availability Zone and without deletion protection, so that staging stays cheap and disposable; ' +
      'production databases have both.',
    appliesTo: (r) =>
      (r.type === 'AWS::RDS::DBInstance' || r.type === 'AWS::RDS::DBCluster') &&
      tagOf(r, 'vending:environment') !== undefined &&
      tagOf(r, 'vending:environment') !== 'production',
  },
  {
    rules: ['CT.RDS.PR.30'],
    reason:
      'The KMS key is the platform key, read from the platform contract (an SSM parameter) or imported from the ' +
      'platform stack: CloudFormation resolves it at deploy time, and the offline rule only accepts literal ARNs and ' +
      'references to keys within one template. Tests assert the key is the platform key.',
    appliesTo: (r) => r.type === 'AWS::RDS::DBInstance' && isFromPlatform(r, r.properties.KmsKeyId),
  },
  {
    rules: ['CT.RDS.PR.2'],
    reason:
      "Enhanced monitoring is on (MonitoringInterval set) with the platform's monitoring role, read from the " +
      'platform contract (an SSM parameter): the offline rule only accepts a literal role ARN or a role of the same ' +
      "template. test/environment/roles.test.ts asserts the role is the contract's.",
    appliesTo: (r) =>
      (r.type === 'AWS::RDS::DBInstance' || r.type === 'AWS::RDS::DBCluster') &&
      [1, 5, 10, 15, 30, 60].includes(r.properties.MonitoringInterval) &&
      isFromPlatform(r, r.properties.MonitoringRoleArn),
  },
  {
    rules: ['CT.CLOUDWATCH.PR.3'],
    reason:
      'The log group is encrypted with the platform key, read from the platform contract (an SSM parameter) or ' +
      'imported from the platform stack: CloudFormation resolves it at deploy time, and the offline rule only accepts ' +
      'literal ARNs and references to keys within one template. Tests assert the key is the platform key.',
    appliesTo: (r) => r.type === 'AWS::Logs::LogGroup' && isFromPlatform(r, r.properties.KmsKeyId),
  },
  {
    rules: ['CT.EC2.PR.8', 'CT.EC2.PR.19'],
    reason:
      'NAT instances (SourceDestCheck false): a NAT needs a public address to reach the internet for the ' +
      'private subnets, and the Nitro in-transit-encryption families cost ten times the burstable types that ' +
      'make a NAT instance cheaper than a NAT gateway; traffic through it is TLS from end to end anyway.',
    appliesTo: (r) => r.type === 'AWS::EC2::Instance' && r.properties.SourceDestCheck === false,
  },
];

/** The shortest reason accepted for an acknowledgement or a disabled rule. */
export const MIN_REASON_LENGTH = 20;

/** Context that turns on aws-cdk-lib's own template validation, as a construct library should. */
export const COMPLIANCE_CONTEXT: Readonly<Record<string, unknown>> = {
  '@aws-cdk/core:validateAgainstDefaultRules': true,
  '@aws-cdk/core:strictCfnValidateErrors': true,
  // A failing synth throws with the whole report in its message, in jest or not.
  '@aws-cdk/core:appMode': 'inmemory',
};

/** One finding of one checker on one resource (or one template). */
export interface ComplianceFinding {
  /**
   * `cdk-nag`, `cfn-guard` (Control Tower rules), `cloudformation-validate` (aws-cdk-lib), `cfn-lint`, or
   * `acknowledgement` (this helper's check of acknowledgements).
   */
  readonly checker: string;
  /** `AwsSolutions-S1`, `CT.S3.PR.1 (s3_bucket_level_public_access_prohibited_check)`, `E3012`, ... */
  readonly ruleId: string;
  readonly severity: 'error' | 'warning' | 'info';
  /** Whether this finding makes `expectCompliant` throw. */
  readonly fails: boolean;
  readonly message: string;
  readonly fix?: string;
  readonly constructPath?: string;
  readonly logicalId?: string;
  /** Template file name in the cloud assembly. */
  readonly template?: string;
  /** Where in the template (cfn-lint) or in the resource (validation plugins). */
  readonly location?: string;
}

/** A cfn-lint finding, as parsed from `cfn-lint --format json`. */
export interface CfnLintFinding {
  readonly ruleId: string;
  readonly level: 'Error' | 'Warning' | 'Informational';
  readonly message: string;
  readonly file: string;
  /** `['Resources', 'LogicalId', 'Properties', ...]`, when cfn-lint knows it. */
  readonly path: ReadonlyArray<string | number>;
  readonly line?: number;
}

const ROOT = join(__dirname, '..', '..');
const CFN_LINT = join(ROOT, '.venv', 'bin', 'cfn-lint');
const PYTHON_REQUIREMENTS = join(ROOT, 'scripts', 'python-requirements.txt');
/** cfn-lint's findings per template (see lintTemplates). */
const CFN_LINT_CACHE = join(tmpdir(), 'cdk-paas-vending-cfn-lint');
const PLUGIN_CHECKERS: Record<string, string> = {
  AwsSolutions: 'cdk-nag',
  'cdk-validator-cfnguard': 'cfn-guard',
  'CloudFormation Validate': 'cloudformation-validate',
};
const CHECKER_ORDER = ['acknowledgement', 'cdk-nag', 'cfn-guard', 'cloudformation-validate', 'cfn-lint'];
const NAG_ID = /^AwsSolutions-[A-Za-z]+\d+(\[.+\])?$/;
const CT_ID = /\[(CT\.[A-Z0-9-]+\.PR\.\d+)\]/;
const testApps = new WeakSet<App>();
let cloudFormationValidate: CloudFormationValidatePlugin | undefined;

/**
 * Creates an App for compliance-checked tests: cdk-nag AwsSolutions and the Control Tower guard rules are
 * registered as validation plugins, aws-cdk-lib's own validation is registered too (so it runs even where
 * CDK_VALIDATION=false, as in every test: see test/support/jest-setup.ts) and strict, and the cloud assembly
 * goes to a new temporary directory. `props.context` is kept, except for the keys of COMPLIANCE_CONTEXT.
 */
export function newTestApp(
  props: Omit<AppProps, 'outdir' | 'policyValidationBeta1' | 'builtinCloudFormationValidation'> = {},
): App {
  const app = new App({
    ...props,
    outdir: mkdtempSync(join(tmpdir(), 'cdk-paas-vending-test-')),
    context: { ...props.context, ...COMPLIANCE_CONTEXT },
  });
  // aws-cdk-lib's validation registered by name: it then runs whatever CDK_VALIDATION says (the jest setup turns
  // the automatic one off for every other App of the tests, test/support/jest-setup.ts). One instance per test file:
  // its engine starts once (about 3 s).
  cloudFormationValidate ??= new CloudFormationValidatePlugin();
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app), guardValidator(), cloudFormationValidate);
  testApps.add(app);
  return app;
}

/**
 * Accepts ONE cdk-nag finding on ONE CloudFormation resource, with a written reason.
 *
 * @param construct the CfnResource the finding is reported on, or an L2 whose `node.defaultChild` it is
 * @param id the finding id exactly as reported, e.g. `AwsSolutions-S1` or `AwsSolutions-IAM5[Resource::*]`
 * @param reason why the finding is acceptable here (at least MIN_REASON_LENGTH characters)
 */
export function acknowledge(construct: IConstruct, id: string, reason: string): void {
  if (!NAG_ID.test(id)) {
    throw new Error(
      `acknowledge: '${id}' is not a cdk-nag AwsSolutions finding id (e.g. 'AwsSolutions-S1' or ` +
        `'AwsSolutions-IAM5[Resource::*]'). Control Tower rules are disabled only in DISABLED_GUARD_RULES; ` +
        'cfn-lint and CloudFormation validation findings are fixed, not acknowledged.',
    );
  }
  if ((reason ?? '').trim().length < MIN_REASON_LENGTH) {
    throw new Error(
      `acknowledge: ${id} on ${construct.node.path} needs a reason of at least ${MIN_REASON_LENGTH} characters ` +
        `saying why the finding is acceptable here (got ${JSON.stringify(reason)})`,
    );
  }
  const resource = CfnResource.isCfnResource(construct) ? construct : construct.node.defaultChild;
  if (!resource || !CfnResource.isCfnResource(resource)) {
    throw new Error(
      `acknowledge: ${construct.node.path} is not a single CloudFormation resource and has no default child ` +
        `resource; pass the CfnResource that the finding ${id} names`,
    );
  }
  Validations.of(resource).acknowledge({ id, reason: reason.trim() });
}

/** Throws a report of every failing finding of `checkCompliance(stacks)`. */
export function expectCompliant(stacks: Stack | Stack[]): void {
  const findings = checkCompliance(stacks);
  const failures = findings.filter((f) => f.fails);
  if (failures.length > 0) {
    throw new Error(formatReport(findings, toArray(stacks)));
  }
}

/**
 * Synthesizes the App of the stacks and returns every finding of every check on these stacks (see the top
 * of this file); `fails` tells which ones make `expectCompliant` throw.
 */
export function checkCompliance(stacks: Stack | Stack[]): ComplianceFinding[] {
  const list = toArray(stacks);
  if (list.length === 0) throw new Error('checkCompliance: no stack given');
  const app = list[0].node.root;
  if (!(app instanceof App) || !testApps.has(app)) {
    throw new Error(
      `checkCompliance: stack ${list[0].node.path} is not in an App made by newTestApp() ` +
        '(test/support/compliance.ts), so the compliance checks are not registered on it',
    );
  }
  const outside = list.find((s) => s.node.root !== app);
  if (outside) {
    throw new Error(`checkCompliance: stacks ${list[0].node.path} and ${outside.node.path} are in different Apps`);
  }

  const templateStacks = list.flatMap((s) => [
    s,
    ...s.node.findAll().filter((c): c is Stack => NestedStack.isNestedStack(c)),
  ]);
  // Findings without a construct path (a plugin that crashed) concern every stack.
  const inScope = (path: string | undefined) =>
    !path || list.some((s) => path === s.node.path || path.startsWith(`${s.node.path}/`));

  const findings: ComplianceFinding[] = [...checkAcknowledgements(list)];
  findings.push(...synthesizeAndValidate(app).filter((f) => inScope(f.constructPath)));

  const logicalIds = logicalIdIndex(templateStacks);
  const templateOf = (s: Stack) => join(Stage.of(s)!.outdir, s.templateFile);
  const templates = templateStacks.map(templateOf);
  const nestedTemplates = templateStacks.filter((s) => s.nested).map(templateOf);
  findings.push(...guardNestedTemplates(app, nestedTemplates, logicalIds));
  const regions = [...new Set(list.map((s) => (Token.isUnresolved(s.region) ? 'us-east-1' : s.region)))];
  for (const lint of lintTemplates(templates, regions)) {
    if (lint.level === 'Informational') continue;
    const logicalId = lint.path[0] === 'Resources' && typeof lint.path[1] === 'string' ? lint.path[1] : undefined;
    const template = basename(lint.file);
    findings.push({
      checker: 'cfn-lint',
      ruleId: lint.ruleId,
      severity: lint.level === 'Error' ? 'error' : 'warning',
      fails: lint.level === 'Error',
      message: lint.message,
      logicalId,
      template,
      constructPath: logicalId ? logicalIds.get(`${template}#${logicalId}`) : undefined,
      location: lint.path.length > 0 ? lint.path.join('/') : lint.line ? `line ${lint.line}` : undefined,
    });
  }
  const excepted = applyGuardExceptions(findings, new Map(templateStacks.map((s) => [s.templateFile, templateOf(s)])));
  const order = (f: ComplianceFinding) => (CHECKER_ORDER.indexOf(f.checker) + 1 || CHECKER_ORDER.length + 1) * 10;
  return excepted.sort(
    (a, b) =>
      order(a) - order(b) ||
      (a.constructPath ?? '').localeCompare(b.constructPath ?? '') ||
      a.ruleId.localeCompare(b.ruleId),
  );
}

/**
 * Runs the project's pinned cfn-lint once on the given template files and returns its findings.
 *
 * cfn-lint gives the same findings for the same template text, regions and cfn-lint version, and it costs about
 * 2 s per template: the findings of each template are kept in a folder of the temporary directory under a SHA-256
 * of those three (the version as pinned in scripts/python-requirements.txt), so that a template linted before
 * (the same platform stack in many test files, a re-run) is not linted again. Only templates not seen before
 * are given to cfn-lint.
 *
 * @param templatePaths absolute paths of CloudFormation templates
 * @param regions regions to validate against (default: us-east-1)
 */
export function lintTemplates(templatePaths: string[], regions: string[] = ['us-east-1']): CfnLintFinding[] {
  if (templatePaths.length === 0) return [];
  if (!existsSync(CFN_LINT)) {
    throw new Error(
      `cfn-lint is not installed at ${CFN_LINT}: run \`npx projen python-tools\` ` +
        '(creates .venv with the Python tools pinned in scripts/python-requirements.txt)',
    );
  }
  const keyOf = (path: string) =>
    createHash('sha256')
      .update(readFileSync(PYTHON_REQUIREMENTS, 'utf-8'))
      .update(`\0${regions.join(',')}\0`)
      .update(readFileSync(path))
      .digest('hex');
  const keys = new Map(templatePaths.map((path) => [path, keyOf(path)]));
  const kept = (path: string) => join(CFN_LINT_CACHE, `${keys.get(path)}.json`);
  const unseen = templatePaths.filter((path) => !existsSync(kept(path)));
  const found = runCfnLint(unseen, regions);
  const stray = found.filter((f) => !unseen.includes(resolvePath(dirname(unseen[0]), f.file)));
  if (stray.length > 0) {
    throw new Error(`cfn-lint reported findings on files it was not given: ${stray.map((f) => f.file).join(', ')}`);
  }
  mkdirSync(CFN_LINT_CACHE, { recursive: true });
  for (const path of unseen) {
    const own = found.filter((f) => resolvePath(dirname(unseen[0]), f.file) === path).map((f) => ({ ...f, file: '' }));
    const temporary = `${kept(path)}.${process.pid}.tmp`;
    writeFileSync(temporary, JSON.stringify(own));
    renameSync(temporary, kept(path));
  }
  return templatePaths.flatMap((path) =>
    (JSON.parse(readFileSync(kept(path), 'utf-8')) as CfnLintFinding[]).map((f) => ({ ...f, file: path })),
  );
}

/** cfn-lint on template files, in one process; each finding's file as cfn-lint names it. */
function runCfnLint(templatePaths: string[], regions: string[]): CfnLintFinding[] {
  if (templatePaths.length === 0) return [];
  const result = spawnSync(CFN_LINT, ['--format', 'json', '--regions', ...regions, '--', ...templatePaths], {
    encoding: 'utf8',
    cwd: dirname(templatePaths[0]),
    maxBuffer: 64 * 1024 * 1024,
  });
  if (result.error) throw new Error(`cfn-lint could not be run (${CFN_LINT}): ${result.error.message}`);
  // Exit status is a bit mask: 2 error, 4 warning, 8 informational; 1 means cfn-lint itself failed.
  let raw: any[];
  try {
    if (result.status === null || result.status % 2 === 1) throw new Error(`exit status ${result.status}`);
    raw = JSON.parse(result.stdout);
  } catch (e) {
    throw new Error(`cfn-lint failed (${(e as Error).message}):\n${result.stderr}\n${result.stdout}`.trim());
  }
  return raw.map((r) => ({
    ruleId: r.Rule.Id,
    level: r.Level,
    message: r.Message,
    file: r.Filename ?? '',
    path: r.Location?.Path ?? [],
    line: r.Location?.Start?.LineNumber,
  }));
}

/** Forces a synth of the App and turns its validation report (cdk-nag, cfn-guard, aws-cdk-lib) into findings. */
function synthesizeAndValidate(app: App): ComplianceFinding[] {
  const reportFile = join(app.outdir, 'validation-report.json');
  rmSync(reportFile, { force: true });
  try {
    app.synth({ force: true });
  } catch (e) {
    // A failed validation throws after writing the report; anything else is a real error of the test.
    if (!existsSync(reportFile)) throw e;
  }
  if (!existsSync(reportFile)) {
    throw new Error(`synthesis wrote no ${reportFile}: the validation plugins did not run`);
  }
  const report = JSON.parse(readFileSync(reportFile, 'utf8'));
  const elements = new Map<string, CfnElement>();
  for (const c of app.node.findAll()) if (CfnElement.isCfnElement(c)) elements.set(c.node.path, c);
  const findings: ComplianceFinding[] = [];
  for (const plugin of report.pluginReports ?? []) {
    const checker = PLUGIN_CHECKERS[plugin.pluginName] ?? plugin.pluginName;
    if (plugin.conclusion === 'failure' && (plugin.violations ?? []).length === 0) {
      findings.push({
        checker,
        ruleId: 'plugin-failure',
        severity: 'error',
        fails: true,
        message: String(plugin.metadata?.error ?? `validation plugin ${plugin.pluginName} failed`),
        constructPath: '',
      });
    }
    for (const v of plugin.violations ?? []) {
      // Strict mode: warnings fail as errors do; only informational findings pass.
      const severity = ['error', 'fatal'].includes(v.severity)
        ? 'error'
        : v.severity === 'warning'
          ? 'warning'
          : 'info';
      const rule =
        checker === 'cfn-guard' ? guardRule(v.ruleName, v.description) : { id: v.ruleName, message: v.description };
      for (const c of v.violatingConstructs ?? []) {
        const element = elements.get(c.constructPath);
        findings.push({
          checker,
          ruleId: rule.id,
          severity,
          fails: severity !== 'info',
          message: String(rule.message ?? ''),
          fix: v.suggestedFix && v.suggestedFix !== 'N/A' ? v.suggestedFix : undefined,
          constructPath: c.constructPath,
          logicalId: c.cloudFormationResource?.logicalId ?? (element && element.stack.resolve(element.logicalId)),
          template: c.cloudFormationResource?.templatePath
            ? basename(c.cloudFormationResource.templatePath)
            : element?.stack.templateFile,
          location: c.cloudFormationResource?.propertyPaths?.join(', '),
        });
      }
    }
  }
  return findings;
}

/**
 * Validation plugins only see the templates of stack artifacts, not those of nested stacks (aws-cdk-lib
 * passes them as assets): run the Control Tower rules on those here. (cdk-nag walks the construct tree and
 * cfn-lint gets every template, so both already cover nested stacks.)
 */
function guardNestedTemplates(app: App, templatePaths: string[], logicalIds: Map<string, string>): ComplianceFinding[] {
  if (templatePaths.length === 0) return [];
  const report = guardValidator().validate({ templatePaths, appConstruct: app });
  return report.violations.flatMap((v) =>
    v.violatingResources.map((r) => {
      const rule = guardRule(v.ruleName, v.description);
      const template = basename(r.templatePath);
      return {
        checker: 'cfn-guard',
        ruleId: rule.id,
        severity: 'error' as const,
        fails: true,
        message: rule.message,
        fix: v.fix && v.fix !== 'N/A' ? v.fix : undefined,
        constructPath: logicalIds.get(`${template}#${r.resourceLogicalId}`),
        logicalId: r.resourceLogicalId,
        template,
      };
    }),
  );
}

/** Turns Control Tower findings covered by GUARD_EXCEPTIONS into non-failing notes that name the exception. */
function applyGuardExceptions(findings: ComplianceFinding[], templatePaths: Map<string, string>): ComplianceFinding[] {
  const templates = new Map<string, TemplateResource['template']>();
  const templateOf = (file: string) => {
    const path = templatePaths.get(file);
    if (!path) return undefined;
    if (!templates.has(file)) templates.set(file, JSON.parse(readFileSync(path, 'utf8')));
    return templates.get(file)!;
  };
  return findings.map((f) => {
    if (f.checker !== 'cfn-guard' || !f.template || !f.logicalId) return f;
    const control = f.ruleId.split(' ')[0];
    const exceptions = GUARD_EXCEPTIONS.filter((e) => e.rules.includes(control));
    if (exceptions.length === 0) return f;
    const template = templateOf(f.template);
    const raw = template?.Resources?.[f.logicalId];
    if (!raw) return f;
    const resource: TemplateResource = {
      logicalId: f.logicalId,
      type: raw.Type,
      properties: raw.Properties ?? {},
      template: template!,
    };
    const match = exceptions.find((e) => e.appliesTo(resource));
    return match
      ? { ...f, fails: false, severity: 'info' as const, message: `${f.message} (excepted: ${match.reason})` }
      : f;
  });
}

/** Acknowledgements (however written) must be one cdk-nag finding on one resource, with a reason. */
function checkAcknowledgements(stacks: Stack[]): ComplianceFinding[] {
  const findings: ComplianceFinding[] = [];
  const seen = new Set<IConstruct>();
  for (const construct of stacks.flatMap((s) => [...s.node.scopes, ...s.node.findAll()])) {
    if (seen.has(construct)) continue;
    seen.add(construct);
    for (const entry of construct.node.metadata) {
      if (entry.type !== Validations.ACKNOWLEDGED_RULES_METADATA_KEY || !entry.data) continue;
      for (const [qualifiedId, reason] of Object.entries(entry.data as Record<string, unknown>)) {
        const [namespace, id] = qualifiedId.includes('::') ? qualifiedId.split('::', 2) : ['', qualifiedId];
        const problem = acknowledgementProblem(construct, namespace, id, reason);
        if (problem) {
          findings.push({
            checker: 'acknowledgement',
            ruleId: id,
            severity: 'error',
            fails: true,
            message: problem,
            constructPath: construct.node.path || '(the App)',
            logicalId: CfnElement.isCfnElement(construct)
              ? Stack.of(construct).resolve(construct.logicalId)
              : undefined,
          });
        }
      }
    }
  }
  return findings;
}

function acknowledgementProblem(
  construct: IConstruct,
  namespace: string,
  id: string,
  reason: unknown,
): string | undefined {
  if (namespace === 'cdk-validator-cfnguard') {
    return 'Control Tower rules cannot be acknowledged per construct: fix the resource, or disable the rule in DISABLED_GUARD_RULES with a reason';
  }
  if (namespace === 'CloudFormation-Validate') {
    // aws-cdk-lib acknowledges a few findings of its own templates (literal AZs, flow log property case):
    // recognised by id and reason, since our classes inherit aws-cdk-lib's type information.
    const known = AWS_CDK_LIB_ACKNOWLEDGEMENTS[id];
    if (known && typeof reason === 'string' && reason.startsWith(known)) return undefined;
    if (typeof reason === 'string' && LIBRARY_ACKNOWLEDGEMENTS[id]?.includes(reason)) return undefined;
    return 'CloudFormation validation findings are fixed, not acknowledged';
  }
  if (!id.startsWith('AwsSolutions-')) return undefined; // acknowledgements of construct annotations: not ours
  if (!CfnResource.isCfnResource(construct)) {
    return 'cdk-nag findings are acknowledged on the one CloudFormation resource they name (cdk-nag applies an acknowledgement to the whole subtree): use acknowledge() from test/support/compliance.ts';
  }
  if (typeof reason !== 'string' || reason.trim().length < MIN_REASON_LENGTH) {
    return `acknowledged without a reason of at least ${MIN_REASON_LENGTH} characters (got ${JSON.stringify(reason)})`;
  }
  return undefined;
}

/**
 * CloudFormation-Validate acknowledgements that aws-cdk-lib itself makes, by finding id and the start of its
 * reason. Add one here when a new aws-cdk-lib construct brings its own.
 */
const AWS_CDK_LIB_ACKNOWLEDGEMENTS: Readonly<Record<string, string>> = {
  W3010: 'Literal AZs in template are the result of accessing stack.availabilityZones',
  F3002: 'AWS::EC2::FlowLog DestinationOptions accepts properties in camelCase',
  F3003: 'AWS::EC2::FlowLog DestinationOptions accepts properties in camelCase',
  W9010: 'The AMI ID is resolved from a synth-time lookup',
};

/**
 * CloudFormation-Validate findings the library itself acknowledges, by id and exact reason: each is the point of
 * the construct, not a mistake (a NAT instance's pinned AMI id).
 */
const LIBRARY_ACKNOWLEDGEMENTS: Readonly<Record<string, readonly string[]>> = {
  W9010: [PINNED_NAT_IMAGE_REASON],
  E9006: [MAJOR_VERSION_ALONE_REASON],
};

/** Maps `template#logicalId` to construct paths, for every CloudFormation element of the given stacks. */
function logicalIdIndex(stacks: Stack[]): Map<string, string> {
  const index = new Map<string, string>();
  for (const stack of stacks) {
    for (const c of stack.node.findAll()) {
      if (CfnElement.isCfnElement(c) && c.stack === stack) {
        index.set(`${stack.templateFile}#${stack.resolve(c.logicalId)}`, c.node.path);
      }
    }
  }
  return index;
}

/** The report thrown by expectCompliant: failures first, grouped by checker, then non-failing warnings. */
export function formatReport(findings: ComplianceFinding[], stacks: Stack[] = []): string {
  const failures = findings.filter((f) => f.fails);
  const notes = findings.filter((f) => !f.fails && f.severity !== 'info');
  const counts = new Map<string, number>();
  failures.forEach((f) => counts.set(f.checker, (counts.get(f.checker) ?? 0) + 1));
  const lines = [
    `${failures.length} compliance finding(s) in ${stacks.map((s) => s.node.path).join(', ') || 'the stacks'} ` +
      `(${[...counts].map(([k, n]) => `${k}: ${n}`).join(', ')}):`,
    '',
    ...failures.map(formatFinding),
  ];
  if (notes.length > 0) lines.push('', 'Reported, not failing:', ...notes.map(formatFinding));
  lines.push(
    '',
    'cdk-nag: fix the resource, or acknowledge(resource, id, reason) one finding on one resource.',
    'Control Tower (cfn-guard): fix the resource; a rule is disabled only in DISABLED_GUARD_RULES, with a reason.',
    'cfn-lint and cloudformation-validate: fix the template.',
  );
  return lines.join('\n');
}

function formatFinding(f: ComplianceFinding): string {
  const where = [
    f.constructPath || undefined,
    f.logicalId || f.template ? `(${[f.logicalId, f.template].filter(Boolean).join(' in ')})` : undefined,
    f.location && f.checker === 'cfn-lint' ? `at ${f.location}` : undefined,
  ]
    .filter(Boolean)
    .join(' ');
  const out = [`[${f.checker}] ${f.ruleId} ${f.severity.toUpperCase()} ${where}`.trimEnd(), `    ${f.message}`];
  if (f.fix) out.push(`    Fix: ${f.fix}`);
  return out.join('\n');
}

/** A cfn-guard violation's id as `CT.S3.PR.1 (s3_bucket_level_public_access_prohibited_check)`. */
function guardRule(ruleName: string, description = ''): { id: string; message: string } {
  const control = CT_ID.exec(description);
  return {
    id: control ? `${control[1]} (${ruleName})` : ruleName,
    message: control ? description.slice(control.index + control[0].length).replace(/^:\s*/, '') : description,
  };
}

/** The Control Tower rules, without the ones in DISABLED_GUARD_RULES. */
function guardValidator(): IPolicyValidationPluginBeta1 {
  return new ContractAwareGuard(
    new CfnGuardValidator({ disabledRules: guardRuleFilesToDisable(DISABLED_GUARD_RULES) }),
  );
}

/**
 * The Control Tower rules on copies of the templates in which each Ref to an SSM-typed parameter (the platform
 * contract) is written as the Fn::ImportValue the rules already understand: cdk-validator-cfnguard 0.0.62 fails as a
 * whole ("Cannot read properties of undefined (reading 'to')") on the result shape that cfn-guard gives for a Ref to
 * a parameter where a rule wants a resource of the template. The findings name the original templates, and
 * GUARD_EXCEPTIONS still see the originals.
 */
class ContractAwareGuard implements IPolicyValidationPluginBeta1 {
  public readonly name: string;
  public readonly version?: string;
  public readonly ruleIds?: string[];

  constructor(private readonly inner: CfnGuardValidator) {
    this.name = inner.name;
    this.version = inner.version;
    this.ruleIds = inner.ruleIds;
  }

  public validate(context: IPolicyValidationContextBeta1): PolicyValidationPluginReportBeta1 {
    const dir = mkdtempSync(join(tmpdir(), 'cdk-paas-vending-guard-'));
    try {
      const original = new Map<string, string>();
      const templatePaths = context.templatePaths.map((path, i) => {
        const template = JSON.parse(readFileSync(path, 'utf8'));
        const parameters: Record<string, any> = template.Parameters ?? {};
        const rewrite = (value: unknown): unknown => {
          if (Array.isArray(value)) return value.map(rewrite);
          if (!value || typeof value !== 'object') return value;
          const ref = (value as { Ref?: unknown }).Ref;
          if (typeof ref === 'string' && SSM_PARAMETER_TYPE.test(parameters[ref]?.Type ?? '')) {
            return { 'Fn::ImportValue': parameters[ref].Default };
          }
          return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, rewrite(v)]));
        };
        template.Resources = rewrite(template.Resources);
        const copy = join(dir, `${i}`, basename(path));
        mkdirSync(dirname(copy));
        writeFileSync(copy, JSON.stringify(template));
        original.set(copy, path);
        return copy;
      });
      const report = this.inner.validate({ ...context, templatePaths });
      return {
        ...report,
        violations: report.violations.map((v) => ({
          ...v,
          violatingResources: v.violatingResources.map((r) => ({
            ...r,
            templatePath: original.get(r.templatePath) ?? r.templatePath,
          })),
        })),
      };
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
}

/**
 * The cfn-guard rule file names (`ct-s3-pr-1`) that `CfnGuardValidator({ disabledRules })` expects, for a
 * map of control ids to reasons; throws on an unknown control id or a reason that is too short.
 */
export function guardRuleFilesToDisable(rules: Readonly<Record<string, string>>): string[] {
  const entries = Object.entries(rules);
  if (entries.length === 0) return [];
  const files = guardRuleFiles();
  return entries.map(([id, reason]) => {
    const file = files.get(id);
    if (!file) throw new Error(`DISABLED_GUARD_RULES: ${id} is not a bundled Control Tower rule (e.g. CT.S3.PR.1)`);
    if (reason.trim().length < MIN_REASON_LENGTH) {
      throw new Error(`DISABLED_GUARD_RULES: ${id} needs a reason of at least ${MIN_REASON_LENGTH} characters`);
    }
    return file;
  });
}

let guardRuleFileCache: Map<string, string> | undefined;

/** Control id (`CT.S3.PR.1`) → rule file name without extension (`ct-s3-pr-1`), read from the rule files. */
function guardRuleFiles(): Map<string, string> {
  if (!guardRuleFileCache) {
    const dir = join(
      dirname(require.resolve('@cdklabs/cdk-validator-cfnguard/package.json')),
      'rules',
      'control-tower',
      'cfn-guard',
    );
    guardRuleFileCache = new Map();
    for (const entry of readdirSync(dir, { recursive: true, encoding: 'utf8' })) {
      if (!entry.endsWith('.guard')) continue;
      const id = CT_ID.exec(readFileSync(join(dir, entry), 'utf8'));
      if (id) guardRuleFileCache.set(id[1], basename(entry, '.guard'));
    }
  }
  return guardRuleFileCache;
}

function toArray(stacks: Stack | Stack[]): Stack[] {
  return Array.isArray(stacks) ? stacks : [stacks];
}
