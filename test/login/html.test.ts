/** The page template helper: everything interpolated is escaped unless it is markup made by `html`. */
import { describe, expect, it } from 'vitest';
import { html, SafeHtml } from '../../src/login/html.js';

describe('html``', () => {
  it('escapes interpolated strings, in text and in attributes', () => {
    const value = `"><img src=x onerror=alert(1)>&'`;
    expect(html`<p title="${value}">${value}</p>`.toString()).toBe(
      '<p title="&quot;&gt;&lt;img src=x onerror=alert(1)&gt;&amp;&#39;">&quot;&gt;&lt;img src=x onerror=alert(1)&gt;&amp;&#39;</p>',
    );
  });

  it('passes nested html fragments and lists of them through unescaped', () => {
    const items = ['a<b', 'c'].map((text) => html`<li>${text}</li>`);
    expect(html`<ul>${items}</ul>`.toString()).toBe('<ul><li>a&lt;b</li><li>c</li></ul>');
  });

  it('renders nothing for null, undefined and false', () => {
    expect(html`[${null}${undefined}${false}]`.toString()).toBe('[]');
  });

  it('cannot be handed forged markup', () => {
    expect(() => new SafeHtml(Symbol('SafeHtml'), '<script>')).toThrow(TypeError);
  });
});
