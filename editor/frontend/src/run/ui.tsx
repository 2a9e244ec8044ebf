/** Small shared UI bits of the run pages: toasts, status badge. */
import { useCallback, useRef, useState } from 'react';
import { STATUS_LABEL } from './status';

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
