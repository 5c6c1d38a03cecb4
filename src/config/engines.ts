/*
 * What the library knows of each database engine: the major versions it supports (in RDS standard support), how to
 * read a major version from a version string, whether RDS takes a major alone, and the classes an engine cannot run.
 * Config rules and CustomerWebTier both read this table; update it when RDS adds or retires a major version. The full
 * versions RDS offers, and those it deprecated, are the generated, dated table of engine-versions.ts.
 *
 * A major alone (`version: "8.0"`) goes into the template as written: RDS creates the database at the current minor
 * of that major, and automatic minor version upgrades (always on) keep it current. The library never writes a minor
 * of its own choosing, so that refreshing engine-versions.ts never changes a deployed database.
 */

import { ENGINE_VERSIONS, ENGINE_VERSIONS_DATE } from './engine-versions';

export interface EngineFacts {
  /** Name in messages. */
  readonly label: string;
  /** `instance`: one DB instance (with a standby when multi-AZ); `cluster`: an Aurora cluster. */
  readonly kind: 'instance' | 'cluster';
  /** Major versions offered, as the config writes them. */
  readonly majors: readonly string[];
  /** How many dot-separated parts make the major version ("16.4" → "16"; "8.0.39" → "8.0"). */
  readonly majorParts: number;
  /** How many dot-separated parts make a full version ("16.9"; "8.0.43"; "3.08.0"). */
  readonly fullParts: number;
  /** Default port. */
  readonly port: number;
  /**
   * Whether RDS takes a major version alone and picks its current minor (the AWS documentation pages are named in
   * engine-versions.ts): MySQL, MariaDB, PostgreSQL and Aurora PostgreSQL do; Aurora MySQL has engine versions of the
   * form 8.0.mysql_aurora.3.xx.x only.
   */
  readonly majorAlone: boolean;
}

export const ENGINES: Readonly<Record<string, EngineFacts>> = {
  postgres: {
    label: 'PostgreSQL',
    kind: 'instance',
    majors: ['13', '14', '15', '16', '17'],
    majorParts: 1,
    fullParts: 2,
    port: 5432,
    majorAlone: true,
  },
  mysql: {
    label: 'MySQL',
    kind: 'instance',
    majors: ['8.0', '8.4'],
    majorParts: 2,
    fullParts: 3,
    port: 3306,
    majorAlone: true,
  },
  mariadb: {
    label: 'MariaDB',
    kind: 'instance',
    // 10.5 and 10.6 lack IAM database authentication, which every database here uses.
    majors: ['10.11', '11.4'],
    majorParts: 2,
    fullParts: 3,
    port: 3306,
    majorAlone: true,
  },
  'aurora-postgresql': {
    label: 'Aurora PostgreSQL',
    kind: 'cluster',
    majors: ['13', '14', '15', '16', '17'],
    majorParts: 1,
    fullParts: 2,
    port: 5432,
    majorAlone: true,
  },
  'aurora-mysql': {
    label: 'Aurora MySQL',
    kind: 'cluster',
    majors: ['3'],
    majorParts: 1,
    fullParts: 3,
    port: 3306,
    majorAlone: false,
  },
};

/** The major version of `version` for `engine`, e.g. "8.0" for mysql 8.0.39. */
export function majorVersionOf(engine: string, version: string): string {
  const facts = ENGINES[engine];
  return version
    .split('.')
    .slice(0, facts?.majorParts ?? 1)
    .join('.');
}

/** Whether `version` is a major alone for `engine` ("8.0" for mysql, "16" for postgres). */
export function isMajorAlone(engine: string, version: string): boolean {
  const facts = ENGINES[engine];
  return facts !== undefined && version.split('.').length === facts.majorParts;
}

/** The newest full version RDS offers of `major` (engine-versions.ts), or undefined when it offers none. */
export function newestVersionOf(engine: string, major: string): string | undefined {
  const current = (ENGINE_VERSIONS[engine]?.current ?? []).filter((v) => majorVersionOf(engine, v) === major);
  return current[current.length - 1];
}

/**
 * Why `engine` cannot run at `version`, or undefined when it can: a supported major alone where RDS takes one, or a
 * full version that the table of engine-versions.ts lists as current. A deprecated or unknown full version is refused
 * with a current one named.
 */
export function versionProblem(engine: string, version: string): string | undefined {
  const facts = ENGINES[engine];
  if (!facts) return undefined;
  const parts = version.split('.').length;
  const major = majorVersionOf(engine, version);
  const wellFormed = /^\d+(\.\d+){0,2}$/.test(version) && (parts === facts.majorParts || parts === facts.fullParts);
  if (!wellFormed || !facts.majors.includes(major)) {
    const form = facts.majorAlone ? 'major or full version' : 'full version';
    return `expected ${article(facts.label)} ${facts.label} ${form} of major ${listOf(facts.majors)}, such as ${exampleOf(engine)}`;
  }
  const newest = newestVersionOf(engine, major);
  if (parts === facts.majorParts) {
    if (facts.majorAlone) return undefined;
    return (
      `expected a full version: ${facts.label} has no engine version of the major alone (RDS names each in full)` +
      (newest
        ? `; write "${newest}", the newest RDS offers (as of ${ENGINE_VERSIONS_DATE}), or another current one`
        : '')
    );
  }
  const known = ENGINE_VERSIONS[engine];
  if (known?.current.includes(version)) return undefined;
  const why = known?.deprecated.includes(version)
    ? `RDS has deprecated ${facts.label} ${version} and creates no new database at it`
    : `${facts.label} ${version} is not among them`;
  return `expected a version RDS offers: ${why} (as of ${ENGINE_VERSIONS_DATE}); write ${recommended(engine, major, newest)}`;
}

/** What to write instead of a version of `major` that RDS does not offer. */
function recommended(engine: string, major: string, newest: string | undefined): string {
  const current = newest ? `a current version such as "${newest}"` : 'a version RDS offers';
  return ENGINES[engine].majorAlone
    ? `the major "${major}" (recommended: RDS picks its current minor and keeps it up to date) or ${current}`
    : current;
}

/** An example version for messages: the newest major where RDS takes one alone, else its newest full version. */
function exampleOf(engine: string): string {
  const facts = ENGINES[engine];
  const major = facts.majors[facts.majors.length - 1];
  if (facts.majorAlone) return `"${major}"`;
  const newest = newestVersionOf(engine, major);
  return newest ? `"${newest}"` : `"${major}"`;
}

function article(label: string): string {
  return /^[AEIOU]/.test(label) ? 'an' : 'a';
}

/** Why `engine` cannot run on the instance class (without `db.`), or undefined when it can. */
export function instanceClassProblem(engine: string, instanceClass: string): string | undefined {
  if (!/^[a-z][a-z0-9-]*\.[a-z0-9]+$/.test(instanceClass)) {
    return 'expected an instance class without the db. prefix, such as t4g.medium or r6g.large';
  }
  const facts = ENGINES[engine];
  if (facts?.kind === 'cluster' && /^t\d[a-z]*\.(nano|micro|small)$/.test(instanceClass)) {
    return `expected a class that ${facts.label} runs: burstable classes from medium (t4g.medium), or r6g, r7g and the like`;
  }
  if (/^t[12]\./.test(instanceClass) || /^m[1-3]\./.test(instanceClass)) {
    return 'expected a current-generation class such as t4g.medium, m6g.large or r6g.large';
  }
  return undefined;
}

function listOf(values: readonly string[]): string {
  return values.length === 1 ? values[0] : `${values.slice(0, -1).join(', ')} or ${values[values.length - 1]}`;
}
