import type { ReactNode } from 'react';
import { useSession } from '../auth/session.tsx';
import { Link } from './Link.tsx';
import { useLocation } from './router.ts';

const NAV = [
  { href: '/machines', label: 'Machines' },
  { href: '/racks', label: 'Racks' },
  { href: '/subnets', label: 'Subnets' },
  { href: '/clusters', label: 'Clusters' },
  { href: '/cost', label: 'Cost' },
];

export function Shell({ children }: { children: ReactNode }) {
  const { me, signOut } = useSession();
  const { path } = useLocation();
  return (
    <div className="shell">
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <Link href="/machines" className="brand">
          <span className="brand-mark" aria-hidden="true" /> Ingot
        </Link>
        <nav aria-label="Main">
          <ul>
            {NAV.map((n) => (
              <li key={n.href}>
                <Link href={n.href} aria-current={path.startsWith(n.href) ? 'page' : undefined}>
                  {n.label}
                </Link>
              </li>
            ))}
          </ul>
        </nav>
        <div className="whoami">
          <span title="The token you signed in with">
            {me.name} <span className={`role role-${me.role}`}>{me.role}</span>
          </span>
          <button type="button" className="ghost" onClick={signOut}>
            Sign out
          </button>
        </div>
      </header>
      <main id="main" tabIndex={-1}>
        {children}
      </main>
    </div>
  );
}
