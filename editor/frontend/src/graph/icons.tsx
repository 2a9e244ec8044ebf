import { memo, type ReactNode } from 'react';
import type { VisualKind } from '../lib/kinds';

const P = (d: string) => <path d={d} />;

/** White glyphs drawn on a 24×24 grid (stroke icons). */
const GLYPHS: Partial<Record<VisualKind, ReactNode>> = {
  script: (<>{P('M7 3h7l5 5v13H7z')}{P('M14 3v5h5')}{P('M10.5 12.5 8.8 14.5l1.7 2')}{P('m14 12.5 1.7 2-1.7 2')}</>),
  flow: (<>{P('M12 3 3 7.5l9 4.5 9-4.5z')}{P('m3 12 9 4.5 9-4.5')}{P('m3 16.5 9 4.5 9-4.5')}</>),
  forloop: (<>{P('M17 2.5 20.5 6 17 9.5')}{P('M3.5 11V9.5A3.5 3.5 0 0 1 7 6h13.5')}{P('M7 21.5 3.5 18 7 14.5')}{P('M20.5 13v1.5A3.5 3.5 0 0 1 17 18H3.5')}</>),
  whileloop: (<>{P('M20 12a8 8 0 1 1-2.34-5.66')}{P('M20 4v5h-5')}{P('M12 8.5V12l2.5 1.5')}</>),
  branchone: (<>{P('M6 3v6')}{P('M6 9c0 4 12 3 12 9v3')}{P('M6 9v12')}<circle cx="18" cy="6" r="2.4" />{P('M18 8.4V11')}</>),
  branchall: (<>{P('M12 3v6')}{P('M12 9 5 15v6')}{P('M12 9v12')}{P('m12 9 7 6v6')}</>),
  identity: (<>{P('M4 12h15')}{P('m14 7 5 5-5 5')}</>),
  approval: (<>{P('M12 2.8 4 6v6c0 4.6 3.4 8.4 8 9.2 4.6-.8 8-4.6 8-9.2V6z')}{P('m8.5 12 2.5 2.5 4.5-5')}</>),
  input: (<>{P('M10 17l5-5-5-5')}{P('M15 12H3')}{P('M15 3h4a2 2 0 0 1 2 2v14a2 2 0 0 1-2 2h-4')}</>),
  result: (<>{P('M5 21V4')}{P('M5 4h12l-2.5 4L17 12H5')}</>),
  failure: (<>{P('M12 3 2.5 20h19z')}{P('M12 10v4.5')}{P('M12 17.3v.2')}</>),
  unknown: (<><circle cx="12" cy="12" r="8" /></>),
};

const TEXT: Partial<Record<VisualKind, string>> = { python: 'Py', deno: 'TS', bash: '$_', rawscript: '</>' };

export const KindIcon = memo(function KindIcon({ kind, size = 30 }: { kind: VisualKind; size?: number }) {
  const text = TEXT[kind];
  return (
    <span className={`kind-icon kind-${kind}`} style={{ width: size, height: size }} aria-hidden>
      {text ? (
        <span className="kind-icon-text" style={{ fontSize: Math.round(size * 0.4) }}>{text}</span>
      ) : (
        <svg width={size * 0.62} height={size * 0.62} viewBox="0 0 24 24" fill="none" stroke="currentColor" strokeWidth={2} strokeLinecap="round" strokeLinejoin="round">
          {GLYPHS[kind] ?? GLYPHS.unknown}
        </svg>
      )}
    </span>
  );
});

/** Small UI icons. */
export function Icon({ name, size = 16 }: { name: string; size?: number }) {
  const paths: Record<string, ReactNode> = {
    plus: (<>{P('M12 5v14')}{P('M5 12h14')}</>),
    close: (<>{P('M6 6l12 12')}{P('M18 6 6 18')}</>),
    trash: (<>{P('M4 7h16')}{P('M10 11v6')}{P('M14 11v6')}{P('M6 7l1 13h10l1-13')}{P('M9 7V4h6v3')}</>),
    copy: (<><rect x="9" y="9" width="11" height="11" rx="2" />{P('M5 15V6a2 2 0 0 1 2-2h8')}</>),
    undo: (<>{P('M9 14 4 9l5-5')}{P('M4 9h10.5a5.5 5.5 0 0 1 0 11H11')}</>),
    redo: (<>{P('m15 14 5-5-5-5')}{P('M20 9H9.5a5.5 5.5 0 0 0 0 11H13')}</>),
    save: (<>{P('M5 3h11l3 3v15H5z')}{P('M8 3v5h7V3')}<rect x="8" y="13" width="8" height="6" /></>),
    play: (<>{P('M7 4v16l13-8z')}</>),
    code: (<>{P('m9 8-5 4 5 4')}{P('m15 8 5 4-5 4')}</>),
    history: (<>{P('M3 12a9 9 0 1 0 3-6.7L3 8')}{P('M3 3v5h5')}{P('M12 7v5l3 2')}</>),
    sun: (<><circle cx="12" cy="12" r="4" />{P('M12 2v2M12 20v2M4.9 4.9l1.4 1.4M17.7 17.7l1.4 1.4M2 12h2M20 12h2M4.9 19.1l1.4-1.4M17.7 6.3l1.4-1.4')}</>),
    moon: (<>{P('M20 14.5A8 8 0 0 1 9.5 4 8 8 0 1 0 20 14.5z')}</>),
    search: (<><circle cx="11" cy="11" r="7" />{P('m20 20-4-4')}</>),
    keyboard: (<><rect x="2" y="6" width="20" height="12" rx="2" />{P('M6 10h.01M10 10h.01M14 10h.01M18 10h.01M7 14h10')}</>),
    check: (<>{P('m5 12 5 5 9-10')}</>),
    alert: (<><circle cx="12" cy="12" r="9" />{P('M12 8v5')}{P('M12 16h.01')}</>),
    chevronRight: (<>{P('m9 6 6 6-6 6')}</>),
    chevronDown: (<>{P('m6 9 6 6 6-6')}</>),
    up: (<>{P('m6 15 6-6 6 6')}</>),
    down: (<>{P('m6 9 6 6 6-6')}</>),
    upload: (<>{P('M12 15V3')}{P('m7 8 5-5 5 5')}{P('M4 15v5h16v-5')}</>),
    back: (<>{P('M15 6l-6 6 6 6')}</>),
    braces: (<>{P('M8 3H7a2 2 0 0 0-2 2v4a2 2 0 0 1-2 2 2 2 0 0 1 2 2v4a2 2 0 0 0 2 2h1')}{P('M16 3h1a2 2 0 0 1 2 2v4a2 2 0 0 0 2 2 2 2 0 0 0-2 2v4a2 2 0 0 1-2 2h-1')}</>),
    dots: (<>{P('M5 12h.01M12 12h.01M19 12h.01')}</>),
    fit: (<>{P('M4 9V4h5M20 9V4h-5M4 15v5h5M20 15v5h-5')}</>),
    link: (<>{P('M10 14a4 4 0 0 0 5.7 0l3-3a4 4 0 0 0-5.7-5.7l-1 1')}{P('M14 10a4 4 0 0 0-5.7 0l-3 3a4 4 0 0 0 5.7 5.7l1-1')}</>),
  };
  return (
    <svg width={size} height={size} viewBox="0 0 24 24" fill="none" stroke="currentColor" strokeWidth={2} strokeLinecap="round" strokeLinejoin="round" aria-hidden>
      {paths[name] ?? null}
    </svg>
  );
}
