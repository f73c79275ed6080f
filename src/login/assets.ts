/**
 * The login pages' static assets, served by the app itself so the CSP can stay `style-src 'self'`
 * with no inline styles: the stylesheet (plus the configured extraCSS), the default logo, and the
 * scripts: the auto-submit of SAML and form_post pages (which also offer a button without JavaScript)
 * and the passkey page's WebAuthn calls (webauthn-script.ts).
 */
import { WEBAUTHN_SCRIPT } from './webauthn-script.js';

const STYLES = `
:root{--bg:#f4f5f8;--card:#fff;--text:#1b1f2a;--muted:#5b6474;--border:#d7dbe3;--control-border:#7a8294;--accent:#3855d6;
--accent-text:#fff;--accent-hover:#2b45b8;--danger:#b42318;--danger-bg:#fdecea;--focus:#3855d6;
--shadow:0 1px 2px rgba(16,24,40,.06),0 8px 24px rgba(16,24,40,.08);color-scheme:light}
:root[data-theme=dark]{--bg:#0f1218;--card:#181c25;--text:#e7e9ee;--muted:#a3aab8;--border:#2c3342;--control-border:#767f90;
--accent:#7b93ff;--accent-text:#0b0e14;--accent-hover:#98acff;--danger:#ff8a80;--danger-bg:#3a1d1d;
--focus:#98acff;--shadow:0 1px 2px rgba(0,0,0,.4),0 8px 24px rgba(0,0,0,.35);color-scheme:dark}
@media (prefers-color-scheme:dark){:root[data-theme=auto]{--bg:#0f1218;--card:#181c25;--text:#e7e9ee;
--muted:#a3aab8;--border:#2c3342;--control-border:#767f90;--accent:#7b93ff;--accent-text:#0b0e14;--accent-hover:#98acff;
--danger:#ff8a80;--danger-bg:#3a1d1d;--focus:#98acff;--shadow:0 1px 2px rgba(0,0,0,.4),0 8px 24px rgba(0,0,0,.35);color-scheme:dark}}
*{box-sizing:border-box}
html{font-family:system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;font-size:16px;line-height:1.5}
body{margin:0;min-height:100vh;display:flex;flex-direction:column;align-items:center;justify-content:center;
background:var(--bg);color:var(--text);padding:24px 16px}
main{width:100%;max-width:400px;background:var(--card);border:1px solid var(--border);border-radius:14px;
box-shadow:var(--shadow);padding:32px 32px 28px}
.brand{display:flex;align-items:center;gap:12px;margin-bottom:24px;font-weight:600;font-size:1.05rem}
.brand img{width:36px;height:36px;object-fit:contain}
h1{font-size:1.45rem;line-height:1.25;margin:0 0 8px;font-weight:650;letter-spacing:-.01em}
p{margin:0 0 16px}
.lead{color:var(--muted);margin-bottom:24px}
.field{margin-bottom:18px}
label{display:block;font-weight:550;margin-bottom:6px;font-size:.95rem}
input[type=text],input[type=email],input[type=password]{width:100%;padding:11px 12px;font:inherit;color:var(--text);
background:var(--card);border:1px solid var(--control-border);border-radius:8px;transition:border-color .15s}
input:focus{outline:3px solid var(--focus);outline-offset:1px;border-color:var(--focus)}
input[aria-invalid=true]{border-color:var(--danger)}
.button{display:flex;align-items:center;justify-content:center;gap:10px;width:100%;padding:11px 16px;font:inherit;
font-weight:600;border-radius:8px;border:1px solid transparent;cursor:pointer;text-decoration:none;
background:var(--accent);color:var(--accent-text);transition:background .15s}
.button:hover{background:var(--accent-hover)}
.button.secondary{background:transparent;color:var(--text);border-color:var(--control-border)}
.button.secondary:hover{background:color-mix(in srgb,var(--text) 6%,transparent)}
.button:focus-visible,a:focus-visible{outline:3px solid var(--focus);outline-offset:2px}
.connectors{list-style:none;margin:0;padding:0;display:grid;gap:10px}
.actions{display:grid;gap:10px;margin-top:24px}
.error{background:var(--danger-bg);color:var(--danger);border-radius:8px;padding:10px 12px;margin:0 0 18px;font-size:.95rem}
.scopes{margin:0 0 8px;padding-left:20px}
.scopes li{margin-bottom:4px}
h2{font-size:1.1rem;margin:24px 0 8px;font-weight:650}
.consents{list-style:none;margin:0 0 8px;padding:0;display:grid;gap:16px}
.consent h3{font-size:1rem;margin:0 0 6px;font-weight:600}
.consent .meta{margin:4px 0 8px}
.meta{color:var(--muted);font-size:.85rem;margin-top:20px;word-break:break-all}
a{color:var(--accent)}
footer{margin-top:20px;color:var(--muted);font-size:.8rem}
.qr{display:flex;justify-content:center;margin:0 0 12px}
.qr img{background:#fff;border-radius:8px;border:1px solid var(--control-border)}
code.secret{font-size:.95rem;letter-spacing:.04em;word-break:break-word}
.recovery-codes{list-style:none;margin:0 0 8px;padding:0;display:grid;grid-template-columns:repeat(2,minmax(0,1fr));gap:8px}
.recovery-codes code{display:block;padding:6px 8px;border:1px solid var(--control-border);border-radius:6px;text-align:center}
.alternatives ul{list-style:none;margin:20px 0 0;padding:0;display:grid;gap:8px}
.visually-hidden{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
`;

const LOGO = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 64"><defs><linearGradient id="g" x1="0" y1="0" x2="1" y2="1">
<stop offset="0" stop-color="#5b7cff"/><stop offset="1" stop-color="#3344c4"/></linearGradient></defs>
<rect width="64" height="64" rx="14" fill="url(#g)"/><path d="M32 14l14 6v10c0 9-6 16-14 20-8-4-14-11-14-20V20z" fill="#fff" opacity=".95"/>
<path d="M26 32l5 5 9-10" fill="none" stroke="#3344c4" stroke-width="4" stroke-linecap="round" stroke-linejoin="round"/></svg>`;

const AUTOSUBMIT = `document.addEventListener('DOMContentLoaded',function(){var f=document.getElementById('autosubmit');if(f)f.submit();});\n`;

export interface Asset {
  type: string;
  body: string;
}

export function loginAssets(extraCSS: string): Map<string, Asset> {
  return new Map([
    ['style.css', { type: 'text/css; charset=utf-8', body: STYLES + (extraCSS ? `\n/* frontend.extraCSS */\n${extraCSS}\n` : '') }],
    ['logo.svg', { type: 'image/svg+xml', body: LOGO }],
    ['autosubmit.js', { type: 'text/javascript; charset=utf-8', body: AUTOSUBMIT }],
    ['webauthn.js', { type: 'text/javascript; charset=utf-8', body: WEBAUTHN_SCRIPT }],
  ]);
}
