/**
 * The platform's environment-resources function as it ships (the esbuild bundle, built with the projen bundle task's
 * own arguments) against SSM in moto, given the Custom::WebAmiParameter that CustomerWebTier synthesizes, as
 * CloudFormation sends it. What a user relies on: the baked image in the parameter survives every update and the
 * migration from the plain AWS::SSM::Parameter of earlier releases.
 */
import { execFileSync } from 'child_process';
import { randomUUID } from 'crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'fs';
import { dirname, join } from 'path';
import { CloudFormationClient, CreateStackCommand, DescribeStackResourceCommand } from '@aws-sdk/client-cloudformation';
import { DescribeImagesCommand, EC2Client } from '@aws-sdk/client-ec2';
import { ListObjectVersionsCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { SSMClient, GetParameterCommand, ListTagsForResourceCommand, PutParameterCommand } from '@aws-sdk/client-ssm';
import { ownerOf } from '../../src/platform/ami-parameter-handler';
import { CfnRequest, CfnResponse } from '../../src/shared-alb-rule/cfn-response';
import { ResponseServer, startResponseServer } from '../support/alb-fixture';
import { MotoServer, startMoto } from '../support/moto';

const ROOT = join(__dirname, '..', '..');
const BUNDLE_TASK = 'bundle:platform/environment-resources.lambda';
const STACK_ID = 'arn:aws:cloudformation:us-east-1:123456789012:stack/acme-staging/1111';
const NAME = '/vending/acme/staging/ami-id';
const context = { getRemainingTimeInMillis: () => 120_000 };
type Handler = (event: CfnRequest<any>, ctx: typeof context) => Promise<unknown>;

let moto: MotoServer;
let responses: ResponseServer;
let ssm: SSMClient;
let bundleDir: string;
let shipped: Handler;
let stock: string;
let baked: string;
let newer: string;
const savedEnv = { ...process.env };

/** The bundle, beside the AWS SDK it leaves out (as the Lambda runtime provides it). */
function buildShippedHandler(): Handler {
  const tasks = JSON.parse(readFileSync(join(ROOT, '.projen', 'tasks.json'), 'utf8')).tasks;
  const args: string[] = tasks[BUNDLE_TASK].steps[0].execArgs;
  const sdk = require.resolve('@aws-sdk/client-ssm');
  const modules = sdk.slice(0, sdk.lastIndexOf(`${join('node_modules', '@aws-sdk')}`) + 'node_modules'.length);
  mkdirSync(join(modules, '.cache'), { recursive: true });
  bundleDir = mkdtempSync(join(modules, '.cache', 'environment-resources-bundle-'));
  const outfile = join(bundleDir, 'index.js');
  const esbuildArgs = args.slice(1).map((a) => (a.startsWith('--outfile=') ? `--outfile=${outfile}` : a));
  execFileSync(join(ROOT, 'node_modules', '.bin', args[0]), esbuildArgs, { cwd: ROOT, stdio: 'pipe' });
  expect(dirname(outfile)).toBe(bundleDir);
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require(outfile).handler;
}

beforeAll(async () => {
  jest.spyOn(console, 'log').mockImplementation(() => undefined);
  shipped = buildShippedHandler();
  moto = await startMoto();
  Object.assign(process.env, moto.env);
  responses = await startResponseServer();
  ssm = new SSMClient(moto.clientConfig);
  // Images moto knows: an aws:ec2:image parameter takes existing image ids only.
  const images = await new EC2Client(moto.clientConfig).send(new DescribeImagesCommand({}));
  [stock, baked, newer] = (images.Images ?? []).slice(0, 3).map((image) => image.ImageId!);
});

afterAll(async () => {
  process.env = savedEnv;
  await responses?.close();
  await moto?.stop();
  if (bundleDir) rmSync(bundleDir, { recursive: true, force: true });
});

beforeEach(() => moto.reset());

interface Props {
  ParameterName?: string;
  InitialValue?: string;
  Description?: string;
  Tags?: Record<string, string>;
}

function properties(overrides: Props = {}): Props {
  return {
    ParameterName: NAME,
    InitialValue: stock,
    Description: "AMI of acme-staging's instances; written by its AMI pipeline",
    Tags: { 'vending:customer': 'acme', 'vending:environment': 'staging' },
    ...overrides,
  };
}

/** One request through the shipped handler; the response CloudFormation would receive. */
async function send(
  requestType: 'Create' | 'Update' | 'Delete',
  props: Props,
  options: { physicalId?: string; old?: Props; logicalId?: string } = {},
): Promise<CfnResponse> {
  const path = `/${randomUUID()}`;
  await shipped(
    {
      RequestType: requestType,
      ResponseURL: `${responses.base}${path}`,
      StackId: STACK_ID,
      RequestId: randomUUID(),
      LogicalResourceId: options.logicalId ?? 'WebImageParameter1234ABCD',
      ResourceType: 'Custom::WebAmiParameter',
      ResourceProperties: { ServiceToken: 'arn:aws:lambda:us-east-1:123456789012:function:x', ...props },
      PhysicalResourceId: options.physicalId,
      OldResourceProperties: options.old,
    },
    context,
  );
  const received = responses.received.get(path) ?? [];
  expect(received).toHaveLength(1);
  return received[0];
}

async function value(): Promise<string | undefined> {
  try {
    return (await ssm.send(new GetParameterCommand({ Name: NAME }))).Parameter?.Value;
  } catch (error) {
    if ((error as Error).name === 'ParameterNotFound') return undefined;
    throw error;
  }
}

async function tags(): Promise<Record<string, string>> {
  const listed = await ssm.send(new ListTagsForResourceCommand({ ResourceType: 'Parameter', ResourceId: NAME }));
  return Object.fromEntries((listed.TagList ?? []).map((tag) => [tag.Key!, tag.Value!]));
}

/** What the rollout does: the baked image written over the parameter. */
async function rollOut(image: string): Promise<void> {
  await ssm.send(new PutParameterCommand({ Name: NAME, Value: image, Type: 'String', Overwrite: true }));
}

test('Create puts the parameter with the initial image, its tags and the owner tag', async () => {
  const response = await send('Create', properties());
  expect(response).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: NAME, Data: { Action: 'created' } });
  expect(await value()).toBe(stock);
  expect(await tags()).toEqual({
    'vending:customer': 'acme',
    'vending:environment': 'staging',
    'vending:owner': ownerOf(STACK_ID, 'WebImageParameter1234ABCD'),
  });
});

