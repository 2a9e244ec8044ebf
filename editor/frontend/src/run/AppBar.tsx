/** Top bar of the run pages: brand, navigation, theme toggle, user. */
import { useEffect, useState, type ReactNode } from 'react';
import type { PageProps } from '../props';
import { defaultUrls } from '../props';
import { effectiveTheme, setThemeChoice } from '../theme';

export function ThemeToggle() {
  const [theme, setTheme] = useState<'light' | 'dark'>(() => effectiveTheme());
  useEffect(() => {
    const h = (e: Event) => setTheme((e as CustomEvent).detail);
    window.addEventListener('ofs-theme', h);
    return () => window.removeEventListener('ofs-theme', h);
  }, []);
  const next = theme === 'dark' ? 'light' : 'dark';
  return (
    <button type="button" className="btn ghost icon" title={`Switch to ${next} theme`} aria-label={`Switch to ${next} theme`} data-testid="theme-toggle" onClick={() => setThemeChoice(next)}>
      {theme === 'dark' ? (
        <svg width="16" height="16" viewBox="0 0 24 24" fill="none" stroke="currentColor" strokeWidth="2" strokeLinecap="round"><circle cx="12" cy="12" r="4" /><path d="M12 2v2M12 20v2M4.9 4.9l1.4 1.4M17.7 17.7l1.4 1.4M2 12h2M20 12h2M4.9 19.1l1.4-1.4M17.7 6.3l1.4-1.4" /></svg>
      ) : (
        <svg width="16" height="16" viewBox="0 0 24 24" fill="none" stroke="currentColor" strokeWidth="2" strokeLinecap="round" strokeLinejoin="round"><path d="M20 14.5A8 8 0 0 1 9.5 4 8 8 0 1 0 20 14.5z" /></svg>
      )}
    </button>
  );
}

export function AppBar({ props, active, children }: { props: PageProps; active?: 'flows' | 'runs'; children?: ReactNode }) {
  const urls = { ...defaultUrls, ...(props.urls ?? {}) };
  const user = props.user;
  return (
    <header className="app-header">
      <a className="brand" href={user ? urls.flows : '#'}>
        <span className="brand-logo">
          <svg width="13" height="13" viewBox="0 0 24 24" fill="none" stroke="currentColor" strokeWidth="2.6" strokeLinecap="round" strokeLinejoin="round"><path d="M5 6h6v4H5zM13 14h6v4h-6zM8 10v2a2 2 0 0 0 2 2h3" /></svg>
        </span>
        OpenFlow Studio
      </a>
      {user && (
        <nav className="nav-links">
          <a href={urls.flows} className={active === 'flows' ? 'active' : ''}>Flows</a>
          <a href={urls.runs} className={active === 'runs' ? 'active' : ''}>Runs</a>
          {urls.docs && <a href={urls.docs}>API</a>}
        </nav>
      )}
      <div className="grow">{children}</div>
      <ThemeToggle />
      {user && (
        <form method="post" action={urls.logout} className="row">
          <span className="muted app-user">{user.username}</span>
          <input type="hidden" name="csrfmiddlewaretoken" value={String(props.csrf_token ?? '')} />
          <button type="submit" className="btn ghost sm">Log out</button>
        </form>
      )}
    </header>
  );
}
