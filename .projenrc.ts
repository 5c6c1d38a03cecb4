import { awscdk, javascript, DependencyType, release } from 'projen';
import { UpdateSnapshot } from 'projen/lib/javascript';

/**
 * The lowest aws-cdk-lib the library's own code needs (README says why).
 * `npm run compat:cdk-floor` type-checks src/ against exactly this version.
 */
const CDK_FLOOR = '2.189.1';
/** The aws-cdk-lib the tests run on: a current 2.x. */
const CDK_TESTED = '2.276.0';

const project = new awscdk.AwsCdkConstructLibrary({
  name: 'cdk-paas-vending',
  description:
    'Vend dedicated, production-grade EC2 web environments on AWS, one per customer and environment, from a short config file.',
  author: 'cdk-paas-vending maintainers',
  authorAddress: 'maintainers@cdk-paas-vending.invalid',
  repositoryUrl: 'https://github.com/cdk-paas-vending/cdk-paas-vending.git',
  homepage: 'https://github.com/cdk-paas-vending/cdk-paas-vending',
  license: 'Apache-2.0',
  keywords: ['cdk', 'awscdk', 'aws-cdk', 'paas', 'ec2', 'multi-tenant', 'vending', 'codedeploy', 'packer'],
  defaultReleaseBranch: 'main',
  packageManager: javascript.NodePackageManager.NPM,
  projenrcTs: true,

  cdkVersion: CDK_FLOOR,
  jsiiVersion: '~6.0.0',
  minNodeVersion: '22.0.0',
  workflowNodeVersion: '22',
  tsconfigDevFile: 'tsconfig.dev.json',
  // The floor is a peer dependency; the tests install a current aws-cdk-lib (see below).
  peerDependencyOptions: { pinnedDevDependency: false },

  // There is no GitHub here: CI is .ci/run; releases are cut by hand with `npx projen release` (CONTRIBUTING.md).
  github: false,
  release: true,
  // `npx projen release` by hand from a clean main: bump from the conventional commits since the last v* tag,
  // build and test, then CHANGELOG.md and the tag in a release commit; pushing it is left to the maintainer.
  releaseTrigger: release.ReleaseTrigger.manual({ changelog: true, changelogPath: 'CHANGELOG.md', gitPushCommand: '' }),
  majorVersion: 0,
  depsUpgrade: false,
  pullRequestTemplate: false,

  publishToPypi: { distName: 'cdk-paas-vending', module: 'cdk_paas_vending' },
  publishToMaven: {
    javaPackage: 'io.github.cdkpaasvending',
    mavenGroupId: 'io.github.cdkpaasvending',
    mavenArtifactId: 'cdk-paas-vending',
  },

  // The newest Node.js runtime of Lambda (cdk-nag's AwsSolutions-L1 asks for it).
  lambdaOptions: { runtime: awscdk.LambdaRuntime.NODEJS_24_X },

  // Runtime dependencies a jsii library must bundle (they are not jsii modules).
  // js-yaml: the fast path for config files that are valid; yaml: the full parse with line positions (src/config/quick-yaml.ts).
  // @dagrejs/dagre: the layout of paas-vending diagram's SVG pictures (src/cli/diagram/).
  bundledDeps: ['yaml@^2.9.1', 'ajv@^8.20.0', 'js-yaml@^5.5.0', '@dagrejs/dagre@^3.1.3'],
  devDeps: [
    'fast-check@^4.10.2',
    'cdk-nag@^3.0.2',
    '@cdklabs/cdk-validator-cfnguard@^0.0.62',
    'ts-json-schema-generator@^2.10.0',
    // Lambda handlers use the AWS SDK v3 that the Node.js runtime provides; bundling leaves it out.
    '@aws-sdk/client-elastic-load-balancing-v2@^3',
    '@aws-sdk/client-dynamodb@^3',
    '@aws-sdk/client-ec2@^3', // integration tests create the VPC and load balancer in moto
    '@aws-sdk/client-ssm@^3', // the environment-resources function (the AMI parameter)
    '@aws-sdk/client-s3@^3', // the environment-resources function (a non-production data bucket emptied)
    '@aws-sdk/client-cloudformation@^3', // the environment-resources function (is the stack being deleted?)
    'aws-sdk-client-mock@^4.1.0',
    'aws-sdk-client-mock-jest@^4.1.0',
    '@cdktf/hcl2json@^0.21.0', // parses the rendered Packer templates in tests
    // `paas-vending diff` compares templates with it (loaded when the command runs; README says to install it).
    '@aws-cdk/cloudformation-diff@^2.187.5',
    // `paas-vending deploy` deploys with it (loaded when the command runs, like cloudformation-diff: it is not a jsii
    // module and brings the AWS SDK; README says to install it).
    '@aws-cdk/toolkit-lib@^1.43.0',
  ],
  bin: { 'paas-vending': 'lib/cli/main.js' },

  prettier: true,
  prettierOptions: { settings: { singleQuote: true, printWidth: 120 } },
  eslint: true,
  // One project for every linted file: tsconfig.dev.json covers src/, test/ and scripts/ (the project
  // service would look for the nearest tsconfig.json, which only includes src/).
  eslintOptions: {
    dirs: ['src'],
    devdirs: ['test', 'scripts'],
    projectService: false,
    tsconfigPath: './tsconfig.dev.json',
  },

  jestOptions: {
    updateSnapshot: UpdateSnapshot.NEVER,
    jestConfig: {
      testMatch: ['<rootDir>/test/**/*.test.ts'],
      // Coverage is measured on all of src/; main.ts is the 3-line bin, run in a child process by its test.
      collectCoverageFrom: ['src/**/*.ts', '!src/cli/main.ts'],
      coveragePathIgnorePatterns: ['/node_modules/', '/test/'],
      // Istanbul counters in src/ only. V8's precise coverage slows every line that runs in a test worker, the
      // TypeScript compiler, ESLint and aws-cdk-lib included: it doubled the CPU time of the suites that lint or
      // parse (layers, loader properties: 62 s without coverage, 119 s with V8's, 67 s with these).
      coverageProvider: 'babel',
      // CDK_VALIDATION=false for the plain Apps of the tests; compliance-checked Apps validate (the file says why).
      setupFiles: ['<rootDir>/test/support/jest-setup.ts'],
      coverageThreshold: { lines: 90, branches: 90, statements: 90, functions: 90 },
      // Synthesizing stacks and running cfn-lint takes seconds per case on 2 cores.
      testTimeout: 120_000,
      // Every core: jest's default leaves one idle (a single worker on a 2-core machine). The suites share no
      // files or ports (temporary directories; moto on a free port per suite), so they run side by side.
      maxWorkers: '100%',
    },
  },

  gitignore: [
    '/.venv/',
    // The offer files `npx projen prices` downloads (hundreds of MB).
    '/.prices/',
    '/cdk.out/',
    '/dist/',
    '.jsii.tabl.json',
    '/rosetta/*.tabl.json',
    '/test/**/cdk.out/',
    // What `cdk` in the example fleet and the example app's buildspec write.
    '/examples/fleet/cdk.out/',
    '/examples/fleet/cdk.context.json',
    '/examples/customer-app/build/',
  ],
  // examples/fleet/ ships: `paas-vending` uses it when no directory is given.
  npmIgnoreOptions: {
    ignorePatterns: [
      '/.ci/',
      '/allowed-breaking-changes.txt',
      '/.venv/',
      // The offer files `npx projen prices` downloads (hundreds of MB).
      '/.prices/',
      '/rosetta/',
      '/scripts/',
      '/docs/',
      '/tsconfig.dev.json',
      '/examples/fleet/cdk.out/',
      '/examples/customer-app/build/',
      // The example apps in each language: read in the repository, run by CI on the built packages.
      '/examples/typescript/',
      '/examples/python/',
      '/examples/java/',
    ],
  },
});

