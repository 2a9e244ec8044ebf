import { useEffect, useState } from 'react';
import { effectiveTheme, getThemeChoice, setThemeChoice } from '../theme';
import { Icon } from '../graph/icons';

/** Toggle light/dark (stored in localStorage); the default follows the system. */
export function ThemeToggle() {
  const [eff, setEff] = useState(effectiveTheme(getThemeChoice()));
  useEffect(() => {
    const h = (e: Event) => setEff((e as CustomEvent).detail);
    window.addEventListener('ofs-theme', h);
    return () => window.removeEventListener('ofs-theme', h);
  }, []);
  return (
    <button
      type="button"
      className="btn ghost icon"
      data-testid="theme-toggle"
      title={eff === 'dark' ? 'Switch to light mode' : 'Switch to dark mode'}
      onClick={() => setThemeChoice(eff === 'dark' ? 'light' : 'dark')}
    >
      <Icon name={eff === 'dark' ? 'sun' : 'moon'} />
    </button>
  );
}
