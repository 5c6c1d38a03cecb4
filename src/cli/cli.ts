import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'fs';
import { dirname, join, relative, resolve } from 'path';
import { parseArgs } from 'util';
// The folder's index by name: a lib/cli/diagram.js left by a build from before the split would be found first.
import { diagramFileText, diagramUsageProblem, drawDiagram } from './diagram/index';
import { starterCustomerFile } from './starter';
import { synthesizeFleet } from './synth';
import { checkAppSpec, LIFECYCLE_ORDER } from '../appspec/appspec';
import { ingressOf, ResolvedCustomerConfig, ResolvedPlatformConfig } from '../config/defaults';
import { ConfigError, formatProblem } from '../config/errors';
import {
  displayPath,
  platformFilesIn,
  readCustomer,
  readFile,
  readFleet,
  readPlatform,
  ResolvedFleet,
} from '../config/loader';
import { schemaProblems, SCHEMA_DIR } from '../config/schema';
import { plannedPlacement } from '../environment/placement';

/** Where the command writes: injected so tests can read what a user sees. */
export interface Io {
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
  readonly cwd: string;
  /** Whether `err` writes to a terminal: progress of long commands is shown only then. @default false */
  readonly errIsTTY?: boolean;
  /** The environment (synth reads CDK_OUTDIR from it). @default process.env */
  readonly env?: Readonly<Record<string, string | undefined>>;
}

/** Exit codes: 0 success, 1 invalid config or refused action, 2 wrong usage. */
export const EXIT_OK = 0;
export const EXIT_INVALID = 1;
export const EXIT_USAGE = 2;
/** An unexpected failure of the command itself (sysexits' EX_SOFTWARE): a bug to report. */
export const EXIT_INTERNAL = 70;

const PACKAGE_ROOT = join(__dirname, '..', '..');
/** The example fleet shipped in the package, used when no directory is given and none is here. */
export const BUNDLED_FLEET = join(PACKAGE_ROOT, 'examples', 'fleet');

