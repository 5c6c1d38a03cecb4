/*
 * What CodeDeploy accepts in the appspec.yml of an EC2/On-Premises revision: the keys of each section, the
 * lifecycle events and their limits. Internal, like the rest of the checker.
 */

/** The lifecycle events of an in-place deployment behind a load balancer that run scripts, in the order CodeDeploy runs them. */
export const LIFECYCLE_ORDER = [
  'BeforeBlockTraffic',
  'AfterBlockTraffic',
  'ApplicationStop',
  'BeforeInstall',
  'AfterInstall',
  'ApplicationStart',
  'ValidateService',
  'BeforeAllowTraffic',
  'AfterAllowTraffic',
];

/** Events reserved for CodeDeploy: what happens during each, and where a script goes instead. */
export const RESERVED_EVENTS: Record<string, { what: string; instead: string }> = {
  Start: { what: 'the deployment starts', instead: 'BeforeBlockTraffic' },
  DownloadBundle: { what: 'the agent downloads the revision', instead: 'ApplicationStop or BeforeInstall' },
  Install: { what: 'the agent copies the files section to the instance', instead: 'BeforeInstall or AfterInstall' },
  BlockTraffic: {
    what: 'the load balancer stops sending requests',
    instead: 'BeforeBlockTraffic or AfterBlockTraffic',
  },
  AllowTraffic: { what: 'the load balancer sends requests again', instead: 'BeforeAllowTraffic or AfterAllowTraffic' },
  End: { what: 'the deployment ends', instead: 'ValidateService or AfterAllowTraffic' },
};

/** CodeDeploy's limit for the scripts of one lifecycle event, and the timeout of a script that sets none. */
export const MAX_HOOK_SECONDS = 3600;

/** The keys each mapping may hold: the top level, a files entry, a permissions entry, its SELinux context, a hook script. */
export const TOP_KEYS = ['version', 'os', 'files', 'file_exists_behavior', 'permissions', 'hooks'];
export const FILE_KEYS = ['source', 'destination'];
export const PERMISSION_KEYS = ['object', 'pattern', 'except', 'owner', 'group', 'mode', 'acls', 'context', 'type'];
export const CONTEXT_KEYS = ['user', 'type', 'range'];
export const SCRIPT_KEYS = ['location', 'timeout', 'runas'];
/** Values of file_exists_behavior, and of the type list of a permissions entry. */
export const FILE_EXISTS_BEHAVIORS = ['DISALLOW', 'OVERWRITE', 'RETAIN'];
export const PERMISSION_TYPES = ['file', 'directory'];
/** A user name runas accepts. */
export const LINUX_USER = /^[a-z_][a-z0-9_.-]{0,31}$/i;
/** The lifecycle events as messages list them. */
export const LIFECYCLE_TEXT = LIFECYCLE_ORDER.join(', ');
