import { CfnElement, CustomResource, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { DATA_BUCKET_CLEANUP_RESOURCE_TYPE, DataBucketCleanupProperties } from '../platform/environment-resource-types';

/**
 * Internal: a non-production data bucket made removable. A `Custom::DataBucketCleanup` of the platform's
 * environment-resources function empties the bucket (every version and delete marker) when the stack is deleted, and
 * only then; the bucket's own policy lets that function, and no other caller, list and delete its object versions
 * (bypassing GOVERNANCE retention). Production buckets get neither: they are retained.
 *
 * Whatever writes to the bucket (`writers`: the instances' role, the Auto Scaling group) depends on the cleanup, so
 * CloudFormation deletes them first and nothing writes after the bucket was emptied.
 */
export function addDataBucketCleanup(
  scope: Construct,
  bucket: s3.Bucket,
  serviceToken: string,
  writers: Construct[],
): CustomResource {
  const stack = Stack.of(scope);
  const cfnBucket = bucket.node.defaultChild as CfnElement;
  const properties: DataBucketCleanupProperties = {
    BucketName: bucket.bucketName,
    BucketLogicalId: stack.resolve(cfnBucket.logicalId),
  };
  bucket.addToResourcePolicy(
    new iam.PolicyStatement({
      sid: 'EmptiedOnStackDeletion',
      principals: [new iam.AnyPrincipal()],
      actions: ['s3:ListBucketVersions', 's3:DeleteObjectVersion', 's3:BypassGovernanceRetention'],
      resources: [bucket.bucketArn, bucket.arnForObjects('*')],
      conditions: {
        StringEquals: { 'aws:PrincipalAccount': stack.account },
        ArnEquals: { 'lambda:SourceFunctionArn': serviceToken },
      },
    }),
  );
  const cleanup = new CustomResource(scope, 'DataBucketCleanup', {
    serviceToken,
    resourceType: DATA_BUCKET_CLEANUP_RESOURCE_TYPE,
    properties,
  });
  // Deleted before the bucket and before its policy, which is what lets the function delete in it.
  cleanup.node.addDependency(bucket);
  if (bucket.policy) cleanup.node.addDependency(bucket.policy);
  for (const writer of writers) writer.node.addDependency(cleanup);
  return cleanup;
}
