/*
 * What the library knows of each database engine: the major versions RDS offers today (standard support), how
 * to read a major version from a version string, and the classes an engine cannot run. Config rules and
 * CustomerWebTier both read this table; update it when RDS adds or retires a major version.
 */

export interface EngineFacts {
  /** Name in messages. */
  readonly label: string;
  /** `instance`: one DB instance (with a standby when multi-AZ); `cluster`: an Aurora cluster. */
  readonly kind: 'instance' | 'cluster';
  /** Major versions offered, as the config writes them. */
  readonly majors: readonly string[];
  /** How many dot-separated parts make the major version ("16.4" → "16"; "8.0.39" → "8.0"). */
  readonly majorParts: number;
  /** Default port. */
  readonly port: number;
  /** An example version for messages. */
  readonly example: string;
  /**
   * Whether a major version alone is a version CloudFormation accepts (PostgreSQL: "16"); MySQL, MariaDB and
   * Aurora MySQL need a full one.
   */
  readonly majorAlone: boolean;
}

export const ENGINES: Readonly<Record<string, EngineFacts>> = {
  postgres: {
    label: 'PostgreSQL',
    kind: 'instance',
    majors: ['13', '14', '15', '16', '17'],
    majorParts: 1,
    port: 5432,
    example: '"16" or "16.4"',
    majorAlone: true,
  },
  mysql: {
    label: 'MySQL',
    kind: 'instance',
    majors: ['8.0', '8.4'],
    majorParts: 2,
    port: 3306,
    example: '"8.0.39"',
    majorAlone: false,
  },
  mariadb: {
    label: 'MariaDB',
    kind: 'instance',
    // 10.5 and 10.6 lack IAM database authentication, which every database here uses.
    majors: ['10.11', '11.4'],
    majorParts: 2,
    port: 3306,
    example: '"10.11.9" or "11.4.3"',
    majorAlone: false,
  },
  'aurora-postgresql': {
    label: 'Aurora PostgreSQL',
    kind: 'cluster',
    majors: ['13', '14', '15', '16', '17'],
    majorParts: 1,
    port: 5432,
    example: '"16" or "16.4"',
    majorAlone: true,
  },
  'aurora-mysql': {
    label: 'Aurora MySQL',
    kind: 'cluster',
    majors: ['3'],
    majorParts: 1,
    port: 3306,
    example: '"3.08.0"',
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

/** Why `engine` cannot run at `version`, or undefined when it can. */
export function versionProblem(engine: string, version: string): string | undefined {
  const facts = ENGINES[engine];
  if (!facts) return undefined;
  const parts = version.split('.').length;
  const wellFormed =
    /^\d+(\.\d+){0,2}$/.test(version) && parts >= facts.majorParts && (facts.majorAlone || parts === 3);
  if (wellFormed && facts.majors.includes(majorVersionOf(engine, version))) return undefined;
  const kind = facts.majorAlone ? 'version' : 'full version (major.minor.patch)';
  return `expected ${/^[AEIOU]/.test(facts.label) ? 'an' : 'a'} ${facts.label} ${kind} of major ${listOf(facts.majors)}, such as ${facts.example}`;
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
