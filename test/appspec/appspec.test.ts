import { chmodSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { join } from 'path';
import { AppSpecProblem, checkAppSpec, LIFECYCLE_ORDER } from '../../src/appspec/appspec';

const FIXTURES = join(__dirname, 'fixtures');

function check(text: string, revisionRoot?: string): AppSpecProblem[] {
  return checkAppSpec(text, { fileName: 'appspec.yml', revisionRoot });
}

/** A valid AppSpec, with `hooks` replaced by the given text when one is given. */
function appspec(hooks?: string, head = 'version: 0.0\nos: linux\n'): string {
  return (
    head +
    'files:\n  - source: site\n    destination: /var/www/html\n' +
    (hooks ??
      'hooks:\n' +
        '  BeforeInstall:\n    - location: deployScript/beforeInstall.sh\n      timeout: 60\n      runas: root\n' +
        '  ValidateService:\n    - location: deployScript/validateService.sh\n      timeout: 180\n      runas: root\n')
  );
}

/** A revision folder with the given files: text, or `{ mode }` for an empty directory. */
function revision(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'revision-'));
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(join(root, path, '..'), { recursive: true });
    if (path.endsWith('/')) mkdirSync(join(root, path), { recursive: true });
    else writeFileSync(join(root, path), content);
  }
  return root;
}

describe('the sample of the article', () => {
  // test/appspec/fixtures/article-appspec.yml is the article's appspec as published
  // (lines 212 to 247 of the seed text), with its stray Markdown fence, prose and indentation.
  const problems = checkAppSpec(readFileSync(join(FIXTURES, 'article-appspec.yml'), 'utf-8'), {
    fileName: 'article-appspec.yml',
  });

  test('is rejected with one problem per mistake, on the line of the mistake', () => {
    expect(problems.map((p) => `${p.line}:${p.column} ${p.path}`)).toEqual([
      '4:7 files[0].destination',
      '5:1 ',
      '7:1 destination',
      '9:1 hooks',
      '11:1 BeforeInstall',
      '14:1 ',
      '17:1 ',
      '19:1 AfterInstall',
      '22:2 ',
      '22:13 ',
      '24:1 ApplicationStart',
      '28:1 timeout',
      '30:1 runas',
      '32:1 ValidateService',
      '35:1 ',
    ]);
  });

  test.each([
    [4, 'is missing; expected the directory on the instance to copy source into, such as /var/www/html'],
    [5, 'received a Markdown code fence (```); expected YAML only: delete this line'],
    [
      7,
      'received the key "destination" at the top level, a key of a files entry; expected it indented under source (line 4), at column 7',
    ],
    [
      9,
      'received nothing; expected lifecycle events indented under hooks, each with its scripts; BeforeInstall (line 11), AfterInstall (line 19), ApplicationStart (line 24), ValidateService (line 32) are at the top level instead',
    ],
    [
      11,
      'received the key "BeforeInstall" at the top level, a lifecycle event; expected it indented under hooks (line 9)',
    ],
    [
      14,
      'received timeout at column 2, left of location (line 13, column 3) of the same list item; expected the keys of one item aligned: timeout at column 3, under location',
    ],
    [17, 'received a line of text that is not "key: value" ("INSTALL - During this deployment lifecycle event'],
    [
      19,
      'received the key "AfterInstall" at the top level, a lifecycle event; expected it indented under hooks (line 9)',
    ],
    [
      22,
      'received a list item at column 2 while the list above starts at column 1 (line 21); expected timeout as a key of the script above: no dash, aligned under location',
    ],
    [22, 'received 2 keys on one line ("timeout: 300 runas: root"); expected one key per line'],
    [24, 'received the key "ApplicationStart" at the top level, a lifecycle event; expected it indented under hooks'],
    [
      28,
      `received the key "timeout" at the top level, a key of a hook script; expected it indented under the script's location (line 26), at column 3`,
    ],
    [
      30,
      `received the key "runas" at the top level, a key of a hook script; expected it indented under the script's location (line 26), at column 3`,
    ],
    [32, 'received the key "ValidateService" at the top level, a lifecycle event; expected it indented under hooks'],
    [
      35,
      'received timeout at column 2, left of location (line 34, column 3) of the same list item; expected the keys of one item aligned',
    ],
  ])('line %d: %s', (line, message) => {
    expect(problems.filter((p) => p.line === line).map((p) => p.message)).toContainEqual(
      expect.stringContaining(message),
    );
  });

  test('the same sample, correctly indented, passes', () => {
    const fixed = [
      'version: 0.0',
      'os: linux',
      'files:',
      '  - source: /',
      '    destination: /var/www/html',
      'hooks:',
      '  # You can use this deployment lifecycle event for preinstall tasks',
      '  BeforeInstall:',
      '    - location: deployScript/beforeInstall.sh',
      '      timeout: 300',
      '      runas: root',
      '  # INSTALL: reserved for the CodeDeploy agent, which copies the files section',
      '  AfterInstall:',
      '    - location: deployScript/afterInstall.sh',
      '      timeout: 300',
      '      runas: root',
      '  ApplicationStart:',
      '    - location: deployScript/applicationStart.sh',
      '      timeout: 300',
      '      runas: root',
      '  ValidateService:',
      '    - location: deployScript/validateService.sh',
      '      timeout: 300',
      '      runas: root',
      '',
    ].join('\n');
    expect(check(fixed)).toEqual([]);
  });
});

