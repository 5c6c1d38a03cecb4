/*
 * The validated configs of a fleet's customer files, kept between runs. Reading and validating every file of a fleet
 * is the one part of a one-stack synthesis that grows with the fleet (about 0.13 ms per file); a file whose text,
 * platform and library are unchanged is valid with the same result, so its result is read back instead.
 *
 * Only valid files are kept: a file with a problem is read and validated every time, so its messages are always the
 * validator's own. The key of an entry is a SHA-256 of everything the result depends on:
 *   - the library's config code and JSON Schemas, and the versions of the two YAML parsers (FINGERPRINT);
 *   - the platform config the file is validated against (its resolved form, so a comment in platform.yaml does not
 *     invalidate the fleet);
 *   - the file's path as messages show it, and its text.
 * A cache file that cannot be read, is not this format, or was written by other code is ignored; one that cannot be
 * written is left as it was. A cache never decides whether a run succeeds.
 */
import { createHash } from 'crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'fs';
import { homedir } from 'os';
import { dirname, join, resolve } from 'path';
import { writeFileAtomically } from './atomic-write';
import { ResolvedCustomerConfig, ResolvedPlatformConfig } from './defaults';
import { SCHEMA_DIR } from './schema';

/** The version of the cache file's layout; another one is ignored. */
const FORMAT = 1;

/**
 * How an undefined property is written: JSON drops it, and a config with `database: undefined` read back without the
 * key would not be the same config (`'database' in config`, Object.keys).
 */
const UNDEFINED = '\u0000undefined';

function encode(config: unknown): unknown {
  return JSON.parse(JSON.stringify(config, (_key, value) => (value === undefined ? UNDEFINED : value)));
}

/**
 * A copy of an encoded value with the undefined properties that encode wrote as UNDEFINED put back. A copy: the
 * encoded entry is written back to the cache file as it was read.
 */
function decode(value: unknown): unknown {
  if (value === UNDEFINED) return undefined;
  if (Array.isArray(value)) return value.map(decode);
  if (typeof value === 'object' && value !== null) {
    const copy: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) copy[key] = decode(item);
    return copy;
  }
  return value;
}

/** Internal: the environment variable that turns the cache off (`off`) and the one that moves it. */
export const CACHE_SWITCH = 'PAAS_VENDING_CACHE';
export const CACHE_DIR_VARIABLE = 'PAAS_VENDING_CACHE_DIR';

/** Internal: the folder of cache files: PAAS_VENDING_CACHE_DIR, else $XDG_CACHE_HOME/paas-vending, else ~/.cache/paas-vending. */
export function cacheDirectory(env: NodeJS.ProcessEnv = process.env): string {
  if (env[CACHE_DIR_VARIABLE]) return resolve(env[CACHE_DIR_VARIABLE]!);
  const base = env.XDG_CACHE_HOME ? env.XDG_CACHE_HOME : join(homedir(), '.cache');
  return join(resolve(base), 'paas-vending');
}

/** Internal: whether the cache is on: it is unless PAAS_VENDING_CACHE is `off` (or `0`, `false`, `no`). */
export function cacheEnabled(env: NodeJS.ProcessEnv = process.env): boolean {
  const value = (env[CACHE_SWITCH] ?? '').trim().toLowerCase();
  return !['off', '0', 'false', 'no'].includes(value);
}

function sha256(...parts: string[]): string {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(`${part.length}:${part}`);
  return hash.digest('hex');
}

/** The version of an installed package, from the package.json above its entry point. */
function packageVersion(name: string): string {
  try {
    for (let at = dirname(require.resolve(name)); dirname(at) !== at; at = dirname(at)) {
      const file = join(at, 'package.json');
      if (existsSync(file)) {
        const manifest = JSON.parse(readFileSync(file, 'utf-8'));
        if (manifest.name === name) return String(manifest.version);
      }
    }
  } catch {
    // Not resolvable: the fingerprint says so.
  }
  return 'unknown';
}

let fingerprint: string | undefined;

/**
 * Internal: the code a validated config depends on: every file of this folder (src/config in a checkout, lib/config
 * in a package: the rules, defaults and parsers), the JSON Schemas and the YAML parsers' versions. A checkout's
 * version is always 0.0.0, so the version alone would keep results across code changes.
 */
export function libraryFingerprint(): string {
  if (fingerprint === undefined) {
    const parts: string[] = [String(FORMAT), packageVersion('yaml'), packageVersion('js-yaml')];
    for (const folder of [__dirname, SCHEMA_DIR]) {
      for (const name of readdirSync(folder).sort()) {
        const path = join(folder, name);
        if (statSync(path).isFile()) parts.push(name, readFileSync(path, 'utf-8'));
      }
    }
    fingerprint = sha256(...parts);
  }
  return fingerprint;
}

/** Internal: the validated configs of one fleet directory, kept between runs (see the top of this file). */
export class ConfigCache {
  /** The cache of a fleet directory, or undefined when the cache is off. */
  public static of(directory: string, env: NodeJS.ProcessEnv = process.env): ConfigCache | undefined {
    if (!cacheEnabled(env)) return undefined;
    const file = join(cacheDirectory(env), `configs-${sha256(resolve(directory)).slice(0, 24)}.json`);
    return new ConfigCache(file);
  }

  private readonly code = libraryFingerprint();
  private readonly stored: Record<string, unknown>;
  private readonly used = new Map<string, unknown>();
  private changed = false;
  private platform: ResolvedPlatformConfig | undefined;
  private platformText = 'null';

  private constructor(public readonly file: string) {
    this.stored = this.read();
  }

  /** The key of a customer file: its text and path, validated against `platform` by this library's code. */
  public keyOf(text: string, shownAs: string, platform: ResolvedPlatformConfig | undefined): string {
    // Every file of a fleet is read against the same platform config: written out once, not once per file.
    if (platform !== this.platform) {
      this.platform = platform;
      this.platformText = JSON.stringify(platform ?? null);
    }
    return sha256(this.code, this.platformText, shownAs, text);
  }

  /** The config kept under `key`, or undefined. */
  public lookup(key: string): ResolvedCustomerConfig | undefined {
    const entry = this.stored[key];
    if (typeof entry !== 'object' || entry === null) return undefined;
    this.used.set(key, entry);
    return decode(entry) as ResolvedCustomerConfig;
  }

  /** Keeps a valid config under `key`. */
  public store(key: string, config: ResolvedCustomerConfig): void {
    this.used.set(key, encode(config));
    this.changed = true;
  }

  /**
   * Writes the entries of this run (those of files no longer in the fleet, or changed since, are dropped), when
   * they differ from the file's. A folder or file that cannot be written leaves the cache as it was.
   */
  public save(): void {
    if (!this.changed && this.used.size === Object.keys(this.stored).length) return;
    const entries: Record<string, unknown> = {};
    for (const key of [...this.used.keys()].sort()) entries[key] = this.used.get(key)!;
    try {
      mkdirSync(join(this.file, '..'), { recursive: true });
      writeFileAtomically(this.file, JSON.stringify({ format: FORMAT, code: this.code, entries }));
    } catch {
      // A cache that cannot be written costs the next run its time, nothing else.
    }
  }

  private read(): Record<string, unknown> {
    try {
      if (!existsSync(this.file)) return {};
      const content = JSON.parse(readFileSync(this.file, 'utf-8'));
      const valid =
        content?.format === FORMAT &&
        content.code === this.code &&
        typeof content.entries === 'object' &&
        content.entries !== null;
      return valid ? content.entries : {};
    } catch {
      return {};
    }
  }
}
