/**
 * PackerTemplate as the AMI pipeline meets it: the rendered files (snapshot), checked by Debian's packer 1.6.6
 * (syntax, fmt, full validation, and the locals evaluated by `packer console`) and by a real HCL2 parser
 * (@cdktf/hcl2json), and the errors bad input gets.
 */
import { writeFileSync } from 'fs';
import { join } from 'path';
import { Lazy, Size, Token } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import {
  buildDir,
  literal,
  parseHcl,
  removeDir,
  runPacker,
  variableValues,
  varArgs,
  withoutMetadataOptions,
} from './packer-fixture';
import { PackerBaseImage, PackerTemplate, PackerTemplateProps } from '../../src/ami-pipeline/packer-template';

const SSM = PackerBaseImage.fromSsmParameter('/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64');
const FILTER = PackerBaseImage.fromFilter('al2023-ami-2023.*-x86_64', ['amazon', '123456789012']);
const BASE = { customer: 'acme', environment: 'production', baseImage: SSM };
const COMMON = ['build_number', 'commit_id', 'commit_author', 'commit_message', 'commit_time', 'region'];
const NETWORK = ['subnet_id', 'security_group_id'];
const OUTPUTS = ['repository_dir', 'manifest_path'];

/**
 * Values a literal must carry through unchanged: quotes, backslashes, template sequences, controls, unicode.
 * HCL normalizes every string to Unicode NFC (even one written with \u escapes): `e\u0301` reads back as `\u00e9`.
 * PackerTemplate writes the NFC form, so NFC text round-trips exactly and other text arrives as its NFC form.
 */
const NASTY = {
  quotes: 'say "hi" \'there\'',
  backslash: 'C:\\path\\ends with \\',
  interpolation: '${var.region} and ${local.timestamp}',
  directive: '%{ if true }yes%{ endif }',
  'escaped-already': '$${not} %%{either} $$${three}',
  lonely: 'costs $ and 50 % and {braces}',
  whitespace: 'line 1\nline 2\r\n\ttabbed',
  controls: 'bell\u0007 del\u007f nul\u0000',
  unicode: 'ünïcødé 日本語 😀 \u00e9',
  decomposed: 'e\u0301 becomes \u00e9',
  'go template': '{{ .Vars }} {{user `x`}}',
  'key "with" ${x} and %{y}': 'value',
  null: 'a bare null key would be the null value',
  for: 'a bare for key would start a for expression',
  'é€😀': 'keys count graphemes when aligned',
};
const NFC_NASTY = Object.fromEntries(Object.entries(NASTY).map(([k, v]) => [k.normalize('NFC'), v.normalize('NFC')]));
const NASTY_PROPS: PackerTemplateProps = {
  customer: 'Ac"me ${x}',
  environment: 'pro\nd %{y}',
  amiNamePrefix: "acme (prod) [v2] ./-'@_",
  baseImage: PackerBaseImage.fromFilter('my "image" ${x} %{y}*', ['self']),
  tags: NASTY,
};

const KINDS: Array<[string, PackerTemplateProps]> = [
  ['SSM base image', BASE],
  ['filter base image', { ...BASE, baseImage: FILTER }],
  ['nasty literals', NASTY_PROPS],
];