describe('a valid AppSpec', () => {
  test('has no problem, with every optional section', () => {
    const text = appspec(
      'file_exists_behavior: OVERWRITE\n' +
        'permissions:\n' +
        '  - object: /var/www/html\n' +
        '    pattern: "**"\n' +
        '    except: [cache]\n' +
        '    owner: root\n' +
        '    group: apache\n' +
        '    mode: 2775\n' +
        '    acls: ["u:ec2-user:rw"]\n' +
        '    context: { user: system_u, type: httpd_sys_content_t, range: { low: s0 } }\n' +
        '    type: [file, directory]\n' +
        'hooks:\n' +
        LIFECYCLE_ORDER.map((e) => `  ${e}:\n    - location: scripts/${e}.sh\n      timeout: 300\n`).join(''),
    );
    expect(check(text)).toEqual([]);
  });

  test('version may be written 0 (the agent compares numbers); two scripts may share 3600 seconds', () => {
    const text = appspec(
      'hooks:\n  AfterInstall:\n    - location: a.sh\n      timeout: 1800\n    - location: b.sh\n      timeout: 1800\n',
      'version: 0\nos: windows\n',
    ).replace('/var/www/html', 'C:\\inetpub\\wwwroot');
    expect(check(text)).toEqual([]);
  });

  test('a revision root: scripts exist and start with #!, sources exist', () => {
    const root = revision({
      'site/index.html': '<!doctype html>',
      'deployScript/beforeInstall.sh': '#!/bin/bash\necho hi\n',
      'deployScript/validateService.sh': '#!/usr/bin/env bash\nexit 0\n',
    });
    // Not executable: the agent sets the executable bit itself.
    chmodSync(join(root, 'deployScript/beforeInstall.sh'), 0o644);
    expect(check(appspec(), root)).toEqual([]);
    expect(check(appspec().replace('source: site', 'source: /'), root)).toEqual([]);
  });
});

