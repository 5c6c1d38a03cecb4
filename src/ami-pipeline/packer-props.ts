import { Token } from 'aws-cdk-lib';
import type { PackerTemplateProps } from './packer-template';
import { DEFAULT_INSTANCE_TYPE } from '../config/defaults';
import { gibibytesOf, valueRule } from '../config/values';

/*
 * The props of a PackerTemplate with their defaults applied, validated at synth time: the first problem throws,
 * naming the prop, the value received and what is expected.
 */

const MAX_PREFIX = 80;
const AMI_NAME_PREFIX = new RegExp(`^[A-Za-z0-9()\\[\\] ./\\-'@_]{1,${MAX_PREFIX}}$`);
const SCRIPT_PATH = /^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/;
const SSM_PARAMETER = /^\/[A-Za-z0-9_.\-/]{1,2047}$/;
const OWNER = /^(\d{12}|amazon|aws-marketplace|self)$/;
const SSH_USERNAME = /^[a-z_][a-z0-9_-]{0,31}$/;
const DEVICE_NAME = /^\/dev\/[a-z0-9]+$/;
const VERSION_CONSTRAINT =
  /^\s*(=|!=|>|>=|<|<=|~>)?\s*v?\d+(\.\d+){0,2}(-[0-9A-Za-z.]+)?\s*(,\s*(=|!=|>|>=|<|<=|~>)?\s*v?\d+(\.\d+){0,2}(-[0-9A-Za-z.]+)?\s*)*$/;

/** PackerTemplateProps with every default applied, and the base image's fields. */
export interface Resolved {
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

/** The props with their defaults, once validated. */
export function resolve(props: PackerTemplateProps): Resolved {
  const resolved = withDefaults(props);
  checkNames(resolved);
  checkBaseImage(resolved);
  checkBuild(resolved, props.amiNamePrefix === undefined);
  checkTags(resolved.tags);
  check(
    'amazonPluginVersion',
    resolved.amazonPluginVersion,
    VERSION_CONSTRAINT.test(resolved.amazonPluginVersion),
    'a Packer version constraint such as ~> 1.3 or >= 1.3.0, < 2.0.0',
  );
  return resolved;
}

function withDefaults(props: PackerTemplateProps): Resolved {
  return {
    customer: props.customer,
    environment: props.environment,
    ssmParameterName: props.baseImage.ssmParameterName,
    nameFilter: props.baseImage.nameFilter,
    owners: props.baseImage.owners,
    instanceType: props.instanceType?.toString() ?? DEFAULT_INSTANCE_TYPE,
    provisionScripts: props.provisionScripts ?? ['packer/provision.sh'],
    amiNamePrefix: props.amiNamePrefix ?? `${props.customer}-${props.environment}`,
    sshUsername: props.sshUsername ?? 'ec2-user',
    rootDeviceName: props.rootDeviceName ?? '/dev/xvda',
    // NaN for a size known only at deploy time, which the build check refuses.
    rootVolumeSize: props.rootVolumeSize === undefined ? 8 : (gibibytesOf(props.rootVolumeSize) ?? NaN),
    tags: props.tags ?? {},
    amazonPluginVersion: props.amazonPluginVersion ?? '1.8.2',
  };
}

/** Customer and environment. */
function checkNames(resolved: Resolved): void {
  for (const key of ['customer', 'environment'] as const) {
    check(key, resolved[key], length(resolved[key]) >= 1 && length(resolved[key]) <= 64, '1 to 64 characters');
  }
}

/** The SSM parameter (unless a token), or the name filter and its owners. */
function checkBaseImage(resolved: Resolved): void {
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
}

/** The build instance, its scripts and the image it makes. */
function checkBuild(resolved: Resolved, defaultPrefix: boolean): void {
  check(
    'instanceType',
    resolved.instanceType,
    valueRule('buildInstanceType').pattern.test(resolved.instanceType),
    valueRule('buildInstanceType').expected,
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
      (defaultPrefix ? ' (the default is <customer>-<environment>: set amiNamePrefix)' : '') +
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
  if (Number.isNaN(size) || !Number.isInteger(size) || size < 1 || size > 16384) {
    throw new Error(
      `PackerTemplate: rootVolumeSize: received ${Number.isNaN(size) ? 'a token' : `${size} GiB`}; ` +
        'expected a whole number of GiB from 1 to 16384 known at synth time',
    );
  }
}

/** Extra tags: keys PackerTemplate does not set, distinct once in Unicode NFC; values of at most 256 characters. */
function checkTags(tags: { [key: string]: string }): void {
  const keys = new Set<string>();
  for (const [key, value] of Object.entries(tags)) {
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
}

function check(name: string, value: string, ok: boolean, expected: string): void {
  if (!ok) throw new Error(`PackerTemplate: ${name}: received ${show(value)}; expected ${expected}`);
}

function list(name: string, values: string[], ok: (value: string) => boolean, expected: string): void {
  if (values.length === 0) {
    throw new Error(`PackerTemplate: ${name}: received an empty list; expected at least one item`);
  }
  values.forEach((value, i) => check(`${name}[${i}]`, value, ok(value), expected));
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
