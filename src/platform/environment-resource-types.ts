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