describe('rendered files', () => {
  test('a typical customer (snapshot)', () => {
    const template = new PackerTemplate({
      ...BASE,
      provisionScripts: ['packer/base.sh', 'packer/app/install.sh'],
      tags: { 'cost-center': 'web-42' },
    });
    const [plugins, build] = template.files();
    expect(plugins.fileName).toBe('plugins.pkr.hcl');
    expect(build.fileName).toBe('build.pkr.hcl');
    expect(plugins.content).toMatchSnapshot('plugins.pkr.hcl');
    expect(build.content).toMatchSnapshot('build.pkr.hcl');
  });

  test('the variables are listed in a stable order; source_ami only for an SSM base image', () => {
    expect(new PackerTemplate(BASE).variables).toEqual([...COMMON, ...NETWORK, 'source_ami', ...OUTPUTS]);
    expect(new PackerTemplate({ ...BASE, baseImage: FILTER }).variables).toEqual([...COMMON, ...NETWORK, ...OUTPUTS]);
  });

  test('rendering is deterministic: tags in key order, whatever order they come in', () => {
    const a = new PackerTemplate({ ...BASE, tags: { b: '2', a: '1' } });
    const b = new PackerTemplate({ ...BASE, tags: { a: '1', b: '2' } });
    expect(a.renderBuild()).toBe(b.renderBuild());
    expect(a.renderBuild()).toBe(a.renderBuild());
  });

  test('the IAM-scoping tag keys and value', () => {
    expect([PackerTemplate.TAG_CUSTOMER, PackerTemplate.TAG_ENVIRONMENT, PackerTemplate.TAG_PACKER_BUILD]).toEqual([
      'vending:customer',
      'vending:environment',
      'vending:packer-build',
    ]);
    expect(new PackerTemplate(BASE).packerBuildTagValue).toBe('acme/production');
  });

  test('an SSM parameter name that is a token is left to the pipeline (it is not written into the template)', () => {
    const name = Lazy.string({ produce: () => '/vending/base-ami' });
    const template = new PackerTemplate({ ...BASE, baseImage: PackerBaseImage.fromSsmParameter(name) });
    expect(template.variables).toContain('source_ami');
    expect(template.renderBuild()).not.toContain('${Token');
  });
});

