import { createHash } from 'crypto';
import { Duration } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import type { RebuildWindow } from './customer-ami-pipeline';
import { DEFAULT_REBUILD_WINDOW } from '../config/defaults';
import { describeValue } from '../config/errors';
import { RebuildWindowConfig } from '../config/types';

/** A customer file's `ami.rebuildSchedule` that turns the periodic rebuilds off. */
export const REBUILDS_OFF = 'off';

const WEEK_DAYS = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];
const WEEK_MINUTES = 7 * 24 * 60;

/** Internal: the minute of the week (from Sunday 00:00 UTC) an environment's default rebuild starts at. */
export function staggeredMinuteOfWeek(name: string, window: RebuildWindow = {}, where = 'RebuildWindow'): number {
  const { day, hour, minutes } = checkWindow(window, where);
  // The first 48 bits of the name's SHA-256: the same minute on every machine and in every release, spread evenly.
  const hash = parseInt(createHash('sha256').update(name, 'utf8').digest('hex').slice(0, 12), 16);
  const offset = hash % minutes;
  return (day * 24 * 60 + hour * 60 + offset) % WEEK_MINUTES;
}

/**
 * Internal: the weekly schedule of an environment's default rebuild, `cron(M H ? * DAY *)`, at a minute within the
 * window that is a pure function of the environment's name (`<customer>-<environment>`).
 */
export function staggeredRebuildSchedule(name: string, window: RebuildWindow = {}, where?: string): events.Schedule {
  const minute = staggeredMinuteOfWeek(name, window, where);
  return events.Schedule.cron({
    minute: String(minute % 60),
    hour: String(Math.floor(minute / 60) % 24),
    weekDay: WEEK_DAYS[Math.floor(minute / (24 * 60))],
  });
}

/** Internal: a platform file's rebuild window in the construct's types. */
export function rebuildWindowOfConfig(config: RebuildWindowConfig | undefined): RebuildWindow {
  return {
    weekDay: config?.weekDay ?? DEFAULT_REBUILD_WINDOW.weekDay,
    startHour: config?.startHourUtc ?? DEFAULT_REBUILD_WINDOW.startHourUtc,
    duration: Duration.hours(config?.hours ?? DEFAULT_REBUILD_WINDOW.hours),
  };
}

function checkWindow(window: RebuildWindow, where: string): { day: number; hour: number; minutes: number } {
  const weekDay = window.weekDay ?? DEFAULT_REBUILD_WINDOW.weekDay;
  const day = WEEK_DAYS.indexOf(weekDay);
  if (day === -1) {
    throw new Error(
      `${where}: weekDay: received ${describeValue(weekDay)}; expected one of MON, TUE, WED, THU, FRI, SAT, SUN`,
    );
  }
  const hour = window.startHour ?? DEFAULT_REBUILD_WINDOW.startHourUtc;
  if (!Number.isInteger(hour) || hour < 0 || hour > 23) {
    throw new Error(`${where}: startHour: received ${describeValue(hour)}; expected a whole hour (UTC) from 0 to 23`);
  }
  const duration = window.duration ?? Duration.hours(DEFAULT_REBUILD_WINDOW.hours);
  const minutes = duration.toMinutes({ integral: false });
  if (!Number.isInteger(minutes) || minutes < 1 || minutes > WEEK_MINUTES) {
    throw new Error(
      `${where}: duration: received ${duration.toHumanString()}; expected whole minutes from 1 minute to 7 days`,
    );
  }
  return { day, hour, minutes };
}
