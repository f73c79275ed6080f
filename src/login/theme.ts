/**
 * The login pages' look, from config: `frontend` (Dex's top-level key) or `web.frontend` — issuer
 * name, logo, light/dark/auto theme and extra CSS. Resolved once per mount, never re-read.
 */
import type { Config } from '../config/load.js';

export interface Theme {
  /** Shown in the header and page titles ("Acme Login"). */
  issuerName: string;
  /** The logo's URL; idgate's own logo under /static by default. */
  logoURL: string;
  /** `auto` follows the browser's prefers-color-scheme. */
  mode: 'light' | 'dark' | 'auto';
  /** Appended to /static/style.css. */
  extraCSS: string;
  /** The issuer path ("" or "/dex"): every page link starts with it. */
  basePath: string;
}

export function resolveTheme(config: Config, basePath: string): Theme {
  const frontend = config.frontend ?? config.web.frontend;
  return {
    issuerName: frontend?.issuer ?? 'idgate',
    logoURL: frontend?.logoURL ?? `${basePath}/static/logo.svg`,
    mode: frontend?.theme ?? 'auto',
    extraCSS: frontend?.extraCSS ?? '',
    basePath,
  };
}