describe("Debian's packer", () => {
  const dirs: string[] = [];
  afterAll(() => dirs.forEach(removeDir));
  const scratch = (template: PackerTemplate, scripts: string[], edit?: (text: string) => string): string => {
    const dir = buildDir(template, scripts, edit);
    dirs.push(dir);
    return dir;
  };

  test('is installed (packer 1.6.6, as Debian ships it)', () => {
    const dir = scratch(new PackerTemplate(BASE), []);
    expect(runPacker(['version'], dir).output).toContain('Packer v1.6.6');
  });

  test.each(KINDS)('%s: syntax, fmt and full validation with every variable pass', (_, props) => {
    const template = new PackerTemplate(props);
    const asRendered = scratch(template, []);
    expect(runPacker(['validate', '-syntax-only', '.'], asRendered)).toEqual({
      status: 0,
      output: 'Syntax-only check passed. Everything looks okay.\n',
    });

    const dir = scratch(template, props.provisionScripts ?? ['packer/provision.sh'], withoutMetadataOptions);
    expect(runPacker(['validate', ...varArgs(template.variables, variableValues(dir)), '.'], dir)).toEqual({
      status: 0,
      output: '',
    });

    // packer fmt (1.6.6 formats HCL2) finds nothing to change in either file.
    writeFileSync(join(asRendered, template.pluginsFileName), template.renderPlugins());
    expect(runPacker(['fmt', '-check', '-diff', '.'], asRendered)).toEqual({ status: 0, output: '' });
  });

  test('1.6.6 refuses only metadata_options (it came after 1.6.6), and required_plugins in plugins.pkr.hcl', () => {
    const template = new PackerTemplate(BASE);
    const dir = scratch(template, ['packer/provision.sh']);
    const full = runPacker(['validate', ...varArgs(template.variables, variableValues(dir)), '.'], dir);
    expect(full.status).toBe(1);
    expect(full.output.match(/^Error: .*/gm)).toEqual(['Error: Unsupported block type']);
    expect(full.output).toContain('Blocks of type "metadata_options" are not expected here.');
    // imds_support (IMDSv2 required by the AMI) is refused the same way, hence it is not rendered.
    const imds = scratch(template, ['packer/provision.sh'], (text) =>
      withoutMetadataOptions(text).replace('  ssh_interface', '  imds_support = "v2.0"\n  ssh_interface'),
    );
    expect(runPacker(['validate', ...varArgs(template.variables, variableValues(imds)), '.'], imds).output).toContain(
      'An argument named "imds_support" is not expected here.',
    );

    writeFileSync(join(dir, template.pluginsFileName), template.renderPlugins());
    const plugins = runPacker(['validate', '-syntax-only', '.'], dir);
    expect(plugins.status).toBe(1);
    expect(plugins.output).toContain('Blocks of type "required_plugins" are not expected here.');
  });

  test.each(new PackerTemplate(BASE).variables)(
    'validation fails without -var %s: every listed variable is required',
    (missing) => {
      const template = new PackerTemplate(BASE);
      const dir = scratch(template, ['packer/provision.sh'], withoutMetadataOptions);
      const names = template.variables.filter((name) => name !== missing);
      const run = runPacker(['validate', ...varArgs(names, variableValues(dir)), '.'], dir);
      expect(run.status).toBe(1);
      expect(run.output).toContain(`Unset variable "${missing}"`);
    },
  );

  test('every listed variable is declared: an undeclared one is refused', () => {
    const template = new PackerTemplate({ ...BASE, baseImage: FILTER });
    const dir = scratch(template, ['packer/provision.sh'], withoutMetadataOptions);
    const values = variableValues(dir);
    expect(runPacker(['validate', ...varArgs(template.variables, values), '.'], dir).status).toBe(0);
    const extra = runPacker(['validate', ...varArgs([...template.variables, 'source_ami'], values), '.'], dir);
    expect(extra.output).toContain('A "source_ami" variable was passed in the command line but was not found');
  });

  test('the provision scripts are read from var.repository_dir', () => {
    const template = new PackerTemplate({ ...BASE, provisionScripts: ['packer/base.sh', 'packer/app.sh'] });
    const dir = scratch(template, ['packer/base.sh'], withoutMetadataOptions);
    const run = runPacker(['validate', ...varArgs(template.variables, variableValues(dir)), '.'], dir);
    expect(run.status).toBe(1);
    expect(run.output).toContain(`Bad script '${dir}/repo/packer/app.sh'`);
  });

  test('packer console: AMI name, tag-safe commit message and nasty literals evaluate as intended', () => {
    const template = new PackerTemplate({ ...NASTY_PROPS, amiNamePrefix: 'p'.repeat(80) });
    const dir = scratch(template, ['packer/provision.sh']);
    const message = `Fix "login"\n\n  * with \${braces}\tand %{percent}\r\n${'long '.repeat(60)}`;
    const values: Record<string, string> = { ...variableValues(dir, message), build_number: '1'.repeat(20) };
    const run = runPacker(
      ['console', ...varArgs(template.variables, values), '.'],
      dir,
      'jsonencode([local.ami_name, local.ami_description, local.image_tags, local.build_tags])\n',
    );
    expect(run.status).toBe(0);
    const [amiName, description, imageTags, buildTags] = JSON.parse(run.output.trim());

    // The longest prefix and a 20-digit build number stay within EC2's 128 characters.
    expect(amiName).toMatch(new RegExp(`^p{80}-1{20}-\\d{14}$`));
    expect(amiName.length).toBeLessThanOrEqual(128);
    expect(description).toBe(
      `Web server image of Ac"me \${x}/pro\nd %{y}, build ${values.build_number}, commit ${values.commit_id}`,
    );
    const collapsed = `Fix "login" * with \${braces} and %{percent} ${'long '.repeat(60)}`.trim().slice(0, 256);
    expect(imageTags).toEqual({
      ...NFC_NASTY,
      Name: amiName,
      'vending:customer': 'Ac"me ${x}',
      'vending:environment': 'pro\nd %{y}',
      'vending:packer-build': 'Ac"me ${x}/pro\nd %{y}',
      'vending:build-number': values.build_number,
      'vending:commit-id': values.commit_id,
      'vending:commit-author': values.commit_author,
      'vending:commit-message': collapsed,
      'vending:commit-time': values.commit_time,
    });
    expect(collapsed).toHaveLength(256);
    expect(buildTags).toEqual({
      ...NFC_NASTY,
      Name: 'packer Ac"me ${x}/pro\nd %{y}',
      'vending:customer': 'Ac"me ${x}',
      'vending:environment': 'pro\nd %{y}',
      'vending:packer-build': 'Ac"me ${x}/pro\nd %{y}',
    });
  });
});

