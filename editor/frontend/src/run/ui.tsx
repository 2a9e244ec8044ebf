/** Small shared UI bits of the run pages: modal, toasts, status badge. */
import { useCallback, useEffect, useRef, useState, type ReactNode } from 'react';
import { STATUS_LABEL } from './status';

export function Modal({ title, children, footer, onClose, testId }: { title: string; children: ReactNode; footer: ReactNode; onClose: () => void; testId?: string }) {
  useEffect(() => {
    const k = (e: KeyboardEvent) => e.key === 'Escape' && onClose();
    window.addEventListener('keydown', k);
    return () => window.removeEventListener('keydown', k);
  }, [onClose]);
  return (
    <div className="modal-backdrop" onMouseDown={(e) => e.target === e.currentTarget && onClose()}>
      <div className="modal" role="dialog" aria-label={title} data-testid={testId}>
        <div className="modal-head"><h2>{title}</h2><button type="button" className="btn ghost icon sm" onClick={onClose} aria-label="Close">✕</button></div>
        <div className="modal-body">{children}</div>
        <div className="modal-foot">{footer}</div>
      </div>
    </div>
  );
}

export interface Toast {
  id: number;
  text: string;
  error?: boolean;
}

export function useToasts(): [Toast[], (text: string, error?: boolean) => void] {
  const [toasts, setToasts] = useState<Toast[]>([]);
  const n = useRef(0);
  const push = useCallback((text: string, error = false) => {
    const id = ++n.current;
    setToasts((t) => [...t, { id, text, error }]);
    setTimeout(() => setToasts((t) => t.filter((x) => x.id !== id)), error ? 6000 : 3000);
  }, []);
  return [toasts, push];
}

export function Toasts({ toasts }: { toasts: Toast[] }) {
  return (
    <div className="toasts" aria-live="polite">
      {toasts.map((t) => <div key={t.id} className={`toast${t.error ? ' error' : ''}`}>{t.text}</div>)}
    </div>
  );
}

export function StatusBadge({ status, large, testId }: { status: string; large?: boolean; testId?: string }) {
  return (
    <span className={`badge ${status} status-badge${large ? ' lg' : ''}`} data-testid={testId} data-status={status}>
      {status === 'running' || status === 'queued' ? <span className="spinner" /> : <span className="status-dot" />}
      {STATUS_LABEL[status as keyof typeof STATUS_LABEL] ?? status}
    </span>
  );
}
