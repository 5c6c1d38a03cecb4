import { EXIT_OK, Io } from './io';
import { LIFECYCLE_ORDER } from '../appspec/appspec';

/** The help texts: of the command (main) and of each subcommand. */
export const HELP: Record<string, string> = {
  main: `Usage: paas-vending <command> [options]

Vend dedicated EC2 web environments from one config file per customer environment.

Commands:
  validate [DIR]                      check platform.yaml and every file in customers/
  list [DIR]                          show the customer environments of a fleet
  synth [DIR] [--out DIR]             synthesize the fleet into a CDK cloud assembly (a CDK app too)
  diff [DIR] [--against REF_OR_DIR]   what a change replaces, adds or removes, before it is deployed
  deploy [DIR] [--state DIR] [--plan] deploy the stacks that changed, platform first, then non-production
  cost [DIR] [--diff REF]             estimated monthly cost of each environment, offline
  offboard DIR CUSTOMER-ENVIRONMENT   take an environment out of the fleet, keeping its stack destroyable
  init CUSTOMER ENVIRONMENT [DIR]     write a commented starter file for a new environment
  check-appspec FILE [--root DIR]     check a customer's appspec.yml before it reaches CodeDeploy
  diagram [DIR] [--customer C]        draw a customer environment, or the platform, as Mermaid or SVG

DIR is a fleet directory (platform.yaml + customers/*.yaml). Without DIR, the current directory
is used when it holds a platform file, and the bundled example fleet otherwise.

Options:
  -h, --help       show help (also after a command: paas-vending list --help)
  -v, --version    show the version

Exit codes: 0 success, 1 invalid config, 2 wrong usage, 70 internal error (a bug).`,
  validate: `Usage: paas-vending validate [DIR] [--allow-empty] [--no-cache]

Checks platform.yaml and every file in DIR/customers/, and what no single file shows (duplicate
environments or host names, certificates outside the platform's region or account). Prints every
problem as file:line:column: field: message. Customer files are *.yaml, *.yml and *.json; other files
of customers/ (editors' temp files such as x.yaml~ or .x.yaml.swp) are skipped and named on stderr.
A missing or unreadable customers/ is an error.

Options:
  --allow-empty   accept a fleet without customer files although placement.yaml places environments
  --no-cache      read and validate every customer file again instead of taking the result kept for a
                  file, platform and library that have not changed since (in $PAAS_VENDING_CACHE_DIR, else
                  ~/.cache/paas-vending; PAAS_VENDING_CACHE=off turns it off everywhere)

Exit codes: 0 all valid, 1 problems found, 2 wrong usage.`,
  list: `Usage: paas-vending list [DIR] [--json] [--no-cache]

Shows customer, environment, host names, ingress (shared or dedicated load balancer), database,
instance type and capacity of every customer environment of the fleet.

Options:
  --json    print a JSON array instead of a table
  --no-cache
            read and validate every customer file again instead of taking the result kept for a
            file, platform and library that have not changed since (in $PAAS_VENDING_CACHE_DIR, else
            ~/.cache/paas-vending; PAAS_VENDING_CACHE=off turns it off everywhere)

Exit codes: 0 listed, 1 invalid config, 2 wrong usage.`,
  synth: `Usage: paas-vending synth [DIR] [--out DIR] [--stack NAME]... [--json] [--jobs N] [--frozen-placement]
                          [--validate] [--allow-empty] [--no-cache] [--include-offboarded]

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

Environments taken out with paas-vending offboard are recorded in DIR/offboarded.yaml with their
last customer file in DIR/offboarded/: a synthesis leaves their stacks out (they are not deployed
again) unless --include-offboarded, or the context key vending:include-offboarded=true under the
CDK CLI (cdk destroy -c vending:include-offboarded=true acme-staging). Before it writes anything,
synth warns on stderr about each stack of the previous cloud assembly (manifest.json in the output
folder) and each environment of placement.yaml that has no customer file and no offboarding record:
its file was deleted by hand, and cdk destroy can no longer name its stack.

The platform's VPC needs the names of its availability zones: give them in platform.yaml
(vpc.availabilityZones) and nothing is looked up. Without them, the CDK CLI looks them up (with
credentials) and keeps them in cdk.context.json; run alone, this command fails (exit 1), naming the
field to set, since its templates would hold placeholders for them.

Options:
  --out DIR   the cloud assembly directory (default: cdk.out in the current directory)
  --stack NAME
              build and synthesize only this stack (repeatable, or names separated by commas); the
              whole fleet is still validated and placed, and each template is the one the whole fleet
              synthesis writes for that stack
  --json      print the stacks as a JSON array on stdout instead of a table
  --jobs N    build and synthesize the stacks in N worker processes (default: $PAAS_VENDING_JOBS, else
              the machine's processors; at most one per stack); the cloud assembly is the same byte for
              byte as with --jobs 1, and replaces the previous one only once every worker succeeded. A
              worker builds at most 200 stacks ($PAAS_VENDING_STACKS_PER_PROCESS): a larger fleet is
              built by more workers, N at a time (--include-offboarded and -c vending:stacks build in
              one process)
  --frozen-placement
              fail instead of changing placement.yaml (for CI, where a change would be lost)
  --allow-empty
              synthesize a fleet without customer files although placement.yaml places environments:
              every environment is removed from placement.yaml (without it, that is refused)
  --validate  also run aws-cdk-lib's CloudFormation validation on every template (aws-cdk-lib 2.262 or
              newer; on by default under the CDK CLI, where cdk synth --no-validation turns it off).
              Off by default here: it is more than half the time and most of the memory of a synthesis
  --no-cache  build and synthesize every stack again instead of taking the stacks whose inputs are
              unchanged (config, placement, versions, context, --validate, assets) from the cache of
              synthesized stacks, and read and validate every customer file again (both caches are in
              $PAAS_VENDING_CACHE_DIR, else ~/.cache/paas-vending; PAAS_VENDING_SYNTH_CACHE=off turns the
              first off, PAAS_VENDING_CACHE=off both, everywhere). stderr says what was built and what
              came from the cache
  --include-offboarded
              also build a stack for each environment of offboarded.yaml, from its last customer file
              and on the load balancer that served it, for cdk destroy; placement.yaml is not changed
              for them

Exit codes: 0 synthesized, 1 invalid config, a construct refused the config, or a stack has an
error annotation, 2 wrong usage (also --out, --json or --validate with CDK_OUTDIR set).`,
  cost: `Usage: paas-vending cost [DIR] [--stack NAME] [--json] [--diff REF_OR_DIR] [--no-cache]

Estimates the monthly cost of each customer environment of the fleet, offline and without AWS
credentials, from the config files alone (nothing is synthesized): instances at minimum and at
maximum capacity and their volumes, the database (instance, storage, multi-AZ, backups beyond the
free share, its secret), the dedicated load balancer or its share of the shared one (placement.yaml),
its share of the NAT and of the platform, the pipelines' build and action minutes and the bakes,
the data bucket, alarms and dashboards. Prices are the bundled public on-demand price table (dated;
src/cli/cost/prices.ts); use (requests, build minutes, data) is DIR/cost-assumptions.yaml, optional,
whose keys and defaults README lists ("What a customer costs"). Taxes, free tiers, savings plans and
data transfer out are not counted.

Options:
  --stack NAME      only the environment CUSTOMER-ENVIRONMENT (its stack's name)
  --json            the estimate as JSON
  --diff REF        each environment's estimate before (the fleet at git ref REF of the fleet's
                    repository, or another fleet directory) and after, and the change: for review
                    before a merge (the same prices and assumptions on both sides)
  --no-cache        read and validate every customer file again

Exit codes: 0 estimated, 1 invalid config, assumptions, region or type missing from the price
table, 2 wrong usage.`,
  offboard: `Usage: paas-vending offboard DIR CUSTOMER-ENVIRONMENT [--yes] [--no-cache]

Takes a customer environment out of the fleet in DIR without losing its data or its stack. First it
prints what the deletion of the environment's stack will delete and what it will keep, read from the
stack as the fleet synthesizes it: every database leaves a final snapshot; a production data bucket,
the retained log groups and the production AMI parameter stay; the images the AMI pipeline baked and
the logs RDS exported are not the stack's and stay too. It names what must be turned off before the
stack can be deleted (termination protection, the database's deletion protection, in production).

Then, once confirmed, it changes files of the fleet only, nothing in AWS: it moves
customers/CUSTOMER-ENVIRONMENT.yaml to offboarded/, records the environment in offboarded.yaml
(when, and the shared load balancer that served it) and removes it from placement.yaml, so that the
next environment may take its place (and its certificate's room on the listener). A synthesis then
leaves the stack out; to delete it, synthesize it again with the offboarded environments:
  cdk destroy -c vending:include-offboarded=true CUSTOMER-ENVIRONMENT      (in DIR, with cdk.json)
  paas-vending synth DIR --include-offboarded --out cdk.out && cdk destroy --app cdk.out CUSTOMER-ENVIRONMENT
Once the stack is destroyed, remove its entry from offboarded.yaml and its file in offboarded/.

On a terminal it asks you to type the environment's name. Without a terminal it changes nothing
unless --yes is given.

Options:
  --yes       confirm without asking (for scripts: read the plan with a run without --yes first)
  --no-cache  read and validate every customer file again (see validate --help)

Exit codes: 0 offboarded, 1 invalid config, unknown environment, not confirmed, 2 wrong usage.`,
  init: `Usage: paas-vending init CUSTOMER ENVIRONMENT [DIR] [--force]

Writes DIR/customers/CUSTOMER-ENVIRONMENT.yaml, a commented starter file. It fails validation,
naming each field, until its <REPLACE: …> placeholders are replaced. DIR defaults to the current directory; region and account come from DIR/platform.yaml when present.

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
  diff: `Usage: paas-vending diff [DIR] [--against REF_OR_DIR] [--stack NAME]... [--allow-replacement] [--json]

Synthesizes the fleet (in a copy: nothing in DIR is written) and compares each stack's template with
the same stack of --against, offline, with @aws-cdk/cloudformation-diff (install it beside
cdk-paas-vending: npm install --save-dev @aws-cdk/cloudformation-diff). --against is a git ref of the
fleet's repository (default HEAD: the fleet as last committed, synthesized again), a fleet directory,
or a previous cloud assembly (a cdk.out directory). Per stack it lists the resources added, removed
and replaced, and the changes of a host name's DNS target (the LoadBalancerDnsName output); then new
stacks and stacks no longer in the fleet.

A database, bucket, key or load balancer of a production environment (or of a production platform)
replaced or deleted fails the command: switching a production database's engine, for example,
replaces a database whose fixed identifier CloudFormation cannot reuse. --allow-replacement accepts
it, once its data is backed up. --stack limits the comparison to the stacks named.

Exit codes: 0 nothing destructive in production, 1 invalid config or a production replacement, 2 wrong usage.`,
  deploy: `Usage: paas-vending deploy [DIR] [--app CDK_OUT_DIR] [--stack NAME]... [--changed-since GIT_REF]
                           [--state STATE_DIR] [--group platform|nonproduction|production|all]
                           [--concurrency N] [--require-approval never|any-change|broadening]
                           [--shard I/N] [--method change-set|direct] [--plan [--json]
                           [--approval-message FILE]] [--report FILE]

Deploys the stacks of the fleet that changed, with the AWS CDK toolkit library (@aws-cdk/toolkit-lib,
installed beside cdk-paas-vending: npm install --save-dev @aws-cdk/toolkit-lib), in waves: the platform
stack alone, then the non-production environments, then the production ones. Within a wave up to
--concurrency stacks (default 10) deploy side by side; one stack's failure stops no other of its wave. A
failed platform stack stops the customer waves. The fleet is synthesized first (as synth does), unless
--app names a cloud assembly that paas-vending synth DIR --out DIR wrote.

Which stacks: a stack's fingerprint is a SHA-256 of its template, its assets, the platform config and
the library's version. A stack is deployed when its fingerprint differs from the baseline's:
  --state STATE_DIR      what this command last deployed: STATE_DIR/state.json and
                         STATE_DIR/templates/<stack>.template.json, written after each stack that
                         deployed (a failed stack keeps its old entry and is tried again next time)
  --changed-since REF    the fleet at a git ref of its repository, synthesized again
  neither                every stack of the group
A platform change or a new library version selects every stack; a customer file, its stack only. A stack
no longer in the fleet is never deleted: it is named, for cdk destroy (see offboard).

Options:
  --group G              platform, nonproduction, production, or all (default: the three in order).
                         With all, production deploys only after every non-production stack succeeded,
                         and only with --require-approval never or a yes on a terminal; otherwise it is
                         skipped (the pipeline deploys it with --group production after its approval)
  --stack NAME           only these stacks (repeatable, or comma-separated)
  --shard I/N            only the stacks whose SHA-256 of their name mod N is I-1 (split a big wave
                         over N builds)
  --require-approval R   broadening (default): a change that broadens IAM permissions or security groups
                         needs a yes on a terminal, and fails that stack elsewhere; any-change: every
                         change needs one; never: none does
  --method M             change-set (default): CloudFormation change sets, as the CDK CLI; direct:
                         CreateStack/UpdateStack
  --plan                 no AWS call at all: the stacks of each wave and why (new, template changed,
                         assets changed, platform changed, library changed), and the unchanged count
  --json                 with --plan: the plan as JSON
  --approval-message F   with --plan: write the production approval's text to F (replacements first,
                         at most 1,000 characters, CodePipeline's limit of an approval's CustomData)
  --report FILE          after a deploy: the summary as JSON
  --no-cache             read and validate every customer file again

Progress goes to stderr, one line per stack event; the summary table (STACK, WAVE, RESULT, REASON) to
stdout.

Exit codes: 0 nothing failed, 1 invalid config or a stack failed, 2 wrong usage.`,
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

/** Prints a subcommand's help. */
export function help(command: string, io: Io): number {
  io.out(HELP[command]);
  return EXIT_OK;
}