describe('HCL2 parser (@cdktf/hcl2json)', () => {
  test.each(KINDS)('%s: build.pkr.hcl parses to the intended structure', async (_, props) => {
    const template = new PackerTemplate(props);
    const hcl = await parseHcl(template.buildFileName, template.renderBuild());

    expect(Object.keys(hcl.variable).sort()).toEqual([...template.variables].sort());
    for (const name of template.variables) {
      expect(hcl.variable[name]).toEqual([{ type: '${string}', description: expect.any(String) }]);
    }

    const [locals] = hcl.locals;
    expect(locals.timestamp).toBe('${regex_replace(timestamp(), "[- TZ:]", "")}');
    const prefix = props.amiNamePrefix ?? `${props.customer}-${props.environment}`;
    expect(locals.ami_name).toBe(`${prefix}-\${var.build_number}-\${local.timestamp}`);
    const extra = props.tags ?? {};
    for (const [key, value] of Object.entries(extra)) {
      const parsedKey = Object.keys(locals.image_tags).find((k) => literal(k) === key.normalize('NFC'));
      expect(parsedKey).toBeDefined();
      expect(literal(locals.image_tags[parsedKey!])).toBe(value.normalize('NFC'));
      expect(literal(locals.build_tags[parsedKey!])).toBe(value.normalize('NFC'));
    }
    const ownership = {
      [PackerTemplate.TAG_CUSTOMER]: props.customer,
      [PackerTemplate.TAG_ENVIRONMENT]: props.environment,
      [PackerTemplate.TAG_PACKER_BUILD]: `${props.customer}/${props.environment}`,
    };
    for (const [key, value] of Object.entries(ownership)) {
      expect(literal(locals.image_tags[key])).toBe(value);
      expect(literal(locals.build_tags[key])).toBe(value);
    }
    expect(locals.image_tags).toMatchObject({
      Name: '${local.ami_name}',
      'vending:build-number': '${var.build_number}',
      'vending:commit-id': '${var.commit_id}',
      'vending:commit-author': '${local.commit_author}',
      'vending:commit-message': '${local.commit_message}',
      'vending:commit-time': '${var.commit_time}',
    });
    expect(Object.keys(locals.image_tags)).toHaveLength(9 + Object.keys(extra).length);
    expect(Object.keys(locals.build_tags)).toHaveLength(4 + Object.keys(extra).length);

    const [source] = hcl.source['amazon-ebs'].web;
    expect(source).toMatchObject({
      region: '${var.region}',
      instance_type: 't3.small',
      subnet_id: '${var.subnet_id}',
      security_group_id: '${var.security_group_id}',
      associate_public_ip_address: false,
      ssh_interface: 'private_ip',
      ssh_username: 'ec2-user',
      ami_name: '${local.ami_name}',
      metadata_options: [{ http_endpoint: 'enabled', http_tokens: 'required', http_put_response_hop_limit: 1 }],
      launch_block_device_mappings: [
        {
          device_name: '/dev/xvda',
          volume_type: 'gp3',
          volume_size: 8,
          iops: 3000,
          throughput: 125,
          encrypted: true,
          delete_on_termination: true,
        },
      ],
      tags: '${local.image_tags}',
      snapshot_tags: '${local.image_tags}',
      run_tags: '${local.build_tags}',
      run_volume_tags: '${local.build_tags}',
    });
    expect(source.imds_support).toBeUndefined();
    const image = props.baseImage;
    if (image.ssmParameterName) {
      expect(source.source_ami).toBe('${var.source_ami}');
      expect(source.source_ami_filter).toBeUndefined();
    } else {
      expect(source.source_ami).toBeUndefined();
      const [filter] = source.source_ami_filter;
      expect(literal(filter.filters.name)).toBe(image.nameFilter);
      expect(filter).toMatchObject({
        filters: { 'root-device-type': 'ebs', 'virtualization-type': 'hvm' },
        owners: image.owners,
        most_recent: true,
      });
    }

    const [build] = hcl.build;
    expect(build.sources).toEqual(['source.amazon-ebs.web']);
    const [shell] = build.provisioner.shell;
    expect(shell.scripts).toEqual(['${var.repository_dir}/packer/provision.sh']);
    expect(shell.execute_command).toBe('chmod +x {{ .Path }}; sudo env {{ .Vars }} {{ .Path }}');
    expect(shell.environment_vars.slice(0, 2).map(literal)).toEqual([
      `VENDING_CUSTOMER=${props.customer}`,
      `VENDING_ENVIRONMENT=${props.environment}`,
    ]);
    expect(build['post-processor'].manifest).toEqual([
      {
        output: '${var.manifest_path}',
        strip_path: true,
        custom_data: { commit_id: '${var.commit_id}', build_number: '${var.build_number}' },
      },
    ]);
  });

  test('plugins.pkr.hcl requires the amazon plugin, with the version constraint given', async () => {
    const template = new PackerTemplate({ ...BASE, amazonPluginVersion: '>= 1.3.2, < 2.0.0' });
    const hcl = await parseHcl(template.pluginsFileName, template.renderPlugins());
    expect(hcl).toEqual({
      packer: [
        {
          required_plugins: [{ amazon: { source: 'github.com/hashicorp/amazon', version: '>= 1.3.2, < 2.0.0' } }],
        },
      ],
    });
  });
});

