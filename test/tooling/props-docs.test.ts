/*
 * The public props follow the CDK guidelines a user reads them by: every optional property of every struct says
 * its default (`@default`), so that API.md, Python's and Java's docs tell what leaving it out does. Read from the
 * jsii assembly that `npx projen compile` wrote (.jsii), which is what the three languages' docs are made from.
 */
import { existsSync, readFileSync } from 'fs';
import { join } from 'path';

const ASSEMBLY = join(__dirname, '..', '..', '.jsii');

function readAssembly(): any {
  if (!existsSync(ASSEMBLY)) {
    throw new Error(`${ASSEMBLY} is missing: run npx projen compile first (README's quick start does)`);
  }
  return JSON.parse(readFileSync(ASSEMBLY, 'utf8'));
}

test('every optional property of every public struct has a @default', () => {
  const assembly = readAssembly();
  const structs = Object.entries<any>(assembly.types).filter(([, t]) => t.kind === 'interface' && t.datatype);
  expect(structs.length).toBeGreaterThan(20);
  const missing = structs.flatMap(([fqn, t]) =>
    (t.properties ?? []).filter((p: any) => p.optional && !p.docs?.default).map((p: any) => `${fqn}.${p.name}`),
  );
  expect(missing).toEqual([]);
});

test('no L3 props struct holds a config file struct: the props are in CDK types, fromConfig translates', () => {
  const assembly = readAssembly();
  const configStructs = new Set(
    Object.entries<any>(assembly.types)
      .filter(
        ([, t]) => t.kind === 'interface' && /^src\/config\/(\w+-)?types\.ts$/.test(t.locationInModule?.filename ?? ''),
      )
      .map(([fqn]) => fqn),
  );
  expect(configStructs.size).toBeGreaterThan(5);
  const props = ['CustomerWebTierProps', 'CustomerAmiPipelineProps', 'SoftwareDeliveryPipelineProps'];
  const offending = props.flatMap((name) =>
    (assembly.types[`cdk-paas-vending.${name}`].properties ?? [])
      .filter((p: any) =>
        JSON.stringify(p.type)
          .match(/"fqn":"([^"]+)"/g)
          ?.some((m: string) => configStructs.has(m.slice(7, -1))),
      )
      .map((p: any) => `${name}.${p.name}`),
  );
  expect(offending).toEqual([]);
});
