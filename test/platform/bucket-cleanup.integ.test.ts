/**
 * Custom::DataBucketCleanup's logic against S3 in moto: what a user relies on is that `cdk destroy` of a non-production
 * stack can delete its data bucket whatever it holds (versions, delete markers, GOVERNANCE-locked objects, more than a
 * page of them), and that nothing is deleted in any other case (an update that removes the resource, another stack's
 * bucket). CloudFormation's answers (the stack's status, the bucket its logical id names) come from `FakeStacks`, a
 * fake of the two read calls: moto cannot hold a stack in DELETE_IN_PROGRESS.
 */
import {
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  ListObjectVersionsCommand,
  PutObjectCommand,
  S3,
  S3Client,
} from '@aws-sdk/client-s3';
import { handleDataBucketCleanup, StackReader } from '../../src/platform/bucket-cleanup-handler';
import { MotoServer, startMoto } from '../support/moto';

const STACK_ID = 'arn:aws:cloudformation:us-east-1:123456789012:stack/acme-staging/1111';
const BUCKET = 'acme-staging-webdatabucket-1abc';
const LOGICAL_ID = 'WebDataBucket1234ABCD';

let moto: MotoServer;
let client: S3Client;
let s3: S3;

/** CloudFormation as the handler reads it: a stack's status and the physical id of its bucket. */
class FakeStacks implements StackReader {
  public readonly calls: string[] = [];
  public constructor(
    private readonly status: string,
    private readonly buckets: Record<string, string> = { [LOGICAL_ID]: BUCKET },
    private readonly types: Record<string, string> = {},
  ) {}
  public async describeStacks(input: { StackName: string }) {
    this.calls.push(`DescribeStacks ${input.StackName}`);
    return { Stacks: input.StackName === STACK_ID ? [{ StackStatus: this.status }] : [] };
  }
  public async describeStackResource(input: { StackName: string; LogicalResourceId: string }) {
    this.calls.push(`DescribeStackResource ${input.LogicalResourceId}`);
    return {
      StackResourceDetail: {
        PhysicalResourceId: this.buckets[input.LogicalResourceId],
        ResourceType: this.types[input.LogicalResourceId] ?? 'AWS::S3::Bucket',
      },
    };
  }
}

beforeAll(async () => {
  moto = await startMoto();
  client = new S3Client({ ...moto.clientConfig, forcePathStyle: true });
  s3 = new S3({ ...moto.clientConfig, forcePathStyle: true });
});

afterAll(async () => {
  client?.destroy();
  await moto?.stop();
});

beforeEach(async () => {
  await moto.reset();
  // As the web tier's data bucket: Object Lock on (versioning with it), no default retention.
  await client.send(new CreateBucketCommand({ Bucket: BUCKET, ObjectLockEnabledForBucket: true }));
});

async function put(key: string, lock?: { mode: 'GOVERNANCE' | 'COMPLIANCE' }): Promise<void> {
  await client.send(
    new PutObjectCommand({
      Bucket: BUCKET,
      Key: key,
      Body: `content of ${key}`,
      ...(lock ? { ObjectLockMode: lock.mode, ObjectLockRetainUntilDate: new Date(Date.now() + 86_400_000) } : {}),
    }),
  );
}

/** Every version and delete marker of the bucket, listed page by page. */
async function everything(): Promise<{ versions: number; markers: number }> {
  let versions = 0;
  let markers = 0;
  let KeyMarker: string | undefined;
  let VersionIdMarker: string | undefined;
  for (;;) {
    const page = await client.send(new ListObjectVersionsCommand({ Bucket: BUCKET, KeyMarker, VersionIdMarker }));
    versions += page.Versions?.length ?? 0;
    markers += page.DeleteMarkers?.length ?? 0;
    if (!page.IsTruncated) return { versions, markers };
    KeyMarker = page.NextKeyMarker;
    VersionIdMarker = page.NextVersionIdMarker;
  }
}

