/*
 * `paas-vending synth`: builds a validated fleet with VendingFleet in a CDK App and synthesizes it into a cloud
 * assembly, then describes each stack (customer, environment, hosts, ingress, resource count, template file).
 *
 * Nothing here differs from a user's own CDK app: a plain `App` and `VendingFleet.fromDirectory` (given the fleet that
 * the command already read, so that each file is read once). Progress, when
 * asked for, comes from the one hook aws-cdk-lib offers while stacks are built: the App's default stack
 * synthesizer is bound to each stack as the stack is created. It hands every stack a fresh DefaultStackSynthesizer
 * (one shared instance would share its asset manifest between stacks), so the assembly is the same byte for byte;
 * a test compares it. App.synth() then synthesizes every stack at once (most of its time goes to aws-cdk-lib's
 * template validation), so the second phase is one line.
 *
 * Internal: not exported from src/index.ts.
 */
import { accessSync, constants, existsSync, mkdirSync, statSync } from 'fs';
import { isAbsolute, join, relative } from 'path';
import { App, AppProps, DefaultStackSynthesizer, IBoundStackSynthesizer, Stack } from 'aws-cdk-lib';
import { CloudAssembly } from 'aws-cdk-lib/cx-api';
import { writeRefusal } from '../config/atomic-write';
import { ingressOf, publicCustomer, publicPlatform, ResolvedCustomerConfig, servedHosts } from '../config/defaults';
import { ConfigError } from '../config/errors';
import { platformFilesIn, ResolvedFleet } from '../config/loader';
import { readOffboardedEnvironments, readOffboardingRecord } from '../config/offboarding';
import { templateLimitProblems } from '../environment/quotas';
import { VendingFleet } from '../environment/vending-fleet';

/** One synthesized stack, as the table and `--json` show it. Customer fields are null on the platform's stack. */
export interface SynthRow {
  readonly stack: string;
  readonly customer: string | null;
  readonly environment: string | null;
  /** The customer's `hostname` (its own or the default under the platform's domain), as `list --json` has it. */
  readonly hostname: string | null;
  /** Every host name the environment answers: its custom domain first, then its hostname. */
  readonly hosts: string[];
  readonly ingress: 'shared' | 'dedicated' | null;
  /** The number of the shared load balancer serving the environment (placement.yaml); null when not shared. */
  readonly sharedLoadBalancer: number | null;
  /** Resources in the synthesized template. */
  readonly resources: number;
  /** The template file, relative to the current directory when it is under it, else absolute. */
  readonly template: string;
}

export interface SynthRequest {
  /** The cloud assembly directory (absolute). */
  readonly outdir: string;
  /** The directory paths are shown relative to. */
  readonly cwd: string;
  /** Receives progress lines; none are made without it, and the App is then exactly a user's App. */
  readonly progress?: (line: string) => void;
  /** When the command started (Date.now()), for the time in the last progress line. @default now */
  readonly startedAt?: number;
  /** Fail instead of changing placement.yaml. @default false */
  readonly frozenPlacement?: boolean;
  /**
   * aws-cdk-lib's built-in CloudFormation validation of every template (aws-cdk-lib 2.262 and later): true or false
   * sets it, undefined leaves aws-cdk-lib's default (on, unless CDK_VALIDATION=false). @default undefined
   */
  readonly validation?: boolean;
  /** Build only these stacks, by name (VendingFleetOptions.stacks). @default every stack */
  readonly stacks?: string[];
  /**
   * Also build the stacks of offboarded environments (VendingFleetOptions.includeOffboarded); undefined leaves it to
   * the context key vending:include-offboarded. @default undefined
   */
  readonly includeOffboarded?: boolean;
}

export type SynthResult =
  | {
      readonly rows: SynthRow[];
      /** The cloud assembly directory, shown as the template paths are. */
      readonly outdir: string;
      /** Annotations of the synthesized stacks, `level: construct path: message`, as the CDK CLI reports them. */
      readonly warnings: string[];
      readonly errors: string[];
      /**
       * Context the AWS CDK CLI would look up in the account (such as the availability zones of an environment's
       * VPC): the templates hold placeholders for it. Keys as in cdk.context.json.
       */
      readonly missingContext: string[];
      /**
       * For each of missingContext, the field of the fleet's files to set so that nothing is looked up, as a
       * problem: `file: field: is missing; expected …`. The command fails on them unless the CDK CLI runs it.
       */
      readonly lookups: string[];
      /** The limits of one template (resources, outputs, parameters, bytes) that a template exceeds, one line each. */
      readonly templateLimits: string[];
      /** How placement.yaml changed (and was written), one line each; empty when it did not. */
      readonly placementChanges: string[];
      /** The placement file, shown as the template paths are. */
      readonly placementFile: string;
      /** The stacks of offboarded environments that were built (for cdk destroy), by name. */
      readonly offboarded: string[];
    }
  | { readonly problem: string };

