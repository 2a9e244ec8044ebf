import { useEffect, useRef } from 'react';
import { KINDS, type KindId } from '../lib/kinds';
import { KindIcon, Icon } from './icons';

export function InsertMenu({ x, y, onPick, onPaste, onClose }: { x: number; y: number; onPick: (k: KindId) => void; onPaste?: () => void; onClose: () => void }) {
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const down = (e: PointerEvent) => {
      if (ref.current && !ref.current.contains(e.target as Node)) onClose();
    };
    const key = (e: KeyboardEvent) => {
      if (e.key === 'Escape') onClose();
    };
    window.addEventListener('pointerdown', down, true);
    window.addEventListener('keydown', key);
    ref.current?.querySelector<HTMLButtonElement>('button')?.focus();
    return () => {
      window.removeEventListener('pointerdown', down, true);
      window.removeEventListener('keydown', key);
    };
  }, [onClose]);
  const groups = ['Scripts', 'Flow control', 'Other'] as const;
  // keep the menu on screen
  const left = Math.min(x, window.innerWidth - 250);
  const top = Math.min(y, window.innerHeight - 430);
  return (
    <div className="insert-menu" ref={ref} style={{ left, top }} role="menu" data-testid="insert-menu">
      {groups.map((g) => (
        <div key={g} className="insert-menu-group">
          <div className="insert-menu-title">{g}</div>
          {KINDS.filter((k) => k.group === g).map((k) => (
            <button key={k.id} type="button" role="menuitem" className="insert-menu-item" onClick={() => onPick(k.id)} data-kind={k.id}>
              <KindIcon kind={k.id} size={22} />
              <span>{k.label}</span>
            </button>
          ))}
        </div>
      ))}
      {onPaste && (
        <div className="insert-menu-group">
          <button type="button" className="insert-menu-item" onClick={onPaste}>
            <span className="menu-icon"><Icon name="copy" size={14} /></span>
            <span>Paste step</span>
          </button>
        </div>
      )}
    </div>
  );
}