describe('validation', () => {
  const token = Lazy.string({ produce: () => 'x' });
  const TOKEN = 'a token (values written into the template must be known at synth time)';
  const TAG_KEY =
    'tag keys of 1 to 128 characters, not starting with aws:, other than Name and vending:* (PackerTemplate sets those)';
  const SCRIPT =
    'a path relative to the repository root such as packer/provision.sh: letters, digits, . _ - and /, ' +
    'not starting or ending with /, without empty or .. segments nor backslashes';
  const PREFIX =
    "1 to 80 letters, digits, spaces or ( ) [ ] . / - ' @ _: an AMI name has at most 128 characters and the build " +
    'appends -<build number>-<14-digit timestamp>';
  const OWNER = 'an account id of 12 digits, amazon, aws-marketplace or self';
  const FILTER_RULE = 'an AMI name filter of 3 to 128 characters, such as al2023-ami-2023.*-x86_64';

  test.each<[string, Partial<PackerTemplateProps>, string]>([
    ['empty customer', { customer: '' }, 'customer: received ""; expected 1 to 64 characters'],
    [
      'long environment',
      { environment: 'e'.repeat(65) },
      `environment: received "${'e'.repeat(60)}"… (65 characters); expected 1 to 64 characters`,
    ],
    ['customer token', { customer: token }, `customer: received ${TOKEN}; expected 1 to 64 characters`],
    [
      'SSM parameter without /',
      { baseImage: PackerBaseImage.fromSsmParameter('vending/ami') },
      'baseImage.ssmParameterName: received "vending/ami"; expected an SSM parameter name starting with / ' +
        '(letters, digits, _ . - and /), such as /aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64',
    ],
    [
      'short filter',
      { baseImage: PackerBaseImage.fromFilter('al', ['amazon']) },
      `baseImage.nameFilter: received "al"; expected ${FILTER_RULE}`,
    ],
    [
      'long filter',
      { baseImage: PackerBaseImage.fromFilter('a'.repeat(129), ['amazon']) },
      `baseImage.nameFilter: received "${'a'.repeat(60)}"… (129 characters); expected ${FILTER_RULE}`,
    ],
    [
      'no owners',
      { baseImage: PackerBaseImage.fromFilter('al2023-*', []) },
      'baseImage.owners: received an empty list; expected at least one item',
    ],
    [
      'bad owner',
      { baseImage: PackerBaseImage.fromFilter('al2023-*', ['amazon', '12345']) },
      `baseImage.owners[1]: received "12345"; expected ${OWNER}`,
    ],
    [
      'bad instance type',
      { instanceType: new ec2.InstanceType('t3') },
      'instanceType: received "t3"; expected an EC2 instance type such as t3.small',
    ],
    ['no scripts', { provisionScripts: [] }, 'provisionScripts: received an empty list; expected at least one item'],
    [
      'absolute script',
      { provisionScripts: ['ok.sh', '/etc/x.sh'] },
      `provisionScripts[1]: received "/etc/x.sh"; expected ${SCRIPT}`,
    ],
    [
      '.. segment',
      { provisionScripts: ['packer/../x.sh'] },
      `provisionScripts[0]: received "packer/../x.sh"; expected ${SCRIPT}`,
    ],
    ['leading ..', { provisionScripts: ['../x.sh'] }, `provisionScripts[0]: received "../x.sh"; expected ${SCRIPT}`],
    [
      'backslash',
      { provisionScripts: ['packer\\x.sh'] },
      `provisionScripts[0]: received "packer\\\\x.sh"; expected ${SCRIPT}`,
    ],
    [
      'space',
      { provisionScripts: ['my script.sh'] },
      `provisionScripts[0]: received "my script.sh"; expected ${SCRIPT}`,
    ],
    [
      'empty segment',
      { provisionScripts: ['packer//x.sh'] },
      `provisionScripts[0]: received "packer//x.sh"; expected ${SCRIPT}`,
    ],
    ['trailing /', { provisionScripts: ['packer/'] }, `provisionScripts[0]: received "packer/"; expected ${SCRIPT}`],
    [
      'long prefix',
      { amiNamePrefix: 'p'.repeat(81) },
      `amiNamePrefix: received "${'p'.repeat(60)}"… (81 characters); expected ${PREFIX}`,
    ],
    ['prefix with !', { amiNamePrefix: 'acme!' }, `amiNamePrefix: received "acme!"; expected ${PREFIX}`],
    [
      'default prefix from an unfit customer',
      { customer: 'Acme, Inc.' },
      'amiNamePrefix: received "Acme, Inc.-production"; expected 1 to 80 letters, digits, spaces or ( ) [ ] . / - \' @ _ ' +
        '(the default is <customer>-<environment>: set amiNamePrefix): an AMI name has at most 128 characters and the ' +
        'build appends -<build number>-<14-digit timestamp>',
    ],
    [
      'ssh user',
      { sshUsername: 'Root User' },
      'sshUsername: received "Root User"; expected a Linux user name such as ec2-user',
    ],
    ['device', { rootDeviceName: 'xvda' }, 'rootDeviceName: received "xvda"; expected a device name such as /dev/xvda'],
    ...[0, 16385, 8.5].map((size): [string, Partial<PackerTemplateProps>, string] => [
      `volume of ${size} GiB`,
      { rootVolumeSize: Size.gibibytes(size) },
      `rootVolumeSize: received ${size} GiB; expected a whole number of GiB from 1 to 16384 known at synth time`,
    ]),
    [
      'volume size token',
      { rootVolumeSize: Size.gibibytes(Token.asNumber(Lazy.number({ produce: () => 8 }))) },
      'rootVolumeSize: received a token; expected a whole number of GiB from 1 to 16384 known at synth time',
    ],
    ['aws: tag', { tags: { 'AWS:cost': 'x' } }, `tags: received "AWS:cost"; expected ${TAG_KEY}`],
    ['Name tag', { tags: { Name: 'x' } }, `tags: received "Name"; expected ${TAG_KEY}`],
    ['vending: tag', { tags: { 'vending:customer': 'x' } }, `tags: received "vending:customer"; expected ${TAG_KEY}`],
    ['empty tag key', { tags: { '': 'x' } }, `tags: received ""; expected ${TAG_KEY}`],
    [
      'long tag key',
      { tags: { ['k'.repeat(129)]: 'x' } },
      `tags: received "${'k'.repeat(60)}"… (129 characters); expected ${TAG_KEY}`,
    ],
    [
      'long tag value',
      { tags: { team: '€'.repeat(257) } },
      `tags["team"]: received "${'€'.repeat(60)}"… (257 characters); expected a tag value of at most 256 characters`,
    ],
    [
      'tag keys equal in NFC',
      { tags: { '\u00e9t\u00e9': 'x', 'e\u0301te\u0301': 'y' } },
      'tags: received "e\u0301te\u0301"; expected distinct keys in Unicode NFC, the form HCL gives every string ' +
        '(another key differs from it only in form)',
    ],
    [
      'tag value token',
      { tags: { team: token } },
      `tags["team"]: received ${TOKEN}; expected a tag value of at most 256 characters`,
    ],
    [
      'plugin version',
      { amazonPluginVersion: 'latest' },
      'amazonPluginVersion: received "latest"; expected a Packer version constraint such as ~> 1.3 or >= 1.3.0, < 2.0.0',
    ],
  ])('%s', (_, props, message) => {
    expect(() => new PackerTemplate({ ...BASE, ...props })).toThrow(`PackerTemplate: ${message}`);
  });

  test('limits are inclusive: 80-character prefix, 256-character tag value, 16384 GiB, 128-character filter', () => {
    expect(
      () =>
        new PackerTemplate({
          ...BASE,
          baseImage: PackerBaseImage.fromFilter('a'.repeat(128), ['self', 'aws-marketplace', '123456789012']),
          amiNamePrefix: "Acme (prod) [v2] ./-'@_".padEnd(80, 'x'),
          rootVolumeSize: Size.gibibytes(16384),
          tags: { ['k'.repeat(128)]: '😀'.repeat(256) },
          instanceType: new ec2.InstanceType('m7g.2xlarge'),
          provisionScripts: ['./packer/base-1.sh', 'packer/app_2.sh'],
        }),
    ).not.toThrow();
  });
});