/**
 * An App's default stack synthesizer that reports each stack as it is created, then gives it a fresh
 * DefaultStackSynthesizer: what a Stack does when the App names no synthesizer.
 */
class ReportingSynthesizer extends DefaultStackSynthesizer {
  constructor(private readonly onStack: (stack: Stack) => void) {
    super();
  }

  public reusableBind(stack: Stack): IBoundStackSynthesizer {
    this.onStack(stack);
    return new DefaultStackSynthesizer().reusableBind(stack);
  }
}

/**
 * The problem of a lookup the templates hold a placeholder for, naming the field that makes it unneeded. The
 * availability zones are the platform VPC's only lookup; any other key is named as the CDK CLI names it.
 */
function lookupProblem(key: string, platformFile: string, region: string): string {
  const placeholders = `the templates hold placeholders for what the AWS CDK CLI looks up in the account (${key})`;
  if (key.startsWith('availability-zones:')) {
    return (
      `${platformFile}: vpc.availabilityZones: is missing; expected the names of the platform's availability zones ` +
      `in ${region} (such as [${['a', 'b', 'c'].map((z) => `${region}${z}`).join(', ')}]): without them ` +
      `${placeholders.replace('placeholders', 'placeholders (dummy1a)')}, and cannot be deployed as written`
    );
  }
  return `${platformFile}: ${placeholders}: they cannot be deployed as written; synthesize with the CDK CLI and credentials for the account`;
}

/** A path relative to cwd when it is under it, else absolute. */
export function shownPath(path: string, cwd: string): string {
  const rel = relative(cwd, path);
  return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : path;
}

/** Errors that are bugs of the command (or of a construct), not a refusal of the fleet: they keep their exit code. */
function isBug(e: unknown): boolean {
  return (
    !(e instanceof Error) ||
    e instanceof ConfigError ||
    e instanceof TypeError ||
    e instanceof ReferenceError ||
    e instanceof RangeError ||
    e instanceof SyntaxError
  );
}

/**
 * Why the cloud assembly cannot go to `outdir`, before anything is built: a part of the path is a file, or the folder
 * cannot be created or written (read-only, immutable, no permission). Undefined when it can.
 */
function outdirProblem(outdir: string, cwd: string): string | undefined {
  try {
    mkdirSync(outdir, { recursive: true });
    accessSync(outdir, constants.W_OK);
    return undefined;
  } catch (e) {
    const reason = writeRefusal(e, outdir, (p) => shownPath(p, cwd));
    return `${shownPath(outdir, cwd)}: cannot be written (${reason}); expected a folder for the cloud assembly (--out): choose another path`;
  }
}