// The tests run on a current aws-cdk-lib; the peer dependency keeps the floor above.
project.deps.addDependency(`aws-cdk-lib@${CDK_TESTED}`, DependencyType.BUILD);
project.deps.addDependency('constructs@^10.5.1', DependencyType.BUILD);

// Handler code imports the AWS SDK, which the Lambda runtime provides (a dev dependency here).
/**
 * The modules of src/ in layers, lowest first: a module imports only modules of lower layers (never one beside it,
 * never one above), and src/index.ts re-exports them all. eslint's import/no-restricted-paths enforces it; CONTRIBUTING.md
 * says what each module holds.
 */
const LAYERS: string[][] = [
  ['config'], // the config file contract: types, rules, defaults, loader
  ['shared-alb-rule', 'appspec'], // the listener-rule allocator; the AppSpec checker (used by the command)
  ['platform'], // SharedPlatform and its contract, PlatformReference
  ['web-tier'], // CustomerWebTier: what runs on the instances, and in front of them
  ['pipeline-common'], // what both pipelines share: sources, approval, artifacts, the config of a web tier
  ['ami-pipeline', 'delivery-pipeline', 'fleet-pipeline'], // the pipelines (two per environment, one per fleet), which never use each other
  ['environment'], // CustomerEnvironment, VendingFleet, placement: config files to stacks
  ['cli'], // the paas-vending command
];
project.eslint?.addRules({
  'import/no-restricted-paths': [
    'error',
    {
      zones: LAYERS.flatMap((layer, level) =>
        layer.map((module) => ({
          target: `./src/${module}`,
          from: LAYERS.slice(level)
            .flat()
            .filter((other) => other !== module)
            .map((other) => `./src/${other}`),
          message: `src/${module} is in layer ${level} (.projenrc.ts LAYERS): it may import only modules of lower layers`,
        })),
      ),
    },
  ],
});
project.eslint?.allowDevDeps('src/**/*.lambda.ts');
project.eslint?.allowDevDeps('src/shared-alb-rule/allocator.ts');
project.eslint?.allowDevDeps('src/shared-alb-rule/state-table.ts');
project.eslint?.allowDevDeps('src/shared-alb-rule/listener-rules.ts');
project.eslint?.allowDevDeps('src/platform/ami-parameter-handler.ts');

