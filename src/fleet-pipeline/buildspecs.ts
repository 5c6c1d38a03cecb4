/*
 * Internal (not re-exported by the package): the buildspecs of the fleet pipeline's CodeBuild projects, as plain
 * objects. Every command is one shell line that runs in the fleet repository's root, with the variables below set by
 * the project: tests run them in bash, `aws` replaced by a fake that records its calls.
 *
 * - FLEET_DIR: the fleet directory, relative to the repository's root
 * - STATE_BUCKET: the bucket that keeps the deploy state (`paas-vending deploy --state`), under `state/`
 * - CONCURRENCY: stacks deployed at the same time in a wave
 * - PIPELINE_STACK: the stack of the pipeline itself (the self-update)
 * - PIPELINE_NAME: the pipeline's name (the self-update restarts it)
 * - PIPELINE_EXECUTION_ID: the pipeline's execution (a CodePipeline variable, set by the action)
 */

/** The groups of stacks `paas-vending deploy --group` deploys, one wave each, in this order. */
export type DeployGroup = 'platform' | 'nonproduction' | 'production';

/** Where the Build action writes the plan and the approval text, in its output artifact beside cdk.out. */
export const PLAN_DIRECTORY = 'fleet-plan';
/** The cloud assembly the Build action writes and every later action deploys, in the output artifact. */
export const ASSEMBLY_DIRECTORY = 'cdk.out';
/** The exported variable that carries the production approval's text. */
export const APPROVAL_VARIABLE = 'APPROVAL_MESSAGE';
/** The Build action's exported count of production stacks to deploy: the Approval and Production stages skip at 0. */
export const PRODUCTION_VARIABLE = 'PRODUCTION_STACKS';
/** The S3 prefix of the deploy state in the state bucket. */
export const STATE_PREFIX = 'state';
/** The S3 prefix of the deploy reports: `reports/<execution id>/<group>.json`. */
export const REPORTS_PREFIX = 'reports';
/**
 * The roles of a `cdk bootstrap` that a deploy with the CDK toolkit assumes, as DefaultStackSynthesizer names them:
 * `cdk-<qualifier>-<role>-<account>-<region>`.
 */
export const BOOTSTRAP_ROLES = ['deploy-role', 'file-publishing-role', 'image-publishing-role', 'lookup-role'];
/** A file the deploy commands leave when a stack failed: the action fails at its end, after the state is saved. */
const FAILED_MARK = '.fleet-deploy-failed';

const PAAS_VENDING = 'npx --no paas-vending';

/** Node.js of the builds: the library's own floor. */
const INSTALL = {
  'runtime-versions': { nodejs: '22' },
  // The library and its dependencies, at the versions of the fleet repository's lock file.
  commands: ['npm ci'],
};

/** The state as the last run left it (an empty folder on the first run). */
const STATE_DOWN = `mkdir -p state && aws s3 sync "s3://$STATE_BUCKET/${STATE_PREFIX}/" state/ --only-show-errors`;
/** The state as this action leaves it, including what it deployed before a failure. */
const STATE_UP = `aws s3 sync state/ "s3://$STATE_BUCKET/${STATE_PREFIX}/" --only-show-errors`;

/** Node, reading the plan's JSON (`deploy --plan --json`): how many production stacks it deploys. */
const PRODUCTION_COUNT =
  'const plan = JSON.parse(require("fs").readFileSync(process.argv[1], "utf-8")); ' +
  'const wave = plan.waves.find((w) => w.wave === "production"); console.log(wave ? wave.stacks.length : 0)';

/**
 * The Build action: validate, synthesize (placement frozen: CI commits nothing), then the plan of what the deploy
 * actions will deploy and the production approval's text, from the state the last run left. Its output artifact is
 * the repository with cdk.out and the plan (node_modules left out: each deploy action installs from the lock file).
 */
