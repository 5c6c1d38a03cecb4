import { createHash } from 'crypto';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';

/** CodePipeline keeps a pipeline's artifacts under the first 20 characters of its name. */
const ARTIFACTS_FOLDER_LENGTH = 20;

/** A pipeline's name, its artifacts folder, and the shared bucket seen as that folder only. */
export interface PipelineArtifacts {
  readonly pipelineName: string;
  readonly prefix: string;
  readonly bucket: s3.IBucket;
}

/**
 * CodePipeline keeps the artifacts of a pipeline under the first 20 characters of its name. A hash of the kind,
 * customer and environment fills them, so that no two pipelines share a folder (names alone could not promise
 * it: "acme-production-soft…" would be the folder of two customers), and every grant aws-cdk-lib makes on the
 * returned bucket covers the objects of that folder only, not those of every customer in the bucket.
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
  return { pipelineName, prefix, bucket: folderOfBucket(scope, bucket, key, `${prefix}*`) };
}

function folderOfBucket(scope: Construct, bucket: s3.IBucket, key: kms.IKey, objects: string): s3.IBucket {
  const folder = s3.Bucket.fromBucketAttributes(scope, 'Artifacts', {
    bucketArn: bucket.bucketArn,
    bucketName: bucket.bucketName,
    encryptionKey: key,
  });
  const grantRead = folder.grantRead.bind(folder);
  const grantWrite = folder.grantWrite.bind(folder);
  const grantReadWrite = folder.grantReadWrite.bind(folder);
  const grantPut = folder.grantPut.bind(folder);
  const grantPutAcl = folder.grantPutAcl.bind(folder);
  const grantDelete = folder.grantDelete.bind(folder);
  return Object.assign(folder, {
    grantRead: (identity: iam.IGrantable) =>
      identity.grantPrincipal instanceof iam.UnknownPrincipal
        ? iam.Grant.drop(identity, 'read the pipeline artifacts')
        : grantRead(identity, objects),
    grantWrite: (identity: iam.IGrantable, _objects?: string, allowedActions?: string[]) =>
      grantWrite(identity, objects, allowedActions),
    grantReadWrite: (identity: iam.IGrantable) => grantReadWrite(identity, objects),
    grantPut: (identity: iam.IGrantable) => grantPut(identity, objects),
    grantPutAcl: (identity: iam.IGrantable) => grantPutAcl(identity, objects),
    grantDelete: (identity: iam.IGrantable) => grantDelete(identity, objects),
  });
}
