/*
 * The custom resources that the platform's environment-resources function serves, as customer stacks write them and
 * as its handler reads them: the one place both sides agree on.
 */

/** The custom resource type of a web tier's image parameter. */
export const AMI_PARAMETER_RESOURCE_TYPE = 'Custom::WebAmiParameter';

/** The tag that names the custom resource owning a parameter (a hash of its stack id and logical id). */
export const OWNER_TAG = 'vending:owner';

/**
 * The properties of a `Custom::WebAmiParameter`: an SSM parameter created once, with `InitialValue`, when it does not
 * exist yet; never written again by the stack (the AMI pipeline's rollout owns its value).
 */
export interface AmiParameterProperties {
  /** The parameter's name, e.g. `/vending/acme/production/ami-id`; also the resource's physical id. */
  readonly ParameterName: string;
  /** The image id the parameter starts with (a resolved `{{resolve:ssm:/aws/service/…}}` or a fixed `ami-…`). */
  readonly InitialValue: string;
  /** Set at creation only. */
  readonly Description?: string;
  /** Tags of the parameter, kept equal to these on every Create and Update. */
  readonly Tags?: Record<string, string>;
}

/** The custom resource type that empties a non-production web tier's data bucket when its stack is deleted. */
export const DATA_BUCKET_CLEANUP_RESOURCE_TYPE = 'Custom::DataBucketCleanup';

/**
 * The properties of a `Custom::DataBucketCleanup`: on the stack's deletion (and only then), every object version and
 * delete marker of the bucket is deleted, so that CloudFormation can delete the bucket after it.
 */
export interface DataBucketCleanupProperties {
  /** The bucket's name (a `Ref` to it). */
  readonly BucketName: string;
  /** The bucket's logical id in the same stack: the handler checks with CloudFormation that the bucket is this one. */
  readonly BucketLogicalId: string;
}