test('updates of every property keep the baked image: initial image, description and tags change, the value does not', async () => {
  await send('Create', properties());
  await rollOut(baked);
  const old = properties();
  const changed = properties({
    InitialValue: newer,
    Description: 'another description',
    Tags: { 'vending:customer': 'acme', team: 'web' },
  });
  const response = await send('Update', changed, { physicalId: NAME, old });
  expect(response).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: NAME, Data: { Action: 'kept' } });
  expect(await value()).toBe(baked);
  const now = await tags();
  expect(now.team).toBe('web');
  expect(now).not.toHaveProperty('vending:environment');
});

test('migration: a parameter made by the earlier AWS::SSM::Parameter is adopted with its baked value', async () => {
  // The parameter as the earlier release left it: no tags, the baked image.
  await rollOut(baked);
  const response = await send('Create', properties());
  expect(response).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: NAME, Data: { Action: 'adopted' } });
  expect(await value()).toBe(baked);
  expect((await tags())['vending:owner']).toBe(ownerOf(STACK_ID, 'WebImageParameter1234ABCD'));
});

test('a resource that replaced another one (new logical id) keeps the parameter when the old one is deleted', async () => {
  await send('Create', properties(), { logicalId: 'Old' });
  await rollOut(baked);
  // CloudFormation creates the new resource first, then deletes the old one in its cleanup.
  expect((await send('Create', properties(), { logicalId: 'New' })).Data).toEqual({ Action: 'adopted' });
  const deleted = await send('Delete', properties(), { logicalId: 'Old', physicalId: NAME });
  expect(deleted).toMatchObject({ Status: 'SUCCESS', Data: { Action: 'left' } });
  expect(await value()).toBe(baked);
});

test('Delete of the owning resource removes the parameter; a second Delete and a missing parameter succeed', async () => {
  await send('Create', properties());
  expect((await send('Delete', properties(), { physicalId: NAME })).Data).toEqual({ Action: 'deleted' });
  expect(await value()).toBeUndefined();
  expect(await send('Delete', properties(), { physicalId: NAME })).toMatchObject({ Status: 'SUCCESS' });
});

