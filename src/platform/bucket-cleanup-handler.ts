/**
 * The logic of `Custom::DataBucketCleanup`, with its clients injected (the .lambda.ts wires the real ones).
 *
 * - Create and Update do nothing but check the properties; Update keeps the physical id, so that CloudFormation never
 *   replaces the resource (a replacement would send the old one a Delete during an update).
 * - Delete empties the bucket only when the stack itself is being deleted (DELETE_IN_PROGRESS, or ROLLBACK_IN_PROGRESS
 *   after a failed creation): a Delete sent because an update removed the resource leaves every object in place.
 * - Only the bucket of its own stack: CloudFormation must name the bucket as the resource `BucketLogicalId` of the
 *   requesting stack. The bucket's own policy is what lets the function delete in it (non-production buckets only).
 * - Every version and delete marker is deleted, 1,000 at a time (a page of ListObjectVersions, one DeleteObjects),
 *   bypassing GOVERNANCE retention; after a page deleted whole the listing starts again (what was deleted is gone),
 *   after one that kept versions it goes on from the page's markers. A version under COMPLIANCE retention or a legal hold cannot be deleted by anyone:
 *   the Delete then fails, naming them, and the stack's deletion stops there with the bucket and its data intact.
 */
import type {
  DeleteObjectsCommandInput,
  DeleteObjectsCommandOutput,
  ListObjectVersionsCommandInput,
  ListObjectVersionsCommandOutput,
} from '@aws-sdk/client-s3';
import { DataBucketCleanupProperties } from './environment-resource-types';

/** The S3 calls the handler makes, as the SDK client's methods. */
export interface BucketStore {
  listObjectVersions(input: ListObjectVersionsCommandInput): Promise<ListObjectVersionsCommandOutput>;
  deleteObjects(input: DeleteObjectsCommandInput): Promise<DeleteObjectsCommandOutput>;
}

/** The CloudFormation calls the handler makes, as the SDK client's methods. */
export interface StackReader {
  describeStacks(input: { StackName: string }): Promise<{ Stacks?: { StackStatus?: string }[] }>;
  describeStackResource(input: {
    StackName: string;
    LogicalResourceId: string;
  }): Promise<{ StackResourceDetail?: { PhysicalResourceId?: string; ResourceType?: string } }>;
}

/** What CloudFormation sends, as far as this resource reads it. */
export interface DataBucketCleanupRequest {
  readonly RequestType: 'Create' | 'Update' | 'Delete';
  readonly StackId: string;
  readonly LogicalResourceId: string;
  readonly PhysicalResourceId?: string;
  readonly ResourceProperties: DataBucketCleanupProperties;
}

/** The outcome: the physical id, what was done, and how many versions and delete markers were deleted. */
export interface DataBucketCleanupResult {
  readonly physicalResourceId: string;
  readonly action: 'created' | 'kept' | 'emptied' | 'left';
  readonly deleted?: number;
}

/** Stack states in which the stack itself is going away. */
const STACK_DELETION = ['DELETE_IN_PROGRESS', 'ROLLBACK_IN_PROGRESS'];

/** Serves one request. Errors are thrown with a message for CloudFormation. */
export async function handleDataBucketCleanup(
  s3: BucketStore,
  stacks: StackReader,
  request: DataBucketCleanupRequest,
  deadline?: number,
): Promise<DataBucketCleanupResult> {
  if (request.RequestType === 'Create') {
    const props = checkedProperties(request.ResourceProperties);
    return { physicalResourceId: `cleanup:${props.BucketName}`, action: 'created' };
  }
  if (request.RequestType === 'Update') {
    checkedProperties(request.ResourceProperties);
    return { physicalResourceId: request.PhysicalResourceId!, action: 'kept' };
  }
  const physicalResourceId = request.PhysicalResourceId ?? '';
  // A Create that failed answered with a placeholder: there is nothing to clean up for it.
  if (!physicalResourceId.startsWith('cleanup:')) return { physicalResourceId, action: 'left' };
  const props = checkedProperties(request.ResourceProperties);
  const described = await stacks.describeStacks({ StackName: request.StackId });
  const status = described.Stacks?.[0]?.StackStatus;
  if (!status || !STACK_DELETION.includes(status)) return { physicalResourceId, action: 'left' };
  const resource = await stacks.describeStackResource({
    StackName: request.StackId,
    LogicalResourceId: props.BucketLogicalId,
  });
  if (resource.StackResourceDetail?.ResourceType !== 'AWS::S3::Bucket') {
    throw new Error(
      `Custom::DataBucketCleanup: BucketLogicalId: received ${JSON.stringify(props.BucketLogicalId)}, a ` +
        `${JSON.stringify(resource.StackResourceDetail?.ResourceType)} of this stack; expected an AWS::S3::Bucket: ` +
        'nothing was deleted',
    );
  }
  if (resource.StackResourceDetail?.PhysicalResourceId !== props.BucketName) {
    throw new Error(
      `Custom::DataBucketCleanup: BucketName: received ${JSON.stringify(props.BucketName)}; expected the bucket of ` +
        `this stack's ${props.BucketLogicalId}, which is ${JSON.stringify(resource.StackResourceDetail?.PhysicalResourceId)}: ` +
        'nothing was deleted',
    );
  }
  const deleted = await emptyBucket(s3, props.BucketName, deadline);
  return { physicalResourceId, action: 'emptied', deleted };
}

