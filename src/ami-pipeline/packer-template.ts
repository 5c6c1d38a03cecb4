import { Token } from 'aws-cdk-lib';

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
   * EC2 instance type of the build instance.
   *
   * @default 't3.small'
   */
  readonly instanceType?: string;

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
   * Size of the encrypted gp3 root volume, in GiB (1 to 16384).
   *
   * @default 8
   */
  readonly rootVolumeSize?: number;

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
  public static readonly TAG_CUSTOMER: string = 'vending:customer';
  /** Tag key of the environment, on the AMI, its snapshots, the build instance and its volumes. */
  public static readonly TAG_ENVIRONMENT: string = 'vending:environment';
  /** Tag key whose value is `packerBuildTagValue`, on everything the build creates: IAM conditions of the build role rely on it. */
  public static readonly TAG_PACKER_BUILD: string = 'vending:packer-build';
  /** Tag key of the pipeline's build number, on the AMI and its snapshots. */
  public static readonly TAG_BUILD_NUMBER: string = 'vending:build-number';
  /** Tag key of the baked commit, on the AMI and its snapshots. */
  public static readonly TAG_COMMIT_ID: string = 'vending:commit-id';
  /** Tag key of the commit's author (cut to 256 characters), on the AMI and its snapshots. */
  public static readonly TAG_COMMIT_AUTHOR: string = 'vending:commit-author';
  /** Tag key of the commit's message (whitespace collapsed, cut to 256 characters), on the AMI and its snapshots. */
  public static readonly TAG_COMMIT_MESSAGE: string = 'vending:commit-message';
  /** Tag key of the commit's time, on the AMI and its snapshots. */
  public static readonly TAG_COMMIT_TIME: string = 'vending:commit-time';

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
    this.variables = VARIABLES.filter(
      ([name]) => name !== 'source_ami' || this.props.ssmParameterName !== undefined,
    ).map(([name]) => name);
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
    const amazon = map([
      ['source', 'github.com/hashicorp/amazon'],
      ['version', this.props.amazonPluginVersion],
    ]);
    return render([
      comment(HEADER),
      blank(),
      comment(
        "The plugin requirement has a file of its own: Debian's packer 1.6.6, which validates build.pkr.hcl offline " +
          "in the library's tests, predates required_plugins (Packer 1.7). Modern Packer reads every *.pkr.hcl " +
          'file of the directory.',
      ),
      block('packer', [block('required_plugins', [attr('amazon', amazon)])]),
    ]);
  }

  /** The text of `build.pkr.hcl`. */
  public renderBuild(): string {
    const p = this.props;
    const ownership: Entry[] = [
      [PackerTemplate.TAG_CUSTOMER, p.customer],
      [PackerTemplate.TAG_ENVIRONMENT, p.environment],
      [PackerTemplate.TAG_PACKER_BUILD, this.packerBuildTagValue],
    ];
    const extraTags = Object.keys(p.tags)
      .sort()
      .map((key): Entry => [key, p.tags[key]]);
    const imageTags = map([
      ['Name', expr('local.ami_name')],
      ...ownership,
      [PackerTemplate.TAG_BUILD_NUMBER, expr('var.build_number')],
      [PackerTemplate.TAG_COMMIT_ID, expr('var.commit_id')],
      [PackerTemplate.TAG_COMMIT_AUTHOR, expr('local.commit_author')],
      [PackerTemplate.TAG_COMMIT_MESSAGE, expr('local.commit_message')],
      [PackerTemplate.TAG_COMMIT_TIME, expr('var.commit_time')],
      ...extraTags,
    ]);
    const buildTags = map([['Name', `packer ${this.packerBuildTagValue}`], ...ownership, ...extraTags]);
    const description = template(
      `Web server image of ${p.customer}/${p.environment}, build `,
      expr('var.build_number'),
      ', commit ',
      expr('var.commit_id'),
    );
    const sourceAmi = p.nameFilter === undefined ? [attr('source_ami', expr('var.source_ami'))] : [];
    const sourceAmiFilter =
      p.nameFilter === undefined
        ? []
        : [
            blank(),
            block('source_ami_filter', [
              attr(
                'filters',
                map([
                  ['name', p.nameFilter],
                  ['root-device-type', 'ebs'],
                  ['virtualization-type', 'hvm'],
                ]),
              ),
              attr('owners', p.owners as string[]), // fromFilter() sets both
              attr('most_recent', true),
            ]),
          ];

    return render([
      comment(HEADER),
      blank(),
      comment(
        "The AMI pipeline runs, in a directory holding this file, plugins.pkr.hcl and the customer's " +
          'infrastructure repository (at var.repository_dir):\n' +
          '  packer init .\n' +
          '  packer validate -var name=value ... .\n' +
          '  packer build -var name=value ... .\n' +
          'with one -var for each variable below: values known only at deploy or build time are variables, ' +
          'everything else is written here.',
      ),
      ...VARIABLES.filter(([name]) => this.variables.includes(name)).flatMap(([name, text]) => [
        blank(),
        block(`variable ${name}`, [attr('type', expr('string')), attr('description', text)]),
      ]),
      blank(),
      comment(
        'timestamp: the UTC time of the build as 14 digits (20240501120000). EC2 tag values hold at most 256 ' +
          'characters: the commit author and message are cut to that, and the message has its whitespace ' +
          '(newlines included) collapsed to single spaces.',
      ),
      block('locals', [
        attr('timestamp', expr('regex_replace(timestamp(), "[- TZ:]", "")')),
        attr('ami_name', template(`${p.amiNamePrefix}-`, expr('var.build_number'), '-', expr('local.timestamp'))),
        attr('ami_description', expr(`substr(${description.text}, 0, 255)`)),
        attr('commit_author', expr('substr(var.commit_author, 0, 256)')),
        attr('commit_message', expr('substr(trimspace(regex_replace(var.commit_message, "\\\\s+", " ")), 0, 256)')),
        blank(),
        comment('Tags of the AMI and its snapshots.'),
        attr('image_tags', imageTags),
        blank(),
        comment(
          "Tags of the build instance and its volumes: the build role's IAM conditions rely on " +
            `${PackerTemplate.TAG_PACKER_BUILD}.`,
        ),
        attr('build_tags', buildTags),
      ]),
      blank(),
      comment(
        "The build instance has no public address (Packer reaches it on its private IP from the pipeline's VPC) " +
          "and requires IMDSv2. Its root volume is encrypted (default EBS key), so the AMI's snapshot is too: no " +
          'encrypt_boot, which would copy the image and deregister an untagged temporary one.',
      ),
      block('source amazon-ebs web', [
        attr('region', expr('var.region')),
        ...sourceAmi,
        attr('instance_type', p.instanceType),
        attr('subnet_id', expr('var.subnet_id')),
        attr('security_group_id', expr('var.security_group_id')),
        attr('associate_public_ip_address', false),
        attr('ssh_interface', 'private_ip'),
        attr('ssh_username', p.sshUsername),
        attr('ami_name', expr('local.ami_name')),
        attr('ami_description', expr('local.ami_description')),
        ...sourceAmiFilter,
        blank(),
        block('metadata_options', [
          attr('http_endpoint', 'enabled'),
          attr('http_tokens', 'required'),
          attr('http_put_response_hop_limit', 1),
        ]),
        blank(),
        comment(
          "gp3 at its baseline iops and throughput (included in its price), written out because Debian's " +
            'packer 1.6.6 refuses gp3 without them.',
        ),
        block('launch_block_device_mappings', [
          attr('device_name', p.rootDeviceName),
          attr('volume_type', 'gp3'),
          attr('volume_size', p.rootVolumeSize),
          attr('iops', 3000),
          attr('throughput', 125),
          attr('encrypted', true),
          attr('delete_on_termination', true),
        ]),
        blank(),
        attr('tags', expr('local.image_tags')),
        attr('snapshot_tags', expr('local.image_tags')),
        attr('run_tags', expr('local.build_tags')),
        attr('run_volume_tags', expr('local.build_tags')),
      ]),
      blank(),
      block('build', [
        attr('sources', ['source.amazon-ebs.web']),
        blank(),
        block('provisioner shell', [
          attr(
            'scripts',
            p.provisionScripts.map((path) => template(expr('var.repository_dir'), `/${path}`)),
          ),
          attr('environment_vars', [
            `VENDING_CUSTOMER=${p.customer}`,
            `VENDING_ENVIRONMENT=${p.environment}`,
            template('VENDING_BUILD_NUMBER=', expr('var.build_number')),
            template('VENDING_COMMIT_ID=', expr('var.commit_id')),
          ]),
          attr('execute_command', 'chmod +x {{ .Path }}; sudo env {{ .Vars }} {{ .Path }}'),
        ]),
        blank(),
        block('post-processor manifest', [
          attr('output', expr('var.manifest_path')),
          attr('strip_path', true),
          attr(
            'custom_data',
            map([
              ['build_number', expr('var.build_number')],
              ['commit_id', expr('var.commit_id')],
            ]),
          ),
        ]),
      ]),
    ]);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// The model: defaults and validation
// ---------------------------------------------------------------------------------------------------------------

const HEADER = 'Generated by cdk-paas-vending (PackerTemplate). Do not edit: change the PackerTemplate props.';

/** Every variable a build may expect, in the order of `variables`; `source_ami` only for an SSM base image. */
const VARIABLES: Array<[string, string]> = [
  ['build_number', "Build number of the AMI pipeline's build (CODEBUILD_BUILD_NUMBER), part of the AMI name."],
  ['commit_id', 'Commit of the infrastructure repository being baked.'],
  ['commit_author', 'Author of that commit.'],
  ['commit_message', 'Message of that commit.'],
  ['commit_time', 'Time of that commit (ISO 8601).'],
  ['region', 'AWS region to build in.'],
  ['subnet_id', 'Private subnet of the build instance.'],
  ['security_group_id', "Security group of the build instance: admits SSH from the pipeline's build."],
  ['source_ami', "Base AMI id, read by the pipeline from the base image's SSM parameter."],
  ['repository_dir', "Directory where the customer's infrastructure repository is checked out."],
  ['manifest_path', 'Path of the Packer manifest (JSON) the pipeline reads the AMI id from.'],
];

const MAX_PREFIX = 80;
const AMI_NAME_PREFIX = new RegExp(`^[A-Za-z0-9()\\[\\] ./\\-'@_]{1,${MAX_PREFIX}}$`);
const INSTANCE_TYPE = /^[a-z][a-z0-9-]*\.[a-z0-9-]+$/;
const SCRIPT_PATH = /^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/;
const SSM_PARAMETER = /^\/[A-Za-z0-9_.\-/]{1,2047}$/;
const OWNER = /^(\d{12}|amazon|aws-marketplace|self)$/;
const SSH_USERNAME = /^[a-z_][a-z0-9_-]{0,31}$/;
const DEVICE_NAME = /^\/dev\/[a-z0-9]+$/;
const VERSION_CONSTRAINT =
  /^\s*(=|!=|>|>=|<|<=|~>)?\s*v?\d+(\.\d+){0,2}(-[0-9A-Za-z.]+)?\s*(,\s*(=|!=|>|>=|<|<=|~>)?\s*v?\d+(\.\d+){0,2}(-[0-9A-Za-z.]+)?\s*)*$/;

interface Resolved {
  readonly customer: string;
  readonly environment: string;
  readonly ssmParameterName?: string;
  readonly nameFilter?: string;
  readonly owners?: string[];
  readonly instanceType: string;
  readonly provisionScripts: string[];
  readonly amiNamePrefix: string;
  readonly sshUsername: string;
  readonly rootDeviceName: string;
  readonly rootVolumeSize: number;
  readonly tags: { [key: string]: string };
  readonly amazonPluginVersion: string;
}

function resolve(props: PackerTemplateProps): Resolved {
  const resolved: Resolved = {
    customer: props.customer,
    environment: props.environment,
    ssmParameterName: props.baseImage.ssmParameterName,
    nameFilter: props.baseImage.nameFilter,
    owners: props.baseImage.owners,
    instanceType: props.instanceType ?? 't3.small',
    provisionScripts: props.provisionScripts ?? ['packer/provision.sh'],
    amiNamePrefix: props.amiNamePrefix ?? `${props.customer}-${props.environment}`,
    sshUsername: props.sshUsername ?? 'ec2-user',
    rootDeviceName: props.rootDeviceName ?? '/dev/xvda',
    rootVolumeSize: props.rootVolumeSize ?? 8,
    tags: props.tags ?? {},
    amazonPluginVersion: props.amazonPluginVersion ?? '1.8.2',
  };
  const check = (name: string, value: string, ok: boolean, expected: string): void => {
    if (!ok) throw new Error(`PackerTemplate: ${name}: received ${show(value)}; expected ${expected}`);
  };
  for (const key of ['customer', 'environment'] as const) {
    check(key, resolved[key], length(resolved[key]) >= 1 && length(resolved[key]) <= 64, '1 to 64 characters');
  }
  if (resolved.ssmParameterName !== undefined && !Token.isUnresolved(resolved.ssmParameterName)) {
    check(
      'baseImage.ssmParameterName',
      resolved.ssmParameterName,
      SSM_PARAMETER.test(resolved.ssmParameterName),
      'an SSM parameter name starting with / (letters, digits, _ . - and /), such as ' +
        '/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64',
    );
  }
  if (resolved.nameFilter !== undefined) {
    check(
      'baseImage.nameFilter',
      resolved.nameFilter,
      length(resolved.nameFilter) >= 3 && length(resolved.nameFilter) <= 128,
      'an AMI name filter of 3 to 128 characters, such as al2023-ami-2023.*-x86_64',
    );
    list(
      'baseImage.owners',
      resolved.owners as string[],
      (owner) => OWNER.test(owner),
      'an account id of 12 digits, amazon, aws-marketplace or self',
    );
  }
  check(
    'instanceType',
    resolved.instanceType,
    INSTANCE_TYPE.test(resolved.instanceType),
    'an EC2 instance type such as t3.small',
  );
  list(
    'provisionScripts',
    resolved.provisionScripts,
    (path) => SCRIPT_PATH.test(path) && !path.split('/').includes('..'),
    'a path relative to the repository root such as packer/provision.sh: letters, digits, . _ - and /, ' +
      'not starting or ending with /, without empty or .. segments nor backslashes',
  );
  check(
    'amiNamePrefix',
    resolved.amiNamePrefix,
    AMI_NAME_PREFIX.test(resolved.amiNamePrefix),
    `1 to ${MAX_PREFIX} letters, digits, spaces or ( ) [ ] . / - ' @ _` +
      (props.amiNamePrefix === undefined ? ' (the default is <customer>-<environment>: set amiNamePrefix)' : '') +
      `: an AMI name has at most 128 characters and the build appends -<build number>-<14-digit timestamp>`,
  );
  check(
    'sshUsername',
    resolved.sshUsername,
    SSH_USERNAME.test(resolved.sshUsername),
    'a Linux user name such as ec2-user',
  );
  check(
    'rootDeviceName',
    resolved.rootDeviceName,
    DEVICE_NAME.test(resolved.rootDeviceName),
    'a device name such as /dev/xvda',
  );
  const size = resolved.rootVolumeSize;
  if (Token.isUnresolved(size) || !Number.isInteger(size) || size < 1 || size > 16384) {
    throw new Error(
      `PackerTemplate: rootVolumeSize: received ${Token.isUnresolved(size) ? 'a token' : size}; ` +
        'expected a whole number of GiB from 1 to 16384 known at synth time',
    );
  }
  const keys = new Set<string>();
  for (const [key, value] of Object.entries(resolved.tags)) {
    check(
      'tags',
      key,
      length(key) >= 1 &&
        length(key) <= 128 &&
        !key.toLowerCase().startsWith('aws:') &&
        key !== 'Name' &&
        !key.startsWith('vending:'),
      'tag keys of 1 to 128 characters, not starting with aws:, other than Name and vending:* (PackerTemplate sets those)',
    );
    check(
      `tags[${JSON.stringify(key)}]`,
      value,
      length(value) >= 0 && length(value) <= 256,
      'a tag value of at most 256 characters',
    );
    check(
      'tags',
      key,
      !keys.has(key.normalize('NFC')),
      'distinct keys in Unicode NFC, the form HCL gives every string (another key differs from it only in form)',
    );
    keys.add(key.normalize('NFC'));
  }
  check(
    'amazonPluginVersion',
    resolved.amazonPluginVersion,
    VERSION_CONSTRAINT.test(resolved.amazonPluginVersion),
    'a Packer version constraint such as ~> 1.3 or >= 1.3.0, < 2.0.0',
  );
  return resolved;

  function list(name: string, values: string[], ok: (value: string) => boolean, expected: string): void {
    if (values.length === 0) {
      throw new Error(`PackerTemplate: ${name}: received an empty list; expected at least one item`);
    }
    values.forEach((value, i) => check(`${name}[${i}]`, value, ok(value), expected));
  }
}

/**
 * A value for a message. Values rendered into the template must be known at synth time: a token would need
 * text substitution at deploy time, which cannot be escaped, so tokens are refused (values known only at
 * deploy time are Packer variables).
 */
function show(value: string): string {
  if (Token.isUnresolved(value)) return 'a token (values written into the template must be known at synth time)';
  const text = JSON.stringify(value);
  return length(value) > 64
    ? `${JSON.stringify([...value].slice(0, 60).join(''))}… (${length(value)} characters)`
    : text;
}

/** Length in Unicode code points, as EC2 counts tag characters. */
function length(value: string): number {
  return Token.isUnresolved(value) ? -1 : [...value].length;
}

// ---------------------------------------------------------------------------------------------------------------
// A small HCL2 writer: blocks, attributes, maps, lists, comments; escaped literals; `packer fmt` alignment
// ---------------------------------------------------------------------------------------------------------------

/** An HCL expression, already rendered on one line. */
class Expr {
  constructor(public readonly text: string) {}
}

/** An object, rendered one entry per line. */
class HclMap {
  constructor(public readonly entries: Entry[]) {}
}

type Value = string | number | boolean | Expr | HclMap | Value[];
type Entry = [string, Value];
type Item =
  | { readonly kind: 'attr'; readonly name: string; readonly value: Value }
  | { readonly kind: 'block'; readonly type: string; readonly labels: string[]; readonly body: Item[] }
  | { readonly kind: 'comment'; readonly text: string }
  | { readonly kind: 'blank' };

const expr = (text: string): Expr => new Expr(text);
const map = (entries: Entry[]): HclMap => new HclMap(entries);
const attr = (name: string, value: Value): Item => ({ kind: 'attr', name, value });
/** A block; `header` is its type and labels, separated by spaces: `source amazon-ebs web`. */
const block = (header: string, body: Item[]): Item => {
  const [type, ...labels] = header.split(' ');
  return { kind: 'block', type, labels, body };
};
const comment = (text: string): Item => ({ kind: 'comment', text });
const blank = (): Item => ({ kind: 'blank' });

/** A quoted template: literal parts escaped, expressions interpolated. */
function template(...parts: Array<string | Expr>): Expr {
  return expr(`"${parts.map((part) => (typeof part === 'string' ? escape(part) : `\${${part.text}}`)).join('')}"`);
}

/**
 * The body of an HCL quoted string whose value is `value`: backslash, quote and control characters escaped,
 * and the template sequences `${` and `%{` doubled so they stay literal. HCL normalizes every string to Unicode
 * NFC (escapes included), so the text is written in that form.
 */
function escape(value: string): string {
  return value.normalize('NFC').replace(/[\\"\u0000-\u001f\u007f]|\$\{|%\{/g, (match) => {
    switch (match) {
      case '\\':
        return '\\\\';
      case '"':
        return '\\"';
      case '\n':
        return '\\n';
      case '\r':
        return '\\r';
      case '\t':
        return '\\t';
      case '${':
        return '$${';
      case '%{':
        return '%%{';
      default:
        return `\\u${match.charCodeAt(0).toString(16).padStart(4, '0')}`;
    }
  });
}

const KEYWORDS = new Set(['true', 'false', 'null', 'for', 'in', 'if']);

/** An object key: bare when it is a plain identifier, quoted otherwise. */
function objectKey(name: string): string {
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(name) && !KEYWORDS.has(name) ? name : `"${escape(name)}"`;
}

function renderValue(v: Value, indent: string): string {
  if (v instanceof Expr) return v.text;
  if (v instanceof HclMap) {
    const body = lines(
      v.entries.map(([k, item]) => attr(objectKey(k), item)),
      `${indent}  `,
    );
    return `{\n${body.join('\n')}\n${indent}}`;
  }
  if (Array.isArray(v)) {
    const items = v.map((item) => renderValue(item, `${indent}  `));
    const line = `[${items.join(', ')}]`;
    return line.length <= 80 ? line : `[\n${items.map((item) => `${indent}  ${item},`).join('\n')}\n${indent}]`;
  }
  if (typeof v === 'string') return `"${escape(v)}"`;
  return String(v);
}

/**
 * The lines of a body. As `packer fmt` (hclwrite) does, the `=` of consecutive one-line attributes are aligned;
 * a blank line, a comment, a block or an attribute whose value spans lines ends the run. Widths count grapheme
 * clusters, as hclwrite does.
 */
function lines(items: Item[], indent: string): string[] {
  const out: string[] = [];
  let run: Array<[string, string]> = [];
  const flush = (): void => {
    const width = Math.max(...run.map(([name]) => columns(name)));
    out.push(...run.map(([name, text]) => `${indent}${name}${' '.repeat(width - columns(name))} = ${text}`));
    run = [];
  };
  for (const item of items) {
    if (item.kind === 'attr') {
      const text = renderValue(item.value, indent);
      if (!text.includes('\n')) {
        run.push([item.name, text]);
        continue;
      }
      flush();
      out.push(`${indent}${item.name} = ${text}`);
      continue;
    }
    flush();
    if (item.kind === 'blank') {
      out.push('');
    } else if (item.kind === 'comment') {
      out.push(...wrap(item.text, 110 - indent.length).map((line) => `${indent}# ${line}`.trimEnd()));
    } else {
      const labels = item.labels.map((label) => ` "${escape(label)}"`).join('');
      out.push(`${indent}${item.type}${labels} {`, ...lines(item.body, `${indent}  `), `${indent}}`);
    }
  }
  flush();
  return out;
}

function render(items: Item[]): string {
  return `${lines(items, '').join('\n')}\n`;
}

/** Comment lines of at most `width` characters; lines that start with a space are kept as they are. */
function wrap(text: string, width: number): string[] {
  return text.split('\n').flatMap((line) => {
    if (line.startsWith(' ')) return [line];
    const out = [''];
    for (const word of line.split(' ')) {
      const last = out[out.length - 1];
      if (last !== '' && last.length + 1 + word.length > width) out.push(word);
      else out[out.length - 1] = last === '' ? word : `${last} ${word}`;
    }
    return out;
  });
}

let segmenter: Intl.Segmenter | undefined;
function columns(text: string): number {
  segmenter ??= new Intl.Segmenter('en', { granularity: 'grapheme' });
  return [...segmenter.segment(text)].length;
}