test('an Update that finds the parameter gone puts it back with the initial image', async () => {
  const response = await send('Update', properties({ InitialValue: newer }), { physicalId: NAME, old: properties() });
  expect(response).toMatchObject({ Status: 'SUCCESS', Data: { Action: 'created' } });
  expect(await value()).toBe(newer);
});

test('bad properties fail with the field, what was received and what is expected; their Delete does nothing', async () => {
  const response = await send('Create', properties({ InitialValue: 'latest', ParameterName: 'ami-id' }));
  expect(response.Status).toBe('FAILED');
  expect(response.Reason).toBe(
    'Custom::WebAmiParameter: ParameterName: received "ami-id"; expected an SSM parameter path; ' +
      'InitialValue: received "latest"; expected an image id ami-…',
  );
  expect(await send('Delete', properties(), { physicalId: response.PhysicalResourceId })).toMatchObject({
    Status: 'SUCCESS',
    Data: { Action: 'left' },
  });
});

describe('Custom::DataBucketCleanup through the shipped handler', () => {
  /** A request of the data bucket's cleanup from `stackId`; the response CloudFormation would receive. */
  async function sendCleanup(
    requestType: 'Create' | 'Delete',
    stackId: string,
    bucket: string,
    physicalId?: string,
  ): Promise<CfnResponse> {
    const path = `/${randomUUID()}`;
    await shipped(
      {
        RequestType: requestType,
        ResponseURL: `${responses.base}${path}`,
        StackId: stackId,
        RequestId: randomUUID(),
        LogicalResourceId: 'WebDataBucketCleanup1234',
        ResourceType: 'Custom::DataBucketCleanup',
        ResourceProperties: {
          ServiceToken: 'arn:aws:lambda:us-east-1:123456789012:function:x',
          BucketName: bucket,
          BucketLogicalId: 'DataBucket',
        },
        PhysicalResourceId: physicalId,
      },
      context,
    );
    const received = responses.received.get(path) ?? [];
    expect(received).toHaveLength(1);
    return received[0];
  }

  test("a Delete while the stack is not being deleted (here CREATE_COMPLETE, in moto's CloudFormation) keeps every object", async () => {
    const cloudFormation = new CloudFormationClient(moto.clientConfig);
    const s3 = new S3Client({ ...moto.clientConfig, forcePathStyle: true });
    const created = await cloudFormation.send(
      new CreateStackCommand({
        StackName: 'acme-staging',
        TemplateBody: JSON.stringify({ Resources: { DataBucket: { Type: 'AWS::S3::Bucket' } } }),
      }),
    );
    const stackId = created.StackId!;
    const described = await cloudFormation.send(
      new DescribeStackResourceCommand({ StackName: stackId, LogicalResourceId: 'DataBucket' }),
    );
    const bucket = described.StackResourceDetail!.PhysicalResourceId!;
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'index.html', Body: 'hello' }));

    const create = await sendCleanup('Create', stackId, bucket);
    expect(create).toMatchObject({
      Status: 'SUCCESS',
      PhysicalResourceId: `cleanup:${bucket}`,
      Data: { Action: 'created' },
    });
    const deleted = await sendCleanup('Delete', stackId, bucket, `cleanup:${bucket}`);
    expect(deleted).toMatchObject({ Status: 'SUCCESS', Data: { Action: 'left' } });
    const listed = await s3.send(new ListObjectVersionsCommand({ Bucket: bucket }));
    expect((listed.Versions ?? []).map((v) => v.Key)).toEqual(['index.html']);
    cloudFormation.destroy();
    s3.destroy();
  });

  test('an unknown resource type fails, naming the two the function serves', async () => {
    const path = `/${randomUUID()}`;
    await shipped(
      {
        RequestType: 'Create',
        ResponseURL: `${responses.base}${path}`,
        StackId: STACK_ID,
        RequestId: randomUUID(),
        LogicalResourceId: 'Other',
        ResourceType: 'Custom::Other',
        ResourceProperties: { ServiceToken: 'x' },
      } as CfnRequest<any>,
      context,
    );
    expect(responses.received.get(path)?.[0]).toMatchObject({
      Status: 'FAILED',
      Reason:
        'environment-resources: ResourceType: received "Custom::Other"; expected Custom::WebAmiParameter or ' +
        'Custom::DataBucketCleanup',
    });
  });
});
