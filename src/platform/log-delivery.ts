import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';

/** Prefix under which S3 server access logs of any bucket of the account go in the platform's logs bucket. */
export const S3_ACCESS_LOGS_PREFIX = 's3-access-logs/';

/**
 * Prefix of load balancer access logs in the platform's logs bucket: the shared load balancer and customers'
 * dedicated ones (object names carry each load balancer's id).
 */
export const ALB_ACCESS_LOGS_PREFIX = 'alb';

/** Prefix of VPC flow logs in the platform's logs bucket. */
export const FLOW_LOGS_PREFIX = 'vpc-flow-logs/';

/**
 * Internal. Sets the bucket's server access logging directly (the L2 `serverAccessLogsBucket` would, without
 * the app's feature flag `@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy`, switch the logs bucket to ACLs,
 * which its BucketOwnerEnforced ownership forbids). SharedPlatform's logs bucket policy lets the account's
 * buckets write under S3_ACCESS_LOGS_PREFIX.
 */
export function logServerAccessTo(source: s3.Bucket, logsBucket: s3.IBucket, name: string): void {
  const cfn = source.node.defaultChild as s3.CfnBucket;
  cfn.loggingConfiguration = {
    destinationBucketName: logsBucket.bucketName,
    logFilePrefix: `${S3_ACCESS_LOGS_PREFIX}${name}/`,
  };
}

/**
 * Internal. Sends the bucket's events to EventBridge through the bucket's own NotificationConfiguration (the L2
 * `eventBridgeEnabled` would add a custom-resource Lambda function to the stack).
 */
export function notifyEventBridge(bucket: s3.Bucket): void {
  (bucket.node.defaultChild as s3.CfnBucket).notificationConfiguration = {
    eventBridgeConfiguration: { eventBridgeEnabled: true },
  };
}

/**
 * Internal. A bucket for data (the platform's artifacts, a customer's files): SSE-KMS with the given key and a
 * bucket key, SSL only, private, owner-enforced, versioned, Object Lock enabled without a default retention (so
 * that objects can be locked when needed), old versions expire after 90 days, access logs to the platform's
 * logs bucket under `S3_ACCESS_LOGS_PREFIX<logName>/`, events to EventBridge.
 */
export function createDataBucket(
  scope: Construct,
  id: string,
  options: {
    bucketName?: string;
    encryptionKey: kms.IKey;
    logsBucket: s3.IBucket;
    logName: string;
    removalPolicy: RemovalPolicy;
  },
): s3.Bucket {
  const bucket = new s3.Bucket(scope, id, {
    bucketName: options.bucketName,
    encryption: s3.BucketEncryption.KMS,
    encryptionKey: options.encryptionKey,
    bucketKeyEnabled: true,
    enforceSSL: true,
    blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
    objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
    versioned: true,
    objectLockEnabled: true,
    lifecycleRules: [
      {
        id: 'tidy-versions',
        noncurrentVersionExpiration: Duration.days(90),
        abortIncompleteMultipartUploadAfter: Duration.days(7),
      },
    ],
    removalPolicy: options.removalPolicy,
  });
  logServerAccessTo(bucket, options.logsBucket, options.logName);
  notifyEventBridge(bucket);
  return bucket;
}
