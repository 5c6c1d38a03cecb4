/*
 * When the AMI pipeline bakes: on pushes that touch the provisioning scripts' paths (a CodePipeline V2 file-path
 * trigger on a CodeConnections source), never on an application commit of a shared CodeCommit or S3 repository, on
 * a weekly schedule by default (staggered over the platform's window by a hash of the environment's name), on a
 * schedule of the customer file's own, or not at all on a schedule (`off`).
 */
import { App, Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as codecommit from 'aws-cdk-lib/aws-codecommit';
import * as codepipeline from 'aws-cdk-lib/aws-codepipeline';
import * as events from 'aws-cdk-lib/aws-events';
import * as s3 from 'aws-cdk-lib/aws-s3';
import {
  ConfigLoader,
  CustomerAmiPipeline,
  CustomerAmiPipelineProps,
  PipelineSource,
  RebuildWindowConfig,
  VendingFleet,
} from '../../src';
import { staggeredMinuteOfWeek, staggeredRebuildSchedule } from '../../src/ami-pipeline/schedule';
import { toStructKeys } from '../../src/config/keys';
import { platform, problemsOf, stagingCustomer } from '../config/fixtures';
import { addWebTier, newPlatform, only, resourcesOf } from '../web-tier/fixture';

const CONNECTION = 'arn:aws:codeconnections:eu-west-1:123456789012:connection/0a1b2c3d-4e5f-6789-abcd-ef0123456789';

function build(props: Partial<CustomerAmiPipelineProps> = {}): Template {
  const fixture = newPlatform();
  const { stack, web } = addWebTier(fixture, 'Customer');
  new CustomerAmiPipeline(stack, 'Ami', {
    customer: 'acme',
    environment: 'staging',
    source: PipelineSource.codeConnections({ connectionArn: CONNECTION, owner: 'acme', repository: 'infrastructure' }),
    vpc: fixture.platform.vpc,
    artifactsBucket: fixture.platform.artifactsBucket,
    amiParameter: web.amiParameter,
    autoScalingGroup: web.autoScalingGroup,
    ...props,
  });
  return Template.fromStack(stack);
}

/** The AMI pipeline of a customer file (plain data, as in YAML), on a platform of the same stack. */
function fromFile(customer: any, options: { rebuildWindow?: RebuildWindowConfig } = {}): Template {
  const fixture = newPlatform();
  const { stack, web } = addWebTier(fixture, 'Customer');
  CustomerAmiPipeline.fromConfig(stack, 'Ami', toStructKeys(customer) as any, fixture.platform, web, options);
  return Template.fromStack(stack);
}

const pipelineOf = (template: Template) => only(template, 'AWS::CodePipeline::Pipeline')[1].Properties;
const repositoryAction = (template: Template) =>
  pipelineOf(template)
    .Stages.find((s: any) => s.Name === 'Source')
    .Actions.find((a: any) => a.Name === 'Repository');
const schedules = (template: Template): string[] =>
  resourcesOf(template, 'AWS::Events::Rule')
    .map(([, rule]) => rule.Properties.ScheduleExpression)
    .filter((expression) => expression !== undefined);
const eventSources = (template: Template): string[] =>
  resourcesOf(template, 'AWS::Events::Rule').flatMap(([, rule]) => rule.Properties.EventPattern?.source ?? []);

describe('source changes', () => {
  test('a CodeConnections source bakes on pushes to the branch that touch the scripts’ folder only', () => {
    const template = build();
    expect(pipelineOf(template).PipelineType).toBe('V2');
    expect(pipelineOf(template).Triggers).toEqual([
      {
        ProviderType: 'CodeStarSourceConnection',
        GitConfiguration: {
          SourceActionName: 'Repository',
          Push: [{ Branches: { Includes: ['main'] }, FilePaths: { Includes: ['packer/**'] } }],
        },
      },
    ]);
  });

  test('the paths follow the provisioning scripts, and can be given', () => {
    const scripts = build({ provisionScripts: ['images/web/setup.sh', 'images/web/harden.sh', 'root.sh'] });
    expect(pipelineOf(scripts).Triggers[0].GitConfiguration.Push[0].FilePaths.Includes).toEqual([
      'images/web/**',
      'root.sh',
    ]);
    const given = build({ triggerPaths: ['packer/**', 'ansible/**'] });
    expect(pipelineOf(given).Triggers[0].GitConfiguration.Push[0].FilePaths.Includes).toEqual([
      'packer/**',
      'ansible/**',
    ]);
  });

  test('a customer file whose AMI pipeline reads the software repository bakes on the scripts’ paths only', () => {
    // The default of a customer file: no ami.repository, so the AMI pipeline watches the application's repository.
    const template = fromFile({ ...stagingCustomer(), ami: { provisionScript: 'ops/image/provision.sh' } });
    expect(repositoryAction(template).Configuration.FullRepositoryId).toBe('acme/website');
    expect(pipelineOf(template).Triggers[0].GitConfiguration.Push).toEqual([
      { Branches: { Includes: ['main'] }, FilePaths: { Includes: ['ops/image/**'] } },
    ]);
    const given = fromFile({ ...stagingCustomer(), ami: { triggerPaths: ['ops/**'] } });
    expect(pipelineOf(given).Triggers[0].GitConfiguration.Push[0].FilePaths.Includes).toEqual(['ops/**']);
  });

  test('a shared CodeCommit repository never bakes on a commit; an own one bakes on each', () => {
    const shared = fromFile({ ...stagingCustomer(), software: { repository: { codeCommitRepository: 'acme-web' } } });
    expect(repositoryAction(shared).Configuration.PollForSourceChanges).toBe(false);
    expect(eventSources(shared)).not.toContain('aws.codecommit');
    expect(pipelineOf(shared).Triggers).toBeUndefined();

    const own = fromFile({ ...stagingCustomer(), ami: { repository: { codeCommitRepository: 'acme-images' } } });
    expect(eventSources(own)).toContain('aws.codecommit');
  });

  test('a shared S3 object never bakes when it is written; an own one bakes on each', () => {
    const repository = { s3Bucket: 'acme-sources', s3ObjectKey: 'website/main.zip' };
    const shared = fromFile({ ...stagingCustomer(), software: { repository } });
    expect(eventSources(shared)).not.toContain('aws.s3');
    const own = fromFile({ ...stagingCustomer(), ami: { repository: { ...repository, s3ObjectKey: 'image.zip' } } });
    expect(eventSources(own)).toContain('aws.s3');
  });

  test('bakeOnSourceChange false: only the schedule and a person start a bake', () => {
    const template = build({ bakeOnSourceChange: false });
    expect(repositoryAction(template).Configuration.DetectChanges).toBe(false);
    expect(pipelineOf(template).Triggers).toBeUndefined();
    expect(schedules(template)).toHaveLength(1);
  });

  test('file paths are refused for sources CodePipeline cannot filter by path, and past its limit', () => {
    const stack = new Stack(new App(), 'S');
    const pipeline = new codepipeline.Pipeline(stack, 'P', { pipelineType: codepipeline.PipelineType.V2 });
    const output = new codepipeline.Artifact('O');
    const repository = codecommit.Repository.fromRepositoryName(stack, 'R', 'acme-web');
    expect(() =>
      PipelineSource.codeCommit({ repository }).bind(stack, { pipeline, output, filePaths: ['packer/**'] }),
    ).toThrow(
      'PipelineSource.codeCommit: filePaths: received ["packer/**"]; expected none (CodePipeline filters pushes by file path for CodeConnections sources only)',
    );
    const bucket = s3.Bucket.fromBucketName(stack, 'B', 'acme-sources');
    expect(() =>
      PipelineSource.s3Object({ bucket, objectKey: 'a/b.zip' }).bind(stack, { pipeline, output, filePaths: ['x'] }),
    ).toThrow(/PipelineSource.s3Object: filePaths: received \["x"\]; expected none/);
    const source = PipelineSource.codeConnections({ connectionArn: CONNECTION, owner: 'acme', repository: 'web' });
    expect(() =>
      source.bind(stack, { pipeline, output, filePaths: Array.from({ length: 9 }, (_, i) => `d${i}/**`) }),
    ).toThrow(
      "PipelineSource.codeConnections: filePaths: received 9 paths; expected 1 to 8 (CodePipeline's limit of a push filter)",
    );
  });

  test('a customer file’s trigger paths are checked by the schema', () => {
    const problems = problemsOf(() =>
      ConfigLoader.validateCustomer(
        toStructKeys({ ...stagingCustomer(), ami: { triggerPaths: ['/etc/**', '../up'] } }) as any,
      ),
    );
    expect(problems.map((p) => `${p.path}: ${p.message}`)).toEqual([
      'ami.triggerPaths[0]: received "/etc/**"; expected a path or glob pattern inside the repository such as packer/**',
      'ami.triggerPaths[1]: received "../up"; expected a path or glob pattern inside the repository such as packer/**',
    ]);
  });
});

describe('schedule', () => {
  test('by default the image is rebuilt weekly, at a minute of Sunday 02:00 to 06:00 UTC', () => {
    const [expression] = schedules(build());
    const cron = expression.match(/^cron\((\d+) (\d+) \? \* SUN \*\)$/);
    expect(cron).not.toBeNull();
    const minute = Number(cron![2]) * 60 + Number(cron![1]);
    expect(minute).toBeGreaterThanOrEqual(120);
    expect(minute).toBeLessThan(360);
    expect(expression).toBe(staggeredRebuildSchedule('acme-staging').expressionString);
  });

  test('a customer file sets its own schedule, or turns it off', () => {
    expect(schedules(fromFile({ ...stagingCustomer(), ami: { rebuildSchedule: 'cron(0 4 ? * WED *)' } }))).toEqual([
      'cron(0 4 ? * WED *)',
    ]);
    expect(schedules(fromFile({ ...stagingCustomer(), ami: { rebuildSchedule: 'off' } }))).toEqual([]);
    expect(schedules(build({ rebuildOnSchedule: false }))).toEqual([]);
    expect(() => build({ rebuildOnSchedule: false, rebuildSchedule: events.Schedule.rate(Duration.days(1)) })).toThrow(
      /rebuildSchedule: received a schedule with rebuildOnSchedule false; expected one of them/,
    );
  });

  test('the platform file’s window places the default rebuild', () => {
    const window = { weekDay: 'WED', startHourUtc: 22, hours: 6 };
    const [expression] = schedules(fromFile(stagingCustomer(), { rebuildWindow: window }));
    const minute = staggeredMinuteOfWeek('acme-staging', {
      weekDay: 'WED',
      startHour: 22,
      duration: Duration.hours(6),
    });
    expect(expression).toBe(
      `cron(${minute % 60} ${Math.floor(minute / 60) % 24} ? * ${['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'][Math.floor(minute / 1440)]} *)`,
    );
    // Wednesday 22:00 to Thursday 04:00.
    expect(minute).toBeGreaterThanOrEqual(3 * 1440 + 22 * 60);
    expect(minute).toBeLessThan(4 * 1440 + 4 * 60);
  });

  test('VendingFleet gives every environment the window of platform.yaml', () => {
    const fleet = new VendingFleet(new App(), {
      directory: 'fleet',
      platform: {
        ...(toStructKeys(platform()) as any),
        rebuildWindow: { weekDay: 'SAT', startHourUtc: 1, hours: 2 },
      } as any,
      customers: [toStructKeys(stagingCustomer()) as any],
    });
    const [expression] = schedules(Template.fromStack(fleet.environments[0]));
    expect(expression).toMatch(/^cron\(\d+ [12] \? \* SAT \*\)$/);
  });

  test('the platform file’s window is checked by the schema', () => {
    const problems = problemsOf(() =>
      ConfigLoader.validatePlatform({ ...platform(), rebuildWindow: { weekDay: 'sunday', hours: 0 } }),
    );
    expect(problems.map((p) => `${p.path}: ${p.message}`)).toEqual([
      'rebuildWindow.weekDay: received "sunday"; expected one of MON, TUE, WED, THU, FRI, SAT, SUN',
      'rebuildWindow.hours: received 0; expected an integer from 1 to 168',
    ]);
  });

  test.each<[string, object, RegExp]>([
    ['a day', { weekDay: 'Sun' }, /rebuildWindow: weekDay: received "Sun"; expected one of MON, TUE, WED/],
    ['an hour', { startHour: 24 }, /rebuildWindow: startHour: received 24; expected a whole hour \(UTC\) from 0 to 23/],
    [
      'a length',
      { duration: Duration.seconds(90) },
      /rebuildWindow: duration: received 1 minute 30 seconds; expected whole minutes/,
    ],
    ['a length', { duration: Duration.days(8) }, /rebuildWindow: duration: received 8 days; expected whole minutes/],
  ])('a window with a bad %s is refused', (_what, rebuildWindow, message) => {
    expect(() => build({ rebuildWindow })).toThrow(message);
  });
});

describe('the stagger', () => {
  const names = Array.from({ length: 500 }, (_, i) => `customer${String(i).padStart(3, '0')}-production`);
  const window = { weekDay: 'SUN', startHour: 2, duration: Duration.hours(4) };

  test('is a pure function of the name: the same minute every time, another for another name', () => {
    const first = names.map((name) => staggeredMinuteOfWeek(name, window));
    expect(names.map((name) => staggeredMinuteOfWeek(name, window))).toEqual(first);
    // Pinned: a release that moved every environment's rebuild (another hash, another slot size) fails here.
    expect(staggeredRebuildSchedule('acme-production', window).expressionString).toBe('cron(30 3 ? * SUN *)');
    expect(staggeredRebuildSchedule('acme-staging', window).expressionString).toBe('cron(56 5 ? * SUN *)');
    expect(new Set(first).size).toBeGreaterThan(200);
  });

  test('spreads 500 environments over a 4-hour window: every minute in it, none crowded', () => {
    const minutes = names.map((name) => staggeredMinuteOfWeek(name, window));
    for (const minute of minutes) {
      expect(minute).toBeGreaterThanOrEqual(120);
      expect(minute).toBeLessThan(360);
    }
    const perMinute = count(minutes);
    const perQuarter = count(minutes.map((m) => Math.floor((m - 120) / 15)));
    // 500 over 240 minutes is 2.1 a minute and 31 a quarter of an hour on average; measured: 212 distinct minutes,
    // at most 7 in one, 18 to 43 a quarter of an hour.
    expect(Math.max(...perMinute.values())).toBeLessThanOrEqual(8);
    expect(perQuarter.size).toBe(16);
    expect(Math.max(...perQuarter.values())).toBeLessThanOrEqual(45);
    expect(Math.min(...perQuarter.values())).toBeGreaterThanOrEqual(18);
  });
});

function count(values: number[]): Map<number, number> {
  const counts = new Map<number, number>();
  for (const value of values) counts.set(value, (counts.get(value) ?? 0) + 1);
  return counts;
}