// ESLint reads type information for .projenrc.ts through tsconfig.dev.json too.
project.tsconfigDev.addInclude('.projenrc.ts');
// The TypeScript example app imports the published package (installed in its own folder by CI), not src/.
project.tsconfigDev.addExclude('examples');

// The dev dependency is deliberately newer than the peer floor (tests run on a current aws-cdk-lib).
project.compileTask.reset('jsii --silence-warnings=metadata/missing-dev-dependency');
// The Lambda handlers' bundles (assets/) are part of the package and of every synthesized platform: compile and
// test build them first (esbuild, about a second), so neither depends on a previous pre-compile.
const bundle = project.tasks.tryFind('bundle');
if (!bundle) throw new Error('.projenrc.ts: the bundle task of the Lambda handlers is missing');
project.compileTask.prependSpawn(bundle);

// Every example in README and docstrings must compile and translate (jsii-rosetta strict mode).
project.package.addField('jsii', {
  ...project.package.manifest.jsii,
  metadata: { jsii: { rosetta: { strict: true } } },
});

// The JSON Schemas of the config files are generated from the TypeScript interfaces.
const schema = project.addTask('schema', {
  description: 'Generate the JSON Schemas of customer and platform config files from src/config/types.ts',
  exec: 'ts-node --project tsconfig.dev.json scripts/generate-schema.ts',
});
project.preCompileTask.spawn(schema);

const rosetta = project.addTask('rosetta', {
  description: 'Compile and translate every TypeScript example in README and docstrings (strict)',
  exec: 'jsii-rosetta extract --strict --fail --compile',
});
project.postCompileTask.spawn(rosetta);

// The bump tool is a dev dependency (commit-and-tag-version@^13). Run it by its plain name: projen's
// `npx commit-and-tag-version@^13` fails under `npx -p node@22` (the outer npx's package setting is inherited).
for (const name of ['bump', 'unbump']) project.tasks.tryFind(name)?.env('BUMP_PACKAGE', 'commit-and-tag-version');

