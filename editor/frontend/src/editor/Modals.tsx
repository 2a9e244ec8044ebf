/** Editor modals: JSON/YAML view, versions with diff, shortcut sheet, test-flow form. */
import { useEffect, useMemo, useState } from 'react';
import { Modal } from '../Modal';
import YAML from 'yaml';
import type { OpenFlow, JSONSchema } from '../lib/openflow';
import { api, encodePath, type Page } from '../api';
import { compact, diffLines } from '../lib/diff';
import { CodeEditor } from './CodeEditor';
import { SchemaForm, missingRequired } from './SchemaForm';
import { Icon } from '../graph/icons';

export function parseFlowText(text: string, format: 'json' | 'yaml'): OpenFlow {
  const v = format === 'json' ? JSON.parse(text) : YAML.parse(text);
  if (!v || typeof v !== 'object' || !v.value || !Array.isArray(v.value.modules)) throw new Error('Not an OpenFlow object: it needs value.modules');
  return v as OpenFlow;
}

export function SourceModal({ flow, onApply, onClose }: { flow: OpenFlow; onApply: (f: OpenFlow) => void; onClose: () => void }) {
  const [format, setFormat] = useState<'json' | 'yaml'>('json');
  const render = (f: 'json' | 'yaml') => (f === 'json' ? JSON.stringify(flow, null, 2) : YAML.stringify(flow));
  const [text, setText] = useState(() => render('json'));
  const [err, setErr] = useState('');
  const switchTo = (f: 'json' | 'yaml') => {
    try {
      const cur = parseFlowText(text, format);
      setText(f === 'json' ? JSON.stringify(cur, null, 2) : YAML.stringify(cur));
      setFormat(f);
      setErr('');
    } catch (e) {
      setErr((e as Error).message);
    }
  };
  const apply = () => {
    try {
      onApply(parseFlowText(text, format));
      onClose();
    } catch (e) {
      setErr((e as Error).message);
    }
  };
  return (
    <Modal title="Flow source" onClose={onClose} wide testId="source-modal"
      footer={<><span className="error-text grow">{err}</span><button className="btn" onClick={onClose}>Cancel</button><button className="btn primary" onClick={apply} data-testid="source-apply">Apply changes</button></>}>
      <div className="row" style={{ marginBottom: 8 }}>
        <div className="seg">
          <button type="button" className={format === 'json' ? 'on' : ''} onClick={() => format !== 'json' && switchTo('json')}>JSON</button>
          <button type="button" className={format === 'yaml' ? 'on' : ''} onClick={() => format !== 'yaml' && switchTo('yaml')}>YAML</button>
        </div>
        <span className="hint">Edit the whole flow; Apply updates the graph (undo with Ctrl+Z).</span>
      </div>
      <CodeEditor key={format} lang={format === 'json' ? 'json' : 'yaml'} value={text} onChange={setText} minHeight={420} maxHeight={560} testId="source-editor" />
    </Modal>
  );
}

interface VersionItem { number: number; created_at: string; created_by?: string; summary?: string; message?: string }

