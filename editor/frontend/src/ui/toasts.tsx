import { useCallback, useState, type ReactNode } from 'react';

export function useToasts(): { toast: (msg: string, error?: boolean) => void; toasts: ReactNode } {
  const [items, setItems] = useState<Array<{ id: number; msg: string; error?: boolean }>>([]);
  const toast = useCallback((msg: string, error?: boolean) => {
    const id = Date.now() + Math.random();
    setItems((xs) => [...xs.slice(-3), { id, msg, error }]);
    setTimeout(() => setItems((xs) => xs.filter((x) => x.id !== id)), error ? 6000 : 2600);
  }, []);
  const toasts = (
    <div className="toasts" role="status">
      {items.map((t) => <div key={t.id} className={`toast${t.error ? ' error' : ''}`}>{t.msg}</div>)}
    </div>
  );
  return { toast, toasts };
}