/** A bucket of more than two pages: 600 keys of 2 versions each, 300 of them deleted (a delete marker each). */
async function fillBucket(): Promise<void> {
  const keys = Array.from({ length: 600 }, (_, i) => `site/${String(i).padStart(4, '0')}.html`);
  for (let i = 0; i < keys.length; i += 25) {
    await Promise.all(keys.slice(i, i + 25).map(async (key) => (await put(key), put(key))));
  }
  for (let i = 0; i < 300; i += 25) {
    await Promise.all(
      keys.slice(i, i + 25).map((Key) => client.send(new DeleteObjectCommand({ Bucket: BUCKET, Key }))),
    );
  }
  expect(await everything()).toEqual({ versions: 1200, markers: 300 });
}

function request(requestType: 'Create' | 'Update' | 'Delete', overrides: Record<string, unknown> = {}) {
  return {
    RequestType: requestType,
    StackId: STACK_ID,
    LogicalResourceId: 'WebDataBucketCleanup5678',
    PhysicalResourceId: requestType === 'Create' ? undefined : `cleanup:${BUCKET}`,
    ResourceProperties: { BucketName: BUCKET, BucketLogicalId: LOGICAL_ID },
    ...overrides,
  } as any;
}

test("the stack's deletion empties the bucket: 1,200 versions and 300 delete markers over two pages, then the bucket can be deleted", async () => {
  await fillBucket();
  const pages: number[] = [];
  const counting = {
    listObjectVersions: (input: any) => s3.listObjectVersions(input),
    deleteObjects: async (input: any) => (pages.push(input.Delete.Objects.length), s3.deleteObjects(input)),
  };
  const result = await handleDataBucketCleanup(counting, new FakeStacks('DELETE_IN_PROGRESS'), request('Delete'));
  expect(result).toEqual({ physicalResourceId: `cleanup:${BUCKET}`, action: 'emptied', deleted: 1500 });
  expect(pages).toEqual([1000, 500]);
  expect(await everything()).toEqual({ versions: 0, markers: 0 });
  await client.send(new DeleteBucketCommand({ Bucket: BUCKET }));
}, 120_000);

test('a failed creation rolled back also empties it, and an empty bucket is no error', async () => {
  await put('index.html');
  expect(await handleDataBucketCleanup(s3, new FakeStacks('ROLLBACK_IN_PROGRESS'), request('Delete'))).toMatchObject({
    action: 'emptied',
    deleted: 1,
  });
  expect(await handleDataBucketCleanup(s3, new FakeStacks('DELETE_IN_PROGRESS'), request('Delete'))).toMatchObject({
    action: 'emptied',
    deleted: 0,
  });
});

test('GOVERNANCE retention is bypassed; a COMPLIANCE-locked version stops the deletion, named, and stays', async () => {
  await put('governed.txt', { mode: 'GOVERNANCE' });
  await put('free.txt');
  await put('kept-by-law.txt', { mode: 'COMPLIANCE' });
  // Without the bypass, S3 (and moto) refuses the GOVERNANCE-locked version.
  const governed = (await client.send(new ListObjectVersionsCommand({ Bucket: BUCKET, Prefix: 'governed' })))
    .Versions![0];
  const refused = await s3.deleteObjects({
    Bucket: BUCKET,
    Delete: { Objects: [{ Key: 'governed.txt', VersionId: governed.VersionId }], Quiet: true },
  });
  expect(refused.Errors?.map((e) => e.Code)).toEqual(['AccessDenied']);
  const deleting = handleDataBucketCleanup(s3, new FakeStacks('DELETE_IN_PROGRESS'), request('Delete'));
  await expect(deleting).rejects.toThrow(
    new RegExp(
      `^Custom::DataBucketCleanup: ${BUCKET}: 1 object versions could not be deleted \\(COMPLIANCE retention or a ` +
        'legal hold keeps them; 2 others were\\): kept-by-law.txt \\(version [^)]+\\): AccessDenied',
    ),
  );
  const left = await client.send(new ListObjectVersionsCommand({ Bucket: BUCKET }));
  expect((left.Versions ?? []).map((v) => v.Key)).toEqual(['kept-by-law.txt']);
});

