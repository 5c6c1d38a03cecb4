import { Size } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { renderBuildFile, renderPluginsFile, TAG_KEYS, variableNames } from './packer-files';
import { resolve, Resolved } from './packer-props';

/**
 * The image a Packer build starts from.
 *
 * Choose with `PackerBaseImage.fromSsmParameter()` or `PackerBaseImage.fromFilter()`.
 */
export class PackerBaseImage {
  /**
   * Start from the AMI whose id an SSM parameter holds, such as one of the public
   * `/aws/service/ami-amazon-linux-latest/...` parameters.
   *
   * Packer does not read the parameter: the pipeline resolves it and passes the AMI id as the variable
   * `source_ami`.
   *
   * @param parameterName the parameter's name, starting with `/`
   */
  public static fromSsmParameter(parameterName: string): PackerBaseImage {
    return new PackerBaseImage(parameterName, undefined, undefined);
  }

  /**
   * Start from the newest EBS-backed HVM AMI whose name matches a filter, owned by one of the given owners.
   *
   * @param nameFilter an AMI name filter, `*` and `?` as wildcards (3 to 128 characters)
   * @param owners account ids (12 digits) or `amazon`, `aws-marketplace`, `self`
   */
  public static fromFilter(nameFilter: string, owners: string[]): PackerBaseImage {
    return new PackerBaseImage(undefined, nameFilter, owners);
  }

  /**
   * The SSM parameter that holds the base AMI id.
   *
   * @default - the image is found by `nameFilter` and `owners`
   */
  public readonly ssmParameterName?: string;

  /**
   * The AMI name filter.
   *
   * @default - the image comes from `ssmParameterName`
   */
  public readonly nameFilter?: string;

  /**
   * The owners the AMI name filter searches.
   *
   * @default - the image comes from `ssmParameterName`
   */
  public readonly owners?: string[];

  private constructor(
    ssmParameterName: string | undefined,
    nameFilter: string | undefined,
    owners: string[] | undefined,
  ) {
    this.ssmParameterName = ssmParameterName;
    this.nameFilter = nameFilter;
    this.owners = owners;
  }
}

/**
 * What a customer's AMI build needs to know at synth time.
 *
 * Values known only at deploy or build time (region, subnet, build number, commit) are Packer variables.
 */
export interface PackerTemplateProps {
  /** The customer, tagged on the AMI, its snapshots and the build instance (1 to 64 characters). */
  readonly customer: string;

  /** The customer's environment, tagged like `customer` (1 to 64 characters). */
  readonly environment: string;

  /** The image the build starts from. */
  readonly baseImage: PackerBaseImage;

  /**
   * EC2 instance type of the build instance, known at synth time.
   *
   * @default - t3.small
   */
  readonly instanceType?: ec2.InstanceType;

  /**
   * Scripts that provision the image, as paths relative to the root of the customer's infrastructure
   * repository; one shell provisioner runs them in order, with sudo.
   *
   * @default ['packer/provision.sh']
   */
  readonly provisionScripts?: string[];

  /**
   * Start of the AMI name; the build appends `-<build number>-<UTC timestamp>` (at most 80 characters, as EC2
   * allows 128 in an AMI name).
   *
   * @default - `<customer>-<environment>`
   */
  readonly amiNamePrefix?: string;

  /**
   * The user Packer connects as over SSH.
   *
   * @default 'ec2-user'
   */
  readonly sshUsername?: string;

  /**
   * Device name of the base image's root volume.
   *
   * @default '/dev/xvda'
   */
  readonly rootDeviceName?: string;

  /**
   * Size of the encrypted gp3 root volume: whole GiB from 1 to 16,384, known at synth time.
   *
   * @default Size.gibibytes(8)
   */
  readonly rootVolumeSize?: Size;

  /**
   * Extra tags of the AMI, its snapshots, and the build instance and its volumes.
   *
   * Keys must not start with `aws:` nor be one PackerTemplate sets (`Name` and `vending:*`). Keys and values
   * reach AWS in Unicode NFC: HCL normalizes every string.
   *
   * @default - only the tags PackerTemplate sets
   */
  readonly tags?: { [key: string]: string };

