import { createHash } from 'crypto';
import { Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';

/** CodePipeline keeps a pipeline's artifacts under the first 20 characters of its name. */
const ARTIFACTS_FOLDER_LENGTH = 20;

/** A pipeline's name, its artifacts folder, and the shared bucket and key seen as that folder only. */
export interface PipelineArtifacts {
  readonly pipelineName: string;
  readonly prefix: string;
  /** The bucket: every grant on it covers the folder's objects only. */
  readonly bucket: s3.IBucket;
  /** The bucket's key: every grant on it is for use through S3 only. */
  readonly key: kms.IKey;
}

const READ = ['s3:GetObject', 's3:GetObjectVersion'];
const WRITE = ['s3:PutObject', 's3:AbortMultipartUpload'];
const DELETE = ['s3:DeleteObject', 's3:DeleteObjectVersion'];
const KMS_DECRYPT = ['kms:Decrypt'];
const KMS_ENCRYPT = ['kms:Encrypt', 'kms:GenerateDataKey'];

/**
 * CodePipeline keeps the artifacts of a pipeline under the first 20 characters of its name. A hash of the kind,
 * customer and environment fills them, so that no two pipelines share a folder (names alone could not promise
 * it: "acme-production-soft…" would be the folder of two customers).
 *
 * The bucket and key are shared by every customer of the platform, and the roles that get them run customer
 * code (the build, the instances). So every grant aws-cdk-lib makes on the returned bucket covers the objects of
 * the folder only, listing is limited to the folder's prefix, and every grant on the returned key (the bucket's,
 * and the build project's encryption key) allows its use through S3 only, not direct calls that could decrypt
 * another customer's data encrypted with the same key.
 */
export function pipelineArtifacts(
  scope: Construct,
  kind: 'software' | 'ami',
  customer: string,
  environment: string,
  bucket: s3.IBucket,
  key: kms.IKey,
): PipelineArtifacts {
  const hash = createHash('sha256').update(`${kind}/${customer}/${environment}`).digest('hex');
  const pipelineName = `${kind}-${hash.slice(0, 10)}-${customer}-${environment}`;
  const prefix = pipelineName.slice(0, ARTIFACTS_FOLDER_LENGTH);
  const throughS3 = viaS3(scope, key);
  return { pipelineName, prefix, bucket: folderOfBucket(scope, bucket, throughS3, prefix), key: throughS3 };
}

/**
 * The key, whose grants allow its use through S3 in the stack's region only, and that adds nothing to the key's own
 * policy. A view of the given key (its construct, ARN and id), not an import: importing its ARN again would parse
 * that ARN, a contract parameter, into a dozen tokens per pipeline that nothing reads, kept by aws-cdk-lib for the
 * life of the process (issue 17).
 */
function viaS3(scope: Construct, key: kms.IKey): kms.IKey {
  const stack = Stack.of(scope);
  const grant = (grantee: iam.IGrantable, ...actions: string[]) =>
    iam.Grant.addToPrincipal({
      grantee,
      actions,
      resourceArns: [key.keyArn],
      conditions: { StringEquals: { 'kms:ViaService': `s3.${stack.region}.${stack.urlSuffix}` } },
    });
  const view: kms.IKey = Object.create(key);
  return Object.assign(view, {
    addToResourcePolicy: (): iam.AddToResourcePolicyResult => ({ statementAdded: false }),
    grant,
    grantDecrypt: (grantee: iam.IGrantable) => grant(grantee, ...KMS_DECRYPT),
    grantEncrypt: (grantee: iam.IGrantable) => grant(grantee, ...KMS_ENCRYPT),
    grantEncryptDecrypt: (grantee: iam.IGrantable) => grant(grantee, ...KMS_DECRYPT, ...KMS_ENCRYPT),
  });
}

function folderOfBucket(scope: Construct, bucket: s3.IBucket, key: kms.IKey, prefix: string): s3.IBucket {
  const folder = s3.Bucket.fromBucketAttributes(scope, 'Artifacts', {
    bucketArn: bucket.bucketArn,
    bucketName: bucket.bucketName,
    encryptionKey: key,
  });
  const objects = bucket.arnForObjects(`${prefix}*`);
  const grant = (identity: iam.IGrantable, objectActions: string[], keyActions: string[]): iam.Grant => {
    if (identity.grantPrincipal instanceof iam.UnknownPrincipal) {
      return iam.Grant.drop(identity, `use the pipeline artifacts in ${prefix}*`);
    }
    const result = iam.Grant.addToPrincipal({ grantee: identity, actions: objectActions, resourceArns: [objects] });
    // Listing and bucket metadata: the folder's keys only, never another customer's.
    iam.Grant.addToPrincipal({
      grantee: identity,
      actions: ['s3:ListBucket'],
      resourceArns: [bucket.bucketArn],
      conditions: { StringLike: { 's3:prefix': [`${prefix}*`] } },
    });
    iam.Grant.addToPrincipal({
      grantee: identity,
      actions: ['s3:GetBucketLocation', 's3:GetBucketVersioning'],
      resourceArns: [bucket.bucketArn],
    });
    if (keyActions.length > 0) key.grant(identity, ...keyActions);
    return result;
  };
  return Object.assign(folder, {
    grantRead: (identity: iam.IGrantable) => grant(identity, READ, KMS_DECRYPT),
    grantWrite: (identity: iam.IGrantable) => grant(identity, WRITE, [...KMS_DECRYPT, ...KMS_ENCRYPT]),
    grantReadWrite: (identity: iam.IGrantable) =>
      grant(identity, [...READ, ...WRITE], [...KMS_DECRYPT, ...KMS_ENCRYPT]),
    grantPut: (identity: iam.IGrantable) => grant(identity, WRITE, [...KMS_DECRYPT, ...KMS_ENCRYPT]),
    grantPutAcl: (identity: iam.IGrantable) => grant(identity, ['s3:PutObjectAcl'], []),
    grantDelete: (identity: iam.IGrantable) => grant(identity, DELETE, []),
  });
}