describe('rules', () => {
  test.each<[string, string, { line: number; path: string; message: string }]>([
    // the file as a whole
    ['an empty file', '# nothing yet\n', { line: 1, path: '', message: 'the file is empty; expected an AppSpec file' }],
    ['a list', '- version: 0.0\n', { line: 1, path: '', message: 'received a list; expected a mapping with the keys' }],
    [
      'a tab in the indentation',
      'version: 0.0\nos: linux\nhooks:\n\tBeforeInstall: []\n',
      { line: 4, path: '', message: 'received a tab in the indentation; expected spaces only' },
    ],
    [
      'two documents',
      'version: 0.0\nos: linux\n---\nfiles: []\n',
      { line: 3, path: '', message: 'YAML syntax error: Source contains multiple documents' },
    ],
    ['an unknown tag', appspec().replace('os: linux', 'os: !x linux'), { line: 2, path: '', message: 'YAML problem:' }],
    [
      'a Markdown fence',
      '```yaml\n' + appspec() + '```\n',
      { line: 1, path: '', message: 'received a Markdown code fence (```)' },
    ],
    [
      'prose joined to the next key',
      appspec().replace('os: linux', 'Here is the file\nos: linux'),
      { line: 2, path: '', message: 'received a line of text that is not "key: value" ("Here is the file")' },
    ],
    [
      'a quoted key over two lines',
      "version: 0.0\n'a: b\n  c': linux\n",
      { line: 2, path: '', message: 'YAML syntax error: Implicit keys need to be on a single line' },
    ],
    [
      'an unterminated flow list',
      'version: 0.0\nos: linux\nfiles: [a\n',
      { line: 4, path: '', message: 'YAML syntax error: Flow sequence in block collection' },
    ],
    [
      'a list item at another column',
      appspec().replace('    destination: /var/www/html\n', '    destination: /var/www/html\n   - source: x\n'),
      {
        line: 6,
        path: '',
        message: 'while the list above starts at column 3 (line 4); expected every item of one list',
      },
    ],
    [
      'a key left of its list item, with no dash above',
      'version: 0.0\nos: linux\nfiles:\n    source: a\n  destination: /b\n',
      { line: 5, path: '', message: 'YAML syntax error:' },
    ],
    [
      'a sequence on the line of its key',
      'version: 0.0\nos: linux\nhooks:\n  BeforeInstall: - location: a.sh\n',
      { line: 4, path: '', message: 'YAML syntax error: ' },
    ],
    [
      'a mapping on the line of a quoted key',
      'version: 0.0\nos: linux\nhooks: "BeforeInstall": x\n',
      { line: 3, path: '', message: 'YAML syntax error: Nested mappings are not allowed' },
    ],
    [
      'an unterminated flow mapping',
      'version: 0.0\nos: linux\nfiles: { a: 1\n',
      { line: 4, path: '', message: 'YAML syntax error: Flow map in block collection' },
    ],
    [
      'two quoted keys on one line',
      'version: 0.0\nos: linux\n"hooks": "BeforeInstall": []\n',
      { line: 3, path: '', message: 'YAML syntax error: Nested mappings are not allowed in compact mappings' },
    ],
    [
      'a list item under a mapping',
      'version: 0.0\nos: linux\nhooks:\n  BeforeInstall: []\n - x\n',
      { line: 5, path: '', message: 'YAML syntax error: A block sequence may not be used as an implicit map key' },
    ],
    [
      'a duplicate lifecycle event',
      appspec() + '  BeforeInstall:\n    - location: x.sh\n',
      {
        line: 15,
        path: 'hooks.BeforeInstall',
        message: 'received BeforeInstall a second time (first at line 7); expected each key once',
      },
    ],
    [
      'an alias',
      appspec()
        .replace('runas: root\n  ValidateService', 'runas: &user root\n  ValidateService')
        .replace(/runas: root\n$/, 'runas: *user\n'),
      {
        line: 14,
        path: 'hooks.ValidateService[0].runas',
        message: 'received the alias *user; expected the value written out',
      },
    ],
    [
      'an alias as a key',
      appspec() + 'x: &k y\n*k : z\n',
      { line: 16, path: '*k', message: 'received the alias *k; expected the value written out' },
    ],
    // top-level keys
    [
      'a misspelled top-level key',
      appspec().replace('hooks:', 'hook:'),
      { line: 6, path: 'hook', message: 'received the key "hook" (did you mean "hooks"?)' },
    ],
    [
      'a top-level key in capitals',
      appspec().replace('files:', 'Files:'),
      { line: 3, path: 'Files', message: 'received the key "Files"; expected files (keys are case-sensitive)' },
    ],
    [
      'the AppSpec of an ECS deployment',
      appspec() + 'Resources: []\n',
      { line: 15, path: 'Resources', message: '(the AppSpec of an ECS or Lambda deployment)' },
    ],
    [
      'an unknown top-level key',
      appspec() + 'deployment: fast\n',
      { line: 15, path: 'deployment', message: 'expected one of version, os, files, file_exists_behavior' },
    ],
    [
      'a script key at the top level, before any script',
      'timeout: 10\n' + appspec(),
      { line: 1, path: 'timeout', message: 'a key of a hook script; expected it under a lifecycle event in hooks' },
    ],
    [
      'a files key at the top level, without files',
      'version: 0.0\nos: linux\nsource: site\n',
      { line: 3, path: 'source', message: 'a key of a files entry; expected it under files, as in - source:' },
    ],
    [
      'a permissions key at the top level',
      appspec() + 'owner: root\n',
      { line: 15, path: 'owner', message: 'a key of a permissions entry; expected it under permissions' },
    ],
    [
      'a reserved event at the top level, without hooks',
      'version: 0.0\nos: linux\nInstall: []\n',
      {
        line: 3,
        path: 'Install',
        message: 'received the key "Install" at the top level, a lifecycle event; expected it indented under hooks',
      },
    ],
    // version and os
    [
      'no version',
      appspec().replace('version: 0.0\n', ''),
      { line: 1, path: 'version', message: 'is missing; expected version: 0.0' },
    ],
    [
      'a quoted version',
      appspec().replace('0.0', '"0.0"'),
      { line: 1, path: 'version', message: 'received "0.0" (a string: quoted); expected 0.0, unquoted' },
    ],
    [
      'version 1.0',
      appspec().replace('0.0', '1.0'),
      { line: 1, path: 'version', message: 'received 1.0; expected 0.0' },
    ],
    ['no os', appspec().replace('os: linux\n', ''), { line: 1, path: 'os', message: 'is missing; expected os: linux' }],
    [
      'os in capitals',
      appspec().replace('os: linux', 'os: Linux'),
      {
        line: 2,
        path: 'os',
        message: 'received "Linux" (did you mean "linux"?); expected linux or windows, in lower case',
      },
    ],
    [
      'an empty os',
      appspec().replace('os: linux', 'os:'),
      { line: 2, path: 'os', message: 'received nothing; expected linux or windows' },
    ],
    // files
    [
      'files without items',
      appspec().replace('  - source: site\n    destination: /var/www/html\n', ''),
      {
        line: 3,
        path: 'files',
        message:
          'received nothing; expected a list of - source: … destination: … entries indented under it (line 4 is at column 1, the column of files)',
      },
    ],
    [
      'files as a mapping',
      appspec().replace('  - source: site\n', '  source: site\n').replace('    destination', '  destination'),
      { line: 4, path: 'files', message: 'received a mapping; expected a list of - source: … destination: … entries' },
    ],
    [
      'a files entry as text',
      appspec().replace('  - source: site\n    destination: /var/www/html\n', '  - site\n'),
      { line: 4, path: 'files[0]', message: 'received "site"; expected a mapping with source and destination' },
    ],
    [
      'a files entry without source',
      appspec().replace('  - source: site\n    destination', '  - destination'),
      { line: 4, path: 'files[0].source', message: 'is missing; expected a file or directory of the revision' },
    ],
    [
      'a files entry with an unknown key',
      appspec().replace('    destination: /var/www/html\n', '    destination: /var/www/html\n    overwrite: yes\n'),
      {
        line: 6,
        path: 'files[0].overwrite',
        message: 'received the key "overwrite"; expected one of source, destination',
      },
    ],
    [
      'a relative destination',
      appspec().replace('/var/www/html', 'var/www/html'),
      {
        line: 5,
        path: 'files[0].destination',
        message: 'received "var/www/html"; expected an absolute path on the instance, such as /var/www/html',
      },
    ],
    [
      'a Linux destination on Windows',
      appspec().replace('os: linux', 'os: windows'),
      {
        line: 5,
        path: 'files[0].destination',
        message: 'expected an absolute path on the instance, such as C:\\inetpub\\wwwroot',
      },
    ],
    [
      'a number as source',
      appspec().replace('source: site', 'source: 42'),
      { line: 4, path: 'files[0].source', message: 'received 42; expected a path in the revision, or / for all of it' },
    ],
    [
      'a source outside the revision',
      appspec().replace('source: site', 'source: ../secrets'),
      {
        line: 4,
        path: 'files[0].source',
        message: 'received "../secrets"; expected a path inside the revision, without ..',
      },
    ],
    [
      'file_exists_behavior in lower case',
      appspec() + 'file_exists_behavior: overwrite\n',
      {
        line: 15,
        path: 'file_exists_behavior',
        message: 'received "overwrite"; expected one of DISALLOW, OVERWRITE, RETAIN',
      },
    ],
    // permissions
    [
      'permissions without object',
      appspec() + 'permissions:\n  - owner: root\n',
      { line: 16, path: 'permissions[0].object', message: 'is missing; expected the installed file or directory' },
    ],
    [
      'a relative permissions object',
      appspec() + 'permissions:\n  - object: html\n',
      {
        line: 16,
        path: 'permissions[0].object',
        message: 'received "html"; expected an absolute path on the instance',
      },
    ],
    [
      'a misspelled permissions key',
      appspec() + 'permissions:\n  - object: /var/www/html\n    ownr: root\n',
      { line: 17, path: 'permissions[0].ownr', message: 'received the key "ownr" (did you mean "owner"?)' },
    ],
    [
      'a mode with a leading zero',
      appspec() + 'permissions:\n  - object: /var/www/html\n    mode: 0644\n',
      {
        line: 17,
        path: 'permissions[0].mode',
        message:
          "received 0644: CodeDeploy's YAML 1.1 reader takes a leading zero for an octal number and would set mode 420; expected the mode without the leading zero, such as 644",
      },
    ],
    [
      'a mode that is not octal',
      appspec() + 'permissions:\n  - object: /var/www/html\n    mode: 789\n',
      { line: 17, path: 'permissions[0].mode', message: 'received 789; expected an octal mode of 3 or 4 digits' },
    ],
    [
      'a mode as a list',
      appspec() + 'permissions:\n  - object: /var/www/html\n    mode: [644]\n',
      { line: 17, path: 'permissions[0].mode', message: 'received a list; expected an octal mode' },
    ],
    [
      'an unknown permission type',
      appspec() + 'permissions:\n  - object: /var/www/html\n    type: [file, link]\n',
      { line: 17, path: 'permissions[0].type[1]', message: 'received "link"; expected file or directory' },
    ],
    [
      'except as text',
      appspec() + 'permissions:\n  - object: /var/www/html\n    except: cache\n',
      { line: 17, path: 'permissions[0].except', message: 'received "cache"; expected a list of strings' },
    ],
    [
      'an acl that is not text',
      appspec() + 'permissions:\n  - object: /var/www/html\n    acls: [{ u: rw }]\n',
      { line: 17, path: 'permissions[0].acls[0]', message: 'received a mapping; expected a string' },
    ],
    [
      'an empty owner',
      appspec() + 'permissions:\n  - object: /var/www/html\n    owner:\n',
      { line: 17, path: 'permissions[0].owner', message: 'received nothing; expected a name' },
    ],
    [
      'a context as text',
      appspec() + 'permissions:\n  - object: /var/www/html\n    context: httpd_sys_content_t\n',
      { line: 17, path: 'permissions[0].context', message: 'expected a mapping of SELinux user, type and range' },
    ],
    [
      'a context with a role',
      appspec() + 'permissions:\n  - object: /var/www/html\n    context: { type: t, role: r }\n',
      { line: 17, path: 'permissions[0].context.role', message: 'received the key "role"' },
    ],
    [
      'a permissions entry as text',
      appspec() + 'permissions:\n  - /var/www/html\n',
      { line: 16, path: 'permissions[0]', message: 'received "/var/www/html"; expected a mapping with object' },
    ],
    [
      'permissions on Windows',
      appspec().replace('os: linux', 'os: windows').replace('/var/www/html', 'C:\\www') +
        'permissions:\n  - object: C:\\www\n',
      {
        line: 15,
        path: 'permissions',
        message: 'received permissions with os: windows; expected permissions on Linux instances only',
      },
    ],
    // hooks
    [
      'a reserved event',
      appspec('hooks:\n  Install:\n    - location: a.sh\n'),
      {
        line: 7,
        path: 'hooks.Install',
        message:
          'received Install, an event reserved for CodeDeploy (the agent copies the files section to the instance) that cannot run scripts; expected the scripts in BeforeInstall or AfterInstall',
      },
    ],
    [
      'a misspelled event',
      appspec('hooks:\n  AfterInstal:\n    - location: a.sh\n'),
      {
        line: 7,
        path: 'hooks.AfterInstal',
        message: 'received the lifecycle event "AfterInstal" (did you mean "AfterInstall"?)',
      },
    ],
    [
      'an unknown event',
      appspec('hooks:\n  Deploy:\n    - location: a.sh\n'),
      {
        line: 7,
        path: 'hooks.Deploy',
        message: `received the lifecycle event "Deploy"; expected one of ${LIFECYCLE_ORDER.join(', ')} (CodeDeploy never runs the scripts of an unknown event)`,
      },
    ],
    [
      'events out of order',
      appspec(
        'hooks:\n  ApplicationStart:\n    - location: b.sh\n  ApplicationStop:\n    - location: a.sh\n  ValidateService:\n    - location: c.sh\n',
      ),
      {
        line: 9,
        path: 'hooks.ApplicationStop',
        message: `received ApplicationStop after ApplicationStart (line 7); expected the hooks in the order CodeDeploy runs them, whatever the order of the file: ${LIFECYCLE_ORDER.join(', ')}`,
      },
    ],
    [
      'hooks as a list (ECS and Lambda)',
      appspec('hooks:\n  - BeforeInstall: a\n'),
      { line: 7, path: 'hooks', message: 'received a list (the hooks of an ECS or Lambda AppSpec)' },
    ],
    [
      'hooks as text',
      appspec('hooks: all\n'),
      { line: 6, path: 'hooks', message: 'received "all"; expected a mapping of lifecycle events' },
    ],
    [
      'an empty hooks section',
      appspec('hooks:\n'),
      {
        line: 6,
        path: 'hooks',
        message: 'received nothing; expected lifecycle events indented under hooks, each with its scripts',
      },
    ],
    [
      'a script as a mapping',
      appspec('hooks:\n  BeforeInstall:\n    location: a.sh\n'),
      {
        line: 8,
        path: 'hooks.BeforeInstall',
        message: 'received a mapping; expected a list of scripts, each starting with a dash',
      },
    ],
    [
      'an event without scripts',
      appspec('hooks:\n  BeforeInstall:\n  AfterInstall:\n    - location: a.sh\n'),
      {
        line: 7,
        path: 'hooks.BeforeInstall',
        message:
          'received nothing; expected a list of scripts, each starting with a dash: - location: … indented under it',
      },
    ],
    [
      'a script as text',
      appspec('hooks:\n  BeforeInstall:\n    - a.sh\n'),
      {
        line: 8,
        path: 'hooks.BeforeInstall[0]',
        message: 'received "a.sh"; expected a mapping with location, timeout and runas',
      },
    ],
    [
      'a script without location',
      appspec('hooks:\n  BeforeInstall:\n    - timeout: 30\n'),
      {
        line: 8,
        path: 'hooks.BeforeInstall[0].location',
        message: 'is missing; expected the path of the script in the revision',
      },
    ],
    [
      'an empty location',
      appspec('hooks:\n  BeforeInstall:\n    - location: ""\n'),
      { line: 8, path: 'hooks.BeforeInstall[0].location', message: 'received ""; expected a path in the revision' },
    ],
    [
      'an absolute location',
      appspec('hooks:\n  BeforeInstall:\n    - location: /opt/app/start.sh\n'),
      {
        line: 8,
        path: 'hooks.BeforeInstall[0].location',
        message:
          'received "/opt/app/start.sh"; expected a path relative to the root of the revision, such as deployScript/start.sh',
      },
    ],
    [
      'a location outside the revision',
      appspec('hooks:\n  BeforeInstall:\n    - location: scripts/../../start.sh\n'),
      { line: 8, path: 'hooks.BeforeInstall[0].location', message: 'expected a path inside the revision, without ..' },
    ],
    [
      'a timeout of 0',
      appspec('hooks:\n  BeforeInstall:\n    - location: a.sh\n      timeout: 0\n'),
      {
        line: 9,
        path: 'hooks.BeforeInstall[0].timeout',
        message: 'received 0; expected a whole number of seconds from 1 to 3600, without unit or quotes',
      },
    ],
    [
      'a timeout above CodeDeploy’s limit',
      appspec('hooks:\n  BeforeInstall:\n    - location: a.sh\n      timeout: 3601\n'),
      {
        line: 9,
        path: 'hooks.BeforeInstall[0].timeout',
        message: 'received 3601; expected a whole number of seconds from 1 to 3600',
      },
    ],
    [
      'a timeout with a unit',
      appspec('hooks:\n  BeforeInstall:\n    - location: a.sh\n      timeout: 300s\n'),
      {
        line: 9,
        path: 'hooks.BeforeInstall[0].timeout',
        message: 'received "300s"; expected a whole number of seconds',
      },
    ],
    [
      'a quoted timeout',
      appspec('hooks:\n  BeforeInstall:\n    - location: a.sh\n      timeout: "300"\n'),
      {
        line: 9,
        path: 'hooks.BeforeInstall[0].timeout',
        message: 'received "300"; expected a whole number of seconds from 1 to 3600, without unit or quotes',
      },
    ],
    [
      'a fractional timeout',
      appspec('hooks:\n  BeforeInstall:\n    - location: a.sh\n      timeout: 1.5\n'),
      { line: 9, path: 'hooks.BeforeInstall[0].timeout', message: 'received 1.5; expected a whole number of seconds' },
    ],
    [
      'scripts of one event above 3600 seconds',
      appspec(
        'hooks:\n  AfterInstall:\n    - location: a.sh\n      timeout: 3000\n    - location: b.sh\n      timeout: 1000\n',
      ),
      {
        line: 7,
        path: 'hooks.AfterInstall',
        message:
          'received scripts that may run 4000 seconds in all; expected at most 3600 seconds for the scripts of one lifecycle event',
      },
    ],
    [
      'a script without timeout beside another',
      appspec('hooks:\n  AfterInstall:\n    - location: a.sh\n    - location: b.sh\n      timeout: 10\n'),
      {
        line: 7,
        path: 'hooks.AfterInstall',
        message:
          "received scripts that may run 3610 seconds in all (a script without timeout counts 3600, CodeDeploy's default)",
      },
    ],
    [
      'runas in camel case',
      appspec('hooks:\n  BeforeInstall:\n    - location: a.sh\n      runAs: root\n'),
      {
        line: 9,
        path: 'hooks.BeforeInstall[0].runAs',
        message: 'received the key "runAs"; expected runas (keys are case-sensitive)',
      },
    ],
    [
      'sudo (not in the AppSpec reference)',
      appspec('hooks:\n  BeforeInstall:\n    - location: a.sh\n      sudo: true\n'),
      {
        line: 9,
        path: 'hooks.BeforeInstall[0].sudo',
        message: 'received the key "sudo"; expected one of location, timeout, runas',
      },
    ],
    [
      'a top-level key inside a script',
      appspec('hooks:\n  BeforeInstall:\n    - location: a.sh\n      os: linux\n'),
      {
        line: 9,
        path: 'hooks.BeforeInstall[0].os',
        message: 'received the key "os" here, a top-level key; expected it at column 1',
      },
    ],
    [
      'a lifecycle event inside a script',
      appspec('hooks:\n  BeforeInstall:\n    - location: a.sh\n      AfterInstall: []\n'),
      {
        line: 9,
        path: 'hooks.BeforeInstall[0].AfterInstall',
        message: 'received the key "AfterInstall" here, a lifecycle event; expected it indented under hooks',
      },
    ],
    [
      'a runas that is no user name',
      appspec('hooks:\n  BeforeInstall:\n    - location: a.sh\n      runas: root user\n'),
      {
        line: 9,
        path: 'hooks.BeforeInstall[0].runas',
        message: 'received "root user"; expected a Linux user name such as root or ec2-user',
      },
    ],
    [
      'runas on Windows',
      appspec(
        'hooks:\n  BeforeInstall:\n    - location: a.ps1\n      runas: Administrator\n',
        'version: 0.0\nos: windows\n',
      ).replace('/var/www/html', 'C:\\www'),
      {
        line: 9,
        path: 'hooks.BeforeInstall[0].runas',
        message: 'received runas with os: windows; expected runas on Linux instances only',
      },
    ],
    [
      'a complex key',
      appspec() + '? [a, b]\n: c\n',
      { line: 15, path: '["a","b"]', message: 'received the key "["a","b"]"' },
    ],
  ])('%s', (_name, text, expected) => {
    const problems = check(text);
    expect(problems).toContainEqual(expect.objectContaining({ line: expected.line, path: expected.path }));
    const found = problems.find((p) => p.line === expected.line && p.path === expected.path)!;
    expect(found.message).toContain(expected.message);
    expect(found.column).toBeGreaterThan(0);
  });

  test('each mistake once: an alias is not also reported as a wrong value', () => {
    const text = appspec()
      .replace(/timeout: 180/, 'timeout: *t')
      .replace('timeout: 60', 'timeout: &t 60');
    expect(check(text).map((p) => p.message)).toEqual([expect.stringContaining('received the alias *t')]);
  });

  describe('a script key at the wrong indentation is reported once, where it is, with where it belongs', () => {
    const head = appspec('hooks:\n  BeforeInstall:\n    - location: a.sh\n');
    test.each([
      [
        '   timeout: 30\n',
        9,
        1,
        'received timeout at column 4, left of location (line 8, column 7) of the same list item',
      ],
      [
        '    timeout: 30\n',
        9,
        1,
        'received timeout at column 5, left of location (line 8, column 7) of the same list item',
      ],
      [
        '     timeout: 30\n',
        9,
        1,
        'received timeout at column 6, left of location (line 8, column 7) of the same list item',
      ],
      [
        '        timeout: 30\n',
        9,
        9,
        'received timeout at column 9, right of location (line 8, column 7), so YAML reads it as part of the value of location; expected timeout at column 7, under location',
      ],
      [
        '      timeout: 30\n     runas: root\n',
        10,
        1,
        'received runas at column 6, left of location (line 8, column 7) of the same list item; expected the keys of one item aligned: runas at column 7, under location',
      ],
      [
        '  timeout: 30\n',
        9,
        3,
        `received the key "timeout" among the lifecycle events, a key of a hook script; expected it indented under the script's location (line 8), at column 7`,
      ],
    ])('%j', (tail, line, column, message) => {
      expect(check(head + tail)).toEqual([
        { line, column, path: column === 3 ? 'hooks.timeout' : '', message: expect.stringContaining(message) },
      ]);
    });
  });

  test('Windows line endings are read like Unix ones', () => {
    expect(check(appspec().replace(/\n/g, '\r\n'))).toEqual([]);
  });
});

