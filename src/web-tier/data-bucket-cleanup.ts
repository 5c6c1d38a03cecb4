import { Aws, CfnElement, CustomResource, Fn, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { DATA_BUCKET_CLEANUP_RESOURCE_TYPE, DataBucketCleanupProperties } from '../platform/environment-resource-types';

/**
 * Internal: a non-production data bucket made removable. A `Custom::DataBucketCleanup` of the platform's
 * environment-resources function empties the bucket (every version and delete marker) when the stack is deleted, and
 * only then; the bucket's own policy lets that function's role, and no other caller, list and delete its object
 * versions (bypassing GOVERNANCE retention). Production buckets get neither: they are retained.
 *
 * The role is named as the function (EnvironmentResources), so its ARN follows from the service token, the
 * function's ARN: `aws:PrincipalArn` is the role's ARN for its sessions. (`lambda:SourceFunctionArn` cannot be used in
 * resource-based policies, and a role ARN as the statement's Principal would turn into the role's unique id, never
 * matching again, once the platform replaces the role.)
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
        ArnEquals: { 'aws:PrincipalArn': functionRoleArn(serviceToken) },
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

/**
 * The ARN of the role of the function behind the service token (arn:<partition>:lambda:<region>:<account>:function:<name>),
 * which the platform names as the function: arn:<partition>:iam::<account>:role/<name>. Resolved by CloudFormation.
 */
export function functionRoleArn(serviceToken: string): string {
  const name = Fn.select(6, Fn.split(':', serviceToken));
  return Fn.join('', ['arn:', Aws.PARTITION, ':iam::', Aws.ACCOUNT_ID, ':role/', name]);
}