  /**
   * Version constraint of the Packer plugin `github.com/hashicorp/amazon`.
   *
   * @default '1.8.2' (an exact version: the build role's permissions are checked against what it calls)
   */
  readonly amazonPluginVersion?: string;
}

/** One rendered Packer file. */
export interface PackerTemplateFile {
  /** The file's name, to write in the build directory. */
  readonly fileName: string;

  /** The file's text (HCL2, formatted as `packer fmt` does). */
  readonly content: string;
}

/**
 * A customer's Packer build (amazon-ebs builder) rendered to HCL2 at synth time.
 *
 * The build directory holds `plugins.pkr.hcl`, `build.pkr.hcl` and the customer's infrastructure repository;
 * the pipeline runs `packer init .`, then `packer validate` and `packer build` with every name of `variables`
 * passed as `-var name=value`.
 */
export class PackerTemplate {
  /** Tag key of the customer, on the AMI, its snapshots, the build instance and its volumes. */
  public static readonly TAG_CUSTOMER: string = TAG_KEYS.customer;
  /** Tag key of the environment, on the AMI, its snapshots, the build instance and its volumes. */
  public static readonly TAG_ENVIRONMENT: string = TAG_KEYS.environment;
  /** Tag key whose value is `packerBuildTagValue`, on everything the build creates: IAM conditions of the build role rely on it. */
  public static readonly TAG_PACKER_BUILD: string = TAG_KEYS.packerBuild;
  /** Tag key of the pipeline's build number, on the AMI and its snapshots. */
  public static readonly TAG_BUILD_NUMBER: string = TAG_KEYS.buildNumber;
  /** Tag key of the baked commit, on the AMI and its snapshots. */
  public static readonly TAG_COMMIT_ID: string = TAG_KEYS.commitId;
  /** Tag key of the commit's author (cut to 256 characters), on the AMI and its snapshots. */
  public static readonly TAG_COMMIT_AUTHOR: string = TAG_KEYS.commitAuthor;
  /** Tag key of the commit's message (whitespace collapsed, cut to 256 characters), on the AMI and its snapshots. */
  public static readonly TAG_COMMIT_MESSAGE: string = TAG_KEYS.commitMessage;
  /** Tag key of the commit's time, on the AMI and its snapshots. */
  public static readonly TAG_COMMIT_TIME: string = TAG_KEYS.commitTime;

  /** Name of the build file. */
  public readonly buildFileName: string = 'build.pkr.hcl';
  /** Name of the file that requires the amazon plugin (read by `packer init`). */
  public readonly pluginsFileName: string = 'plugins.pkr.hcl';
  /** Names of the variables the build expects, each passed with `-var`, in a stable order. */
  public readonly variables: string[];
  /** Value of the `vending:packer-build` tag: `<customer>/<environment>` (in Unicode NFC, as HCL writes every string). */
  public readonly packerBuildTagValue: string;

  private readonly props: Resolved;

  constructor(props: PackerTemplateProps) {
    this.props = resolve(props);
    // A slash, which names cannot hold: `acme-prod` + `eu` and `acme` + `prod-eu` stay apart.
    this.packerBuildTagValue = `${props.customer}/${props.environment}`.normalize('NFC');
    this.variables = variableNames(this.props);
  }

  /** The files of the build directory: `plugins.pkr.hcl`, then `build.pkr.hcl`. */
  public files(): PackerTemplateFile[] {
    return [
      { fileName: this.pluginsFileName, content: this.renderPlugins() },
      { fileName: this.buildFileName, content: this.renderBuild() },
    ];
  }

  /** The text of `plugins.pkr.hcl`. */
  public renderPlugins(): string {
    return renderPluginsFile(this.props);
  }

  /** The text of `build.pkr.hcl`. */
  public renderBuild(): string {
    return renderBuildFile(this.props, this.variables, this.packerBuildTagValue);
  }
}
