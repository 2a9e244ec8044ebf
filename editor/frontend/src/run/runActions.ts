/** Run-level actions of the public API. */
import { api, encodePath } from '../api';
import type { Run, RunSummary } from './types';

export function fetchRun(id: string): Promise<Run> {
  return api.get<Run>(`runs/${encodeURIComponent(id)}`);
}

export function cancelRun(id: string): Promise<unknown> {
  return api.post(`runs/${encodeURIComponent(id)}/cancel`, {});
}

export function restartFrom(id: string, moduleId: string): Promise<RunSummary> {
  return api.post<RunSummary>(`runs/${encodeURIComponent(id)}/restart`, { from: moduleId });
}

/** Same flow, same args: the saved flow by path, else the run's own flow snapshot (preview). */
export function rerun(run: RunSummary): Promise<RunSummary> {
  const args = run.args ?? {};
  if (run.flow_path) return api.post<RunSummary>(`flows/${encodePath(run.flow_path)}/runs`, { args });
  return api.post<RunSummary>('runs/', { flow: run.flow, args });
}

export function runPageUrl(runsUrl: string, id: string): string {
  return `${runsUrl.endsWith('/') ? runsUrl : runsUrl + '/'}${id}`;
}