describe('with the revision root', () => {
  const root = revision({
    'site/index.html': '<!doctype html>',
    'deployScript/ok.sh': '#!/bin/bash\nexit 0\n',
    'deployScript/plain.sh': 'echo no shebang\n',
    'deployScript/crlf.sh': '#!/bin/bash\r\nexit 0\r\n',
    'deployScript/folder/': '',
    'deployScript/empty.sh': '',
  });
  const hook = (location: string) => appspec(`hooks:\n  BeforeInstall:\n    - location: ${location}\n`);

  test.each([
    ['deployScript/ok.sh', undefined],
    ['deployScript/missing.sh', `but ${join(root, 'deployScript/missing.sh')} does not exist`],
    ['deployScript/folder', 'received "deployScript/folder", a directory; expected a script file'],
    [
      'deployScript/plain.sh',
      'received "deployScript/plain.sh", a script without a #! line; expected a first line such as #!/bin/bash: the agent executes the file itself',
    ],
    ['deployScript/empty.sh', 'a script without a #! line'],
    [
      'deployScript/crlf.sh',
      'received "deployScript/crlf.sh" with Windows line endings; expected Unix line endings (LF): the kernel would look for an interpreter named "/bin/bash\\r"',
    ],
  ])('script %s', (location, message) => {
    const problems = check(hook(location), root);
    if (message === undefined) {
      expect(problems).toEqual([]);
    } else {
      expect(problems).toEqual([
        { line: 8, column: 17, path: 'hooks.BeforeInstall[0].location', message: expect.stringContaining(message) },
      ]);
    }
  });

  test('a source that is not in the revision', () => {
    expect(check(appspec().replace('source: site', 'source: public'), root)).toEqual([
      expect.objectContaining({
        line: 4,
        path: 'files[0].source',
        message: `received "public"; expected a file or directory of the revision, but ${join(root, 'public')} does not exist`,
      }),
      expect.objectContaining({ path: 'hooks.BeforeInstall[0].location' }),
      expect.objectContaining({ path: 'hooks.ValidateService[0].location' }),
    ]);
  });
});
