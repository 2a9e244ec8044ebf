/** /runs: run history with filters (flow, status, dates), re-run with the same args, cancel active runs. */
import { useCallback, useEffect, useMemo, useState } from 'react';
import '../run/run.css';
import './runs.css';
import type { PageProps } from '../props';
import { defaultUrls } from '../props';
import { api, configureApi, type Page } from '../api';
import { AppBar } from '../run/AppBar';
import { Modal } from '../Modal';
import { StatusBadge, Toasts, useToasts } from '../run/ui';
import { cancelRun, rerun, runPageUrl } from '../run/runActions';
import { toPath } from '../run/resume';
import { durationMs, formatDuration, formatRelative } from '../run/timing';
import { useNow } from '../run/useNow';
import { isFinalRun, type RunSummary } from '../run/types';
import { RUN_STATUSES, apiQuery, argsPreview, filtersFromSearch, filtersToSearch, hasFilters, type RunFilters, EMPTY_FILTERS } from './filters';
import { STATUS_LABEL } from '../run/status';

interface FlowItem {
  path: string;
  summary?: string;
}

export default function RunsPage({ props }: { props: PageProps }) {
  const urls = { ...defaultUrls, ...(props.urls ?? {}) };
  useMemo(() => configureApi({ csrfToken: props.csrf_token, base: urls.api }), [props.csrf_token, urls.api]);
  const [filters, setFilters] = useState<RunFilters>(() => filtersFromSearch(location.search));
  const [flowInput, setFlowInput] = useState(filters.flow);
  const [page, setPage] = useState<Page<RunSummary> | null>(null);
  const [pageUrl, setPageUrl] = useState<string | null>(null);
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<string | null>(null);
  const [flows, setFlows] = useState<FlowItem[]>([]);
  const [toasts, toast] = useToasts();
  const [confirmCancel, setConfirmCancel] = useState<RunSummary | null>(null);
  const [busy, setBusy] = useState<string | null>(null);
  const now = useNow(true, 5000);

  const load = useCallback(async (quiet = false) => {
    if (!quiet) setLoading(true);
    try {
      const data = pageUrl ? await api.get<Page<RunSummary>>(toPath(pageUrl)) : await api.get<Page<RunSummary>>('runs/', apiQuery(filters));
      setPage(data);
      setError(null);
    } catch (e) {
      setError((e as Error).message);
    }
    setLoading(false);
  }, [filters, pageUrl]);

  useEffect(() => {
    void load();
  }, [load]);

  // keep active runs fresh
  const anyActive = !!page?.results.some((r) => !isFinalRun(r.status));
  useEffect(() => {
    if (!anyActive) return;
    const t = setInterval(() => document.visibilityState === 'visible' && void load(true), 3000);
    return () => clearInterval(t);
  }, [anyActive, load]);

  useEffect(() => {
    api.get<Page<FlowItem> | FlowItem[]>('flows/').then(
      (d) => setFlows(Array.isArray(d) ? d : d.results ?? []),
      () => setFlows([]),
    );
  }, []);

  const apply = (f: RunFilters) => {
    setFilters(f);
    setPageUrl(null);
    history.replaceState(null, '', location.pathname + filtersToSearch(f));
  };

  // debounce the flow text filter
  useEffect(() => {
    if (flowInput === filters.flow) return;
    const t = setTimeout(() => apply({ ...filters, flow: flowInput }), 350);
    return () => clearTimeout(t);
  }, [flowInput]); // eslint-disable-line react-hooks/exhaustive-deps

  const doRerun = async (r: RunSummary) => {
    setBusy(r.id);
    try {
      let source = r;
      if (!r.flow_path && !r.flow) source = await api.get<RunSummary>(`runs/${r.id}`);
      const n = await rerun(source);
      toast('New run started');
      location.href = runPageUrl(urls.runs, n.id);
    } catch (e) {
      toast((e as Error).message, true);
      setBusy(null);
    }
  };
  const doCancel = async (r: RunSummary) => {
    setBusy(r.id);
    try {
      await cancelRun(r.id);
      toast('Run canceled');
    } catch (e) {
      toast((e as Error).message, true);
    }
    setBusy(null);
    setConfirmCancel(null);
    void load(true);
  };

  const rows = page?.results ?? [];
  return (
    <div className="runs-page">
      <AppBar props={props} active="runs" />
      <div className="runs-body">
        <div className="runs-head">
          <div>
            <h1>Runs</h1>
            <div className="muted runs-count">{page ? `${page.count.toLocaleString()} run${page.count === 1 ? '' : 's'}${hasFilters(filters) ? ' matching' : ''}` : '\u00a0'}</div>
          </div>
          <button type="button" className="btn" onClick={() => void load()} title="Refresh">↻ Refresh</button>
        </div>
        <div className="runs-filters" data-testid="runs-filters">
          <div className="field">
            <label htmlFor="f-flow">Flow</label>
            <input id="f-flow" className="input" list="f-flow-list" placeholder="f/folder/name" value={flowInput} onChange={(e) => setFlowInput(e.target.value)} />
            <datalist id="f-flow-list">{flows.map((f) => <option key={f.path} value={f.path}>{f.summary}</option>)}</datalist>
          </div>
          <div className="field">
            <label htmlFor="f-status">Status</label>
            <select id="f-status" className="select" value={filters.status} onChange={(e) => apply({ ...filters, status: e.target.value })}>
              <option value="">Any status</option>
              {RUN_STATUSES.map((s) => <option key={s} value={s}>{STATUS_LABEL[s]}</option>)}
            </select>
          </div>
          <div className="field">
            <label htmlFor="f-from">From</label>
            <input id="f-from" type="date" className="input" value={filters.from} onChange={(e) => apply({ ...filters, from: e.target.value })} />
          </div>
          <div className="field">
            <label htmlFor="f-to">To</label>
            <input id="f-to" type="date" className="input" value={filters.to} onChange={(e) => apply({ ...filters, to: e.target.value })} />
          </div>
          {hasFilters(filters) && (
            <button type="button" className="btn ghost runs-clear" onClick={() => { setFlowInput(''); apply(EMPTY_FILTERS); }}>Clear filters</button>
          )}
        </div>

        <div className="runs-table-wrap">
          {error && <div className="ap-message">{error}</div>}
          <table className="runs-table" data-testid="runs-table">
            <thead>
              <tr>
                <th style={{ width: 150 }}>Status</th>
                <th>Flow</th>
                <th style={{ width: 110 }}>Run</th>
                <th>Inputs</th>
                <th style={{ width: 130 }}>Started</th>
                <th style={{ width: 90 }} className="num">Duration</th>
                <th style={{ width: 170 }} />
              </tr>
            </thead>
            <tbody>
              {rows.map((r) => {
                const href = runPageUrl(urls.runs, r.id);
                const d = durationMs(r.started_at ?? r.created_at, r.finished_at, now);
                const active = !isFinalRun(r.status);
                return (
                  <tr key={r.id} className={`run-row st-${r.status}`} data-testid="run-row" data-run-id={r.id} onClick={(e) => {
                    if ((e.target as HTMLElement).closest('button,a')) return;
                    location.href = href;
                  }}>
                    <td><StatusBadge status={r.status} /></td>
                    <td className="rt-flow">
                      <a href={href}>{r.flow_path || <span className="muted">preview</span>}</a>
                    </td>
                    <td><a href={href} className="mono faint">#{r.id.slice(0, 8)}</a></td>
                    <td className="mono rt-args" title={JSON.stringify(r.args ?? {})}>{argsPreview(r.args)}</td>
                    <td title={r.created_at ?? ''}>{formatRelative(r.created_at, now)}</td>
                    <td className="num mono">{formatDuration(d)}</td>
                    <td className="rt-actions">
                      {active && (
                        <button type="button" className="btn sm danger" data-testid="row-cancel" disabled={busy === r.id} onClick={() => setConfirmCancel(r)}>Cancel</button>
                      )}
                      <button type="button" className="btn sm" data-testid="row-rerun" disabled={busy === r.id} onClick={() => void doRerun(r)} title="Run again with the same inputs">↻ Re-run</button>
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
          {!loading && !rows.length && !error && (
            <div className="runs-empty">
              <div className="runs-empty-title">{hasFilters(filters) ? 'No run matches these filters' : 'No runs yet'}</div>
              <div className="muted">{hasFilters(filters) ? 'Try a wider date range or another status.' : <>Open a flow in the <a href={urls.flows}>editor</a> and press Run.</>}</div>
            </div>
          )}
          {loading && !rows.length && <div className="runs-empty"><span className="spinner" /></div>}
        </div>
        {(page?.previous || page?.next) && (
          <div className="runs-pager">
            <button type="button" className="btn sm" disabled={!page?.previous} onClick={() => setPageUrl(page?.previous ?? null)}>← Newer</button>
            <button type="button" className="btn sm" disabled={!page?.next} onClick={() => setPageUrl(page?.next ?? null)}>Older →</button>
          </div>
        )}
      </div>
      {confirmCancel && (
        <Modal title="Cancel this run?" onClose={() => setConfirmCancel(null)}
          footer={<><button type="button" className="btn" onClick={() => setConfirmCancel(null)}>Keep running</button>
            <button type="button" className="btn danger solid" data-testid="confirm-row-cancel" onClick={() => void doCancel(confirmCancel)}>Cancel run</button></>}>
          <span className="mono">{confirmCancel.flow_path || 'preview'}</span> <span className="faint mono">#{confirmCancel.id.slice(0, 8)}</span> stops now; running steps are stopped.
        </Modal>
      )}
      <Toasts toasts={toasts} />
    </div>
  );
}