// The public API against the last release's (jsii-diff); .ci/run runs it after the build.
project.addTask('api-compat', {
  description:
    'jsii-diff of the last release (v* tag) against this build; allowed-breaking-changes.txt lists decisions',
  exec: 'bash scripts/api-compat.sh',
});

// Python tools the tests call (cfn-lint, moto, the AWS CLI, shellcheck) live in a project-local virtualenv with
// pinned versions.
const pythonTools = project.addTask('python-tools', {
  description: 'Create .venv with the pinned Python tools the tests use (cfn-lint, moto, AWS CLI, shellcheck)',
  exec: 'bash scripts/python-tools.sh',
});
// System tools that only a system package provides (packer, jq, unzip, curl): installed with apt when the user
// can, otherwise the test command stops before any test with one message naming them.
const systemTools = project.addTask('system-tools', {
  description: 'Check (and install with apt when root) the system tools the tests run: packer, jq, unzip, curl',
  exec: 'bash scripts/system-tools.sh',
});
project.testTask.prependSpawn(pythonTools);
project.testTask.prependSpawn(bundle);
project.testTask.prependSpawn(systemTools);

// Benchmarks are not tests: figures go to docs/BENCHMARKS.md.
const benchAllocator = project.addTask('bench:allocator', {
  description:
    'Benchmark the ALB rule priority allocator against moto (N = 10, 100, 1000; sequential and concurrency 20)',
  exec: 'ts-node --project tsconfig.dev.json scripts/bench-allocator.ts',
  receiveArgs: true,
});
benchAllocator.prependSpawn(pythonTools);
// Measures the compiled lib/ (what users run): compile first (`npx projen compile`); the script warns when
// src/ is newer than lib/.
project.addTask('bench', {
  description:
    'Benchmark fleet synthesis: 1, 10, 100, 500 environments with the library, as a plain aws-cdk-lib app and as empty stacks',
  exec: 'ts-node --project tsconfig.dev.json scripts/bench-fleet.ts',
  receiveArgs: true,
});

// The health of an environment built by the library against the same with cdk-monitoring-constructs (not a
// dependency: `npm install --no-save cdk-monitoring-constructs@10.2.0` first); measures lib/: compile first.
project.addTask('bench:health-library', {
  description:
    'Benchmark EnvironmentHealth against the same health built with cdk-monitoring-constructs (1 and 100 environments)',
  exec: 'ts-node --project tsconfig.dev.json scripts/bench-health-library.ts',
  receiveArgs: true,
});

// docs/QUOTAS.md's table: each AWS quota and what the example fleet and generated fleets of 100 and 1,000 use of it.
project.addTask('quotas:table', {
  description:
    'Print the table of docs/QUOTAS.md: the AWS quotas a fleet is bound by, and their use at 6, 100, 1,000 environments',
  exec: 'ts-node --project tsconfig.dev.json scripts/quota-table.ts',
});

// src/config/engine-versions.ts: the dated table of database versions RDS offers, from the pinned cfn-lint's RDS data.
project.addTask('engine-versions', {
  description: "Write src/config/engine-versions.ts from the pinned cfn-lint's RDS engine versions (offline)",
  steps: [
    { spawn: 'python-tools' },
    { exec: '.venv/bin/python scripts/engine-versions.py' },
    { exec: 'ESLINT_USE_FLAT_CONFIG=false eslint --ext .ts --fix src/config/engine-versions.ts' },
  ],
});

// src/cli/cost/prices.ts: the price table of `paas-vending cost`, from AWS's public Price List offer files (no account).
project.addTask('prices', {
  description: "Rewrite src/cli/cost/prices.ts from AWS's public Price List offer files (internet, no AWS account)",
  receiveArgs: true,
  steps: [
    { exec: 'ts-node --project tsconfig.dev.json scripts/refresh-prices.ts', receiveArgs: true },
    { exec: 'ESLINT_USE_FLAT_CONFIG=false eslint --ext .ts --fix src/cli/cost/prices.ts' },
  ],
});

project.addTask('compat:cdk-floor', {
  description: `Type-check src/ against the aws-cdk-lib floor (${CDK_FLOOR})`,
  exec: `bash scripts/cdk-floor.sh ${CDK_FLOOR}`,
});

project.synth();
