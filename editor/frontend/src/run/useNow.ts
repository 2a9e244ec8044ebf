import { useEffect, useState } from 'react';

/** Current time, re-rendering every `every` ms while `active`. */
export function useNow(active = true, every = 1000): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (!active) return;
    setNow(Date.now());
    const t = setInterval(() => setNow(Date.now()), every);
    return () => clearInterval(t);
  }, [active, every]);
  return now;
}
