/**
 * response_mode=form_post (OAuth 2.0 Form Post Response Mode): the authorization response (code,
 * tokens or error, with state and iss) posted to the client's redirect URI, so none of it is in a URL.
 */
import type { Page } from '../page.js';
import { autoPostPage } from './auto-post.js';

export function formPostPage(redirectURI: string, fields: Record<string, string>): Page {
  return autoPostPage({ title: 'Returning to the application', lead: 'You are being sent back to the application.', action: redirectURI, fields });
}
