import { StrictMode, type ComponentType } from 'react';
import { createRoot } from 'react-dom/client';
import './theme.css';
import { initTheme } from './theme';
import type { PageProps } from './props';

type PageModule = { default: ComponentType<{ props: PageProps }> };

const pages: Record<string, () => Promise<PageModule>> = {
  flows: () => import('./flows/FlowsPage'),
  editor: () => import('./editor/EditorPage'),
  run: () => import('./run/RunPage'),
  runs: () => import('./runs/RunsPage'),
  approval: () => import('./approval/ApprovalPage'),
};

function readProps(): PageProps {
  const el = document.getElementById('app-props');
  if (!el?.textContent) return {} as PageProps;
  try {
    return JSON.parse(el.textContent) as PageProps;
  } catch {
    return {} as PageProps;
  }
}

export function mount(): void {
  const root = document.getElementById('app');
  if (!root) return;
  performance.mark('ofs-main');
  initTheme();
  const page = root.dataset.page ?? 'flows';
  const loader = pages[page];
  const props = readProps();
  if (!loader) {
    root.textContent = `Unknown page "${page}"`;
    return;
  }
  // load the page module first, then render (no Suspense fallback: React throttles fallback reveals by ~300 ms)
  root.innerHTML = '<div class="page-loading">Loading…</div>';
  loader().then(
    ({ default: Page }) => {
      root.innerHTML = '';
      createRoot(root).render(
        <StrictMode>
          <Page props={props} />
        </StrictMode>,
      );
    },
    (e: unknown) => {
      root.textContent = `Could not load the page: ${String(e)}`;
    },
  );
}

mount();