test.each(['UPDATE_IN_PROGRESS', 'UPDATE_COMPLETE_CLEANUP_IN_PROGRESS', 'UPDATE_ROLLBACK_IN_PROGRESS'])(
  'a Delete during %s (the resource left the template) deletes nothing',
  async (status) => {
    await put('index.html');
    await put('index.html');
    const stacks = new FakeStacks(status);
    expect(await handleDataBucketCleanup(s3, stacks, request('Delete'))).toEqual({
      physicalResourceId: `cleanup:${BUCKET}`,
      action: 'left',
    });
    expect(stacks.calls).toEqual([`DescribeStacks ${STACK_ID}`]);
    expect(await everything()).toEqual({ versions: 2, markers: 0 });
  },
);

test("a logical id of the stack that is not a bucket (a resource whose physical id is the bucket's name) is refused", async () => {
  await put('index.html');
  const stacks = new FakeStacks(
    'DELETE_IN_PROGRESS',
    { [LOGICAL_ID]: BUCKET },
    { [LOGICAL_ID]: 'AWS::SSM::Parameter' },
  );
  await expect(handleDataBucketCleanup(s3, stacks, request('Delete'))).rejects.toThrow(
    `Custom::DataBucketCleanup: BucketLogicalId: received "${LOGICAL_ID}", a "AWS::SSM::Parameter" of this stack; ` +
      'expected an AWS::S3::Bucket: nothing was deleted',
  );
  expect(await everything()).toEqual({ versions: 1, markers: 0 });
});

test("a bucket that is not the stack's own is refused and kept whole", async () => {
  await put('index.html');
  const stacks = new FakeStacks('DELETE_IN_PROGRESS', { [LOGICAL_ID]: 'another-bucket' });
  await expect(handleDataBucketCleanup(s3, stacks, request('Delete'))).rejects.toThrow(
    `Custom::DataBucketCleanup: BucketName: received "${BUCKET}"; expected the bucket of this stack's ${LOGICAL_ID}, ` +
      'which is "another-bucket": nothing was deleted',
  );
  expect(await everything()).toEqual({ versions: 1, markers: 0 });
});

test('Create and Update touch nothing; Update keeps the physical id (no replacement, so no Delete on update)', async () => {
  await put('index.html');
  const stacks = new FakeStacks('CREATE_IN_PROGRESS');
  expect(await handleDataBucketCleanup(s3, stacks, request('Create'))).toEqual({
    physicalResourceId: `cleanup:${BUCKET}`,
    action: 'created',
  });
  const renamed = request('Update', {
    PhysicalResourceId: 'cleanup:earlier-name',
    ResourceProperties: { BucketName: 'new-name', BucketLogicalId: LOGICAL_ID },
  });
  expect(await handleDataBucketCleanup(s3, stacks, renamed)).toEqual({
    physicalResourceId: 'cleanup:earlier-name',
    action: 'kept',
  });
  expect(stacks.calls).toEqual([]);
  // A Create that failed answered with a placeholder id: its Delete reads and deletes nothing.
  expect(
    await handleDataBucketCleanup(s3, stacks, request('Delete', { PhysicalResourceId: 'failed-to-create' })),
  ).toEqual({ physicalResourceId: 'failed-to-create', action: 'left' });
  expect(await everything()).toEqual({ versions: 1, markers: 0 });
  await expect(
    handleDataBucketCleanup(s3, stacks, request('Create', { ResourceProperties: { BucketName: 'Bad_Name' } })),
  ).rejects.toThrow(
    'Custom::DataBucketCleanup: BucketName: received "Bad_Name"; expected an S3 bucket name; BucketLogicalId: ' +
      'received undefined; expected a logical id',
  );
});

test("the function's time running out is a failure that says how much was done and that a retry goes on", async () => {
  await put('a.txt');
  await expect(
    handleDataBucketCleanup(s3, new FakeStacks('DELETE_IN_PROGRESS'), request('Delete'), Date.now() - 1),
  ).rejects.toThrow(
    `Custom::DataBucketCleanup: ${BUCKET}: 0 object versions deleted before the function's time ran out, more ` +
      'remain: delete the stack again to go on',
  );
  expect(await everything()).toEqual({ versions: 1, markers: 0 });
});
