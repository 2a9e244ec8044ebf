/** Flow list: search, create, duplicate, delete (with confirmation), import a JSON/YAML file. */
import { useCallback, useEffect, useRef, useState } from 'react';
import YAML from 'yaml';
import './flows.css';
import type { PageProps } from '../props';
import { api, configureApi, encodePath, type Page } from '../api';
import { AppBar } from '../run/AppBar';
import { Icon } from '../graph/icons';
import { Modal } from '../Modal';
import { useToasts } from '../ui/toasts';
import type { OpenFlow } from '../lib/openflow';
import { countLabel } from '../lib/text';

interface FlowItem { path: string; summary: string; description?: string; owner?: string; updated_at?: string; version?: number | null }

function ago(iso?: string): string {
  if (!iso) return '';
  const s = (Date.now() - new Date(iso).getTime()) / 1000;
  if (s < 60) return 'just now';
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ago`;
  return new Date(iso).toLocaleDateString();
}

export default function FlowsPage({ props }: { props: PageProps }) {
  configureApi({ csrfToken: props.csrf_token, base: props.urls?.api });
  const [q, setQ] = useState('');
  const [data, setData] = useState<Page<FlowItem> | null>(null);
  const [err, setErr] = useState('');
  const [confirmDel, setConfirmDel] = useState<FlowItem | null>(null);
  const [dup, setDup] = useState<{ from: FlowItem; path: string } | null>(null);
  const [imp, setImp] = useState<{ flow: OpenFlow; path: string; name: string } | null>(null);
  const fileRef = useRef<HTMLInputElement>(null);
  const { toast, toasts } = useToasts();
  const me = props.user?.username ?? 'me';

  const load = useCallback(() => {
    api.get<Page<FlowItem>>('flows/', { search: q || undefined, page_size: 200 }).then((d) => { setData(d); setErr(''); }, (e) => setErr(e.message));
  }, [q]);
  useEffect(() => {
    const t = setTimeout(load, q ? 200 : 0);
    return () => clearTimeout(t);
  }, [load, q]);

  const doDelete = async (f: FlowItem) => {
    try {
      await api.del(`flows/${encodePath(f.path)}`);
      setConfirmDel(null);
      toast(`Deleted ${f.path}`);
      load();
    } catch (e) {
      toast((e as Error).message, true);
    }
  };
  const doDuplicate = async () => {
    if (!dup) return;
    try {
      const src = await api.get<OpenFlow & { path: string }>(`flows/${encodePath(dup.from.path)}`);
      await api.post('flows/', { ...src, path: dup.path, summary: `${src.summary} (copy)` });
      setDup(null);
      window.location.href = `/flows/${dup.path}/edit`;
    } catch (e) {
      toast((e as Error).message, true);
    }
  };
  const onFile = async (file: File) => {
    try {
      const text = await file.text();
      const v = /\.ya?ml$/i.test(file.name) ? YAML.parse(text) : JSON.parse(text);
      if (!v?.value?.modules) throw new Error('This file is not an OpenFlow object (value.modules is missing)');
      const base = file.name.replace(/\.(json|ya?ml)$/i, '').replace(/[^A-Za-z0-9_]/g, '_');
      setImp({ flow: v, path: typeof v.path === 'string' ? v.path : `u/${me}/${base}`, name: file.name });
    } catch (e) {
      toast(`Import failed: ${(e as Error).message}`, true);
    }
  };
  const doImport = async () => {
    if (!imp) return;
    try {
      await api.post('flows/', { ...imp.flow, path: imp.path });
      setImp(null);
      toast(`Imported ${imp.path}`);
      load();
    } catch (e) {
      toast((e as Error).message, true);
    }
  };

  return (
    <div className="flows-page">
      <AppBar props={props} active="flows" />
      <main className="flows-main">
        <div className="flows-head">
          <div>
            <h1>Flows</h1>
            <p className="muted">{data ? `${data.count} flow${data.count === 1 ? '' : 's'}` : ' '}</p>
          </div>
          <span className="grow" />
          <div className="search-box">
            <Icon name="search" size={15} />
            <input className="input" placeholder="Search by path or summary" value={q} onChange={(e) => setQ(e.target.value)} data-testid="flow-search" />
          </div>
          <input ref={fileRef} type="file" accept=".json,.yaml,.yml,application/json" hidden onChange={(e) => { const f = e.target.files?.[0]; if (f) void onFile(f); e.target.value = ''; }} data-testid="import-file" />
          <button className="btn" onClick={() => fileRef.current?.click()} data-testid="import"><Icon name="upload" size={14} /> Import</button>
          <a className="btn primary" href="/flows/new" data-testid="new-flow"><Icon name="plus" size={14} /> New flow</a>
        </div>
        {err && <div className="error-text">{err}</div>}
        {data && data.results.length === 0 && (
          <div className="empty-state">
            <h3>{q ? 'No flow matches your search' : 'No flows yet'}</h3>
            <p className="muted">Create a flow on the canvas, or import a Windmill JSON/YAML export.</p>
            {!q && <a className="btn primary" href="/flows/new"><Icon name="plus" size={14} /> Create your first flow</a>}
          </div>
        )}
        {data && data.results.length > 0 && (
          <div className="flow-table" role="table">
            {data.results.map((f) => (
              <div key={f.path} className="flow-row" role="row" data-testid={`flow-row-${f.path}`}>
                <a className="flow-row-main" href={`/flows/${f.path}/edit`}>
                  <div className="flow-summary">{f.summary || <span className="faint">Untitled</span>}</div>
                  <div className="flow-path mono">{f.path}</div>
                  {f.description && <div className="flow-desc muted">{f.description}</div>}
                </a>
                <div className="flow-meta muted">
                  {f.version ? <span className="badge">v{f.version}</span> : null}
                  <span>{ago(f.updated_at)}</span>
                  {f.owner && <span>· {f.owner}</span>}
                </div>
                <div className="flow-actions">
                  <a className="btn ghost sm" href={`/runs/?flow=${encodeURIComponent(f.path)}`}>Runs</a>
                  <button className="btn ghost sm" onClick={() => setDup({ from: f, path: `${f.path}_copy` })} title="Duplicate" data-testid={`duplicate-${f.path}`}><Icon name="copy" size={14} /></button>
                  <button className="btn ghost sm danger" onClick={() => setConfirmDel(f)} title="Delete" data-testid={`delete-${f.path}`}><Icon name="trash" size={14} /></button>
                </div>
              </div>
            ))}
          </div>
        )}
      </main>
      {confirmDel && (
        <Modal title="Delete flow?" onClose={() => setConfirmDel(null)} footer={<><button className="btn" onClick={() => setConfirmDel(null)}>Cancel</button><button className="btn danger solid" onClick={() => void doDelete(confirmDel)} data-testid="confirm-delete">Delete</button></>}>
          <p>This deletes <b className="mono">{confirmDel.path}</b> and its version history. Runs already made keep their copy of the flow.</p>
        </Modal>
      )}
      {dup && (
        <Modal title="Duplicate flow" onClose={() => setDup(null)} footer={<><button className="btn" onClick={() => setDup(null)}>Cancel</button><button className="btn primary" onClick={() => void doDuplicate()} data-testid="confirm-duplicate">Duplicate</button></>}>
          <div className="field"><label>New path</label><input className="input mono" value={dup.path} onChange={(e) => setDup({ ...dup, path: e.target.value })} autoFocus /></div>
        </Modal>
      )}
      {imp && (
        <Modal title={`Import ${imp.name}`} onClose={() => setImp(null)} footer={<><button className="btn" onClick={() => setImp(null)}>Cancel</button><button className="btn primary" onClick={() => void doImport()} data-testid="confirm-import">Import</button></>}>
          <p><b>{imp.flow.summary || 'Untitled'}</b> · {countLabel(imp.flow.value.modules.length, 'top-level step')}</p>
          <div className="field"><label>Save as path</label><input className="input mono" value={imp.path} onChange={(e) => setImp({ ...imp, path: e.target.value })} /></div>
        </Modal>
      )}
      {toasts}
    </div>
  );
}