/** Builds the fleet of a validated directory in a new App writing to `request.outdir`, and synthesizes it. */
export function synthesizeFleet(fleet: ResolvedFleet, request: SynthRequest): SynthResult {
  const startedAt = request.startedAt ?? Date.now();
  const { outdir, cwd, progress } = request;
  if (existsSync(outdir) && !statSync(outdir).isDirectory()) {
    return { problem: `${shownPath(outdir, cwd)}: is not a directory; expected a directory for the cloud assembly` };
  }
  const unwritable = outdirProblem(outdir, cwd);
  if (unwritable !== undefined) return { problem: unwritable };
  const total = request.stacks ? new Set(request.stacks).size : 1 + fleet.customers.length;
  let built = 0;
  // AppProps of the aws-cdk-lib floor have no builtinCloudFormationValidation: older versions ignore it.
  const appProps: AppProps & { builtinCloudFormationValidation?: boolean } = {
    outdir,
    autoSynth: false,
    ...(request.validation !== undefined ? { builtinCloudFormationValidation: request.validation } : {}),
    ...(progress
      ? {
          defaultStackSynthesizer: new ReportingSynthesizer((stack) => {
            built += 1;
            progress(`building ${stack.stackName}${built <= total ? ` (${built}/${total})` : ''}…`);
          }),
        }
      : {}),
  };
  const app = new App(appProps);
  let vending: VendingFleet;
  let assembly: CloudAssembly;
  try {
    // The fleet the command read and checked: VendingFleet.fromDirectory without reading every file again.
    const read = {
      directory: fleet.directory,
      platform: publicPlatform(fleet.platform),
      customers: fleet.customers.map(publicCustomer),
    };
    vending = VendingFleet._fromReadDirectory(app, read, {
      frozenPlacement: request.frozenPlacement,
      ...(request.stacks ? { stacks: request.stacks } : {}),
      ...(request.includeOffboarded !== undefined ? { includeOffboarded: request.includeOffboarded } : {}),
    });
    const stacks = app.node.children.filter((c) => Stack.isStack(c)).length;
    progress?.(`synthesizing ${stacks} stacks…`);
    assembly = app.synth();
  } catch (e) {
    if (isBug(e)) throw e;
    const failed = (e as NodeJS.ErrnoException).path;
    if (typeof (e as NodeJS.ErrnoException).syscall === 'string' && typeof failed === 'string') {
      // The file system refused a file of the assembly (a full disk, a folder made read-only meanwhile).
      const reason = writeRefusal(e, failed, (p) => shownPath(p, cwd));
      return {
        problem: `${shownPath(failed, cwd)}: cannot be written (${reason}); expected a writable cloud assembly folder`,
      };
    }
    return { problem: (e as Error).message };
  }
  const customers = new Map<string, ResolvedCustomerConfig>(
    fleet.customers.map((c) => [`${c.customer}-${c.environment}`, c]),
  );
  const offboardedStacks = vending.offboardedEnvironments ?? [];
  if (offboardedStacks.length > 0) {
    const record = readOffboardingRecord(fleet.directory);
    for (const o of readOffboardedEnvironments(fleet.directory, record, fleet.platform)) {
      customers.set(o.name, o.config);
    }
  }
  const stacksBuilt: Stack[] = [
    ...(vending.platformStack ? [vending.platformStack] : []),
    ...vending.environments,
    ...offboardedStacks,
  ];
  const ordered = stacksBuilt.map((s) => s.artifactId);
  const artifacts = [
    ...ordered.map((id) => assembly.getStackArtifact(id)),
    ...assembly.stacks.filter((a) => !ordered.includes(a.id)),
  ];
  const rows = artifacts.map((artifact): SynthRow => {
    const c = artifact.id === vending.platformStack?.artifactId ? undefined : customers.get(artifact.id);
    return {
      stack: artifact.stackName,
      customer: c?.customer ?? null,
      environment: c?.environment ?? null,
      hostname: c && ingressOf(c) === 'shared' ? (c.hostname ?? null) : null,
      hosts: c ? servedHosts(c) : [],
      ingress: c ? ingressOf(c) : null,
      sharedLoadBalancer: (c && vending.placement.environments[artifact.id]) ?? null,
      resources: Object.keys(artifact.template.Resources ?? {}).length,
      template: shownPath(artifact.templateFullPath, cwd),
    };
  });
  const templateLimits = artifacts.flatMap((artifact) =>
    templateLimitProblems(
      artifact.stackName,
      shownPath(artifact.templateFullPath, cwd),
      artifact.template,
      statSync(artifact.templateFullPath).size,
    ),
  );
  const messages: { level: string; text: string }[] = assembly.stacks.flatMap((a) =>
    a.messages.map((m) => ({ level: m.level, text: `${m.level}: ${m.id.replace(/^\//, '')}: ${m.entry.data}` })),
  );
  const missingContext = (assembly.manifest.missing ?? []).map((m) => m.key);
  const platformFile = shownPath(platformFilesIn(fleet.directory)[0] ?? join(fleet.directory, 'platform.yaml'), cwd);
  const lookups = missingContext.map((key) => lookupProblem(key, platformFile, fleet.platform.region));
  const seconds = ((Date.now() - startedAt) / 1000).toFixed(1);
  progress?.(`synthesized ${rows.length} stacks in ${seconds} s`);
  return {
    rows,
    outdir: shownPath(outdir, cwd),
    warnings: messages.filter((m) => m.level === 'warning').map((m) => m.text),
    errors: messages.filter((m) => m.level === 'error').map((m) => m.text),
    missingContext,
    lookups,
    templateLimits,
    placementChanges: vending.placementChanges,
    placementFile: shownPath(join(fleet.directory, VendingFleet.PLACEMENT_FILE), cwd),
    offboarded: offboardedStacks.map((s) => s.stackName),
  };
}