export function buildSpecOfBuild(): Record<string, unknown> {
  return {
    version: '0.2',
    env: { shell: 'bash', 'exported-variables': [APPROVAL_VARIABLE, PRODUCTION_VARIABLE] },
    phases: {
      install: INSTALL,
      build: {
        commands: [
          `${PAAS_VENDING} validate "$FLEET_DIR"`,
          `${PAAS_VENDING} synth "$FLEET_DIR" --out ${ASSEMBLY_DIRECTORY} --frozen-placement`,
          STATE_DOWN,
          `mkdir -p ${PLAN_DIRECTORY}`,
          `${PAAS_VENDING} deploy "$FLEET_DIR" --app ${ASSEMBLY_DIRECTORY} --state state --plan --json > ${PLAN_DIRECTORY}/plan.json`,
          `cat ${PLAN_DIRECTORY}/plan.json`,
          `${PAAS_VENDING} deploy "$FLEET_DIR" --app ${ASSEMBLY_DIRECTORY} --state state --plan --approval-message ${PLAN_DIRECTORY}/approval.txt`,
          `export ${APPROVAL_VARIABLE}="$(cat ${PLAN_DIRECTORY}/approval.txt)"`,
          `echo "$${APPROVAL_VARIABLE}"`,
          `export ${PRODUCTION_VARIABLE}="$(node -e '${PRODUCTION_COUNT}' ${PLAN_DIRECTORY}/plan.json)"`,
          `echo "production stacks to deploy: $${PRODUCTION_VARIABLE}"`,
        ],
      },
    },
    artifacts: {
      files: ['**/*'],
      'exclude-paths': ['node_modules/**/*', '.git/**/*', 'state/**/*'],
      'enable-symlinks': 'yes',
    },
  };
}

/**
 * The UpdatePipeline action: deploys the pipeline's own stack first, when its template changed. When it did, the
 * pipeline now has the new definition: this action queues a new execution (which runs with it, once this one has
 * stopped: the pipeline is in QUEUED mode) and stops this one, which ends with this action: "stop and wait" lets
 * the running action finish and starts no later one.
 */
export function buildSpecOfSelfUpdate(): Record<string, unknown> {
  const template = `state/templates/$PIPELINE_STACK.template.json`;
  return {
    version: '0.2',
    env: { shell: 'bash' },
    phases: {
      install: INSTALL,
      build: {
        commands: [
          STATE_DOWN,
          `mkdir -p reports && { cp "${template}" .pipeline-before.json 2>/dev/null || echo none > .pipeline-before.json; }`,
          `${PAAS_VENDING} deploy "$FLEET_DIR" --app ${ASSEMBLY_DIRECTORY} --state state --stack "$PIPELINE_STACK" --require-approval never --report reports/pipeline.json || touch ${FAILED_MARK}`,
          STATE_UP,
          `test ! -e ${FAILED_MARK} || { echo "the pipeline's stack $PIPELINE_STACK failed to deploy: the fleet is not deployed with an old pipeline" >&2; exit 1; }`,
          `if cmp -s "${template}" .pipeline-before.json; then echo "the pipeline's stack $PIPELINE_STACK is unchanged"; else ` +
            `echo "the pipeline's stack $PIPELINE_STACK changed: a new execution runs the new definition, this one stops here" && ` +
            `aws codepipeline start-pipeline-execution --name "$PIPELINE_NAME" && ` +
            `aws codepipeline stop-pipeline-execution --pipeline-name "$PIPELINE_NAME" --pipeline-execution-id "$PIPELINE_EXECUTION_ID" --reason "the pipeline updated itself; the next execution carries on with the new definition"; fi`,
        ],
      },
    },
  };
}

/**
 * A wave: the changed stacks of the group `DEPLOY_GROUP` (platform, nonproduction or production, set by the action),
 * `CONCURRENCY` at a time. A stack that fails does not stop the others; the state keeps every stack that deployed,
 * the report goes to the build log and to the state bucket, and the action fails at its end when a stack failed.
 */
export function buildSpecOfDeploy(): Record<string, unknown> {
  const report = 'reports/$DEPLOY_GROUP.json';
  return {
    version: '0.2',
    env: { shell: 'bash' },
    phases: {
      install: INSTALL,
      build: {
        commands: [
          STATE_DOWN,
          'mkdir -p reports',
          `${PAAS_VENDING} deploy "$FLEET_DIR" --app ${ASSEMBLY_DIRECTORY} --state state --group "$DEPLOY_GROUP" --concurrency "$CONCURRENCY" --require-approval never --report "${report}" || touch ${FAILED_MARK}`,
          STATE_UP,
          `if [ -e "${report}" ]; then cat "${report}" && aws s3 cp "${report}" "s3://$STATE_BUCKET/${REPORTS_PREFIX}/$PIPELINE_EXECUTION_ID/$DEPLOY_GROUP.json" --only-show-errors; fi`,
          `test ! -e ${FAILED_MARK} || { echo "some $DEPLOY_GROUP stacks failed to deploy: their reasons are in the report above" >&2; exit 1; }`,
        ],
      },
    },
  };
}
