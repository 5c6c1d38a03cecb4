import {
  appendFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  statSync,
  utimesSync,
  writeFileSync,
} from 'fs';
import { tmpdir } from 'os';
import { join, relative } from 'path';
import { stringify } from 'yaml';
import { EXIT_OK, run } from '../../src/cli/cli';
import { PACKAGE_ROOT } from '../../src/cli/io';
import { synthesizeFleet, SynthRequest } from '../../src/cli/synth';
import { readFleet } from '../../src/config/loader';
import { platform, productionCustomer, stagingCustomer, writeFleet } from '../config/fixtures';

/*
 * The cache of synthesized stacks (src/cli/synth-cache.ts): each input of a stack's key changed in turn rebuilds the
 * stacks it reaches and takes the others from the cache, and the cloud assembly is the one a synthesis without the
 * cache writes, byte for byte. A fleet of four stacks: the platform, acme-production (dedicated ingress), acme-staging
 * and globex-staging (shared ingress). Each synthesis without the cache builds all four (5 to 15 s here).
 */

jest.setTimeout(600_000);

const PLATFORM = 'vending-platform';
const CUSTOMERS = ['acme-production', 'acme-staging', 'globex-staging'];
const ALL = [PLATFORM, ...CUSTOMERS];

/** Every file under a folder, by its path in it, with its bytes. */
function filesOf(dir: string): Map<string, Buffer> {
  const files = new Map<string, Buffer>();
  const walk = (at: string) => {
    for (const name of readdirSync(at).sort()) {
      const path = join(at, name);
      if (statSync(path).isDirectory()) walk(path);
      else files.set(relative(dir, path), readFileSync(path));
    }
  };
  walk(dir);
  return files;
}

function expectSameFiles(a: string, b: string): void {
  const left = filesOf(a);
  const right = filesOf(b);
  expect([...right.keys()]).toEqual([...left.keys()]);
  for (const [file, bytes] of left) expect([file, right.get(file)!.equals(bytes)]).toEqual([file, true]);
}

