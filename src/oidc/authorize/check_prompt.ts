/**
 * prompt (OIDC Core §3.1.2.1): a space-separated subset of none, login, consent, select_account;
 * `none` may not be combined with anything. What each asks of the browser's login session is
 * check_login_session's (and, for consent, the approval step's). Dex's `approval_prompt=force` means
 * `consent`.
 */
import { OAuthError } from '../errors.js';
import type { AuthorizeCheck } from './state.js';

const PROMPTS = new Set(['none', 'login', 'consent', 'select_account']);

export const checkPrompt: AuthorizeCheck = (state) => {
  const prompt = [...new Set((state.params.prompt ?? '').split(' ').filter(Boolean))];
  const unknown = prompt.filter((value) => !PROMPTS.has(value));
  if (unknown.length > 0) throw new OAuthError('invalid_request', `unsupported prompt value(s): ${unknown.join(' ')}`);
  if (prompt.includes('none') && prompt.length > 1) {
    throw new OAuthError('invalid_request', 'prompt=none cannot be combined with other prompt values');
  }
  if (state.params.approval_prompt === 'force' && !prompt.includes('consent')) prompt.push('consent');
  state.prompt = prompt;
};
