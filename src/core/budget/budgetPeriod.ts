import { localDay, startOfLocalDay } from '../timeZones.js';
import { type BudgetPeriod } from './budgetSchema.js';

export interface PeriodWindow {
  /** Inclusive start; undefined for "all". */
  start: Date | undefined;
  /** Exclusive end (the next period's start); undefined for "all". */
  end: Date | undefined;
  /** A stable name of this period, e.g. `month:2026-11`, for "notify once per period". */
  key: string;
  label: string;
}

function addDays(day: string, days: number): string {
  const [y, m, d] = day.split('-').map(Number) as [number, number, number];
  return new Date(Date.UTC(y, m - 1, d + days)).toISOString().slice(0, 10);
}

function firstOfNextMonth(day: string): string {
  const [y, m] = day.split('-').map(Number) as [number, number];
  return new Date(Date.UTC(y, m, 1)).toISOString().slice(0, 10);
}

/**
 * The budget period containing `now`, with boundaries at local midnight in `timeZone` (weeks start
 * on Monday). A reset ("Reset Budget Period") later than the natural start moves the start to it.
 */
export function periodWindow(period: BudgetPeriod, now: Date, timeZone: string, resetAt?: Date): PeriodWindow {
  const today = localDay(now, timeZone);
  let startDay: string | undefined;
  let endDay: string | undefined;
  let label: string;
  switch (period) {
    case 'day':
      startDay = today;
      endDay = addDays(today, 1);
      label = 'today';
      break;
    case 'week': {
      const weekday = (new Date(`${today}T00:00:00Z`).getUTCDay() + 6) % 7; // Monday = 0
      startDay = addDays(today, -weekday);
      endDay = addDays(startDay, 7);
      label = 'this week';
      break;
    }
    case 'month':
      startDay = `${today.slice(0, 7)}-01`;
      endDay = firstOfNextMonth(today);
      label = 'this month';
      break;
    case 'all':
      label = 'in total';
      break;
  }
  let start = startDay ? startOfLocalDay(startDay, timeZone) : undefined;
  const end = endDay ? startOfLocalDay(endDay, timeZone) : undefined;
  let key = `${period}:${startDay ?? 'all'}`;
  if (resetAt && resetAt.getTime() <= now.getTime() && (!start || resetAt.getTime() > start.getTime())) {
    start = resetAt;
    key = `${key}@${resetAt.toISOString()}`;
    label = `${label} (since the reset)`;
  }
  return { start, end, key, label };
}
