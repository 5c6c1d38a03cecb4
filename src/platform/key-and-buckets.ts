import { ArnFormat, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { PlatformContract } from './contract';
import { createDataBucket, FLOW_LOGS_PREFIX, notifyEventBridge, S3_ACCESS_LOGS_PREFIX } from './log-delivery';

/** Internal: a platform bucket, and the same bucket as other stacks see it, by its name. */
export interface PlatformBucket<B extends s3.IBucket> {
  /** The bucket's name, known at synth time (`PlatformContract.bucketName`). */
  readonly name: string;
  /** The bucket itself. */
  readonly bucket: B;
  /** The bucket by its name, created after the bucket: what the platform hands to customer constructs. */
  readonly byName: s3.IBucket;
}

/**
 * Internal: a key, `Key` in `scope`, retained, rotated, usable by the region's CloudWatch Logs for log groups of the
 * account, and granted only to AWS resources; `statements` are added to its policy between these two (the platform
 * key's and the fleet pipeline's).
 */
export function createRetainedKey(
  scope: Construct,
  description: string,
  statements: iam.PolicyStatement[] = [],
): kms.Key {
  const stack = Stack.of(scope);
  const key = new kms.Key(scope, 'Key', {
    description,
    enableKeyRotation: true,
    // Data encrypted with it outlives the stack (retained buckets, deploy state): never schedule its deletion.
    removalPolicy: RemovalPolicy.RETAIN,
  });
  key.addToResourcePolicy(
    new iam.PolicyStatement({
      sid: 'CloudWatchLogsOfThisAccount',
      principals: [new iam.ServicePrincipal(`logs.${stack.region}.amazonaws.com`)],
      actions: ['kms:Encrypt*', 'kms:Decrypt*', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:Describe*'],
      resources: ['*'],
      conditions: {
        ArnLike: {
          'kms:EncryptionContext:aws:logs:arn': stack.formatArn({
            service: 'logs',
            resource: 'log-group',
            resourceName: '*',
            arnFormat: ArnFormat.COLON_RESOURCE_NAME,
          }),
        },
      },
    }),
  );
  for (const statement of statements) key.addToResourcePolicy(statement);
  key.addToResourcePolicy(
    new iam.PolicyStatement({
      sid: 'GrantsOnlyForAwsResources',
      effect: iam.Effect.DENY,
      principals: [new iam.AnyPrincipal()],
      actions: ['kms:CreateGrant'],
      resources: ['*'],
      conditions: {
        BoolIfExists: { 'kms:GrantIsForAWSResource': 'false', 'aws:PrincipalIsAWSService': 'false' },
      },
    }),
  );
  return key;
}

/**
 * Internal: the platform key, `Key` in `scope` (`createRetainedKey`), which CloudWatch alarms may also use.
 */
export function createPlatformKey(scope: Construct, platformName: string): kms.Key {
  const stack = Stack.of(scope);
  // Alarms publish to the environments' alert topics, encrypted with this key: CloudWatch needs to make and read
  // their data keys (an AWS managed key such as alias/aws/sns cannot name CloudWatch in its policy). Only for this
  // account's alarms in this region (CloudWatch sends the alarm as the source: no other account's alarm can use it).
  return createRetainedKey(scope, `cdk-paas-vending platform ${platformName}: buckets, state and logs`, [
    new iam.PolicyStatement({
      sid: 'CloudWatchAlarmsToEncryptedTopics',
      principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
      actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
      resources: ['*'],
      conditions: {
        StringEquals: { 'aws:SourceAccount': stack.account },
        ArnLike: {
          'aws:SourceArn': stack.formatArn({
            service: 'cloudwatch',
            resource: 'alarm',
            resourceName: '*',
            arnFormat: ArnFormat.COLON_RESOURCE_NAME,
          }),
        },
      },
    }),
  ]);
}

/**
 * Internal: the logs bucket, `LogsBucket` in `scope` (S3-managed encryption, retained, expiring after
 * `logRetention`), with the policy that lets the account's S3 access logs and VPC flow logs in, and
 * `LogsBucketByName`.
 */
export function createLogsBucket(
  scope: Construct,
  platformName: string,
  logRetention: Duration,
): PlatformBucket<s3.Bucket> {
  const stack = Stack.of(scope);
  const name = PlatformContract.bucketName(platformName, 'logs', stack.account, stack.region);
  const logsBucket = new s3.Bucket(scope, 'LogsBucket', {
    // A name known at synth time: customer stacks point their access logs at it without an import, which
    // Control Tower's proactive controls can then check (CT.S3.PR.2, CT.ELASTICLOADBALANCING.PR.6).
    bucketName: name,
    encryption: s3.BucketEncryption.S3_MANAGED,
    enforceSSL: true,
    blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
    objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
    versioned: true,
    lifecycleRules: [
      {
        id: 'expire-logs',
        // S3 wants expiration after the move to Infrequent Access (itself 30 days at the earliest).
        transitions:
          logRetention.toDays() > 30
            ? [{ storageClass: s3.StorageClass.INFREQUENT_ACCESS, transitionAfter: Duration.days(30) }]
            : [],
        expiration: logRetention,
        noncurrentVersionExpiration: Duration.days(7),
        abortIncompleteMultipartUploadAfter: Duration.days(1),
      },
    ],
    removalPolicy: RemovalPolicy.RETAIN,
  });
  notifyEventBridge(logsBucket);
  logsBucket.addToResourcePolicy(
    new iam.PolicyStatement({
      sid: 'S3ServerAccessLogsOfThisAccount',
      principals: [new iam.ServicePrincipal('logging.s3.amazonaws.com')],
      actions: ['s3:PutObject'],
      resources: [logsBucket.arnForObjects(`${S3_ACCESS_LOGS_PREFIX}*`)],
      conditions: { StringEquals: { 'aws:SourceAccount': stack.account } },
    }),
  );
  // VPC flow logs: written explicitly (aws-cdk-lib adds it only under an app feature flag; without it AWS adds
  // the statement at delivery and the next policy update from this stack removes it).
  logsBucket.addToResourcePolicy(
    new iam.PolicyStatement({
      sid: 'VpcFlowLogsOfThisAccount',
      principals: [new iam.ServicePrincipal('delivery.logs.amazonaws.com')],
      actions: ['s3:PutObject'],
      resources: [logsBucket.arnForObjects(`${FLOW_LOGS_PREFIX}AWSLogs/${stack.account}/*`)],
      conditions: { StringEquals: { 'aws:SourceAccount': stack.account } },
    }),
  );
  logsBucket.addToResourcePolicy(
    new iam.PolicyStatement({
      sid: 'VpcFlowLogsBucketCheck',
      principals: [new iam.ServicePrincipal('delivery.logs.amazonaws.com')],
      actions: ['s3:GetBucketAcl', 's3:ListBucket'],
      resources: [logsBucket.bucketArn],
      conditions: { StringEquals: { 'aws:SourceAccount': stack.account } },
    }),
  );
  // Other stacks see the bucket by its name (no cross-stack export); this stack creates it first.
  const byName = s3.Bucket.fromBucketName(scope, 'LogsBucketByName', name);
  byName.node.addDependency(logsBucket);
  return { name, bucket: logsBucket, byName };
}

/**
 * Internal: the artifacts bucket, `ArtifactsBucket` in `scope` (a data bucket encrypted with the platform key,
 * retained, access logs to the logs bucket), and `ArtifactsBucketByName`, with the key.
 */
export function createArtifactsBucket(
  scope: Construct,
  platformName: string,
  key: kms.IKey,
  logsBucket: s3.IBucket,
): PlatformBucket<s3.Bucket> {
  const stack = Stack.of(scope);
  const name = PlatformContract.bucketName(platformName, 'artifacts', stack.account, stack.region);
  const artifactsBucket = createDataBucket(scope, 'ArtifactsBucket', {
    bucketName: name,
    encryptionKey: key,
    logsBucket,
    logName: 'artifacts',
    removalPolicy: RemovalPolicy.RETAIN,
  });
  // Pipelines in customer stacks see the bucket by its name too, with the key that encrypts it.
  const byName = s3.Bucket.fromBucketAttributes(scope, 'ArtifactsBucketByName', {
    bucketName: name,
    encryptionKey: key,
  });
  byName.node.addDependency(artifactsBucket);
  return { name, bucket: artifactsBucket, byName };
}