export function VersionsModal({ path, current, onClose, onRestored }: { path: string; current: OpenFlow; onClose: () => void; onRestored: () => void }) {
  const [versions, setVersions] = useState<VersionItem[] | null>(null);
  const [err, setErr] = useState('');
  const [sel, setSel] = useState<number | null>(null);
  const [other, setOther] = useState<OpenFlow | null>(null);
  useEffect(() => {
    api.get<Page<VersionItem>>(`flows/${encodePath(path)}/versions`).then((p) => setVersions(p.results), (e) => setErr(e.message));
  }, [path]);
  useEffect(() => {
    if (sel === null) return;
    setOther(null);
    api.get<OpenFlow>(`flows/${encodePath(path)}/versions/${sel}`).then((f) => {
      const { path: _p, ...rest } = f as OpenFlow & { path?: string };
      void _p;
      setOther(rest as OpenFlow);
    }, (e) => setErr(e.message));
  }, [sel, path]);
  const diff = useMemo(() => (other ? compact(diffLines(JSON.stringify(other, null, 2), JSON.stringify(current, null, 2))) : []), [other, current]);
  const restore = async () => {
    if (sel === null) return;
    try {
      await api.post(`flows/${encodePath(path)}/versions/${sel}/restore`);
      onRestored();
      onClose();
    } catch (e) {
      setErr((e as Error).message);
    }
  };
  return (
    <Modal title="Version history" onClose={onClose} wide testId="versions-modal"
      footer={<><span className="error-text grow">{err}</span><button className="btn" onClick={onClose}>Close</button><button className="btn primary" disabled={sel === null} onClick={restore} data-testid="restore-version">Restore version {sel ?? ''}</button></>}>
      <div className="versions">
        <div className="versions-list">
          {versions === null && !err && <div className="hint">Loading…</div>}
          {versions?.length === 0 && <div className="hint">Not saved yet.</div>}
          {versions?.map((v) => (
            <button key={v.number} type="button" className={`version-item${sel === v.number ? ' on' : ''}`} onClick={() => setSel(v.number)}>
              <b>v{v.number}</b> <span className="hint">{new Date(v.created_at).toLocaleString()}</span>
              <div className="hint">{v.created_by ?? ''} {v.message ? `· ${v.message}` : ''}</div>
            </button>
          ))}
        </div>
        <div className="versions-diff">
          {sel === null ? <div className="hint">Pick a version to compare it with the editor's current flow.</div> : !other ? <div className="hint">Loading…</div> : (
            <>
              <div className="hint">Changes from v{sel} to the current editor content</div>
              <pre className="diff">
                {diff.every((l) => !l || l.op === ' ') ? <span className="hint">Identical.</span> : diff.map((l, i) => l === null ? <div key={i} className="diff-gap">⋯</div> : <div key={i} className={`diff-${l.op === '+' ? 'add' : l.op === '-' ? 'del' : 'ctx'}`}>{l.op} {l.text}</div>)}
              </pre>
            </>
          )}
        </div>
      </div>
    </Modal>
  );
}

export const SHORTCUTS: Array<[string, string]> = [
  ['Ctrl S', 'Save'], ['Ctrl Z', 'Undo'], ['Ctrl Shift Z', 'Redo'], ['Ctrl C', 'Copy step'], ['Ctrl V', 'Paste after the selected step'],
  ['Ctrl D', 'Duplicate step'], ['Delete', 'Delete step'], ['Esc', 'Close panel / deselect'], ['?', 'This sheet'], ['Ctrl Enter', 'Test flow'],
];

export function ShortcutSheet({ onClose }: { onClose: () => void }) {
  return (
    <Modal title="Keyboard shortcuts" onClose={onClose} testId="shortcut-sheet">
      <table className="shortcuts">
        <tbody>
          {SHORTCUTS.map(([k, d]) => (
            <tr key={k}><td>{k.split(' ').map((x) => <kbd key={x}>{x}</kbd>)}</td><td>{d}</td></tr>
          ))}
        </tbody>
      </table>
      <p className="hint">Drag a step from the palette onto any edge or empty body. Drag a step on the canvas to move it. Click “+” on an edge for a menu.</p>
    </Modal>
  );
}

export function TestFlowModal({ schema, args, onRun, onClose }: { schema: JSONSchema | undefined; args: Record<string, unknown>; onRun: (args: Record<string, unknown>) => void; onClose: () => void }) {
  const [value, setValue] = useState(args);
  const missing = missingRequired(schema, value);
  return (
    <Modal title="Test flow" onClose={onClose} testId="test-modal"
      footer={<><span className="hint grow">{missing.length ? `Required: ${missing.join(', ')}` : ''}</span><button className="btn" onClick={onClose}>Cancel</button><button className="btn primary" disabled={missing.length > 0} onClick={() => onRun(value)} data-testid="test-run"><Icon name="play" size={13} /> Run</button></>}>
      <SchemaForm schema={schema} value={value} onChange={setValue} />
    </Modal>
  );
}