function checkedProperties(props: DataBucketCleanupProperties): DataBucketCleanupProperties {
  const problems: string[] = [];
  if (typeof props?.BucketName !== 'string' || !/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(props.BucketName)) {
    problems.push(`BucketName: received ${JSON.stringify(props?.BucketName)}; expected an S3 bucket name`);
  }
  if (typeof props?.BucketLogicalId !== 'string' || !/^[A-Za-z0-9]{1,255}$/.test(props.BucketLogicalId)) {
    problems.push(`BucketLogicalId: received ${JSON.stringify(props?.BucketLogicalId)}; expected a logical id`);
  }
  if (problems.length > 0) throw new Error(`Custom::DataBucketCleanup: ${problems.join('; ')}`);
  return props;
}

/**
 * Deletes every object version and delete marker of the bucket, page by page; returns how many were deleted. Throws,
 * naming the first few, when some could not be deleted (COMPLIANCE retention, a legal hold) or when time ran out.
 */
export async function emptyBucket(s3: BucketStore, bucket: string, deadline?: number): Promise<number> {
  let deleted = 0;
  const refused: string[] = [];
  let refusedCount = 0;
  let keyMarker: string | undefined;
  let versionIdMarker: string | undefined;
  for (;;) {
    if (deadline !== undefined && Date.now() > deadline) {
      throw new Error(
        `Custom::DataBucketCleanup: ${bucket}: ${deleted} object versions deleted before the function's time ran ` +
          'out, more remain: delete the stack again to go on',
      );
    }
    const page = await s3.listObjectVersions({
      Bucket: bucket,
      KeyMarker: keyMarker,
      VersionIdMarker: versionIdMarker,
      MaxKeys: 1000,
    });
    const refusedBefore = refusedCount;
    const objects = [...(page.Versions ?? []), ...(page.DeleteMarkers ?? [])]
      .filter((v) => v.Key !== undefined)
      .map((v) => ({ Key: v.Key!, VersionId: v.VersionId }));
    if (objects.length > 0) {
      const result = await s3.deleteObjects({
        Bucket: bucket,
        BypassGovernanceRetention: true,
        Delete: { Objects: objects, Quiet: true },
      });
      const errors = result.Errors ?? [];
      deleted += objects.length - errors.length;
      refusedCount += errors.length;
      for (const e of errors.slice(0, Math.max(0, 5 - refused.length))) {
        refused.push(`${e.Key} (version ${e.VersionId}): ${e.Code}`);
      }
    }
    if (!page.IsTruncated) break;
    // A page deleted whole is gone: list again from the start. Past a page that kept some versions, go on after it.
    const kept = objects.length === 0 || refusedCount > refusedBefore;
    keyMarker = kept ? page.NextKeyMarker : undefined;
    versionIdMarker = kept ? page.NextVersionIdMarker : undefined;
  }
  if (refusedCount > 0) {
    throw new Error(
      `Custom::DataBucketCleanup: ${bucket}: ${refusedCount} object versions could not be deleted (COMPLIANCE ` +
        `retention or a legal hold keeps them; ${deleted} others were): ${refused.join('; ')}. The bucket and these ` +
        'versions stay; delete the stack again once their retention ends, or retain the bucket',
    );
  }
  return deleted;
}