/** Runs `call` with these variables of the process set (undefined: unset): aws-cdk-lib reads them there. */
function withEnv<T>(variables: Record<string, string | undefined>, call: () => T): T {
  const before = Object.fromEntries(Object.keys(variables).map((name) => [name, process.env[name]]));
  const set = (values: Record<string, string | undefined>) => {
    for (const [name, value] of Object.entries(values)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  };
  set(variables);
  try {
    return call();
  } finally {
    set(before);
  }
}

const zones = { vpc: { availabilityZones: ['eu-west-1a', 'eu-west-1b'] } };
const work = mkdtempSync(join(tmpdir(), 'synth-cache-'));
const cacheDir = join(work, 'cache');
const fleet = writeFleet(
  { ...platform(), ...zones },
  {
    'acme-production.yaml': productionCustomer(),
    'acme-staging.yaml': stagingCustomer(),
    'globex-staging.yaml': { ...stagingCustomer(), customer: 'globex' },
  },
);
let runs = 0;

/** One synthesis of the fleet into a new folder of `work`: with the cache (in `cacheDir`) unless `cache: false`. */
function synth(options: Partial<SynthRequest> & { readonly cacheDir?: string } = {}) {
  const outdir = join(work, `out-${++runs}`);
  const env = { PAAS_VENDING_CACHE_DIR: options.cacheDir ?? cacheDir };
  const result = synthesizeFleet(readFleet(fleet, env), {
    outdir,
    cwd: work,
    jobs: 1,
    validation: false,
    cache: true,
    env,
    ...options,
  });
  if ('problem' in result) throw new Error(result.problem);
  return { outdir, built: result.cache?.built, cached: result.cache?.cached, result };
}

/** The same synthesis without the cache: what the cached one must equal. */
const uncached = (options: Partial<SynthRequest> = {}) => synth({ ...options, cache: false }).outdir;

describe('paas-vending synth with the cache of synthesized stacks', () => {
  let reference: string;

  beforeAll(() => {
    reference = uncached();
  });

  test('the first run builds every stack; an unchanged fleet then comes whole from the cache, the same bytes', () => {
    const first = synth();
    expect(first).toMatchObject({ built: ALL, cached: [] });
    expectSameFiles(reference, first.outdir);
    const again = synth();
    expect(again).toMatchObject({ built: [], cached: ALL });
    expectSameFiles(reference, again.outdir);
    // Nothing is left beside the outdir but the outdirs.
    expect(readdirSync(work).filter((name) => name.startsWith('.'))).toEqual([]);
  });

  test('without the cache (cache: false) nothing is taken from it nor reported', () => {
    const off = synth({ cache: false });
    expect(off.result).not.toHaveProperty('cache');
    expectSameFiles(reference, off.outdir);
  });

  test('a customer file changed: only its stack is built', () => {
    const file = join(fleet, 'customers', 'acme-staging.yaml');
    writeFileSync(file, stringify({ ...stagingCustomer(), compute: { minCapacity: 1, maxCapacity: 3 } }));
    const changed = synth();
    expect(changed).toMatchObject({ built: ['acme-staging'], cached: [PLATFORM, 'acme-production', 'globex-staging'] });
    reference = uncached();
    expectSameFiles(reference, changed.outdir);
    expect(synth()).toMatchObject({ built: [], cached: ALL });
  });

  test('platform.yaml changed: every stack reads it, every stack is built (here in two worker processes)', () => {
    writeFileSync(join(fleet, 'platform.yaml'), stringify({ ...platform(), ...zones, domain: 'apps.example.org' }));
    const changed = synth({ jobs: 2 });
    expect(changed).toMatchObject({ built: ALL, cached: [] });
    reference = uncached();
    expectSameFiles(reference, changed.outdir);
  });

  test("placement.yaml changed: the platform and the moved environment are built, the others' stacks kept", () => {
    const placement = readFileSync(join(fleet, 'placement.yaml'), 'utf-8');
    expect(placement).toContain('acme-staging: 1');
    writeFileSync(
      join(fleet, 'placement.yaml'),
      'loadBalancers: 2\nenvironments:\n  acme-staging: 2\n  globex-staging: 1\n',
    );
    const changed = synth({ frozenPlacement: true });
    expect(changed).toMatchObject({ built: [PLATFORM, 'acme-staging'], cached: ['acme-production', 'globex-staging'] });
    reference = uncached({ frozenPlacement: true });
    expectSameFiles(reference, changed.outdir);
  });

  test.each([
    ['the library', { libraryVersion: '99.0.0' }],
    ['aws-cdk-lib', { cdkVersion: '2.999.0' }],
  ])('a new version of %s: every stack is built again', (_what, cacheInputs) => {
    const changed = synth({ cacheInputs });
    expect(changed).toMatchObject({ built: ALL, cached: [] });
    expectSameFiles(reference, changed.outdir);
    expect(synth({ cacheInputs })).toMatchObject({ built: [], cached: ALL });
    // The installed versions' entries are still there.
    expect(synth()).toMatchObject({ built: [], cached: ALL });
  });

  test('the CDK context (cdk.json and -c, as the CDK CLI passes them): every stack is built again', () => {
    const context = JSON.stringify({ 'acme:note': 'changed' });
    const changed = withEnv({ CDK_CONTEXT_JSON: context }, () => synth());
    expect(changed).toMatchObject({ built: ALL, cached: [] });
    expectSameFiles(
      withEnv({ CDK_CONTEXT_JSON: context }, () => uncached()),
      changed.outdir,
    );
    expect(withEnv({ CDK_CONTEXT_JSON: context }, () => synth())).toMatchObject({ built: [], cached: ALL });
  });

  test("--validate: validated stacks are kept apart from unvalidated ones, with their part of aws-cdk-lib's report", () => {
    // aws-cdk-lib's own default, which the jest setup turns off (CDK_VALIDATION=false wins over --validate).
    const quiet = jest.spyOn(console, 'error').mockImplementation(() => undefined);
    try {
      withEnv({ CDK_VALIDATION: undefined }, () => {
        const validated = synth({ validation: true });
        expect(validated).toMatchObject({ built: ALL, cached: [] });
        expect(existsSync(join(validated.outdir, 'validation-report.json'))).toBe(true);
        const validatedReference = uncached({ validation: true });
        expectSameFiles(validatedReference, validated.outdir);
        // A customer file changed: the report of the one stack built joins the cached stacks' parts.
        const file = join(fleet, 'customers', 'globex-staging.yaml');
        writeFileSync(file, stringify({ ...stagingCustomer(), customer: 'globex', tags: { CostCenter: '42' } }));
        const changed = synth({ validation: true });
        expect(changed).toMatchObject({ built: ['globex-staging'] });
        expectSameFiles(uncached({ validation: true }), changed.outdir);
      });
    } finally {
      quiet.mockRestore();
    }
    // Unvalidated: the entries of before are still there, globex-staging's excepted.
    expect(synth()).toMatchObject({ built: ['globex-staging'], cached: [PLATFORM, 'acme-production', 'acme-staging'] });
    reference = uncached();
  });

  test("the content of a stack's assets: the stacks whose assets changed are built, the others kept", () => {
    // Copies of the library's asset folders stand in for them, in a cache of their own: the entries record which of
    // these folders each stack's staged assets came from, and a change of one is a miss of those stacks only.
    const roots = join(work, 'asset-roots');
    cpSync(join(PACKAGE_ROOT, 'assets'), join(roots, 'assets'), { recursive: true });
    cpSync(join(PACKAGE_ROOT, 'pipeline-scripts'), join(roots, 'pipeline-scripts'), { recursive: true });
    const cacheInputs = { assetRoots: [join(roots, 'assets'), join(roots, 'pipeline-scripts')] };
    const own = join(work, 'asset-cache');
    expect(synth({ cacheInputs, cacheDir: own })).toMatchObject({ built: ALL });
    expect(synth({ cacheInputs, cacheDir: own })).toMatchObject({ built: [] });
    // The allocator's handler bundle: the platform's asset only.
    appendFileSync(join(roots, 'assets', 'shared-alb-rule', 'priority-allocator.lambda', 'index.js'), '\n// changed\n');
    expect(synth({ cacheInputs, cacheDir: own })).toMatchObject({ built: [PLATFORM], cached: CUSTOMERS });
    // A script of the AMI bake, in every customer's Packer template asset.
    appendFileSync(join(roots, 'pipeline-scripts', 'ami', 'bake.sh'), '\n# changed\n');
    const changed = synth({ cacheInputs, cacheDir: own });
    expect(changed).toMatchObject({ built: CUSTOMERS, cached: [PLATFORM] });
    expectSameFiles(reference, changed.outdir);
  });

  test('a file of the assembly written over in place (the entry holds a link of it) is a miss, never wrong output', () => {
    const last = synth();
    expect(last.built).toEqual([]);
    // aws-cdk-lib writes over the files of an outdir it synthesizes into: the same file as the entry's, where linked.
    const template = join(last.outdir, 'acme-production.template.json');
    const text = readFileSync(template, 'utf-8');
    writeFileSync(template, text.replace('"Resources"', '"Resources" '));
    const after = synth();
    expect(after.built).toEqual(['acme-production']);
    expectSameFiles(reference, after.outdir);
  });

  test('a corrupt entry is a miss; temporary folders of writes that never finished are removed', () => {
    const folder = readdirSync(cacheDir).find((name) => name.startsWith('synth-'))!;
    const entries = readdirSync(join(cacheDir, folder)).filter((name) => /^[0-9a-f]{64}$/.test(name));
    const acmeStaging = entries.find(
      (name) => JSON.parse(readFileSync(join(cacheDir, folder, name, 'entry.json'), 'utf-8')).id === 'acme-staging',
    );
    // The newest entries are the fleet's of this run; corrupt every acme-staging entry.
    for (const name of entries) {
      const file = join(cacheDir, folder, name, 'entry.json');
      if (JSON.parse(readFileSync(file, 'utf-8')).id === 'acme-staging') writeFileSync(file, '{"format": 1, "ke');
    }
    expect(acmeStaging).toBeDefined();
    const crashed = join(cacheDir, folder, '.tmp-1-abcdef');
    mkdirSync(join(crashed, 'files'), { recursive: true });
    const old = new Date(Date.now() - 2 * 3600 * 1000);
    utimesSync(crashed, old, old);
    const after = synth();
    expect(after.built).toEqual(['acme-staging']);
    expectSameFiles(reference, after.outdir);
    expect(existsSync(crashed)).toBe(false);
    // Bounded: at most twice the fleet's stacks and 16 entries (and the App's).
    const left = readdirSync(join(cacheDir, folder));
    expect(left.filter((name) => /^[0-9a-f]{64}$/.test(name)).length).toBeLessThanOrEqual(2 * ALL.length + 16);
  });

  test('the command: a line on stderr says what was built and what came from the cache; --no-cache builds all', () => {
    const cli = (argv: string[]) => {
      const out: string[] = [];
      const err: string[] = [];
      const code = run(['synth', fleet, ...argv, '--json', '--frozen-placement'], {
        out: (t) => out.push(t),
        err: (t) => err.push(t),
        cwd: work,
        errIsTTY: false,
        env: { PAAS_VENDING_JOBS: '1', PAAS_VENDING_SYNTH_CACHE: 'on', PAAS_VENDING_CACHE_DIR: cacheDir },
      });
      return { code, out: out.join('\n'), err: err.join('\n') };
    };
    const cached = cli(['--out', 'cli-cached']);
    expect(cached.code).toBe(EXIT_OK);
    const folder = join(
      cacheDir,
      readdirSync(cacheDir).find((n) => n.startsWith('synth-'))!,
    );
    expect(cached.err.split('\n')).toContain(
      `paas-vending: synth: built 0 stacks, 4 unchanged from the cache (${folder}; --no-cache builds every stack)`,
    );
    const off = cli(['--out', 'cli-off', '--no-cache']);
    expect(off.code).toBe(EXIT_OK);
    expect(off.err).not.toContain('cache');
    expect(off.out.split('cli-off/').join('X/')).toBe(cached.out.split('cli-cached/').join('X/'));
    expectSameFiles(join(work, 'cli-off'), join(work, 'cli-cached'));
    expectSameFiles(reference, join(work, 'cli-cached'));
  });
});
