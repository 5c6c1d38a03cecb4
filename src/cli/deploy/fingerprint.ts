/*
 * What a stack's deployment depends on, as one SHA-256: its template file, the hashes of its assets (from its asset
 * manifest), the platform config and the library's version. Two syntheses of the same fleet by the same library give
 * the same fingerprints; a platform change or a new library changes every stack's, a customer file only its own.
 *
 * Internal: not exported from src/index.ts.
 */
import { createHash } from 'crypto';
import { readFileSync } from 'fs';
import { join } from 'path';
import { AssetManifestArtifact, CloudAssembly } from 'aws-cdk-lib/cx-api';
import { ResolvedPlatformConfig } from '../../config/defaults';
import { PACKAGE_ROOT } from '../io';

/** The parts of a fingerprint, each a SHA-256 in hex: what tells why a stack was selected. */
export interface FingerprintInputs {
  /** The template file's bytes. */
  readonly template: string;
  /** The stack's file and container image asset hashes, sorted. */
  readonly assets: string;
  /** The resolved platform config. */
  readonly platform: string;
  /** The library's version (package.json of cdk-paas-vending). */
  readonly library: string;
}

/** A stack of a cloud assembly with its fingerprint. */
export interface AssemblyStack {
  readonly name: string;
  /** The template file (absolute). */
  readonly templateFile: string;
  readonly fingerprint: string;
  readonly inputs: FingerprintInputs;
}

/** Changes when the way fingerprints are computed changes, so that every stack is selected once after. */
const FORMAT = 'paas-vending-fingerprint-1';

export function sha256(...parts: string[]): string {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(`${part.length}:${part}`);
  return hash.digest('hex');
}

/** The fingerprint of its parts. */
export function fingerprintOf(inputs: FingerprintInputs): string {
  return sha256(FORMAT, inputs.template, inputs.assets, inputs.platform, inputs.library);
}

/** JSON with object keys sorted: the same config gives the same text whatever order its keys were built in. */
export function stableJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(
          Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
        )
      : v,
  );
}

/**
 * The library's version as deploy counts it: package.json's. A checkout says 0.0.0 whatever its code; a change of
 * the library's code that changes a template still selects that stack through its template.
 */
export function libraryVersion(): string {
  return String(JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf-8')).version);
}

/** Every stack of a cloud assembly directory, in the manifest's order, with its fingerprint. */
export function assemblyStacks(directory: string, platform: ResolvedPlatformConfig, library: string): AssemblyStack[] {
  const assembly = new CloudAssembly(directory);
  const platformHash = sha256(stableJson(platform));
  const libraryHash = sha256(library);
  return assembly.stacks.map((stack) => {
    const assets: string[] = [];
    for (const dependency of stack.dependencies) {
      if (!AssetManifestArtifact.isAssetManifestArtifact(dependency)) continue;
      const contents = dependency.contents;
      for (const [id, file] of Object.entries(contents.files ?? {})) {
        // The template is an asset of its own stack (uploaded for CloudFormation): it counts as the template.
        if (file.source.path === stack.templateFile) continue;
        assets.push(`file:${id}:${stableJson(file.source)}`);
      }
      for (const [id, image] of Object.entries(contents.dockerImages ?? {})) {
        assets.push(`image:${id}:${stableJson(image.source)}`);
      }
    }
    const inputs: FingerprintInputs = {
      template: sha256(readFileSync(stack.templateFullPath, 'utf-8')),
      assets: sha256(...assets.sort()),
      platform: platformHash,
      library: libraryHash,
    };
    return { name: stack.stackName, templateFile: stack.templateFullPath, fingerprint: fingerprintOf(inputs), inputs };
  });
}
