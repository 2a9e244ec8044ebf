/** Durations, countdowns and the geometry of the steps timeline (Gantt). Pure; `now` is passed in. */
import type { Step, StepStatus } from './types';

export function ms(iso: string | null | undefined): number | null {
  if (!iso) return null;
  const t = Date.parse(iso);
  return Number.isFinite(t) ? t : null;
}

/** Elapsed ms between start and finish (or now while unfinished); null if not started. */
export function durationMs(start: string | null | undefined, end: string | null | undefined, now: number): number | null {
  const s = ms(start);
  if (s === null) return null;
  const e = ms(end) ?? now;
  return Math.max(0, e - s);
}

/** 0 ms, 840 ms, 3.2 s, 12 s, 4m 05s, 2h 03m, 3d 4h */
export function formatDuration(d: number | null | undefined): string {
  if (d === null || d === undefined || !Number.isFinite(d)) return '';
  if (d < 1000) return `${Math.round(d)} ms`;
  const s = d / 1000;
  if (s < 10) return `${(Math.floor(s * 10) / 10).toFixed(1)} s`;
  if (s < 60) return `${Math.floor(s)} s`;
  const totalS = Math.floor(s);
  const m = Math.floor(totalS / 60);
  if (m < 60) return `${m}m ${String(totalS % 60).padStart(2, '0')}s`;
  const h = Math.floor(m / 60);
  if (h < 24) return `${h}h ${String(m % 60).padStart(2, '0')}m`;
  return `${Math.floor(h / 24)}d ${h % 24}h`;
}

/** Time left before a deadline, for a live countdown: "29:59", "1:02:03", "2d 3h", or "expired". */
export function formatCountdown(deadlineIso: string | null | undefined, now: number): string {
  const t = ms(deadlineIso);
  if (t === null) return '';
  const left = Math.floor((t - now) / 1000);
  if (left <= 0) return 'expired';
  const d = Math.floor(left / 86400);
  const h = Math.floor((left % 86400) / 3600);
  const m = Math.floor((left % 3600) / 60);
  const s = left % 60;
  if (d > 0) return `${d}d ${h}h`;
  const mm = String(m).padStart(2, '0');
  const ss = String(s).padStart(2, '0');
  return h > 0 ? `${h}:${mm}:${ss}` : `${m}:${ss}`;
}

/** "just now", "5 min ago", "3 h ago", else a short date. */
export function formatRelative(iso: string | null | undefined, now: number): string {
  const t = ms(iso);
  if (t === null) return '';
  const d = Math.round((now - t) / 1000);
  if (d < 10) return 'just now';
  if (d < 60) return `${d} s ago`;
  if (d < 3600) return `${Math.floor(d / 60)} min ago`;
  if (d < 86400) return `${Math.floor(d / 3600)} h ago`;
  return new Date(t).toLocaleString(undefined, { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' });
}

export interface GanttRow {
  key: string;
  label: string;
  depth: number;
  status: StepStatus;
  /** percentages of the timeline width */
  left: number;
  width: number;
  durationMs: number | null;
  running: boolean;
}

export interface GanttTick {
  pct: number;
  label: string;
}

export interface Gantt {
  start: number;
  end: number;
  rows: GanttRow[];
  ticks: GanttTick[];
}

/** A round tick step (1, 2, 5 × 10^n ms) giving about `target` ticks over `span`. */
export function tickStep(span: number, target = 6): number {
  const raw = Math.max(span, 1) / target;
  const pow = Math.pow(10, Math.floor(Math.log10(raw)));
  for (const m of [1, 2, 5, 10]) if (raw <= m * pow) return m * pow;
  return 10 * pow;
}

const MIN_WIDTH_PCT = 0.6;

/**
 * Rows for every step that started, ordered by start time (ties: key), placed on a common axis from
 * the run's start (or the first step) to its end (or now).
 */
export function ganttGeometry(
  steps: Step[],
  run: { started_at?: string | null; created_at?: string | null; finished_at?: string | null; status?: string },
  now: number,
  label: (s: Step) => string = (s) => s.key,
): Gantt {
  const started = steps.filter((s) => ms(s.started_at) !== null);
  const starts = started.map((s) => ms(s.started_at) as number);
  const runStart = ms(run.started_at) ?? ms(run.created_at);
  const start = Math.min(...(runStart !== null ? [runStart] : []), ...starts, now);
  const ends = started.map((s) => ms(s.finished_at) ?? now);
  const runEnd = ms(run.finished_at);
  // a suspended run with nothing running: the axis ends at the last activity (waiting is not work)
  const anyRunning = started.some((s) => !s.finished_at);
  const idle = run.status === 'suspended' && !anyRunning && ends.length > 0;
  const open = !idle && (runEnd === null || anyRunning);
  const end = Math.max(open ? now : idle ? Math.max(...ends) : (runEnd as number), ...ends, start + 1);
  const span = end - start;
  const rows = started
    .map((s) => {
      const a = ms(s.started_at) as number;
      const b = ms(s.finished_at) ?? now;
      const left = ((a - start) / span) * 100;
      const width = Math.max(MIN_WIDTH_PCT, ((Math.max(b, a) - a) / span) * 100);
      return {
        key: s.key,
        label: label(s),
        depth: (s.key.split('/').length - 1) / 2,
        status: s.status,
        left: Math.min(left, 100 - MIN_WIDTH_PCT),
        width: Math.min(width, 100 - Math.min(left, 100 - MIN_WIDTH_PCT)),
        durationMs: durationMs(s.started_at, s.finished_at, now),
        running: !s.finished_at && (s.status === 'running' || s.status === 'suspended'),
      };
    })
    .sort((x, y) => x.left - y.left || x.key.localeCompare(y.key));
  const step = tickStep(span);
  const ticks: GanttTick[] = [];
  for (let t = 0; t <= span + 1e-9 && ticks.length < 50; t += step) ticks.push({ pct: (t / span) * 100, label: formatDuration(t) });
  return { start, end, rows, ticks };
}