const HELP: Record<string, string> = {
  main: `Usage: paas-vending <command> [options]

Vend dedicated EC2 web environments from one config file per customer environment.

Commands:
  validate [DIR]                      check platform.yaml and every file in customers/
  list [DIR]                          show the customer environments of a fleet
  synth [DIR] [--out DIR]             synthesize the fleet into a CDK cloud assembly (a CDK app too)
  init CUSTOMER ENVIRONMENT [DIR]     write a commented starter file for a new environment
  check-appspec FILE [--root DIR]     check a customer's appspec.yml before it reaches CodeDeploy
  diagram [DIR] [--customer C]        draw a customer environment, or the platform, as Mermaid or SVG

DIR is a fleet directory (platform.yaml + customers/*.yaml). Without DIR, the current directory
is used when it holds a platform file, and the bundled example fleet otherwise.

Options:
  -h, --help       show help (also after a command: paas-vending list --help)
  -v, --version    show the version

Exit codes: 0 success, 1 invalid config, 2 wrong usage, 70 internal error (a bug).`,
  validate: `Usage: paas-vending validate [DIR]

Checks platform.yaml and every file in DIR/customers/, and what no single file shows (duplicate
environments or host names, certificates outside the platform's region or account). Prints every
problem as file:line:column: field: message.

Exit codes: 0 all valid, 1 problems found, 2 wrong usage.`,
  list: `Usage: paas-vending list [DIR] [--json]

Shows customer, environment, host names, ingress (shared or dedicated load balancer), database,
instance type and capacity of every customer environment of the fleet.

Options:
  --json    print a JSON array instead of a table

Exit codes: 0 listed, 1 invalid config, 2 wrong usage.`,
  synth: `Usage: paas-vending synth [DIR] [--out DIR] [--stack NAME]... [--json] [--frozen-placement] [--validate]

Validates the fleet as validate does, builds it with VendingFleet (a <platform>-platform stack and a
<customer>-<environment> stack per customer file) in a CDK app and synthesizes it into a cloud assembly.
Prints each stack, the platform's first, with its customer, environment, host names, ingress,
resource count and template file. On a terminal, shows on stderr which stack is being built, then
the synthesis and its time; quiet when piped and with --json. Warnings of the stacks go to stderr;
an error annotation fails the command, as it fails cdk synth.

As the app of the AWS CDK CLI: when CDK_OUTDIR is set (the CDK CLI sets it when it runs an app), the
cloud assembly is written there and nothing is printed on stdout. With a cdk.json in the fleet
directory such as {"app": "npx --no paas-vending synth ."} (the bundled example fleet has one),
cdk list, cdk synth, cdk diff and cdk deploy acme-production work there. The CDK CLI builds every
stack of an app; to build only what one deploy needs, name the stacks in the context key
vending:stacks as well: cdk deploy -c vending:stacks=acme-production acme-production.

Customer stacks read the platform through its published SSM parameters (/vending/<platform>/v1/...),
resolved by CloudFormation at deploy time: they hold no Fn::ImportValue, each one deploys on its own
once the platform is deployed, and each one can be synthesized alone (--stack).

Environments on shared ingress are spread over the platform's shared load balancers, 100 on each:
DIR/placement.yaml records which one serves each environment. An environment never moves; a new one
goes to the first load balancer with room, and another load balancer is added when all are full (up
to maxSharedLoadBalancers in platform.yaml). The command writes placement.yaml when it changes and
says so on stderr: commit it with the fleet.

The platform's VPC needs the names of its availability zones: give them in platform.yaml
(vpc.availabilityZones) and nothing is looked up. Without them, the CDK CLI looks them up (with
credentials) and keeps them in cdk.context.json; run alone, this command writes placeholders for
them, and a warning says so.

Options:
  --out DIR   the cloud assembly directory (default: cdk.out in the current directory)
  --stack NAME
              build and synthesize only this stack (repeatable, or names separated by commas); the
              whole fleet is still validated and placed, and each template is the one the whole fleet
              synthesis writes for that stack
  --json      print the stacks as a JSON array on stdout instead of a table
  --frozen-placement
              fail instead of changing placement.yaml (for CI, where a change would be lost)
  --validate  also run aws-cdk-lib's CloudFormation validation on every template (aws-cdk-lib 2.262 or
              newer; on by default under the CDK CLI, where cdk synth --no-validation turns it off).
              Off by default here: it is more than half the time and most of the memory of a synthesis

Exit codes: 0 synthesized, 1 invalid config, a construct refused the config, or a stack has an
error annotation, 2 wrong usage (also --out, --json or --validate with CDK_OUTDIR set).`,
  init: `Usage: paas-vending init CUSTOMER ENVIRONMENT [DIR] [--force]

Writes DIR/customers/CUSTOMER-ENVIRONMENT.yaml, a commented starter file that validates. DIR
defaults to the current directory; region and account come from DIR/platform.yaml when present.

Options:
  --force   overwrite an existing file

Exit codes: 0 written, 1 invalid name or file exists, 2 wrong usage.`,
  'check-appspec': `Usage: paas-vending check-appspec FILE [--root DIR] [--json]

Checks the appspec.yml of a customer's revision (EC2/On-Premises, in-place deployment) as the
CodeDeploy agent reads it, and more: YAML syntax and indentation mistakes, version and os, files,
permissions, lifecycle events (known, not reserved, in the order CodeDeploy runs them), and each
script: location, timeout (1 to 3600 seconds, at most 3600 per event) and runas. Scripts and file
sources must exist under the revision root, and scripts must start with a #! line. Prints every
problem as file:line:column: field: message.

CodeDeploy runs the hooks in this order, whatever the order of the file:
  ${LIFECYCLE_ORDER.slice(0, 5).join(', ')},
  ${LIFECYCLE_ORDER.slice(5).join(', ')}

Options:
  --root DIR   the root of the revision, as CodeDeploy receives it (default: the directory of FILE)
  --json       print the problems as a JSON array on stdout (empty when the file is valid)

Exit codes: 0 valid, 1 problems found or FILE unreadable, 2 wrong usage.`,
  diagram: `Usage: paas-vending diagram [DIR] [--customer C] [--environment E] [--format mermaid|svg] [--out FILE]

Draws a customer environment of the fleet, from its validated config alone (nothing is synthesized):
the internet, the shared load balancer's rule (host names) or the dedicated load balancer (custom
domain), target group, Auto Scaling group in the private subnets, database in the isolated subnets,
data bucket; the AMI pipeline (Source, Bake, Approve in production, Rollout; its schedule) writing the
SSM parameter the launch template reads; the delivery pipeline (Source, Build, Approve in production,
Deploy) deploying to the instances. Without --customer, draws the platform: the shared load balancer
with a rule per customer, the dedicated load balancers beside it, and the VPC's tiers.

Options:
  --customer C      the customer to draw (without it: the platform with every customer)
  --environment E   the customer's environment, needed when it has several
  --format F        mermaid (default): flowchart text for Markdown; svg: a standalone image
  --out FILE        write to FILE instead of stdout (Mermaid in a .md file: in a mermaid code block)

Exit codes: 0 drawn, 1 invalid config or no such customer or environment, 2 wrong usage (also when
the customer has several environments and --environment is missing).`,
};

class UsageError extends Error {}

/** Runs the command line; returns the exit code. */
export function run(argv: string[], io: Io): number {
  try {
    return dispatch(argv, io);
  } catch (e) {
    if (e instanceof ConfigError) {
      io.err(e.message);
      return EXIT_INVALID;
    }
    if (e instanceof UsageError || (e as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      io.err(`paas-vending: ${(e as Error).message}\nRun "paas-vending --help" for usage.`);
      return EXIT_USAGE;
    }
    io.err(
      `paas-vending: unexpected error: ${(e as Error)?.message ?? String(e)}\nThis is a bug in paas-vending; please report it with the command you ran.`,
    );
    return EXIT_INTERNAL;
  }
}

function dispatch(argv: string[], io: Io): number {
  const [command, ...rest] = argv;
  if (command === undefined || command === '-h' || command === '--help' || command === 'help') {
    if (command === undefined) {
      io.err(HELP.main);
      return EXIT_USAGE;
    }
    io.out(HELP.main);
    return EXIT_OK;
  }
  if (command === '-v' || command === '--version') {
    io.out(versionText(JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf-8')).version));
    return EXIT_OK;
  }
  switch (command) {
    case 'validate':
      return validate(rest, io);
    case 'list':
      return list(rest, io);
    case 'synth':
      return synth(rest, io);
    case 'init':
      return init(rest, io);
    case 'check-appspec':
      return checkAppSpecCommand(rest, io);
    case 'diagram':
      return diagram(rest, io);
    default:
      throw new UsageError(
        `unknown command "${command}"; expected validate, list, synth, init, check-appspec or diagram`,
      );
  }
}

function args(
  argv: string[],
  booleans: string[],
  maxPositionals: number,
  command: string,
  strings: string[] = [],
  repeatable: string[] = [],
) {
  const parsed = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: Object.fromEntries([
      ['help', { type: 'boolean', short: 'h' }],
      ...booleans.map((b) => [b, { type: 'boolean' }]),
      ...strings.map((s) => [s, { type: 'string' }]),
      ...repeatable.map((s) => [s, { type: 'string', multiple: true }]),
    ]),
  });
  if (parsed.positionals.length > maxPositionals) {
    throw new UsageError(`${command}: unexpected argument "${parsed.positionals[maxPositionals]}"`);
  }
  const values = parsed.values as Record<string, boolean | string | undefined>;
  const flags = Object.fromEntries(booleans.concat('help').map((b) => [b, values[b] as boolean | undefined]));
  const options = Object.fromEntries(strings.map((s) => [s, values[s] as string | undefined]));
  const lists = Object.fromEntries(repeatable.map((s) => [s, values[s] as unknown as string[] | undefined]));
  return { flags, options, lists, positionals: parsed.positionals };
}

/** The fleet directory: given, or here when here looks like a fleet, or the bundled example. */
function fleetDirectory(given: string | undefined, io: Io): string {
  if (given !== undefined) return resolve(io.cwd, given);
  if (platformFilesIn(io.cwd).length > 0 || existsSync(join(io.cwd, 'customers'))) return io.cwd;
  io.err(`No platform.yaml here; using the bundled example fleet (${BUNDLED_FLEET}).`);
  return BUNDLED_FLEET;
}

function validate(argv: string[], io: Io): number {
  const { flags, positionals } = args(argv, [], 1, 'validate');
  if (flags.help) return help('validate', io);
  const fleet = readFleet(fleetDirectory(positionals[0], io));
  const p = fleet.platform;
  const count =
    fleet.customers.length === 1 ? '1 customer environment' : `${fleet.customers.length} customer environments`;
  io.out(`Valid: platform ${p.name} (${p.environment}, ${p.region}) and ${count} in ${displayPath(fleet.directory)}.`);
  return EXIT_OK;
}

function hostsOf(c: ResolvedCustomerConfig): string[] {
  return [...(c.customDomain ? [c.customDomain.name] : []), ...(c.hostname ? [c.hostname] : [])];
}

function databaseText(c: ResolvedCustomerConfig): string {
  if (!c.database) return '-';
  return `${c.database.engine} ${c.database.version}${c.database.multiAz ? ' multi-AZ' : ''}`;
}

function list(argv: string[], io: Io): number {
  const { flags, positionals } = args(argv, ['json'], 1, 'list');
  if (flags.help) return help('list', io);
  const fleet: ResolvedFleet = readFleet(fleetDirectory(positionals[0], io));
  if (flags.json) {
    const rows = fleet.customers.map((c, i) => ({
      customer: c.customer,
      environment: c.environment,
      hostname: c.hostname,
      hosts: hostsOf(c),
      ingress: ingressOf(c),
      database: c.database
        ? { engine: c.database.engine, version: c.database.version, multiAz: c.database.multiAz }
        : null,
      instanceType: c.compute.instanceType,
      minCapacity: c.compute.minCapacity,
      maxCapacity: c.compute.maxCapacity,
      file: fleet.files[i],
    }));
    io.out(JSON.stringify(rows, null, 2));
    return EXIT_OK;
  }
  const header = ['CUSTOMER', 'ENVIRONMENT', 'HOSTNAME', 'INGRESS', 'DATABASE', 'INSTANCE', 'CAPACITY'];
  const rows = fleet.customers.map((c) => [
    c.customer,
    c.environment,
    hostsOf(c).join(', '),
    ingressOf(c),
    databaseText(c),
    c.compute.instanceType,
    `${c.compute.minCapacity}-${c.compute.maxCapacity}`,
  ]);
  io.out(table([header, ...rows]));
  io.out(`\n${rows.length} customer environment(s) on platform ${fleet.platform.name} (${fleet.platform.region}).`);
  return EXIT_OK;
}

function table(rows: string[][]): string {
  const widths = rows[0].map((_, col) => Math.max(...rows.map((r) => r[col].length)));
  return rows
    .map((r) =>
      r
        .map((cell, col) => cell.padEnd(widths[col]))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

function synth(argv: string[], io: Io): number {
  const startedAt = Date.now();
  const { flags, options, lists, positionals } = args(
    argv,
    ['json', 'frozen-placement', 'validate'],
    1,
    'synth',
    ['out'],
    ['stack'],
  );
  if (flags.help) return help('synth', io);
  // The CDK CLI runs an app with CDK_OUTDIR set, reads the cloud assembly there, and needs nothing on stdout.
  const cdkOutdir = (io.env ?? process.env).CDK_OUTDIR || undefined;
  if (cdkOutdir !== undefined && (options.out !== undefined || flags.json || flags.validate)) {
    const flag = flags.json ? '--json' : options.out !== undefined ? '--out' : '--validate';
    throw new UsageError(`synth: ${flag} does not apply when the CDK CLI runs the command (CDK_OUTDIR is set)`);
  }
  const fleet = readFleet(fleetDirectory(positionals[0], io));
  const outdir = resolve(io.cwd, cdkOutdir ?? options.out ?? 'cdk.out');
  const progress = io.errIsTTY && !flags.json && cdkOutdir === undefined ? io.err : undefined;
  const frozenPlacement = flags['frozen-placement'] ?? false;
  // Alone, the templates are not validated again by aws-cdk-lib unless asked (--validate): its validation is half the
  // time and a third of the memory of a synthesis, and the constructs' templates pass it in this project's tests.
  // Under the CDK CLI, aws-cdk-lib's default stands, so that `cdk synth --no-validation` decides.
  const validation = cdkOutdir !== undefined ? undefined : (flags.validate ?? false);
  const selected = lists.stack?.flatMap((names) => names.split(',')).map((name) => name.trim());
  const result = synthesizeFleet(fleet, {
    outdir,
    cwd: io.cwd,
    progress,
    startedAt,
    frozenPlacement,
    validation,
    stacks: selected,
  });
  if ('problem' in result) {
    io.err(`paas-vending: synth: ${result.problem}`);
    return EXIT_INVALID;
  }
  if (result.placementChanges.length > 0) {
    // On stderr, also under the CDK CLI: the file changed and wants committing.
    io.err(
      `paas-vending: synth: wrote ${result.placementFile} (commit it with the fleet):\n` +
        result.placementChanges.map((change) => `  ${change}`).join('\n'),
    );
  }
  if (cdkOutdir !== undefined) return EXIT_OK; // the CDK CLI reports the annotations itself
  if (result.warnings.length > 0) io.err(result.warnings.join('\n'));
  if (result.errors.length > 0) {
    io.err(
      `paas-vending: synth: ${result.errors.length} error(s) in the synthesized stacks:\n${result.errors.join('\n')}`,
    );
    return EXIT_INVALID;
  }
  if (flags.json) {
    io.out(JSON.stringify(result.rows, null, 2));
    return EXIT_OK;
  }
  const header = ['STACK', 'CUSTOMER', 'ENVIRONMENT', 'HOSTNAME', 'INGRESS', 'RESOURCES', 'TEMPLATE'];
  // "shared N" once there are several shared load balancers.
  const manyLoadBalancers = result.rows.some((r) => (r.sharedLoadBalancer ?? 1) > 1);
  const rows = result.rows.map((r) => [
    r.stack,
    r.customer ?? '-',
    r.environment ?? '-',
    r.hosts.join(', ') || '-',
    r.sharedLoadBalancer !== null && manyLoadBalancers ? `shared ${r.sharedLoadBalancer}` : (r.ingress ?? '-'),
    String(r.resources),
    r.template,
  ]);
  io.out(table([header, ...rows]));
  const stacks = rows.length === 1 ? '1 stack' : `${rows.length} stacks`;
  io.out(
    result.missingContext.length > 0
      ? `\n${stacks} in ${result.outdir}, with placeholders for lookups (see the warning above).`
      : `\n${stacks} in ${result.outdir}. Deploy one with: cdk deploy --app ${result.outdir} STACK`,
  );
  return EXIT_OK;
}

function init(argv: string[], io: Io): number {
  const { flags, positionals } = args(argv, ['force'], 3, 'init');
  if (flags.help) return help('init', io);
  const [customer, environment, dir] = positionals;
  if (customer === undefined || environment === undefined) {
    throw new UsageError('init: expected CUSTOMER and ENVIRONMENT, such as: paas-vending init acme staging');
  }
  // The names become a file name: check them before anything is written or read.
  const nameProblems = schemaProblems('customer', { customer, environment }).filter((p) =>
    ['customer', 'environment'].includes(String(p.path[0])),
  );
  if (nameProblems.length > 0) {
    throw new ConfigError(
      nameProblems.map((p) => ({ file: 'paas-vending init', path: String(p.path[0]), message: p.message })),
    );
  }
  const directory = resolve(io.cwd, dir ?? '.');
  const [platformFile] = platformFilesIn(directory);
  let platform: ResolvedPlatformConfig | undefined;
  if (platformFile) platform = readPlatform(readFile(platformFile), displayPath(platformFile));
  const target = join(directory, 'customers', `${customer}-${environment}.yaml`);
  const schemaPath = relative(dirname(target), join(SCHEMA_DIR, 'customer-config.schema.json'));
  const text = starterCustomerFile(customer, environment, schemaPath, platform);
  // The starter must validate: checking it also reports a bad customer or environment name.
  readCustomer(text, displayPath(target), platform);
  if (existsSync(target) && !flags.force) {
    io.err(`${displayPath(target)} already exists; use --force to overwrite it.`);
    return EXIT_INVALID;
  }
  mkdirSync(join(directory, 'customers'), { recursive: true });
  writeFileSync(target, text);
  io.out(`Wrote ${displayPath(target)}. Edit it, then run: paas-vending validate${dir ? ` ${dir}` : ''}`);
  return EXIT_OK;
}

function checkAppSpecCommand(argv: string[], io: Io): number {
  const { flags, options, positionals } = args(argv, ['json'], 1, 'check-appspec', ['root']);
  if (flags.help) return help('check-appspec', io);
  const [given] = positionals;
  if (given === undefined) {
    throw new UsageError(
      'check-appspec: expected FILE, such as: paas-vending check-appspec build/revision/appspec.yml',
    );
  }
  const file = resolve(io.cwd, given);
  const shown = displayPath(file);
  const root = resolve(io.cwd, options.root ?? dirname(file));
  let text: string;
  try {
    text = readFileSync(file, 'utf-8');
  } catch (e) {
    const code = (e as { code?: string }).code;
    const reason = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : (e as Error).message;
    io.err(`${shown}: cannot be read (${reason}); expected the appspec.yml of a revision`);
    return EXIT_INVALID;
  }
  if (!existsSync(root) || !statSync(root).isDirectory()) {
    io.err(`${displayPath(root)}: is not a directory; expected the root of the revision (--root)`);
    return EXIT_INVALID;
  }
  const problems = checkAppSpec(text, { fileName: shown, revisionRoot: root });
  if (flags.json) {
    io.out(
      JSON.stringify(
        problems.map((p) => ({ file: shown, ...p })),
        null,
        2,
      ),
    );
    return problems.length > 0 ? EXIT_INVALID : EXIT_OK;
  }
  if (problems.length > 0) {
    const count = problems.length === 1 ? '1 problem' : `${problems.length} problems`;
    const lines = problems.map((p) => `  ${formatProblem({ file: shown, ...p })}`);
    io.err(`Invalid AppSpec file (${count}):\n${lines.join('\n')}`);
    return EXIT_INVALID;
  }
  io.out(`Valid: ${shown} (revision root ${displayPath(root)}).`);
  return EXIT_OK;
}

function diagram(argv: string[], io: Io): number {
  const { flags, options, positionals } = args(argv, [], 1, 'diagram', ['customer', 'environment', 'format', 'out']);
  if (flags.help) return help('diagram', io);
  const usage = diagramUsageProblem(options);
  if (usage !== undefined) throw new UsageError(`diagram: ${usage}`);
  const fleet = readFleet(fleetDirectory(positionals[0], io));
  const drawn = drawDiagram(fleet, options, plannedPlacement(fleet));
  if ('problem' in drawn) {
    if (drawn.usage) throw new UsageError(`diagram: ${drawn.problem}`);
    io.err(`paas-vending: diagram: ${drawn.problem}`);
    return EXIT_INVALID;
  }
  if (options.out === undefined) {
    io.out(drawn.text);
    return EXIT_OK;
  }
  const file = resolve(io.cwd, options.out);
  try {
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, diagramFileText(drawn.text, options.format, file));
  } catch (e) {
    io.err(
      `${displayPath(file)}: cannot be written (${(e as { code?: string }).code}); expected a file path for --out`,
    );
    return EXIT_INVALID;
  }
  io.err(`Wrote the diagram of ${drawn.subject} to ${displayPath(file)}.`);
  return EXIT_OK;
}

function help(command: string, io: Io): number {
  io.out(HELP[command]);
  return EXIT_OK;
}

/**
 * What `--version` prints: the package's version. A checkout's package.json says 0.0.0 (a release sets the version
 * when it is built, `npx projen release`), so that is said instead of passing for a release.
 */
export function versionText(version: string): string {
  return version === '0.0.0'
    ? '0.0.0 (not a release: a build from a checkout; released packages carry their version, see CHANGELOG.md)'
    : version;
}
